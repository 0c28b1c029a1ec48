"""The GPU roofline against a published per-module timing of a 16-bit transformer layer on a GeForce GA102 card.

Mu Li's micro-benchmark (github.com/mli/transformers-benchmarks, ``micro_bench.ipynb`` at 04df81d, outputs as
committed; the notebook prints "NVIDIA GeForce RTX 3090 Ti", PyTorch 1.13.0a0+08820cb, CUDA 11.7) times, with
``torch.utils.benchmark`` (median, at least 3 s a statement, the GPU synchronised), square fp16 matmuls, an fp32
``a * 1.2``, and one Hugging Face ``BertLayer`` at bert-large's sizes in pure fp16 (``.half()``, train mode, no
autocast): the whole layer forward and forward + backward at several batches and sequences, and at batch 64 x 128
its FFN's first dense layer, that layer with its GELU, the whole FFN and the attention block, forward only. It
reports TFLOP/s of the layer's matmul FLOPs; the times below are those FLOPs over its figures.

The layer is bench/workloads/bert_layer_2022.py; the prediction is the shipped calibration's GPU time (no host, no
optimizer) on the catalog's RTX 3090 row with the 3090 Ti's figures as the notebook's own table gives them
(1,008 GB/s, 40 FP32 TFLOPS, 160 FP16 TFLOPS with FP16 accumulate, so 80 with the FP32 accumulate PyTorch uses:
the GeForce half rate of the RTX 3090 row's notes). Nothing here is fitted: a check, not a calibration row.

    python bench/module_bench_3090ti.py          # about 1 minute: four fake-tensor analyses
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

WORKLOAD = REPO / "bench" / "workloads" / "bert_layer_2022.py"
SOURCE = "github.com/mli/transformers-benchmarks micro_bench.ipynb (04df81d)"
HIDDEN = 1024
# (batch, sequence): (fwd TFLOP/s, fwd+bwd TFLOP/s), verbatim from SOURCE's BERT-layer table
LAYER_TFLOPS = {(64, 128): (51.905, 58.354), (128, 128): (56.488, 61.768),
                (16, 512): (44.570, 49.961), (64, 512): (48.522, 53.846)}
# at batch 64 x 128, forward only, verbatim from SOURCE
MODULE_TFLOPS = {"dense": 74.282, "dense+gelu": 63.994, "ffn": 59.793, "attention": 41.050}


def layer_gflop(batch: int, seq: int) -> tuple[float, float]:
    """(FFN, attention) forward GFLOP as the notebook counts them (matmuls only)."""
    h = HIDDEN
    return 16 * batch * seq * h * h / 1e9, (4 * batch * h * seq * seq + 8 * batch * seq * h * h) / 1e9


def gpu_3090ti():
    """The catalog's RTX 3090 row with the 3090 Ti's rates (the module docstring says where they come from)."""
    from advisor.hardware.specs import resolve_gpu

    return resolve_gpu("RTX3090").model_copy(update={
        "name": "RTX3090Ti", "memory_bandwidth_gbs": 1008.0, "fp32_tflops": 40.0, "tf32_tflops": 40.0,
        "fp16_bf16_tflops": 80.0})


def priced(seq: int, batch: int):
    """[(op record, seconds of all its calls)] of the layer's forward and backward at ``batch`` x ``seq``."""
    import advisor.predictor.calibration_fit as C
    from advisor.predictor.roofline import StepModel
    from advisor.probe.analysis import analyze
    from advisor.workload import load_workload

    with C.environment({"ADVISOR_LAYER_SEQ": str(seq)}):
        # traced without autocast: the layer is .half(), as it ran
        analysis = analyze(load_workload(WORKLOAD), precision="fp32")
    model = StepModel(analysis, gpu_3090ti(), "fp16", C.load_calibration())
    seconds = model.table.op_seconds(np.array([float(batch)]))[0]
    return [(r, float(seconds[0, i])) for i, r in enumerate(analysis.ops) if r.phase != "optimizer"]


def modules(ops) -> dict[str, float]:
    """Predicted forward seconds of the notebook's four modules, read off the forward ops in order: the FFN is the
    last two matmuls, the GELU between them, the last LayerNorm and one call of each element-wise op the two
    blocks share (hidden dropout, residual add: one record of two calls, listed where the attention block first
    calls it); the attention block is the rest of the forward but the loss's sum."""
    fwd = [(r, s) for r, s in ops if r.phase == "forward"]
    big = [i for i, (r, _) in enumerate(fwd) if r.kind == "matmul" and r.count == 1 and i > 3][-2:]
    per_call = [s / r.count for r, s in fwd]
    dense, gelu = per_call[big[0]], per_call[big[0] + 1]
    ffn = sum(per_call[big[0]:]) + sum(per_call[i] for i, (r, _) in enumerate(fwd)
                                       if r.count == 2 and r.kind == "elementwise")
    ffn -= sum(s for r, s in fwd[big[1] + 1:] if r.kind == "reduction")
    total = sum(s for r, s in fwd if r.kind != "reduction")
    return {"dense": dense, "dense+gelu": dense + gelu, "ffn": ffn, "attention": total - ffn}


def main() -> int:
    print(f"# One BERT-large layer in fp16 on an RTX 3090 Ti: predicted vs published ({SOURCE}); never fitted\n")
    print("| batch x sequence | published fwd ms | predicted | ratio | published fwd+bwd ms | predicted | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    ops64 = None
    for (batch, seq), (fwd_tf, both_tf) in LAYER_TFLOPS.items():
        ops = priced(seq, batch)
        gflop = sum(layer_gflop(batch, seq))
        fwd_ms, both_ms = gflop / fwd_tf, 3 * gflop / both_tf  # GFLOP / (TFLOP/s) = ms
        p_fwd = 1e3 * sum(s for r, s in ops if r.phase == "forward")
        p_both = 1e3 * sum(s for _, s in ops)
        print(f"| {batch} x {seq} | {fwd_ms:.3f} | {p_fwd:.3f} | {p_fwd / fwd_ms:.2f}x | {both_ms:.3f} "
              f"| {p_both:.3f} | {p_both / both_ms:.2f}x |")
        if (batch, seq) == (64, 128):
            ops64 = ops
    ffn, att = layer_gflop(64, 128)
    flops = {"dense": ffn / 2, "dense+gelu": ffn / 2, "ffn": ffn, "attention": att}
    print("\nForward modules at batch 64 x 128:\n")
    print("| module | published ms | published TFLOP/s | predicted ms | predicted TFLOP/s | predicted / published |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, seconds in modules(ops64).items():
        pub = flops[name] / MODULE_TFLOPS[name]
        print(f"| {name} | {pub:.3f} | {MODULE_TFLOPS[name]:.1f} | {1e3 * seconds:.3f} "
              f"| {flops[name] / seconds / 1e3:.1f} | {1e3 * seconds / pub:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
