"""FP32 3x3 convolutions priced as cuDNN's Winograd, and BERT's attention written as NVIDIA's reference code."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from advisor.predictor.calibration import Calibration
from advisor.predictor.optable import WINOGRAD_MULTIPLY_REDUCTION
from advisor.predictor.roofline import predict_step
from advisor.probe.analysis.gemm import winograd_share
from advisor.schemas import Analysis, GpuSpec, OpRecord

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# No TF32 and no tensor-core 16-bit rate: fp32 convolutions run on CUDA cores.
SPEC = GpuSpec(name="Volta-like", memory_gib=16, memory_bandwidth_gbs=1000, fp32_tflops=15,
               fp16_bf16_tflops=120, bf16_supported=False)
CAL = Calibration(compute_efficiency={k: 0.5 for k in ("matmul.fp32", "matmul.tf32", "matmul.half", "conv.fp32",
                                                         "conv.tf32", "conv.half")},
                  memory_efficiency=0.8, kernel_latency_seconds=0.0, host_seconds_per_op=0.0,
                  step_overhead_seconds=0.0, operand_reuse=1e9, gemm_k_fill=0.0, conv_layout_passes=1.0)


def t(*shape: int) -> SimpleNamespace:
    return SimpleNamespace(shape=shape)


def test_winograd_share_reads_kernel_stride_dilation_groups():
    x, w3, w1 = t(8, 64, 56, 56), t(64, 64, 3, 3), t(64, 64, 1, 1)
    # aten.convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)
    assert winograd_share("convolution", (x, w3, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1)) == 1.0
    assert winograd_share("convolution", (x, w3, None, [2, 2], [1, 1], [1, 1], False, [0, 0], 1)) == 0.0
    assert winograd_share("convolution", (x, w1, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)) == 0.0
    assert winograd_share("convolution", (x, w3, None, [1, 1], [2, 2], [2, 2], False, [0, 0], 1)) == 0.0
    assert winograd_share("convolution", (x, t(64, 1, 3, 3), None, [1, 1], [1, 1], [1, 1], False, [0, 0],
                                          64)) == 0.0
    # convolution_backward(grad_out, input, weight, bias_sizes, stride, padding, dilation, transposed,
    # output_padding, groups, output_mask): either gradient (the weight gradient non-fused) runs as Winograd;
    # a call asking for the bias gradient alone has no convolution FLOPs to share.
    back = (x, x, w3, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1)
    assert winograd_share("convolution_backward", back + ([True, True, False],)) == 1.0
    assert winograd_share("convolution_backward", back + ([True, False, False],)) == 1.0
    assert winograd_share("convolution_backward", back + ([False, True, False],)) == 1.0
    assert winograd_share("convolution_backward", back + ([False, False, True],)) == 0.0
    assert winograd_share("convolution_backward", (x, x, w1, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1,
                                                   [True, True, False])) == 0.0
    assert winograd_share("mm", (t(4, 4), t(4, 4))) == 0.0


def conv_step(share: float, dtype: str = "float32") -> Analysis:
    op = OpRecord(op="aten.convolution.default", kind="conv", phase="forward", flops=(1e12, 2e12),
                  bytes=(1e6, 2e6), dtype=dtype, winograd_share=share)
    return Analysis(batch_sizes=(1, 2), ops=[op], flops_per_sample=1e12, param_count=1, trainable_param_count=1,
                    param_bytes=4, gradient_bytes=4, optimizer="SGD", optimizer_state_bytes=0)


def test_fp32_winograd_conv_is_priced_at_fewer_multiplies():
    plain = predict_step(conv_step(0.0), SPEC, 1, "fp32", CAL).seconds
    full = predict_step(conv_step(1.0), SPEC, 1, "fp32", CAL).seconds
    half = predict_step(conv_step(0.5), SPEC, 1, "fp32", CAL).seconds
    assert plain == pytest.approx(1e12 / (15e12 * 0.5), rel=1e-6)
    assert full == pytest.approx(plain / WINOGRAD_MULTIPLY_REDUCTION, rel=1e-6)
    assert half == pytest.approx(plain * (0.5 + 0.5 / WINOGRAD_MULTIPLY_REDUCTION), rel=1e-6)


def test_tensor_core_conv_ignores_winograd_share():
    a, b = conv_step(0.0, "float16"), conv_step(1.0, "float16")
    assert predict_step(a, SPEC, 1, "fp16", CAL).seconds == predict_step(b, SPEC, 1, "fp16", CAL).seconds


@pytest.mark.parametrize("mode", ["sdpa", "math"])
def test_bert_attention_modes_compute_the_same_function(monkeypatch, mode):
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location("bert_squad_under_test", EXAMPLES / "bert_squad.py")
    bert = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bert)
    monkeypatch.setenv("ADVISOR_BERT_ATTN", "sdpa")
    torch.manual_seed(0)
    fused = bert.SelfAttention(32, 4, 0.0).eval()
    monkeypatch.setenv("ADVISOR_BERT_ATTN", mode)
    other = bert.SelfAttention(32, 4, 0.0).eval()
    other.load_state_dict(fused.state_dict())
    x = torch.randn(2, 6, 32)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]]).bool()[:, None, None, :]
    assert other.fused == (mode == "sdpa")
    torch.testing.assert_close(other(x, mask), fused(x, mask), atol=1e-5, rtol=1e-4)
    monkeypatch.setenv("ADVISOR_BERT_ATTN", "flash")
    with pytest.raises(ValueError, match="ADVISOR_BERT_ATTN"):
        bert.fused_attention()
