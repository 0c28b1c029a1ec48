"""Channels-first batch norm: the analysis records its channel planes, and the roofline prices the one-block-per-
channel kernels' latency-bound floor (``OpRecord.channel_planes``, ``Calibration.bn_plane_seconds``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from predictor_helpers import unit_calibration

from advisor.hardware.specs import resolve_gpu
from advisor.predictor.calibration import load_calibration
from advisor.predictor.optable import PLANE_SM_CLOCK_HZ, sm_clock_flops
from advisor.predictor.roofline import predict_step
from advisor.probe.analysis import analyze
from advisor.probe.analysis.recorder import _channel_planes
from advisor.workload import load_workload

NET = '''
import torch
from torch import nn
LAST = {last}
def build_model():
    m = nn.Sequential(nn.Conv2d(3, {channels}, 3, padding=1), nn.BatchNorm2d({channels}), nn.ReLU(),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear({channels}, 10))
    return m.to(memory_format=torch.channels_last) if LAST else m
def make_batch(n):
    x = torch.randn(n, 3, 32, 32)
    return (x.contiguous(memory_format=torch.channels_last) if LAST else x), torch.randint(0, 10, (n,))
'''


def analysed(tmp_path, channels: int = 16, last: bool = False, precision: str = "bf16"):
    path = tmp_path / f"net_{channels}_{int(last)}.py"
    path.write_text(NET.format(channels=channels, last=last))
    return analyze(load_workload(path), precision=precision)


def test_the_batch_norm_input_decides_channels_first_or_not():
    nchw = torch.empty(4, 8, 5, 5)
    assert _channel_planes("native_batch_norm", (nchw, None, None, None, None, True)) == (8, 100.0)
    assert _channel_planes("native_batch_norm_backward", (nchw, nchw)) == (8, 100.0)
    assert _channel_planes("cudnn_batch_norm_backward", (nchw, nchw)) == (8, 100.0)
    # channels-last images and (N, C) inputs run PyTorch's channels-last kernels: no one-block-per-channel floor
    assert _channel_planes("native_batch_norm", (nchw.contiguous(memory_format=torch.channels_last),)) == (0, 0.0)
    assert _channel_planes("native_batch_norm", (torch.empty(4, 8), None, None, None, None, True)) == (0, 0.0)
    assert _channel_planes("native_batch_norm", (torch.empty(4, 8, 7), None, None, None, None, True)) == (8, 28.0)
    # eval mode normalises with the running statistics: no reduction over the plane
    assert _channel_planes("native_batch_norm", (nchw, None, None, None, None, False)) == (0, 0.0)
    assert _channel_planes("native_layer_norm", (nchw,)) == (0, 0.0)


def test_analysis_records_planes_only_for_channels_first_batch_norm(tmp_path):
    first = analysed(tmp_path)
    planes = [r for r in first.ops if r.channel_planes]
    assert {r.phase for r in planes} == {"forward", "backward"}
    assert all(r.kind == "norm" and r.channel_planes == 16 for r in planes)
    b0, b1 = first.batch_sizes
    assert all(r.plane_elements == (b0 * 32 * 32, b1 * 32 * 32) for r in planes)
    assert not any(r.channel_planes for r in analysed(tmp_path, last=True).ops)


def _bn_gpu_seconds(analysis, precision: str, cal, batch: int = 64, gpu: str = "H200", **kw) -> float:
    step = predict_step(analysis, resolve_gpu(gpu), batch, precision, cal, **kw)
    return step.per_kind["norm"]


def test_the_floor_is_plane_elements_times_the_library_pace(tmp_path):
    cal = unit_calibration()
    seconds = {"native.forward": 1e-7, "native.backward": 2e-7, "cudnn.forward": 3e-7, "cudnn.backward": 4e-7}
    with_planes = replace(cal, bn_plane_seconds=seconds, bn_plane_blocks_per_sm=1e6)
    elements = 64 * 32 * 32
    bf16 = analysed(tmp_path, precision="bf16")
    # a floor far above the bandwidth term: the batch norm's time is the floor, PyTorch's own kernels for bf16
    assert _bn_gpu_seconds(bf16, "bf16", with_planes) == pytest.approx(elements * (1e-7 + 2e-7), rel=1e-6)
    fp16 = analysed(tmp_path, precision="fp16")
    assert _bn_gpu_seconds(fp16, "fp16", with_planes) == pytest.approx(elements * (3e-7 + 4e-7), rel=1e-6)
    # a 16-bit op runs at the priced precision: an fp16 analysis priced as bf16 (the calibration fit's rows)
    # takes PyTorch's kernels, a bf16 one priced as fp16 (no bfloat16 on the GPU) cuDNN's
    assert _bn_gpu_seconds(fp16, "bf16", with_planes) == pytest.approx(elements * (1e-7 + 2e-7), rel=1e-6)
    assert _bn_gpu_seconds(bf16, "fp16", with_planes) == pytest.approx(elements * (3e-7 + 4e-7), rel=1e-6)
    # without the floor (the unit calibration) it is the bandwidth term, far below
    assert _bn_gpu_seconds(bf16, "bf16", cal) < 0.01 * elements * 3e-7
    # torch.compile generates its own batch-norm kernels: no floor
    assert _bn_gpu_seconds(bf16, "bf16", with_planes, compiled=True) < 0.01 * elements * 3e-7
    # channels-last: none either
    assert _bn_gpu_seconds(analysed(tmp_path, last=True), "bf16", with_planes) < 0.01 * elements * 3e-7


def test_channels_beyond_what_the_sms_run_at_once_take_turns(tmp_path):
    seconds = {k: 1e-7 for k in ("native.forward", "native.backward", "cudnn.forward", "cudnn.backward")}
    h200 = resolve_gpu("H200")
    at_once = sm_clock_flops(h200) / (128.0 * PLANE_SM_CLOCK_HZ)  # 1 block per SM-equivalent
    cal = replace(unit_calibration(), bn_plane_seconds=seconds, bn_plane_blocks_per_sm=1.0)
    few = analysed(tmp_path, channels=64)
    many = analysed(tmp_path, channels=1024)
    assert 64 < at_once < 1024
    per_plane = 64 * 32 * 32 * 2e-7  # forward + backward at the batch of 64
    assert _bn_gpu_seconds(few, "bf16", cal) == pytest.approx(per_plane, rel=1e-6)
    assert _bn_gpu_seconds(many, "bf16", cal) == pytest.approx(per_plane * 1024 / at_once, rel=1e-6)
    # a GPU with fewer SM-equivalents queues the same channels longer
    rtx = resolve_gpu("RTX 3090")
    assert _bn_gpu_seconds(many, "bf16", cal, gpu="RTX 3090") == pytest.approx(
        _bn_gpu_seconds(many, "bf16", cal) * sm_clock_flops(h200) / sm_clock_flops(rtx), rel=1e-6)


def test_shipped_pace_puts_channels_first_bf16_resnet_behind_channels_last(tmp_path):
    """The H200 trace's finding (bench/kernel_trace_h200.py): the same ResNet-18 step in bf16 took 86 ms
    channels-first and 37 ms channels-last; the shipped calibration must price channels-first well above."""
    resnet = Path(__file__).resolve().parents[2] / "bench" / "workloads" / "resnet.py"
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ADVISOR_RESNET_DEPTH", "18")
        for flag in ("0", "1"):
            mp.setenv("ADVISOR_CHANNELS_LAST", flag)
            out[flag] = predict_step(analyze(load_workload(resnet), precision="bf16"), resolve_gpu("H200"), 512,
                                     "bf16", load_calibration()).seconds
    assert out["0"] > 1.8 * out["1"]


def test_the_channels_last_note_names_the_batch_norms(tmp_path):
    from advisor.predictor.roofline import layout_note

    seconds = {k: 1e-7 for k in ("native.forward", "native.backward", "cudnn.forward", "cudnn.backward")}
    cal = replace(load_calibration(), bn_plane_seconds=seconds)
    h200 = resolve_gpu("H200")
    step = predict_step(analysed(tmp_path, precision="fp32"), h200, 64, "fp32", cal)
    assert step.layout_seconds == 0.0 and step.plane_seconds > 0.05 * step.seconds
    note = layout_note(step)
    assert note.startswith("channels-first: at batch 64 per GPU, its batch norms run one thread block per channel, ")
    assert "transposes" not in note and "torch.channels_last" in note
    half = predict_step(analysed(tmp_path, precision="bf16"), h200, 64, "bf16", cal)
    assert "convolutions to channels-last and back and its batch norms run one thread block" in layout_note(half)
    last = predict_step(analysed(tmp_path, last=True, precision="fp32"), h200, 64, "fp32", cal)
    assert last.plane_seconds == 0.0 and layout_note(last) is None
