"""The shape-level analysis of models whose matrix work is not real fp32: complex operands, against hand counts."""

from __future__ import annotations

import torch
from torch import nn

from advisor.probe.analysis import analyze
from advisor.workload import Workload


class _ComplexMatmul(nn.Module):
    """x (real) as complex, times a complex n x n weight, then a real Linear over the magnitudes."""

    def __init__(self, n: int, classes: int) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(n, n, dtype=torch.cfloat))
        self.out = nn.Linear(n, classes)

    def forward(self, x):
        return self.out((x.to(torch.cfloat) @ self.w).abs())


def test_complex_matmul_counts_eight_real_flops_per_multiply_add():
    n, classes = 16, 4
    wl = Workload(model=lambda: _ComplexMatmul(n, classes),
                  make_batch=lambda b: (torch.randn(b, n), torch.randint(0, classes, (b,))), name="complex")
    a = analyze(wl, batch_sizes=(2, 8))
    # forward: the complex mm at 8 real FLOPs per multiply-add, the Linear at 2; backward: the complex weight's
    # gradient (one complex mm of the same size; x needs no gradient) and the Linear's weight and input gradients
    assert a.forward_flops_per_sample == 8 * n * n + 2 * n * classes
    assert a.flops_per_sample == 2 * 8 * n * n + 3 * 2 * n * classes
    complex_mms = [r for r in a.ops if r.dtype == "complex64" and r.kind == "matmul"]
    assert {r.phase for r in complex_mms} == {"forward", "backward"}
    assert all(r.flops == (8.0 * 2 * n * n, 8.0 * 8 * n * n) for r in complex_mms)


def test_complex_convolution_is_counted_as_the_three_real_ones_pytorch_runs():
    # PyTorch runs a complex convolution as three real ones (Gauss's trick) before the trace sees it: those are
    # counted, at 2 FLOPs per multiply-add, and not multiplied again.
    cin, cout, k, hw = 2, 4, 3, 8
    out_hw = hw - k + 1

    class ComplexConv(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, k, dtype=torch.cfloat)

        def forward(self, x):
            return self.conv(x.to(torch.cfloat)).abs().mean(dim=(2, 3))

    wl = Workload(model=ComplexConv, make_batch=lambda b: (torch.randn(b, cin, hw, hw), torch.randn(b, cout)),
                  name="complex conv")
    a = analyze(wl, batch_sizes=(2, 8))
    assert a.forward_flops_per_sample == 3 * 2 * cin * cout * k * k * out_hw * out_hw


def _float64_mlp() -> Workload:
    def build():
        return nn.Sequential(nn.Linear(32, 64), nn.Tanh(), nn.Linear(64, 1)).double()

    return Workload(model=build, make_batch=lambda b: (torch.randn(b, 32, dtype=torch.float64),
                                                       torch.randn(b, 1, dtype=torch.float64)), name="pinn")


def test_a_float64_model_is_traced_in_float64_at_any_precision():
    from advisor.predictor.fp64 import float64_share

    for precision in ("fp32", "bf16", "fp16"):
        a = analyze(_float64_mlp(), batch_sizes=(2, 8), precision=precision)
        matmuls = [r for r in a.ops if r.kind == "matmul"]
        # CUDA autocast casts float32 tensors only: the float64 matmuls stay float64, with no casts to 16 bits
        assert matmuls and {r.dtype for r in matmuls} == {"float64"}, precision
        assert not [r for r in a.ops if r.op == "aten._to_copy.default" and r.dtype in ("bfloat16", "float16")]
        assert float64_share(a) == 1.0
        (first,) = [r for r in matmuls if r.phase == "forward" and r.op == "aten.addmm.default" and
                    r.flops[0] == 2 * 2 * 32 * 64]
        assert first.bytes[0] == 8 * (64 + 2 * 32 + 32 * 64 + 2 * 64)  # 8-byte operands: bias, x, W, output
    assert float64_share(analyze(_linear32(), batch_sizes=(2, 8))) == 0.0


def _linear32() -> Workload:
    return Workload(model=lambda: nn.Linear(8, 2), make_batch=lambda b: (torch.randn(b, 8), torch.randn(b, 2)),
                    name="linear")
