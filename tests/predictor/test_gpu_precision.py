"""GPU roofline by operator class: split_step, tensor-core alignment, half-width bytes, torch.compile fusion."""

from __future__ import annotations

import pytest

from advisor.hardware.specs import resolve_gpu
from advisor.predictor.calibration import Calibration, load_calibration
from advisor.predictor.roofline import predict_step, split_step
from advisor.schemas import Analysis, OpRecord

A100 = resolve_gpu("A100-80GB")
CAL = load_calibration()


def analysis(ops: list[OpRecord], grad_bytes: float = 4e6) -> Analysis:
    return Analysis(batch_sizes=(1, 2), ops=ops, flops_per_sample=1.0, param_count=1, trainable_param_count=1,
                    param_bytes=grad_bytes, gradient_bytes=grad_bytes, optimizer="AdamW", optimizer_state_bytes=0)


def gemm(n: int, dtype: str = "float16", phase: str = "forward") -> OpRecord:
    """An (8192 x n) @ (n x n) matmul per sample, aligned as n is."""
    flops = 2.0 * 8192 * n * n
    nbytes = 2.0 * (8192 * n * 2 + n * n)
    align = 8 if n % 8 == 0 else (4 if n % 4 == 0 else (2 if n % 2 == 0 else 1))
    return OpRecord(op="aten.mm.default", kind="matmul", phase=phase, flops=(flops, 2 * flops),
                    bytes=(nbytes, 2 * nbytes), dtype=dtype, align=align)


def test_split_step_sums_to_predict_step():
    import os

    from advisor.probe.analysis import analyze
    from advisor.workload import load_workload

    os.environ["ADVISOR_BERT_SIZE"] = "base"
    a = analyze(load_workload("examples/bert_squad.py"), precision="fp16")
    for compiled in (False, True):
        parts = split_step(a, A100, 32, "fp16", CAL, compiled=compiled)
        total = predict_step(a, A100, 32, "fp16", CAL, compiled=compiled).seconds
        assert set(parts) == {"forward", "backward", "optimizer", "overhead"}
        assert sum(parts.values()) == pytest.approx(total, rel=1e-12)
        assert parts["backward"] > parts["forward"] > parts["optimizer"] > 0 and parts["overhead"] >= 0
    # the fp16 step carries GradScaler's unscale pass over the fp32 gradients on the GPU; bf16 does not
    fp16 = predict_step(a, A100, 32, "fp16", CAL).per_phase["optimizer"]
    bf16 = predict_step(a, A100, 32, "bf16", CAL).per_phase["optimizer"]
    unscale = 2 * a.gradient_bytes / (A100.memory_bandwidth_gbs * 1e9 * CAL.memory_efficiency)
    assert unscale < fp16 - bf16 < unscale + 20 * CAL.kernel_latency_seconds  # + its foreach launches


def test_misaligned_gemm_is_slower_per_flop_in_fp16():
    per_flop = {}
    for n in (1000, 1024, 1002, 1001):
        op = gemm(n)
        step = predict_step(analysis([op]), A100, 64, "fp16", CAL)
        per_flop[n] = step.per_kind["matmul"] / (64 * op.flops[0])
    # 1000 = 8 x 125 is aligned (16 bytes in fp16): the same rate per FLOP as 1024
    assert per_flop[1000] == pytest.approx(per_flop[1024], rel=0.01)
    assert per_flop[1002] > 1.3 * per_flop[1024]  # 4-byte aligned: narrower tensor-core loads (staging unchanged)
    assert per_flop[1001] > 2.0 * per_flop[1024]  # odd: slower still
    fp32 = [predict_step(analysis([gemm(n, dtype="float32")]), A100, 64, "fp32", CAL).seconds for n in (1024, 1001)]
    assert fp32[1] / fp32[0] == pytest.approx((1001 / 1024) ** 2, rel=0.02)  # CUDA cores: no alignment rule


def test_a_compiled_misaligned_matmul_runs_padded():
    """torch.compile pads a misaligned matmul (inductor's pad_mm): aligned math plus a copy of its data, where
    eager pays the narrow tensor-core loads; an aligned one is the same either way."""
    bandwidth = A100.memory_bandwidth_gbs * 1e9 * CAL.memory_efficiency
    seconds = {(n, compiled): predict_step(analysis([gemm(n)]), A100, 64, "fp16", CAL, compiled=compiled)
               .per_kind["matmul"] for n in (1024, 1001) for compiled in (False, True)}
    assert seconds[(1024, True)] == pytest.approx(seconds[(1024, False)], rel=1e-9)
    copy = 64 * gemm(1001).bytes[0] / bandwidth  # one pass over the op's data at batch 64
    aligned_rate = seconds[(1024, False)] * (1001 / 1024) ** 2  # the FLOPs of n = 1001 at 1024's rate
    assert seconds[(1001, True)] == pytest.approx(aligned_rate + copy, rel=0.03)
    assert seconds[(1001, False)] > 1.5 * seconds[(1001, True)]


