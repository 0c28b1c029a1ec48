"""Every GPU against a probed GPU's curve over batch size, from a saved profile with a GPU probe in it.

For each GPU and per-GPU batch, prints the predicted compute per micro-step (ms), per sample, its MFU, the step
over the probed GPU's at the same batch beside the analysis' own ratio there (close at the ladder's top and
beyond it, where both follow the probe's carried curve; below it the probed GPU is its own measurement and the
others follow their own curves), the peak memory and whether it fits. Batches below, inside and beyond the
probe's ladder.

    .venv/bin/python bench/probed_curve.py                      # the H200 nanoGPT profile in tests/
    .venv/bin/python bench/probed_curve.py --profile P.json --gpus H100-SXM,B200 --batches 1,8,64 --precision bf16

No GPU needed: the profile carries the probe.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from advisor import api
from advisor.hardware.specs import load_gpu_specs
from advisor.predictor import roofline
from advisor.predictor.calibration import load_calibration
from advisor.predictor.estimate import EstimateContext, estimate
from advisor.schemas import JobSpec, Target

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PROFILE = ROOT / "tests" / "predictor" / "data" / "h200_nanogpt_gpt2_bf16_profile.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", type=Path, default=DEFAULT_PROFILE)
    parser.add_argument("--gpus", default="H100-SXM,B200,A100-80GB,L4")
    parser.add_argument("--batches", default="1,3,6,12,24,48,96,128")
    parser.add_argument("--precision", default=None, help="default: the probed GPU's")
    args = parser.parse_args(argv)

    prof = api.load_profile(args.profile)
    probed = next((d for d in prof.devices if d.kind == "gpu"), None)
    if probed is None or prof.analysis is None:
        raise SystemExit(f"{args.profile}: needs a GPU probe and an analysis.")
    precision = args.precision or probed.precision
    specs, cal = load_gpu_specs(), load_calibration()
    ctx = EstimateContext.load()
    ladder = sorted(m.batch_size for m in probed.measurements if not m.oom and m.compute_seconds)
    print(f"{args.profile.name}: probed {probed.spec_name} ({probed.device}) at {precision}, batches "
          f"{', '.join(map(str, ladder))}\n")
    print("| GPU | batch | probe ladder | compute ms | ms a sample | MFU | x probed | analysis' ratio | peak GiB "
          "| fits | method |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|")
    for gpu in [probed.spec_name, *[g for g in args.gpus.split(",") if g and g != probed.spec_name]]:
        for batch in (int(b) for b in args.batches.split(",")):
            where = "on the ladder" if batch in ladder else ("beyond" if batch > ladder[-1] else
                                                         "below" if batch < ladder[0] else "between")
            est = estimate(prof, JobSpec(batch * 50, 1, batch), Target.gpu(gpu), precision=precision, context=ctx)
            ref = estimate(prof, JobSpec(batch * 50, 1, batch), Target.gpu(probed.spec_name),
                           precision=precision, context=ctx)
            ms = (est.step_seconds - (est.batch_seconds or 0.0)) * 1e3
            ref_ms = (ref.step_seconds - (ref.batch_seconds or 0.0)) * 1e3
            ratio = (roofline.predict_step(prof.analysis, specs[gpu], batch, precision, cal).seconds
                     / roofline.predict_step(prof.analysis, specs[probed.spec_name], batch, precision, cal).seconds)
            peak = f"{est.peak_memory_gib:.1f}" if est.peak_memory_gib is not None else "-"
            mfu = f"{est.mfu:.0%}" if est.mfu is not None else "-"
            print(f"| {gpu} | {batch} | {where} | {ms:.2f} | {ms / batch:.2f} | {mfu} | {ms / ref_ms:.3f} | "
                  f"{ratio:.3f} | {peak} | {'yes' if est.fits_memory else 'NO'} | {est.method} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
