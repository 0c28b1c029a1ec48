"""Tensor-core convolutions pay for their im2col index work at the SMs' clock rate (``conv_index_ops``)."""

from __future__ import annotations

import pytest

from advisor.predictor.calibration import Calibration, load_calibration
from advisor.predictor.gemm import TILE_FULL, TILE_HALF
from advisor.predictor.optable import sm_clock_flops
from advisor.predictor.roofline import predict_step
from advisor.schemas import Analysis, GpuSpec, OpRecord

# A100-like: 16-bit tensor rate 16x the FP32 rate; GeForce-like: 2x.
TENSOR_HEAVY = GpuSpec(name="A100-like", memory_gib=40, memory_bandwidth_gbs=1e6, fp32_tflops=19.5,
                       tf32_tflops=156, fp16_bf16_tflops=312, bf16_supported=True)
GEFORCE = GpuSpec(name="GeForce-like", memory_gib=24, memory_bandwidth_gbs=1e6, fp32_tflops=35.6,
                  tf32_tflops=35.6, fp16_bf16_tflops=71, bf16_supported=True)
FLOPS = 1e12
# M, N, K of the convolution's implicit GEMM, wider than the 16-bit tile: each staged element serves
# 2 x 256 x 128 / (256 + 128) FLOPs.
GEMM = (4096.0, 512.0, 4608.0)
STAGED = FLOPS / (2 * TILE_HALF[0] * TILE_HALF[1] / (TILE_HALF[0] + TILE_HALF[1]))
STAGED_TF32 = FLOPS / TILE_FULL[0]  # a 128 x 128 tile


def calibration(index_ops: float) -> Calibration:
    # No kernel latency, host or step overhead, no K fill, no layout passes, staging never the bound:
    # what is left is the tensor-core math and the index work.
    return Calibration(compute_efficiency={k: 0.5 for k in ("matmul.fp32", "matmul.tf32", "matmul.half",
                                                             "conv.fp32", "conv.tf32", "conv.half")},
                       memory_efficiency=1.0, kernel_latency_seconds=0.0, host_seconds_per_op=0.0,
                       step_overhead_seconds=0.0, operand_reuse=1e9, gemm_k_fill=0.0, conv_layout_passes=0.0,
                       conv_index_ops=index_ops)


def step(kind: str, dtype: str, **switches) -> Analysis:
    op = OpRecord(op="aten.convolution.default" if kind == "conv" else "aten.mm.default", kind=kind,
                  phase="forward", flops=(FLOPS, FLOPS), bytes=(1.0, 1.0), dtype=dtype, gemm=(GEMM, GEMM))
    return Analysis(batch_sizes=(1, 2), ops=[op], flops_per_sample=FLOPS, param_count=1, trainable_param_count=1,
                    param_bytes=4, gradient_bytes=4, optimizer="SGD", optimizer_state_bytes=0, **switches)


def test_16bit_conv_adds_index_work_per_staged_element_at_the_fp32_rate():
    seconds = predict_step(step("conv", "float16"), TENSOR_HEAVY, 1, "fp16", calibration(8.0)).seconds
    # fp16's GradScaler adds a pass over 4 bytes of gradients: nothing at this bandwidth.
    assert seconds == pytest.approx(FLOPS / (312e12 * 0.5) + STAGED * 8.0 / 19.5e12, rel=1e-6)


def test_index_work_weighs_more_on_a_tensor_heavy_gpu():
    def slowdown(spec: GpuSpec) -> float:
        with_index = predict_step(step("conv", "float16"), spec, 1, "fp16", calibration(8.0)).seconds
        without = predict_step(step("conv", "float16"), spec, 1, "fp16", calibration(1e-9)).seconds
        return with_index / without

    # index / math = 8 x (staged / FLOPs) x (16-bit peak x 0.5 / FP32 peak): +37.5% against +4.7%.
    assert slowdown(TENSOR_HEAVY) == pytest.approx(1 + 312 / 19.5 * 0.5 * 8 * STAGED / FLOPS, rel=1e-6)
    assert slowdown(GEFORCE) == pytest.approx(1 + 71 / 35.6 * 0.5 * 8 * STAGED / FLOPS, rel=1e-6)
    assert slowdown(TENSOR_HEAVY) > 1.3 > 1.1 > slowdown(GEFORCE)


def test_matmuls_and_fp32_convolutions_have_no_index_work():
    # The fp32 convolution with cuDNN's TF32 switched off, as the workload can: CUDA-core kernels.
    for kind, dtype, precision in (("matmul", "float16", "fp16"), ("conv", "float32", "fp32")):
        a = step(kind, dtype, cudnn_allow_tf32=False)
        assert (predict_step(a, TENSOR_HEAVY, 1, precision, calibration(8.0)).seconds
                == pytest.approx(predict_step(a, TENSOR_HEAVY, 1, precision, calibration(1e-9)).seconds, rel=1e-9))


def test_tf32_conv_has_index_work_only_where_it_runs_on_tensor_cores():
    a = step("conv", "float32")
    heavy = [predict_step(a, TENSOR_HEAVY, 1, "tf32", calibration(c)).seconds for c in (8.0, 1e-9)]
    # A100-like: TF32 (156 x 0.5) beats FP32 (19.5 x 0.5): the tensor-core kernel, with its index work.
    assert heavy[1] == pytest.approx(FLOPS / (156e12 * 0.5), rel=1e-6)
    assert heavy[0] == pytest.approx(heavy[1] + STAGED_TF32 * 8.0 / 19.5e12, rel=1e-6)
    # GeForce-like: TF32 = FP32 peak, so the CUDA-core kernel is as fast and is the one priced: no index work.
    geforce = [predict_step(a, GEFORCE, 1, "tf32", calibration(c)).seconds for c in (8.0, 1e-9)]
    assert geforce[0] == pytest.approx(geforce[1], rel=1e-9)


def test_index_work_runs_at_the_sm_clock_not_at_a_doubled_fp32_rate():
    # GA10x, Ada and Hopper SMs have 128 FP32 lanes (twice Volta's, Turing's and GA100's 64): the FP32 rate
    # doubles, the clock and the integer rate of the index arithmetic do not.
    ga10x = GEFORCE.model_copy(update={"architecture": "Ampere-GA10x"})
    hopper = TENSOR_HEAVY.model_copy(update={"architecture": "Hopper", "fp32_tflops": 67.0,
                                             "fp16_bf16_tflops": 989.5})
    assert sm_clock_flops(ga10x) == pytest.approx(35.6e12 / 2)
    assert sm_clock_flops(hopper) == pytest.approx(67e12 / 2)
    assert sm_clock_flops(TENSOR_HEAVY.model_copy(update={"architecture": "Ampere-GA100"})) == pytest.approx(19.5e12)
    a = step("conv", "float16")
    index = [predict_step(a, spec, 1, "fp16", calibration(8.0)).seconds
             - predict_step(a, spec, 1, "fp16", calibration(1e-9)).seconds for spec in (GEFORCE, ga10x)]
    assert index[0] == pytest.approx(STAGED * 8.0 / 35.6e12, rel=1e-6)
    assert index[1] == pytest.approx(2 * index[0], rel=1e-6)


def test_shipped_calibration_fits_the_index_work():
    cal = load_calibration()
    assert "conv_index_ops" in cal.provenance["free_parameters"]
    assert 0.5 < cal.conv_index_ops < 50
