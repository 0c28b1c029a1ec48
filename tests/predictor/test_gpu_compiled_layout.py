"""torch.compile runs a CNN's convolutions channels-last (Inductor's layout optimisation), so a compiled,
channels-first model pays no NCHW <-> NHWC transposes around its 16-bit convolutions, unless it holds a
grouped convolution with several input channels a group, or its convolutions are rare nodes in a large graph."""

from __future__ import annotations

import pytest

from advisor.hardware.specs import resolve_gpu
from advisor.predictor.calibration import load_calibration
from advisor.predictor.optable import INDUCTOR_NODES_PER_CONV, inductor_channels_last
from advisor.predictor.roofline import predict_step
from advisor.probe.analysis import analyze
from advisor.probe.analysis.gemm import grouped_conv
from advisor.workload import load_workload

CNN = '''
import torch
from torch import nn

GROUPS = {groups}


def build_model():
    return nn.Sequential(
        nn.Conv2d(16, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1, groups=GROUPS, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Conv2d(64, 64, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def make_batch(batch_size):
    return torch.randn(batch_size, 16, 32, 32), torch.randint(0, 10, (batch_size,))
'''


@pytest.fixture(scope="module")
def cnn_analyses(tmp_path_factory):
    out = {}
    for groups in (1, 8, 64):
        path = tmp_path_factory.mktemp(f"g{groups}") / "cnn.py"
        path.write_text(CNN.format(groups=groups), encoding="utf-8")
        out[groups] = analyze(load_workload(path), precision="fp16")
    return out


def test_grouped_conv_is_a_group_of_several_input_channels():
    import torch

    x = torch.empty(2, 64, 8, 8)

    def args(weight, groups):
        return (x, weight, None, [1, 1], [1, 1], [1, 1], False, [0, 0], groups)

    assert not grouped_conv("convolution", args(torch.empty(64, 64, 3, 3), 1))
    assert grouped_conv("convolution", args(torch.empty(64, 8, 3, 3), 8))
    assert not grouped_conv("convolution", args(torch.empty(64, 1, 3, 3), 64))  # depthwise
    assert not grouped_conv("convolution_backward", args(torch.empty(64, 8, 3, 3), 8))
    assert not grouped_conv("addmm", ())


def test_the_analysis_marks_only_the_grouped_convolution(cnn_analyses):
    def marked(a):
        return [r.gemm is not None and r.grouped for r in a.ops if r.kind == "conv" and r.phase == "forward"]

    assert marked(cnn_analyses[1]) == [False, False, False]
    assert sum(marked(cnn_analyses[8])) == 1
    assert not any(marked(cnn_analyses[64]))


def test_compiled_cnn_pays_no_layout_transposes(cnn_analyses):
    cal, gpu = load_calibration(), resolve_gpu("RTX4090")
    plain = cnn_analyses[1]
    assert inductor_channels_last(plain)
    eager = predict_step(plain, gpu, 256, "fp16", cal)
    compiled = predict_step(plain, gpu, 256, "fp16", cal, compiled=True)
    assert eager.layout_seconds > 0.05 * eager.seconds
    assert compiled.layout_seconds == 0.0
    # depthwise convolutions do not stop the relayout; ResNeXt-style groups do, and the transposes stay
    assert inductor_channels_last(cnn_analyses[64])
    assert predict_step(cnn_analyses[64], gpu, 256, "fp16", cal, compiled=True).layout_seconds == 0.0
    assert not inductor_channels_last(cnn_analyses[8])
    grouped = predict_step(cnn_analyses[8], gpu, 256, "fp16", cal, compiled=True)
    assert grouped.layout_seconds > 0.05 * grouped.seconds


def test_a_rare_convolution_in_a_large_graph_stays_channels_first(cnn_analyses):
    plain = cnn_analyses[1]
    forward_calls = sum(r.count for r in plain.ops if r.phase == "forward")
    convs = sum(r.count for r in plain.ops if r.kind == "conv" and r.phase == "forward")
    assert forward_calls < INDUCTOR_NODES_PER_CONV * convs
    # the same graph with every non-convolution forward op called often enough to outnumber the rule
    many = INDUCTOR_NODES_PER_CONV * convs
    busy = [r.model_copy(update={"count": many}) if r.phase == "forward" and r.kind != "conv" else r for r in plain.ops]
    assert not inductor_channels_last(plain.model_copy(update={"ops": busy}))
