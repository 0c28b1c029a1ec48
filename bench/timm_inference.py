"""timm's own benchmark tables, forward-only and training, on three GeForce generations and four PyTorch
releases: where the GeForce 16-bit lean lives (judged, never fitted).

Issue 9's CNN fp16 and ViT fp16 families are timm's training rows on one RTX 3090 under PyTorch 1.12, predicted
about 20% slow in-sample and 41% slow when timm is left out of the fit. Those rows cannot say whether the lean is
the card's, the software's, or the backward pass's. timm publishes inference tables of the same models on the same
card under four PyTorch releases, and on an RTX 4090 and an RTX 5090, eager and compiled. This bench prices each
of them with the shipped constants (``profiles/calibration.json``) the way the product prices an evaluation pass
(``advisor.predictor.gpu_job.step_parts_of``: the training step's forward phase plus its share of the host's
overhead) and prints the error, then the training row against the inference row of the same release.

Caveats, each visible in the tables: an inference pass runs batch norm in eval mode (one read and one write of its
input) where the training forward the analysis records also reads it for the batch statistics; timm's inference
runs under ``torch.inference_mode`` with ``model.eval()`` (no autograd bookkeeping). So a ResNet's forward is priced
somewhat above an inference pass's cost; a ViT (no batch norm, dropout 0) is the clean comparison.

Rows: ``bench/data/timm_benchmarks_2026-12-05.csv``, read from github.com/huggingface/pytorch-image-models
``results/`` (each row's URL pins the commit), 224-pixel images (384 for ``*_384``), the models
``bench/workloads/resnet.py`` and ``bench/workloads/vit.py`` build. Nothing here feeds a fit.

    .venv/bin/python bench/timm_inference.py       # ~1 min
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from pathlib import Path

import advisor.predictor.calibration_fit as C

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "bench" / "data" / "timm_benchmarks_2026-12-05.csv"


def workload_of(model: str, torch_version: str = "1.12", layout: str = "nchw") -> tuple[str, dict[str, str]]:
    """The bench workload file and its environment for a timm model name, as timm ran it under that PyTorch
    release and memory layout: a ViT's attention fused (``F.scaled_dot_product_attention``, timm's
    ``fused_attn``) from 2.0 on; a ResNet channels-last in the ``nhwc`` tables."""
    if model.startswith("resnet"):
        env = {"ADVISOR_RESNET_DEPTH": model.removeprefix("resnet")}
        return "bench/workloads/resnet.py", env | ({"ADVISOR_CHANNELS_LAST": "1"} if layout == "nhwc" else {})
    fused = int(torch_version.split(".")[0]) >= 2
    return "bench/workloads/vit.py", {"ADVISOR_VIT_MODEL": model, "ADVISOR_VIT_ATTN": "sdpa" if fused else "math"}


def analysis_key(row: dict) -> tuple:
    path, env = workload_of(row["model"], row["torch"], row["layout"])
    return path, tuple(sorted(env.items()))


def table_key(row: dict) -> tuple:
    return row["bench"], row["gpu"], row["torch"], row["layout"], row["compiled"]


def load_rows(path: Path = DATA) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def analyses_of(keys: set[tuple]) -> dict:
    """{analysis_key: the fp16 Analysis of that workload and environment}."""
    from advisor.probe.analysis import analyze
    from advisor.workload import load_workload

    out = {}
    for path, env in sorted(keys):
        with C.environment(dict(env)):
            out[(path, env)] = analyze(load_workload(REPO / path), precision="fp16")
    return out


def predicted_samples_per_second(row: dict, analysis, specs: dict, cal) -> tuple[float, float, float]:
    """(predicted samples/s as timm measured it, forward share of the priced training step, layout share)."""
    from advisor.hardware.specs import resolve_gpu
    from advisor.predictor.gpu_job import step_parts_of
    from advisor.predictor.roofline import predict_step, step_phases

    spec = resolve_gpu(row["gpu"], specs)
    batch = int(row["batch_size"])
    step = predict_step(analysis, spec, batch, "fp16", cal, compiled=row["compiled"] == "yes")
    phases = step_phases(step)
    parts = step_parts_of(step.seconds, phases, analysis)
    if row["bench"] == "train":
        return batch / step.seconds, parts.forward_seconds / step.seconds, step.layout_seconds / step.seconds
    return batch / parts.forward_seconds, parts.forward_seconds / step.seconds, 0.0


def error_pct(predicted: float, measured: float) -> float:
    """Throughput error, > 0 predicted too fast."""
    return 100.0 * (predicted / measured - 1.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calibration", default=None, help="calibration JSON (default profiles/calibration.json)")
    ns = ap.parse_args(argv)
    from advisor.hardware.specs import load_gpu_specs

    cal = C.load_calibration(ns.calibration)
    specs = load_gpu_specs()
    rows = load_rows()
    analyses = analyses_of({analysis_key(r) for r in rows})
    for r in rows:
        r["pred"], r["fwd_share"], r["layout_share"] = predicted_samples_per_second(r, analyses[analysis_key(r)], specs,
                                                                             cal)
        r["err"] = error_pct(r["pred"], float(r["samples_per_second"]))

    print("# timm's benchmark tables priced by the shipped constants (throughput error: > 0 predicted too fast)\n")
    tables = sorted({table_key(r) for r in rows},
                    key=lambda k: (k[0] != "train", k[1], [int(x) for x in k[2].split(".")], k[3], k[4]))
    models = sorted({r["model"] for r in rows}, key=lambda m: (not m.startswith("resnet"), len(m), m))
    head = ["model"] + [f"{b} {g} pt{t} {lay}{' compiled' if c == 'yes' else ''}" for b, g, t, lay, c in tables]
    print("| " + " | ".join(head) + " |")
    print("|---|" + "---:|" * len(tables))
    keyed = {(*table_key(r), r["model"]): r for r in rows}
    for m in models:
        cells = []
        for t in tables:
            r = keyed.get((*t, m))
            cells.append(f"{r['err']:+.0f}%" if r else "")
        print(f"| {m} | " + " | ".join(cells) + " |")
    for fam in ("resnet", "vit"):
        cells = []
        for t in tables:
            errs = [keyed[(*t, m)]["err"] for m in models if m.startswith(fam) and (*t, m) in keyed]
            cells.append(f"{statistics.median(errs):+.0f}%" if errs else "")
        print(f"| median, {fam} | " + " | ".join(cells) + " |")

    print("\n## The same release, training against inference (RTX 3090, PyTorch 1.12, channels-first)\n")
    print("Measured: the training row's time per sample over the inference row's. Priced: the training step over "
          "its forward pass (with its share of host overhead), each per sample at its own batch.\n")
    print("| model | train batch | infer batch | train error | infer error | measured train/infer per sample | "
          "priced train/forward per sample | forward share of the priced step |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for m in models:
        tr = keyed.get(("train", "RTX3090", "1.12", "nchw", "no", m))
        inf = keyed.get(("infer", "RTX3090", "1.12", "nchw", "no", m))
        if not (tr and inf):
            continue
        measured = float(inf["samples_per_second"]) / float(tr["samples_per_second"])
        priced = inf["pred"] / tr["pred"]
        print(f"| {m} | {tr['batch_size']} | {inf['batch_size']} | {tr['err']:+.0f}% | {inf['err']:+.0f}% | "
              f"{measured:.2f} | {priced:.2f} | {tr['fwd_share']:.2f} |")
    logs = [abs(math.log(r["pred"] / float(r["samples_per_second"]))) for r in rows]
    print(f"\nall {len(rows)} rows: median |log error| {statistics.median(logs):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
