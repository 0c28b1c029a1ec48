"""The GPU roofline against a published Nsight Systems trace of one eager bf16 GPT step on an A40 (GA102).

kopernik278/megatron-performance-lab, "Phase 2.1 Nsight Systems Baseline Profile"
(docs/experiments/phase2_nsys_baseline.md and results/phase2_nsys_summary.json at 6eab602, 2026-08-22):
Megatron Core's GPT-355M (24 x 1,024, 16 heads, 2,048 tokens, micro-batch 1, unfused attention, no
Transformer Engine, no apex), bf16 autocast over fp32 weights, per-tensor AdamW, PyTorch 2.8.0+cu128, on one
A40. 551.85 ms a step over 100 steps without the profiler (docs/experiments/phase1_baseline.md); under Nsight,
15 steps with 99.6% GPU utilisation and 1.29% GPU idle. The workload, rebuilt op for op in plain torch, is
bench/workloads/megatron_gpt355m.py.

What is read from the trace (verbatim, the 15 profiled steps divided by 15): the top 15 kernels (78.8% of the
kernel time), grouped here by the operator that launches them; the authors' GEMM category (kernels named
``gemm``) and optimizer range; the device-to-device copies. The repository publishes no kernel below the top 15.
The predictions are the shipped calibration's, on profiles/gpus.csv's A40 row. Nothing here is fitted: a check,
not a calibration row (bench/README.md, "A published kernel trace: GPT-355M on an A40").

    python bench/kernel_trace_a40.py          # the tables (about a minute: a fake-tensor analysis of 356M params)
    python bench/kernel_trace_a40.py --ops    # and every priced operator of the step
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

WORKLOAD = REPO / "bench" / "workloads" / "megatron_gpt355m.py"
GPU = "A40"
SOURCE = "github.com/kopernik278/megatron-performance-lab results/phase2_nsys_summary.json (6eab602)"
STEPS = 15  # the profiled steps the trace's totals cover
PUBLISHED_STEP_MS = 551.8516  # 100 unprofiled steps (phase1_baseline.md)
KERNEL_MS = 7352.310 / STEPS  # every CUDA kernel
D2D_COPY_MS, D2D_COPY_BYTES = 861.903332 / STEPS, 241592279040 / STEPS  # device-to-device cudaMemcpy
# (group, published ms a step, the aten ops whose kernels they are). Kernel totals over the 15 steps, verbatim:
# bfloat16_copy 1210.087 + direct_copy (LoadWithCast) 730.100; softmax_warp_forward 349.498;
# cunn_SoftMaxBackwardSmem 506.895; masked_fill 423.843; fused_dropout_kernel_vec 417.607; masked_scale
# (dropout's backward) 417.315; every kernel named "gemm" 1261.834; the optimizer_step range 795.472.
GROUPS = [
    ("dtype casts (bfloat16_copy, direct_copy)", (1210.087 + 730.100) / STEPS, ("_to_copy",)),
    ("softmax forward", 349.498 / STEPS, ("_softmax",)),
    ("softmax backward", 506.895 / STEPS, ("_softmax_backward_data",)),
    ("masked_fill (forward and backward)", 423.843 / STEPS, ("masked_fill", "masked_fill_")),
    ("dropout forward", 417.607 / STEPS, ("native_dropout",)),
    ("dropout backward (masked_scale)", 417.315 / STEPS, ("native_dropout_backward",)),
    ("GEMMs (kernels named gemm)", 1261.834 / STEPS, ("mm", "bmm", "baddbmm", "addmm")),
]
OPTIMIZER_MS = 795.472 / STEPS


def _aten_name(op: str) -> str:
    """'aten._softmax.default' -> '_softmax'."""
    parts = op.split(".")
    return parts[1] if len(parts) >= 2 and parts[0] == "aten" else op


def priced():
    """(step prediction at batch 1, [(op record, seconds a step, bytes a step)] of forward and backward)."""
    from per_op_profile import per_operator

    import advisor.predictor.calibration_fit as C
    from advisor.hardware.specs import resolve_gpu
    from advisor.predictor.roofline import StepModel
    from advisor.probe.analysis import analyze
    from advisor.workload import load_workload

    model = StepModel(analyze(load_workload(WORKLOAD), precision="bf16"), resolve_gpu(GPU), "bf16",
                      C.load_calibration())
    return model(1), [(r, s, b) for r, s, b, _ in per_operator(model, 1)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ops", action="store_true", help="also list every priced operator of the step")
    args = p.parse_args(argv)
    step, ops = priced()
    by_name: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for r, s, b in ops:
        row = by_name[_aten_name(r.op)]
        row[0] += s
        row[1] += b
        row[2] += r.count
    print(f"# Megatron GPT-355M, bf16 autocast, batch 1 x 2,048 on an {GPU}: predicted vs a published trace\n")
    print(f"Source: {SOURCE}. Never fitted.\n")
    print("| | published ms a step | predicted ms a step | predicted / published |")
    print("|---|---:|---:|---:|")
    print(f"| whole step (wall) | {PUBLISHED_STEP_MS:.1f} | {1e3 * step.seconds:.1f} "
          f"| {step.seconds / (PUBLISHED_STEP_MS / 1e3):.2f}x |")
    gpu_published = KERNEL_MS + D2D_COPY_MS
    print(f"| GPU: kernels + device-to-device copies | {gpu_published:.1f} | {1e3 * step.gpu_seconds:.1f} "
          f"| {step.gpu_seconds / (gpu_published / 1e3):.2f}x |")
    print(f"| host: launches | - | {1e3 * step.host_seconds:.1f} | - |")
    print("\nBy kernel family (published: the top 15 kernels by the operator that launches them; the GEMM and "
          "optimizer rows are the authors' categories):\n")
    print("| family | published ms | predicted ms | predicted / published | predicted GB | bandwidth the published "
          "time implies |")
    print("|---|---:|---:|---:|---:|---:|")
    accounted = 0.0
    for label, published_ms, names in GROUPS:
        s = sum(by_name[n][0] for n in names if n in by_name)
        b = sum(by_name[n][1] for n in names if n in by_name)
        accounted += s
        implied = "-" if label.startswith("GEMM") else f"{b / (published_ms / 1e3) / 1e9:.0f} GB/s"
        print(f"| {label} | {published_ms:.1f} | {1e3 * s:.1f} | {s / (published_ms / 1e3):.2f}x "
              f"| {b / 1e9:.2f} | {implied} |")
    optimizer = step.per_phase.get("optimizer", 0.0)
    print(f"| optimizer (AdamW, per tensor) | {OPTIMIZER_MS:.1f} | {1e3 * optimizer:.1f} "
          f"| {optimizer / (OPTIMIZER_MS / 1e3):.2f}x | - | - |")
    rest = sum(s for _, s, _ in ops) - accounted
    listed = sum(ms for _, ms, _ in GROUPS) + OPTIMIZER_MS
    print(f"| everything else | {KERNEL_MS - listed:.1f} (kernels outside the families above) "
          f"| {1e3 * rest:.1f} | {rest / ((KERNEL_MS - listed) / 1e3):.2f}x | - | - |")
    print(f"| device-to-device cudaMemcpy | {D2D_COPY_MS:.1f} ({D2D_COPY_BYTES / 1e9:.1f} GB) | (in the rows above) "
          "| - | - | - |")
    if args.ops:
        print("\n| operator | calls | predicted ms | GB |\n|---|---:|---:|---:|")
        for name, (s, b, n) in sorted(by_name.items(), key=lambda kv: -kv[1][0]):
            print(f"| {name} | {n} | {1e3 * s:.2f} | {b / 1e9:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
