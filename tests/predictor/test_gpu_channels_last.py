"""Channels-last convolutions: the analysis tells the two layouts apart, only a channels-first 16-bit
convolution pays cuDNN's NCHW <-> NHWC layout passes, and only a channels-first batch norm its one-block-per-
channel floor."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.hardware.specs import resolve_gpu
from advisor.predictor.calibration import load_calibration
from advisor.predictor.roofline import predict_step
from advisor.probe.analysis import analyze
from advisor.probe.analysis.recorder import _channels_last
from advisor.workload import load_workload

RESNET = Path(__file__).resolve().parents[2] / "bench" / "workloads" / "resnet.py"


def test_layout_is_read_off_the_first_tensor_that_decides():
    import torch

    nchw = torch.empty(2, 8, 5, 5)
    nhwc = nchw.contiguous(memory_format=torch.channels_last)
    one_by_one = torch.empty(2, 8, 1, 1)  # contiguous in both layouts: says nothing
    assert _channels_last([nhwc]) and not _channels_last([nchw])
    assert _channels_last([one_by_one, nhwc]) and not _channels_last([one_by_one, nchw])
    assert not _channels_last([one_by_one]) and not _channels_last([torch.empty(3, 4)])


@pytest.fixture(scope="module")
def resnet18_both_layouts():
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ADVISOR_RESNET_DEPTH", "18")
        for flag in ("0", "1"):
            mp.setenv("ADVISOR_CHANNELS_LAST", flag)
            out[flag == "1"] = analyze(load_workload(RESNET), precision="fp16")
    return out


def test_channels_last_model_skips_the_layout_passes(resnet18_both_layouts):
    first, last = resnet18_both_layouts[False], resnet18_both_layouts[True]
    convs_first = [r for r in first.ops if r.kind == "conv"]
    convs_last = [r for r in last.ops if r.kind == "conv"]
    assert convs_first and not any(r.channels_last for r in convs_first)
    assert convs_last and all(r.channels_last for r in convs_last)
    assert {r.phase for r in convs_last} == {"forward", "backward"}
    # same FLOPs either way; only the 16-bit step differs, by the layout passes
    assert sum(r.count * r.flops[1] for r in convs_first) == pytest.approx(
        sum(r.count * r.flops[1] for r in convs_last))
    cal, a100 = load_calibration(), resolve_gpu("A100-80GB")
    assert cal.conv_layout_passes > 0
    half_first = predict_step(first, a100, 256, "fp16", cal).seconds
    half_last = predict_step(last, a100, 256, "fp16", cal).seconds
    assert half_last < 0.95 * half_first
    # TF32 convolutions read NCHW as they are: what still differs is the channels-first batch norms' floor
    tf32_first, tf32_last = predict_step(first, a100, 256, "tf32", cal), predict_step(last, a100, 256, "tf32", cal)
    assert tf32_first.layout_seconds == tf32_last.layout_seconds == 0.0
    assert tf32_first.plane_seconds > 0 and tf32_last.plane_seconds == 0.0
    assert tf32_first.gpu_seconds - tf32_last.gpu_seconds == pytest.approx(tf32_first.plane_seconds, rel=0.02)
