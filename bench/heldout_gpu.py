"""The GPU predictor judged on published rows from the project's held-out list: never fitted, never tuned on.

The brief keeps NVIDIA DeepLearningExamples' READMEs (with NeuSight's labels, rasbt/LLMs-from-scratch and
nanoGPT's figures) as an independent check of the predictor. This bench predicts such rows with the shipped
constants (``profiles/calibration.json``, fitted on the six sources of ``bench/gpu_rows.py``, none of them on
that list) and prints the error. Nothing here feeds a fit: the rows live in this file only, and
``bench/gpu_rows.py`` never reads it. Do not choose or change a constant because of what it prints.

Rows: NVIDIA DeepLearningExamples, ``PyTorch/Classification/ConvNets/resnet50v1.5/README.md`` (read
2026-11-30 at commit 291f0d02e815b148fa5c2b81bf07aa3552142895), "Training performance results", pytorch-21.03
NGC container; batch sizes and memory formats from ``PyTorch/Classification/ConvNets/configs.yml`` (commit
097c7ff917b7c56246590b1246a8f5bd8957c534): ResNet-50 AMP at 256 per GPU in NHWC, TF32 (A100) at 256 and FP32
(V100) at 112 in NCHW. The README's commands run ``--mode benchmark_training``, whose data backend is the
PyTorch loader on real ImageNet (8 workers per GPU on DGX-1, 16 on DGX A100): its throughput includes JPEG
decoding, which the predictor's GPU step does not (the figures are the GPU's time only, what
``bench/gpu_rows.py`` predicts). The workload is ``bench/workloads/resnet.py`` at depth 50, laid out as each
row ran: channels-last (``ADVISOR_CHANNELS_LAST=1``) for the NHWC rows, channels-first for the others. The
table also prints each row predicted channels-first, which is what the predictor said of the NHWC rows before
the analysis told the two layouts apart (2026-11-30; no constant was changed for it).

    .venv/bin/python bench/heldout_gpu.py      # ~1 min (the analysis of ResNet-50 at three precisions)
"""

from __future__ import annotations

import math
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import gpu_rows as G  # noqa: E402

import advisor.predictor.calibration_fit as C  # noqa: E402

URL = ("https://github.com/NVIDIA/DeepLearningExamples/blob/291f0d02e815b148fa5c2b81bf07aa3552142895/"
       "PyTorch/Classification/ConvNets/resnet50v1.5/README.md")
# (platform, gpu, GPUs, precision, batch per GPU, memory format, img/s)
DLE_RESNET50 = [
    ("DGX A100", "A100-80GB", 1, "tf32", 256, "NCHW", 938.0),
    ("DGX A100", "A100-80GB", 1, "fp16", 256, "NHWC", 2470.0),
    ("DGX A100", "A100-80GB", 8, "tf32", 256, "NCHW", 7248.0),
    ("DGX A100", "A100-80GB", 8, "fp16", 256, "NHWC", 16621.0),
    ("DGX-1 16GB", "V100-16GB", 1, "fp32", 112, "NCHW", 367.0),
    ("DGX-1 16GB", "V100-16GB", 1, "fp16", 256, "NHWC", 1200.0),
    ("DGX-1 16GB", "V100-16GB", 8, "fp32", 112, "NCHW", 2855.0),
    ("DGX-1 16GB", "V100-16GB", 8, "fp16", 256, "NHWC", 8322.0),
    ("DGX-1 32GB", "V100-32GB", 1, "fp32", 112, "NCHW", 356.0),
    ("DGX-1 32GB", "V100-32GB", 1, "fp16", 256, "NHWC", 1156.0),
    ("DGX-1 32GB", "V100-32GB", 8, "fp32", 112, "NCHW", 2766.0),
    ("DGX-1 32GB", "V100-32GB", 8, "fp16", 256, "NHWC", 8056.0),
]


WORKLOAD = "bench/workloads/resnet.py"


def rows(layout: str | None = None) -> list[G.Row]:
    """The held-out rows as ``bench/gpu_rows.Row`` objects (source ``heldout-dle``; never fitted), the model
    laid out as each row ran (``layout`` None) or as ``layout`` ("NCHW" / "NHWC") says."""
    from advisor.hardware.specs import resolve_gpu

    out = []
    for platform, gpu, count, precision, batch, ran, ips in DLE_RESNET50:
        env = [("ADVISOR_RESNET_DEPTH", "50")]
        if (layout or ran) == "NHWC":
            env.insert(0, ("ADVISOR_CHANNELS_LAST", "1"))
        out.append(G.Row(source="heldout-dle", family="resnet", model="ResNet-50 v1.5", precision=precision,
                         gpu_count=count, micro_batch=batch, measured=ips, spec=resolve_gpu(gpu),
                         workload=WORKLOAD, env=tuple(env), extra={"platform": platform, "layout": ran}))
    return out


def main() -> int:
    cal = C.load_calibration()
    held, as_nchw = rows(), rows("NCHW")
    analyses = G.analyses_for(held + as_nchw, {})
    print("# Held-out rows (NVIDIA DeepLearningExamples, ResNet-50 v1.5, pytorch-21.03): never fitted\n")
    print(f"source: {URL}\n")
    print("| platform | GPUs | precision | batch/GPU | layout | published img/s | predicted img/s | error "
          "| predicted as NCHW | error |")
    print("|---|---:|---|---:|---|---:|---:|---:|---:|---:|")
    errors: dict[str, list[float]] = {}
    for r, r_nchw in zip(held, as_nchw, strict=True):
        p, q = G.predict(r, analyses, cal), G.predict(r_nchw, analyses, cal)
        if p is None or q is None:
            print(f"| {r.extra['platform']} | {r.gpu_count} | {r.precision} | {r.micro_batch} | "
                  f"{r.extra['layout']} | {r.measured:.0f} | - | {r.skip or 'no prediction'} | | |")
            continue
        e = math.log(p / r.measured)
        errors.setdefault("AMP (NHWC)" if r.precision == "fp16" else "FP32/TF32 (NCHW)", []).append(e)
        print(f"| {r.extra['platform']} | {r.gpu_count} | {r.precision} | {r.micro_batch} | {r.extra['layout']} "
              f"| {r.measured:.0f} | {p:.0f} | {100 * math.expm1(e):+.0f}% | {q:.0f} "
              f"| {100 * (q / r.measured - 1):+.0f}% |")
    every = [e for group in errors.values() for e in group]
    print()
    for name, group in [*sorted(errors.items()), ("all", every)]:
        s = G.stats(group)
        print(f"- {name}: n={s['n']}, median |error| {100 * s['median']:.1f}% (exp(|log error|) - 1), "
              f"bias {100 * s['bias']:+.1f}% (+: predicted too fast)")
    print(f"\nmedian |log error| {statistics.median(abs(e) for e in every):.3f} (error is predicted / published "
          "throughput - 1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
