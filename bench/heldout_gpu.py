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

Second table: ``PyTorch/LanguageModeling/BERT/README.md`` (read 2026-11-30 at commit
23a6382cbe8f77c22b0a7b7d263191ee6b947dfa), "Fine-tuning" training performance on SQuAD v1.1, pytorch:21.11 NGC
container, ``scripts/run_squad.sh``: BERT-large (``bert_configs/large.json``), sequence 384, on DGX A100 80GB
(TF32 and AMP at 32 per GPU) and DGX-1 32GB (FP32 at 8, AMP at 16 per GPU), 1 and 8 GPUs. That code is
NVIDIA's BERT, the one Lambda's harness ran, so the workload is ``examples/bert_squad.py`` as the Lambda rows
price it (``ADVISOR_BERT_SIZE=large``, ``ADVISOR_BERT_ATTN=math``: NVIDIA's unfused attention). The throughput
is "averaged over a few training iterations" of the script's loop, tokenised features already in memory.

    .venv/bin/python bench/heldout_gpu.py      # ~2 min (ResNet-50 at three precisions, BERT-large at three)
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


BERT_URL = ("https://github.com/NVIDIA/DeepLearningExamples/blob/23a6382cbe8f77c22b0a7b7d263191ee6b947dfa/"
            "PyTorch/LanguageModeling/BERT/README.md")
# (platform, gpu, GPUs, precision, batch per GPU, sequences/s): BERT-large SQuAD fine-tuning, sequence 384
DLE_BERT_LARGE_SQUAD = [
    ("DGX A100", "A100-80GB", 1, "tf32", 32, 61.5),
    ("DGX A100", "A100-80GB", 1, "fp16", 32, 110.5),
    ("DGX A100", "A100-80GB", 8, "tf32", 32, 469.8),
    ("DGX A100", "A100-80GB", 8, "fp16", 32, 846.7),
    ("DGX-1 32GB", "V100-32GB", 1, "fp32", 8, 12.0),
    ("DGX-1 32GB", "V100-32GB", 1, "fp16", 16, 52.0),
    ("DGX-1 32GB", "V100-32GB", 8, "fp32", 8, 85.5),
    ("DGX-1 32GB", "V100-32GB", 8, "fp16", 16, 382.0),
]

WORKLOAD = "bench/workloads/resnet.py"
BERT_WORKLOAD = "examples/bert_squad.py"


def bert_rows() -> list[G.Row]:
    """DLE's BERT-large SQuAD rows as ``bench/gpu_rows.Row`` objects (source ``heldout-dle``; never fitted)."""
    from advisor.hardware.specs import resolve_gpu

    env = (("ADVISOR_BERT_SIZE", "large"), ("ADVISOR_BERT_ATTN", "math"))
    return [G.Row(source="heldout-dle", family="bert", model="BERT-large SQuAD", precision=precision,
                  gpu_count=count, micro_batch=batch, measured=seqs, spec=resolve_gpu(gpu), workload=BERT_WORKLOAD,
                  env=env, extra={"platform": platform, "layout": "-"})
            for platform, gpu, count, precision, batch, seqs in DLE_BERT_LARGE_SQUAD]


def rows(layout: str | None = None) -> list[G.Row]:
    """The held-out ResNet-50 rows as ``bench/gpu_rows.Row`` objects (source ``heldout-dle``; never fitted), the
    model laid out as each row ran (``layout`` None) or as ``layout`` ("NCHW" / "NHWC") says."""
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


def main(argv: list[str] | None = None) -> int:
    import argparse

    argparse.ArgumentParser(description="Predict the held-out rows (NVIDIA DeepLearningExamples ResNet-50 v1.5) "
                                        "with the shipped calibration and print the errors; fits and writes "
                                        "nothing.").parse_args(argv)
    cal = C.load_calibration()
    held, as_nchw = rows(), rows("NCHW")
    analyses = G.analyses_for(held + as_nchw, {})
    print("# Held-out rows (NVIDIA DeepLearningExamples, ResNet-50 v1.5, pytorch-21.03): never fitted\n")
    print(f"source: {URL}\n")
    print("| platform | GPUs | precision | batch/GPU | layout | published img/s | predicted img/s | error "
          "| predicted as NCHW | error |")
    print("|---|---:|---|---:|---|---:|---:|---:|---:|---:|")

    def resnet_cells(i: int, r: G.Row, p: float) -> str:
        q = G.predict(as_nchw[i], analyses, cal)
        nchw = "- | -" if q is None else f"{q:.0f} | {100 * (q / r.measured - 1):+.0f}%"
        return f"{r.extra['layout']} | {r.measured:.0f} | {p:.0f} | {100 * (p / r.measured - 1):+.0f}% | {nchw} |"

    errors = _judge(held, analyses, cal, lambda r: "AMP (NHWC)" if r.precision == "fp16" else "FP32/TF32 (NCHW)",
                    resnet_cells)
    print()
    _summary(errors)
    bert = bert_rows()
    analyses.update(G.analyses_for(bert, {}))
    print("\n# Held-out rows (NVIDIA DeepLearningExamples, BERT-large SQuAD fine-tuning, pytorch:21.11): "
          "never fitted\n")
    print(f"source: {BERT_URL}\n")
    print("| platform | GPUs | precision | batch/GPU | published seq/s | predicted seq/s | error |")
    print("|---|---:|---|---:|---:|---:|---:|")
    bert_errors = _judge(bert, analyses, cal, lambda r: "AMP" if r.precision == "fp16" else "FP32/TF32",
                         lambda i, r, p: f"{r.measured:.1f} | {p:.1f} | {100 * (p / r.measured - 1):+.0f}% |")
    print()
    _summary(bert_errors)
    every = [e for group in (*errors.values(), *bert_errors.values()) for e in group]
    print(f"\nboth tables: n={len(every)}, median |log error| {statistics.median(abs(e) for e in every):.3f}, "
          f"median |error| {100 * G.stats(every)['median']:.1f}%, bias {100 * G.stats(every)['bias']:+.1f}% "
          "(error is predicted / published throughput - 1)")
    return 0


def _judge(held: list[G.Row], analyses: dict, cal, group, cells) -> dict[str, list[float]]:
    """Print a table row per held-out row (``cells(i, row, predicted)`` after its platform, GPUs, precision and
    batch); returns the log errors by ``group(row)``. Then how many rows the 80% interval of a from-specs step
    holds: its kind's at the row's precision class (what ``predict`` gives since session 31), and its kind's
    alone (before)."""
    errors: dict[str, list[float]] = {}
    split = "kind at the row's precision (and its GPU's architecture, where split)"
    held_by = {split: 0, "kind alone": 0}
    for i, r in enumerate(held):
        p = G.predict(r, analyses, cal)
        head = f"| {r.extra['platform']} | {r.gpu_count} | {r.precision} | {r.micro_batch} | "
        if p is None:
            print(head + f"{r.measured:g} | - | {r.skip or 'no prediction'} |")
            continue
        err = math.log(p / r.measured)
        errors.setdefault(group(r), []).append(err)
        print(head + cells(i, r, p))
        analysis = analyses[G.analysis_key(r)]
        held_by[split] += abs(err) <= cal.sigma(analysis, r.spec, precision=r.precision)
        held_by["kind alone"] += abs(err) <= cal.sigma(analysis, r.spec)
    judged = sum(len(e) for e in errors.values())
    print("\n80% interval held: " + ", ".join(f"{k} {v}/{judged}" for k, v in held_by.items()))
    return errors


def _summary(errors: dict[str, list[float]]) -> None:
    every = [e for group in errors.values() for e in group]
    for name, group in [*sorted(errors.items()), ("all", every)]:
        s = G.stats(group)
        print(f"- {name}: n={s['n']}, median |error| {100 * s['median']:.1f}% (exp(|log error|) - 1), "
              f"bias {100 * s['bias']:+.1f}% (+: predicted too fast)")


if __name__ == "__main__":
    raise SystemExit(main())
