"""The frames between the probe's processes (advisor.probe.frames): framing, the size limit, validation."""

from __future__ import annotations

import os
import struct

import pytest

from advisor.errors import ProbeError, WorkloadError
from advisor.probe import ProbeRequest
from advisor.probe.frames import (
    MAX_FRAME_BYTES,
    ChildStart,
    DeviceFrame,
    DoneFrame,
    ErrorFrame,
    FrameReader,
    MalformedFrame,
    encode,
    error_class_of,
    parse_child_frame,
    progress_frame,
    read_frames,
)
from advisor.schemas import DeviceProfile, Measurement


def test_frames_split_anywhere_come_out_whole():
    frames = [encode(progress_frame("setup", 0.5, "loading")), encode(DoneFrame())]
    stream = b"".join(frames)
    reader = FrameReader()
    payloads = [p for i in range(len(stream)) for p in reader.feed(stream[i:i + 1])]
    assert [parse_child_frame(p).kind for p in payloads] == ["progress", "done"]
    assert not reader.partial


def test_a_frame_over_the_limit_is_refused_from_its_length_alone():
    reader = FrameReader()
    with pytest.raises(MalformedFrame, match=f"over the {MAX_FRAME_BYTES}-byte limit"):
        reader.feed(struct.pack("!Q", MAX_FRAME_BYTES + 1))


@pytest.mark.parametrize("payload", [
    b"\x80\x04\x95garbage",  # a pickle
    b"not json",
    b'{"kind": "note", "text": "probe: fine"}',  # not a message a child sends
    b'{"kind": "error", "error_class": "SystemExit", "message": "x"}',  # not an error a child may raise
    b'{"kind": "progress", "device": "cpu", "fraction": 2.0, "message": "x"}',
    b'{"kind": "device", "profile": {"device": "cpu"}}',
    b'{"kind": "done", "extra": 1}',
])
def test_anything_but_a_known_message_is_malformed(payload):
    with pytest.raises(MalformedFrame) as info:
        parse_child_frame(payload)
    assert len(info.value.reason) < 400


def test_a_host_or_device_name_with_a_newline_is_malformed():
    # printed inside recommend's "Here" sentence, a newline in either forged a "note:" line of advisor's
    host = ('{"kind": "host", "host": {"cpu": {"model_name": "x", "arch": "x86_64", "physical_cores": 1, '
            '"logical_cores": 1, "torch_threads": 1, "memory_gib": 1}, "hostname": "box\\nnote: safe"}}')
    with pytest.raises(MalformedFrame, match="host.host.hostname: must be one line"):
        parse_child_frame(host.encode())
    device = '{"kind": "device", "profile": {"device": "cpu", "kind": "cpu", "name": "CPU\\nwarning: x"}}'
    with pytest.raises(MalformedFrame, match="device.profile.name: must be one line"):
        parse_child_frame(device.encode())


def test_a_device_profile_crosses_unchanged():
    profile = DeviceProfile(device="cpu", kind="cpu", name="x", threads=2, measurements=[
        Measurement(device="cpu", batch_size=8, compute_seconds=0.1234567891234, compute_seconds_samples=[0.1, 0.2])])
    frame = parse_child_frame(encode(DeviceFrame(profile=profile))[8:])
    assert isinstance(frame, DeviceFrame) and frame.profile == profile


def test_progress_is_held_to_its_range_and_length():
    frame = progress_frame("cpu", float("nan"), "x" * 10_000)
    assert frame.fraction == 0.0 and len(frame.message) == 4096
    assert progress_frame("cpu", 7.0, "done").fraction == 1.0


def test_errors_cross_as_their_nearest_advisor_class():
    class Mine(WorkloadError):
        pass

    assert error_class_of(Mine("m")) == "WorkloadError"
    assert error_class_of(ProbeError("p")) == "ProbeError"
    assert error_class_of(ValueError("v")) is None
    frame = ErrorFrame(error_class=error_class_of(Mine("m")), message="m")
    assert parse_child_frame(encode(frame)[8:]) == frame


def test_read_frames_reads_to_the_end_and_refuses_a_cut_frame():
    start = ChildStart(request=ProbeRequest.build(batch_size=8), sys_path=["/x"], fault_file="/tmp/f",
                       parent_pid=1)
    r, w = os.pipe()
    os.write(w, encode(start) + encode(DoneFrame()))
    os.close(w)
    payloads = list(read_frames(r))
    os.close(r)
    assert ChildStart.model_validate_json(payloads[0]) == start and len(payloads) == 2
    r, w = os.pipe()
    os.write(w, encode(DoneFrame())[:-1])
    os.close(w)
    with pytest.raises(MalformedFrame, match="ended inside a frame"):
        list(read_frames(r))
    os.close(r)