def test_bf16_elementwise_bytes_are_half_of_fp32():
    import torch

    from advisor.probe.analysis import analyze
    from advisor.workload import Workload

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(256, 256)

        def forward(self, x):
            return torch.relu(self.lin(x)).sum()

    wl = Workload(model=Net(), make_batch=lambda b: (torch.randn(b, 256), None), name="relu-net")
    by = {}
    for prec in ("fp32", "bf16"):
        a = analyze(wl, precision=prec)
        relu = [r for r in a.ops if "relu" in r.op and r.phase == "forward"]
        by[prec] = relu[0]
    assert by["bf16"].dtype == "bfloat16" and by["fp32"].dtype == "float32"
    assert by["bf16"].bytes[1] == pytest.approx(by["fp32"].bytes[1] / 2)


def test_compiled_is_faster_for_pointwise_chains_and_equal_for_gemms():
    chain = [OpRecord(op="aten.mul.Tensor", kind="elementwise", phase="forward", flops=(0.0, 0.0),
                      bytes=(3e7, 6e7), fused_bytes=((3e7, 6e7) if i == 0 else (1e7, 2e7)),
                      fused_kernels=1.0 if i == 0 else 0.0, dtype="float32") for i in range(6)]
    eager = predict_step(analysis(chain), A100, 8, "fp32", CAL)
    compiled = predict_step(analysis(chain), A100, 8, "fp32", CAL, compiled=True)
    assert compiled.seconds < eager.seconds
    assert compiled.per_phase["forward"] < 0.6 * eager.per_phase["forward"]  # 1 kernel, intermediates in registers
    assert compiled.kernels == 1 and eager.kernels == 6
    gemms = [gemm(4096, dtype="float32")]
    e = predict_step(analysis(gemms), A100, 8, "tf32", CAL).seconds
    c = predict_step(analysis(gemms), A100, 8, "tf32", CAL, compiled=True).seconds
    assert c == pytest.approx(e, rel=0.01)


def test_tracer_fuses_a_real_pointwise_chain():
    import torch

    from advisor.probe.analysis import analyze
    from advisor.workload import Workload

    class Chain(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(512, 512)

        def forward(self, x):
            y = self.lin(x)
            return (torch.tanh(y * 2.0 + 1.0) * torch.sigmoid(y)).mean()

    wl = Workload(model=Chain(), make_batch=lambda b: (torch.randn(b, 512), None), name="chain")
    a = analyze(wl, precision="fp32")
    fwd = [r for r in a.ops if r.phase == "forward" and r.kind in ("elementwise", "reduction")]
    eager_bytes = sum(r.count * r.bytes[1] for r in fwd)
    fused_bytes = sum(r.count * r.fused_bytes[1] for r in fwd)
    assert fused_bytes < 0.5 * eager_bytes
    assert sum(r.count * r.fused_kernels for r in fwd) == 1


def test_calibration_file_loads_with_the_new_constants():
    cal = load_calibration()
    assert 0.5 < cal.compute_eff("matmul", "half") <= 1.0
    assert 0.5 < cal.half_memory_efficiency <= 1.0
    assert cal.provenance["rows_used"] > 90
    assert Calibration().half_memory_efficiency == pytest.approx(0.88)


def test_geforce_16bit_memory_bound_kernels_run_at_fp32s_bandwidth_fraction():
    """GeForce cards run DRAM ECC off: an eager 16-bit element-wise kernel is priced at the fp32 bandwidth fraction
    (an RTX 3090 Ti's GELU ran at 0.89 of its datasheet), a data-centre card's at ``half_memory_efficiency`` of
    it; the two GPUs below differ in nothing but the name."""
    from advisor.predictor.optable import dram_ecc_off

    big = 512e6  # bytes per sample: the kernel's time dwarfs its launch
    op = OpRecord(op="aten.gelu.default", kind="elementwise", phase="forward", flops=(0.0, 0.0),
                  bytes=(big, 2 * big), dtype="float16")
    rtx = resolve_gpu("RTX3090")
    a10 = rtx.model_copy(update={"name": "A10-like", "aliases": ["NVIDIA A10-like"]})
    assert dram_ecc_off(rtx) and not dram_ecc_off(a10)
    assert dram_ecc_off(resolve_gpu("Titan-RTX")) and dram_ecc_off(resolve_gpu("GTX1080Ti"))
    assert not any(dram_ecc_off(resolve_gpu(n)) for n in ("T4", "A10", "A40", "L4", "L40S", "RTX-A6000", "A100-80GB"))
    batch = 8
    seconds = {s.name: predict_step(analysis([op]), s, batch, "fp16", CAL).per_kind["elementwise"] for s in (rtx, a10)}
    assert CAL.half_memory_efficiency < 0.95
    assert seconds["A10-like"] == pytest.approx(seconds["RTX3090"] / CAL.half_memory_efficiency, rel=0.01)
