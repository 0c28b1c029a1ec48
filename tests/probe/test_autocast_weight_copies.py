"""Autocast's 16-bit weight copies under bf16/fp16: held for the trainable weights (autocast caches their casts)
and for the frozen weights autograd saves for backward, not for a frozen backbone whose input needs no gradient
(advisor.predictor.memory's half_weight_copies, sized by the analysis' autocast_held_weight_bytes)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from advisor.predictor.memory import memory_from_analysis
from advisor.probe.analysis import analyze
from advisor.workload import Workload

WIDTH = 64


def _frozen_backbone() -> nn.Module:
    """Three frozen Linear layers under a trained Linear head (a frozen feature extractor)."""
    backbone = nn.Sequential(*(nn.Linear(WIDTH, WIDTH) for _ in range(3)))
    backbone.requires_grad_(False)
    return nn.Sequential(backbone, nn.Linear(WIDTH, 10))


class _Adapted(nn.Module):
    """A frozen Linear with a trained low-rank adapter beside it (LoRA's shape)."""

    def __init__(self) -> None:
        super().__init__()
        self.base = nn.Linear(WIDTH, WIDTH).requires_grad_(False)
        self.down, self.up = nn.Linear(WIDTH, 4, bias=False), nn.Linear(4, WIDTH, bias=False)

    def forward(self, x):
        return self.base(x) + self.up(self.down(x))


def _lora() -> nn.Module:
    return nn.Sequential(_Adapted(), _Adapted(), _Adapted())


def _workload(build, out_features: int) -> Workload:
    return Workload(model=build, make_batch=lambda b: (torch.randn(b, WIDTH), torch.randn(b, out_features)),
                    name="frozen")


def _saved_bf16_weights(model: nn.Module) -> int:
    """Bytes of fp32 frozen weights whose bf16 cast real CPU autocast hands autograd to keep for backward."""
    frozen = {tuple(p.shape[::-1]) for p in model.parameters() if not p.requires_grad and p.dim() == 2}
    saved = []
    x = torch.randn(4, WIDTH)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            model(x)
    return sum(t.numel() * 4 for t in saved if t.dtype == torch.bfloat16 and tuple(t.shape) in frozen)


def test_a_frozen_backbone_holds_no_16_bit_copy_of_its_weights():
    analysis = analyze(_workload(_frozen_backbone, 10), batch_sizes=(2, 4))
    head_bytes = (WIDTH * 10 + 10) * 4
    assert analysis.gradient_bytes == head_bytes
    assert analysis.autocast_held_weight_bytes == head_bytes  # the head's cached cast alone
    assert _saved_bf16_weights(_frozen_backbone()) == 0  # real autocast keeps none of the backbone's casts
    bf16 = memory_from_analysis(analysis, 8, 80.0, "bf16")
    assert bf16.breakdown["half_weight_copies"] * 2**30 == pytest.approx(0.5 * head_bytes)  # was all 4 layers'


def test_lora_holds_the_16_bit_copies_of_the_frozen_weights_autograd_saves():
    analysis = analyze(_workload(_lora, WIDTH), batch_sizes=(2, 4))
    adapters = 3 * 2 * WIDTH * 4 * 4
    assert analysis.gradient_bytes == adapters
    # The inputs of base layers 2 and 3 need a gradient (for the adapters below them), so autograd saves those
    # layers' weights; layer 1's input is the batch, which needs none. Biases are never saved.
    saved_frozen = 2 * WIDTH * WIDTH * 4
    assert analysis.autocast_held_weight_bytes == adapters + saved_frozen
    assert _saved_bf16_weights(_lora()) == saved_frozen  # what real CPU autocast keeps for backward


def test_an_analysis_that_did_not_record_them_counts_copies_of_every_weight():
    analysis = analyze(_workload(_frozen_backbone, 10), batch_sizes=(2, 4))
    older = analysis.model_copy(update={"autocast_held_weight_bytes": None})  # a profile from before the record
    bf16 = memory_from_analysis(older, 8, 80.0, "bf16")
    assert bf16.breakdown["half_weight_copies"] * 2**30 == pytest.approx(0.5 * analysis.param_bytes)
