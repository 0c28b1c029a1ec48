"""GEMM shape in the roofline: operand reuse per tile (advisor.predictor.gemm), and recorded GEMM dimensions."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.hardware.specs import resolve_gpu
from advisor.predictor.calibration import load_calibration
from advisor.predictor.gemm import tile_reuse
from advisor.predictor.roofline import predict_step
from advisor.probe.analysis.gemm import gemm_dims
from advisor.schemas import Analysis, OpRecord


def gemm_step(m: int, n: int, k: int, align: int = 8) -> Analysis:
    """One bf16 GEMM of M x N x K per sample (M scales with the batch), nothing else."""
    flops = 2.0 * m * n * k
    nbytes = 2.0 * (m * k + k * n + m * n)
    op = OpRecord(op="aten.mm.default", kind="matmul", phase="forward", flops=(flops, 2 * flops),
                  bytes=(nbytes, 2 * nbytes - 2.0 * k * n), dtype="bfloat16",
                  gemm=((m, n, k), (2 * m, n, k)), align=align)
    return Analysis(batch_sizes=(1, 2), ops=[op], flops_per_sample=flops, param_count=k * n,
                    trainable_param_count=k * n, param_bytes=4 * k * n, gradient_bytes=4 * k * n,
                    optimizer="SGD", optimizer_state_bytes=0)


def fraction_of_peak(m: int, n: int, k: int, gpu: str = "H100-SXM", align: int = 8) -> float:
    spec = resolve_gpu(gpu)
    cal = load_calibration()
    step = predict_step(gemm_step(m, n, k, align), spec, 1, "bf16", cal)
    gpu_seconds = step.seconds - step.overhead_seconds
    return 2.0 * m * n * k / gpu_seconds / (spec.fp16_bf16_tflops * 1e12)


def test_big_llm_gemm_reaches_over_half_of_dense_peak_on_h100():
    # An MPT-7B MLP GEMM at 8k tokens per GPU: d_model 4096 -> 16384. Staged through the SMs at their clock
    # (optable.sm_clock_flops), the model prices it at ~57% of the dense peak.
    assert fraction_of_peak(8192, 16384, 4096) >= 0.5
    assert fraction_of_peak(16384, 4096, 4096) >= 0.5


@pytest.mark.parametrize(("n", "measured_tflops"), [(2048, 622.6), (4096, 662.4), (8192, 660.9)])
def test_square_bf16_gemm_on_h200_is_priced_near_its_measured_rate(n, measured_tflops):
    # advisor's own n x n x n bf16 GEMM loop on a lent H200 (bench/README.md "advisor's own rows on an H200",
    # bench/data/h200_2026-11-30/micro.json): 63-67% of the datasheet's 989.5 TFLOP/s at the 700 W cap.
    predicted_tflops = fraction_of_peak(n, n, n, "H200") * 989.5
    assert predicted_tflops == pytest.approx(measured_tflops, rel=0.15)


def test_an_odd_vocabulary_runs_hoppers_turing_era_kernels():
    # GPT-2's LM head, 16 x 1,024 tokens over 50,257 words: cuBLAS's align1 fallback. On the H200 its three GEMMs
    # ran at 10-15% of the dense peak (bench/kernel_trace_h200.py); an A100 keeps the guide's 4x.
    h200 = fraction_of_peak(16384, 50257, 768, "H200", align=1)
    assert 0.08 < h200 < 0.16
    assert h200 == pytest.approx(0.16 * fraction_of_peak(16384, 50256, 768, "H200", align=8), rel=0.05)
    a100 = fraction_of_peak(16384, 50257, 768, "A100-80GB", align=1)
    assert a100 == pytest.approx(0.25 * fraction_of_peak(16384, 50256, 768, "A100-80GB", align=8), rel=0.05)


def test_narrow_gemm_stays_far_from_peak():
    # Head-size-wide output (64) and a short reduction: little reuse per tile.
    assert fraction_of_peak(8192, 64, 64) < 0.35
    assert fraction_of_peak(8192, 64, 64) < 0.6 * fraction_of_peak(8192, 16384, 4096)


def test_tile_reuse_grows_with_the_smaller_output_dimension_up_to_the_tile():
    half = np.array([True] * 4)
    reuse = tile_reuse(np.array([8192.0] * 4), np.array([16.0, 64.0, 128.0, 4096.0]), half)
    assert list(reuse) == pytest.approx([2 * 256 * 16 / 272, 2 * 256 * 64 / 320, 2 * 256 * 128 / 384,
                                         2 * 256 * 128 / 384])
    assert tile_reuse(np.array([8192.0]), np.array([8192.0]), np.array([False]))[0] == pytest.approx(128.0)


class _T:
    def __init__(self, *shape):
        self.shape = shape


def test_gemm_dims_of_aten_calls():
    assert gemm_dims("mm", (_T(32, 64), _T(64, 128))) == (32.0, 128.0, 64.0)
    assert gemm_dims("addmm", (_T(128), _T(32, 64), _T(64, 128))) == (32.0, 128.0, 64.0)
    assert gemm_dims("bmm", (_T(8, 384, 64), _T(8, 64, 384))) == (384.0, 384.0, 64.0)
    # conv 3x3, 64 -> 128 channels, batch 4, 56x56 output: M = 4*56*56, N = 128, K = 64*9
    conv = (_T(4, 64, 56, 56), _T(128, 64, 3, 3), None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1)
    assert gemm_dims("convolution", conv, _T(4, 128, 56, 56)) == (4 * 56 * 56.0, 128.0, 576.0)
    assert gemm_dims("relu", (_T(4, 4),)) is None


@pytest.mark.parametrize(("gpu", "half_share"), [
    ("A100-40GB", 1.0), ("H100-SXM", 1.0), ("H200", 1.0),  # Hopper's twice-the-A100 rate a clock is capped
    ("V100-16GB", 0.5), ("T4", 0.5), ("RTX-A6000", 0.5), ("L40S", 0.5),  # 8 16-bit FLOPs a 64-lane SM clock
    ("RTX3090", 0.25), ("RTX4090", 0.25), ("RTX2080Ti", 0.25),  # GeForce: FP32 accumulation at half rate
    ("GTX1080Ti", 1.0),  # no tensor cores: a CUDA-core kernel keeps the fitted fill
])
def test_the_k_loops_fill_is_the_same_sm_clocks_on_every_gpu(gpu, half_share):
    from advisor.predictor.optable import k_fill_share

    spec = resolve_gpu(gpu)
    assert k_fill_share(spec, spec.fp16_bf16_tflops * 1e12, "half", True) == pytest.approx(half_share, abs=0.01)
    assert k_fill_share(spec, spec.fp32_tflops * 1e12, "fp32", False) == 1.0  # a CUDA-core kernel
    if spec.tf32_tflops:  # TF32 on the tensor cores where they are faster, else on the CUDA cores
        on_tensor = spec.tf32_tflops > spec.fp32_tflops
        assert k_fill_share(spec, spec.tf32_tflops * 1e12, "tf32", on_tensor) == pytest.approx(
            min(1.0, half_share) if on_tensor else 1.0, abs=0.01)


def test_a_short_reduction_costs_a_geforce_card_less_of_its_peak():
    # K = 256, compute-bound on both: the A100 spends 1 + k_fill / 256 of its main loop, the RTX 3090 a quarter
    # of that fill; at K = 16,384 neither pays much
    cal = load_calibration()
    short = {g: fraction_of_peak(16384, 16384, 256, g) for g in ("A100-40GB", "RTX3090")}
    long = {g: fraction_of_peak(16384, 16384, 16384, g) for g in ("A100-40GB", "RTX3090")}
    fill = {g: (1 + s * cal.gemm_k_fill / 256) / (1 + s * cal.gemm_k_fill / 16384)
            for g, s in (("A100-40GB", 1.0), ("RTX3090", 0.25))}
    assert short["RTX3090"] / long["RTX3090"] > short["A100-40GB"] / long["A100-40GB"]
    for g in fill:
        assert long[g] / short[g] == pytest.approx(fill[g], rel=0.01)  # the rest: latency, memory
