"""The modes build_model() leaves are the ones trained: a frozen BatchNorm backbone put in eval() stays in eval in
the workload check, the shape analysis and the probe's timed steps (advisor never calls model.train())."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from advisor.probe.analysis import analyze
from advisor.probe.measure import DeviceProbe, ProbeOptions
from advisor.workload import Workload, check_workload


class _IdleMachine:
    """The CPU-load seam of advisor.probe.contention: nobody else uses this machine."""

    def sample(self):
        return None


def _frozen_bn_workload(modes: list[tuple[bool, bool]]) -> Workload:
    """A conv + BatchNorm backbone, frozen and put in eval() as the frozen-BN recipe does, under a trained head;
    every forward of the backbone appends (backbone.training, bn.training) to ``modes``."""

    def build_model():
        backbone = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                 nn.AdaptiveAvgPool2d(1), nn.Flatten())
        for p in backbone.parameters():
            p.requires_grad_(False)
        backbone.eval()
        backbone.register_forward_pre_hook(lambda m, args: modes.append((m.training, m[1].training)))
        return nn.Sequential(backbone, nn.Linear(8, 4))

    def make_batch(b):
        return torch.randn(b, 3, 8, 8), torch.randint(0, 4, (b,))

    return Workload(model=build_model, make_batch=make_batch, name="frozen_bn")


def test_the_workload_check_trains_the_frozen_backbone_in_eval_mode():
    modes: list[tuple[bool, bool]] = []
    check_workload(_frozen_bn_workload(modes), batch_size=4)
    assert modes and set(modes) == {(False, False)}


def test_the_analysis_traces_the_frozen_backbone_in_eval_mode():
    modes: list[tuple[bool, bool]] = []
    analysis = analyze(_frozen_bn_workload(modes), batch_sizes=(2, 4))
    assert modes and set(modes) == {(False, False)}
    assert analysis.trainable_param_count == 8 * 4 + 4  # the head alone


@pytest.mark.slow
def test_the_probes_timed_steps_run_the_frozen_backbone_in_eval_mode():
    modes: list[tuple[bool, bool]] = []
    options = ProbeOptions(batch_size=4, batch_sizes=[4], budget_seconds=0.5, threads=1, thread_scaling=False,
                           after_ladder=False)
    prof = DeviceProbe(_frozen_bn_workload(modes), "cpu", options, load_source=_IdleMachine()).run()
    steps = sum(m.warmup_steps + len(m.compute_seconds_samples) for m in prof.measurements)
    assert steps > 0 and len(modes) >= steps
    assert set(modes) == {(False, False)}
