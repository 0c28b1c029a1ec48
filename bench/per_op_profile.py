"""The GPU roofline's operator classes against a published per-operator study of one transformer layer.

Ivanov et al., "Data Movement Is All You Need: A Case Study on Optimizing Transformers" (MLSys 2021,
arXiv:2007.00072) timed PyTorch's ``nn.TransformerEncoderLayer`` at BERT-large's sizes (1024 wide, 16 heads,
FFN 4096, ReLU, dropout 0.1) in pure fp16, forward and backward, on a V100-SXM2 (LLNL's Lassen), with CUDA
events and the launches queued behind a wait kernel, so the times are the GPU's alone. What is read here:

* Totals (verbatim, github.com/spcl/substation README.md at 9ae8698, 2021-01-30, "Current Performance",
  "with the latest version of our code"): PyTorch 9.14 ms at batch 8 x sequence 512, 18.43 ms at batch 96 x
  128 (TensorFlow+XLA 8.4 ms; DeepSpeed 7.6 and 16.19; their own 6.71 and 15.42).
* The split by operator class, PyTorch at batch 8 x 512 (the paper's Table 1, "Proportions for operator
  classes in PyTorch"): tensor contractions 61.0% of the runtime, statistical normalisations (softmax,
  LayerNorm) 25.5%, element-wise operators (bias, dropout, activation, residual) 13.5%. **Second-hand**: read
  from transcriptions of Stanford CS336 (2025) lecture 3's slides, which reproduce the table; the paper's
  per-operator table itself was not readable here.

The workload is bench/workloads/encoder_layer_2020.py (the layer as torch 1.5 computed it); the prediction is
the shipped calibration's forward + backward GPU time on the catalog's V100-16GB (SXM2), without the optimizer
or the host (the published times have neither). Nothing here is fitted: it is a check, not a calibration row.

    python bench/per_op_profile.py          # the tables (about 20 s: two fake-tensor analyses)
    python bench/per_op_profile.py --ops    # and every operator of the batch-8 step
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

WORKLOAD = REPO / "bench" / "workloads" / "encoder_layer_2020.py"
GPU = "V100-16GB"
SOURCE = "github.com/spcl/substation README.md (9ae8698, 2021-01-30)"
# (batch, sequence, PyTorch fwd+bwd ms): verbatim, SOURCE
PUBLISHED_MS = [(8, 512, 9.14), (96, 128, 18.43)]
# PyTorch's share of the runtime by class at batch 8 x 512 (second-hand: the module docstring)
PUBLISHED_SHARE = {"tensor contraction": 0.610, "statistical normalisation": 0.255, "element-wise": 0.135}
# The roofline's op kinds in the paper's three classes; layout copies (contiguous heads, the fused projection's
# gradient concatenation) have no class in the paper and are shown apart.
CLASS_OF_KIND = {"matmul": "tensor contraction", "softmax": "statistical normalisation",
                 "norm": "statistical normalisation", "copy": "layout copy"}
CLASSES = ("tensor contraction", "statistical normalisation", "element-wise", "layout copy")


def priced_ops(batch: int, seq: int):
    """[(op record, seconds in one fwd+bwd, bytes, FLOPs)] of the layer at ``batch`` x ``seq`` on the V100, fp16
    (seconds, bytes and FLOPs of all the op's calls)."""
    import advisor.predictor.calibration_fit as C
    from advisor.hardware.specs import resolve_gpu
    from advisor.predictor.roofline import StepModel
    from advisor.probe.analysis import analyze
    from advisor.workload import load_workload

    with C.environment({"ADVISOR_LAYER_SEQ": str(seq)}):
        # traced without autocast: the model is .half(), as theirs ran (softmax and LayerNorm in fp16 too)
        analysis = analyze(load_workload(WORKLOAD), precision="fp32")
    return per_operator(StepModel(analysis, resolve_gpu(GPU), "fp16", C.load_calibration()), batch)


def per_operator(model, batch: int):
    """[(op record, seconds, bytes, FLOPs)] of a ``StepModel``'s forward and backward operators at ``batch``:
    each op's seconds, bytes and FLOPs over all its calls in one step (the optimizer's are left out)."""
    seconds, _, flops, nbytes, _, _ = model.table.op_seconds(np.array([float(batch)]))
    return [(r, float(seconds[0, i]), float(nbytes[0, i]) * r.count, float(flops[0, i]) * r.count)
            for i, r in enumerate(model.analysis.ops) if r.phase != "optimizer"]


def by_class(ops) -> dict[str, tuple[float, float]]:
    """{class: (seconds, bytes)} of ``priced_ops``."""
    out = {c: (0.0, 0.0) for c in CLASSES}
    for r, s, b, _ in ops:
        c = CLASS_OF_KIND.get(r.kind, "element-wise")
        out[c] = (out[c][0] + s, out[c][1] + b)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ops", action="store_true", help="also list every operator of the batch-8 step")
    args = p.parse_args(argv)
    print(f"# One BERT-large encoder layer, PyTorch fp16, fwd+bwd on a {GPU} (SXM2): predicted vs published\n")
    print(f"Totals: {SOURCE}. Never fitted.\n")
    print("| batch x sequence | published ms | predicted ms | error | predicted TFLOP/s of the contractions |")
    print("|---|---:|---:|---:|---:|")
    classes8 = ops8 = None
    for batch, seq, published in PUBLISHED_MS:
        ops = priced_ops(batch, seq)
        total = sum(s for _, s, _, _ in ops)
        flops = sum(f for r, _, _, f in ops if r.kind == "matmul")
        classes = by_class(ops)
        contraction = classes["tensor contraction"][0]
        error = total / (published / 1e3) - 1
        print(f"| {batch} x {seq} | {published:.2f} | {1e3 * total:.2f} | {100 * error:+.0f}% "
              f"| {flops / contraction / 1e12:.0f} |")
        if batch == 8:
            classes8, ops8 = classes, ops
    published = PUBLISHED_MS[0][2] / 1e3
    print("\nBy operator class, batch 8 x 512 (published shares second-hand: the module docstring):\n")
    print("| class | published share | published ms (share x total) | predicted ms | predicted share "
          "| predicted / published | bytes moved (MB) | bandwidth the published time implies |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    total8 = sum(s for s, _ in classes8.values())
    for c in CLASSES:
        s, b = classes8[c]
        share = PUBLISHED_SHARE.get(c)
        if share is None:
            print(f"| {c} | - | - | {1e3 * s:.2f} | {100 * s / total8:.0f}% | - | {b / 1e6:.0f} | - |")
            continue
        pub = share * published
        implied = "-" if c == "tensor contraction" else f"{b / pub / 1e9:.0f} GB/s"
        print(f"| {c} | {100 * share:.1f}% | {1e3 * pub:.2f} | {1e3 * s:.2f} | {100 * s / total8:.0f}% "
              f"| {s / pub:.2f}x | {b / 1e6:.0f} | {implied} |")
    if args.ops:
        print("\n| phase | op | calls | dtype | predicted us | MB |\n|---|---|---:|---|---:|---:|")
        for r, s, b, _ in ops8:
            print(f"| {r.phase} | {r.op} | {r.count} | {r.dtype} | {1e6 * s:.1f} | {b / 1e6:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
