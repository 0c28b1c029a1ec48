"""The analysis of a model that turns CUDA autocast off for part of its forward (llm-foundry's LPLayerNorm: the
LayerNorm's input, weight and bias cast to the autocast dtype, then ``F.layer_norm`` with autocast off)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from advisor.probe.analysis import analyze
from advisor.workload import Workload

WIDTH, CLASSES = 64, 8


class _LowPrecisionNorm(nn.LayerNorm):
    def forward(self, x):
        if not torch.is_autocast_enabled("cuda"):
            return super().forward(x)
        dtype = torch.get_autocast_dtype("cuda")
        with torch.autocast("cuda", enabled=False):
            return F.layer_norm(x.to(dtype), self.normalized_shape, self.weight.to(dtype), self.bias.to(dtype),
                                self.eps)


def _workload(low_precision: bool) -> Workload:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp = nn.Linear(WIDTH, WIDTH)
            self.norm = (_LowPrecisionNorm if low_precision else nn.LayerNorm)(WIDTH)
            self.proj = nn.Linear(WIDTH, WIDTH)
            self.out = nn.Linear(WIDTH, CLASSES)

        def forward(self, x):
            # A pre-norm block on an fp32 residual stream (fp32 + a 16-bit matmul's output), as in a transformer
            h = x + self.inp(x)
            return self.out(h + self.proj(self.norm(h)))

    return Workload(model=Net, make_batch=lambda b: (torch.randn(b, WIDTH), torch.randint(0, CLASSES, (b,))),
                    name="lp-norm" if low_precision else "norm")


def _ops(a, name: str, phase: str) -> list:
    return [r for r in a.ops if r.op.split(".")[1] == name and r.phase == phase]


def _bytes(ops: list, at: int = 1) -> float:
    return sum(r.count * r.bytes[at] for r in ops)


def test_a_layer_norm_run_with_autocast_off_moves_its_16_bit_tensors():
    plain = analyze(_workload(False), batch_sizes=(2, 8), precision="bf16")
    low = analyze(_workload(True), batch_sizes=(2, 8), precision="bf16")
    for phase, name in (("forward", "native_layer_norm"), ("backward", "native_layer_norm_backward")):
        (p,), (q,) = _ops(plain, name, phase), _ops(low, name, phase)
        # autocast runs LayerNorm in fp32 (its fp32 list); with autocast off on bf16 inputs every tensor is 2 bytes
        assert (p.dtype, q.dtype) == ("float32", "bfloat16"), phase
        assert q.bytes == (p.bytes[0] / 2, p.bytes[1] / 2), phase
    # The casts: autocast's of the LayerNorm's fp32 output for the next Linear, against the model's own of the
    # LayerNorm's input, weight and bias (each read in fp32, written in bf16), and each gradient's cast back.
    extra = 2 * WIDTH * (4 + 2)
    for phase in ("forward", "backward"):
        assert _bytes(_ops(low, "_to_copy", phase)) == _bytes(_ops(plain, "_to_copy", phase)) + extra, phase
    # The residual's gradient leaves the model's cast in fp32, as on the GPU: its add is fp32 as without the cast.
    assert {r.dtype for r in _ops(low, "add", "backward")} == {"float32"}
    assert _bytes(_ops(low, "add", "backward")) == _bytes(_ops(plain, "add", "backward"))
    assert low.flops_per_sample == plain.flops_per_sample


def test_without_16_bit_precision_the_model_sees_autocast_off_and_runs_its_plain_layer_norm():
    plain = analyze(_workload(False), batch_sizes=(2, 8), precision="fp32")
    low = analyze(_workload(True), batch_sizes=(2, 8), precision="fp32")
    assert [(r.op, r.phase, r.dtype, r.count, r.bytes) for r in low.ops] == \
        [(r.op, r.phase, r.dtype, r.count, r.bytes) for r in plain.ops]
    assert not torch.is_autocast_enabled("cuda")  # the analysis left the switch as it found it
