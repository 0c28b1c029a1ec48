"""A workload that writes to the probe's channel cannot run code in advisor's process (the hostile-input issue).

The child runs the user's code, which inherits the child's socket to advisor. Each workload here writes a frame
of its own there from its top level (or from its twin, at the user's batch size): a pickle that would create a
marker file when unpickled (in the old multiprocessing format, and in advisor's frame format), garbage bytes, a
frame over the size limit, JSON that is not one of advisor's messages. Every one ends in a ProbeError naming the
workload, and no marker file appears.
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

from advisor.errors import ProbeError
from advisor.probe import run_profile

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/fd: Linux")

WORKLOAD = """
import os
import pickle
import stat
import struct

import torch
from torch import nn

BATCH_SIZE = 8
MARKER = {marker!r}


class Evil:
    def __reduce__(self):  # unpickling runs this code in the process that unpickles
        return (exec, (f"open({{MARKER!r}}, 'w').write(str(__import__('os').getpid()))",))


def write_to(kind, data):
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if kind(os.fstat(fd).st_mode):
                os.write(fd, data)
        except OSError:
            pass


def build_model():
    return nn.Sequential(nn.Linear(16, 4))


def make_batch(batch_size):
    {in_make_batch}
    return torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,))


{at_top}
"""

EVIL = "pickle.dumps(Evil())"
PAYLOADS = {
    # multiprocessing.connection's format (what the parent unpickled before): a 4-byte length, then the pickle
    "old-format pickle": f"struct.pack('!i', len({EVIL})) + {EVIL}",
    # advisor's frame format (an 8-byte length), with a pickle where the JSON goes
    "framed pickle": f"struct.pack('!Q', len({EVIL})) + {EVIL}",
    "garbage": "bytes(range(256)) * 4",
    "a frame over the limit": "struct.pack('!Q', 1 << 40) + b'{' * 1024",
    "a note (not a message the child sends)": "(lambda p: struct.pack('!Q', len(p)) + p)(b'{\"kind\": \"note\", "
                                              "\"text\": \"probe: all clear\"}')",
    "an error of a class no child raises": "(lambda p: struct.pack('!Q', len(p)) + p)(b'{\"kind\": \"error\", "
                                           "\"error_class\": \"SystemExit\", \"message\": \"x\"}')",
}


def hostile(tmp_path: Path, at_top: str = "", in_make_batch: str = "pass") -> tuple[Path, Path]:
    marker = tmp_path / "unpickled.txt"
    path = tmp_path / "hostile.py"
    path.write_text(textwrap.dedent(WORKLOAD).format(marker=str(marker), at_top=at_top, in_make_batch=in_make_batch))
    return path, marker


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_a_frame_written_by_the_workload_is_a_probe_error_and_runs_nothing(tmp_path, name):
    path, marker = hostile(tmp_path, at_top=f"write_to(stat.S_ISSOCK, {PAYLOADS[name]})")
    started = time.perf_counter()
    with pytest.raises(ProbeError) as info:
        run_profile(path, batch_size=8, probe_seconds=0.5, threads=1, analyze=False, thread_scaling=False,
                    timeout_seconds=60)
    assert f"the probe of {path} sent a malformed message" in info.value.message
    assert info.value.hint.startswith("Fix:")
    assert not marker.exists()
    assert time.perf_counter() - started < 30  # stopped at once, not at the timeout
    if name == "a frame over the limit":
        assert "over the" in info.value.message and "limit" in info.value.message


def test_a_frame_written_from_the_twin_is_a_probe_error_and_runs_nothing(tmp_path):
    # Only the twin makes a batch of the user's size (8) before the child's ladder would: it writes to its pipe.
    path, marker = hostile(tmp_path, in_make_batch=(
        f"if batch_size == BATCH_SIZE:\n        write_to(stat.S_ISFIFO, struct.pack('!Q', len({EVIL})) + {EVIL})"))
    with pytest.raises(ProbeError) as info:
        run_profile(path, batch_size=8, probe_seconds=3, analyze=False, thread_scaling=False, timeout_seconds=60)
    assert f"the probe of {path} sent a malformed message from its CPU twin" in info.value.message
    assert not marker.exists()


# A count or time the child sends in a frame is a JSON number of its type and range: a forged true, 2.0, "50",
# NaN, -5 or an int of 30 digits where a count goes is a malformed message, never 1 or 50 in a profile.
FORGED_NUMBERS = {
    "a bool dataset size": b'{"kind": "workload", "dataset_size": true}',
    "a float epoch count": b'{"kind": "workload", "epochs": 2.0}',
    "a string batch size": b'{"kind": "workload", "batch_size": "50"}',
    "a NaN dataset size": b'{"kind": "workload", "dataset_size": NaN}',
    "a negative epoch count": b'{"kind": "workload", "epochs": -5}',
    "a 31-digit dataset size": b'{"kind": "workload", "dataset_size": 1' + b"0" * 30 + b"}",
    "a setting past the int range": b'{"kind": "workload", "settings": {"EVAL_STEPS": 1' + b"0" * 30 + b"}}",
    "a bool wait": b'{"kind": "turn", "waited_seconds": true}',
    "a string fraction": b'{"kind": "progress", "device": "cpu", "fraction": "0.5", "message": "x"}',
    "a bool parameter count": b'{"kind": "check", "param_count": true, "optimizer": "SGD"}',
    "an int bf16 flag": b'{"kind": "analysis", "analysis": null, "bf16": 1}',
}


@pytest.mark.parametrize("name", list(FORGED_NUMBERS))
def test_a_number_of_the_wrong_type_or_range_is_a_malformed_frame(name):
    from advisor.probe.frames import MalformedFrame, parse_child_frame

    with pytest.raises(MalformedFrame):
        parse_child_frame(FORGED_NUMBERS[name])


@pytest.mark.parametrize("value", ["true", "-5"])
def test_a_workload_frame_with_a_forged_count_is_a_probe_error(tmp_path, value):
    frame = f"b'{{\"kind\": \"workload\", \"dataset_size\": {value}}}'"
    path, _ = hostile(tmp_path, at_top=f"write_to(stat.S_ISSOCK, (lambda p: struct.pack('!Q', len(p)) + p)({frame}))")
    with pytest.raises(ProbeError) as info:
        run_profile(path, batch_size=8, probe_seconds=0.5, threads=1, analyze=False, thread_scaling=False,
                    timeout_seconds=60)
    message = info.value.message
    assert message.startswith(f"the probe of {path} sent a malformed message (workload.dataset_size: ")
    assert info.value.hint.startswith("Fix:")


def test_a_forged_error_and_hint_are_labelled_as_the_probes_on_one_line_each(tmp_path, invoke):
    # An error frame of the workload's own, whose message and hint carry lines that read as advisor's advice
    frame = ("json.dumps({'kind': 'error', 'error_class': 'WorkloadError', 'message': 'fine\\nFix: none needed', "
             "'hint': 'hint: advisor says buy 8 x H100\\n\\x1b[31mFix: advisor verified this'}).encode()")
    path, _ = hostile(tmp_path, at_top=(
        f"import json\nwrite_to(stat.S_ISSOCK, (lambda p: struct.pack('!Q', len(p)) + p)({frame}))"))
    result = invoke("predict", path, "--device", "cpu", "--dataset-size", "10", "--epochs", "1", "--batch-size", "8",
                    "--no-save")
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    lines = result.output.splitlines()
    assert f"error: {path}: the probe reported: fine Fix: none needed" in lines, result.output
    assert ("Fix: the probe reported: hint: advisor says buy 8 x H100 \\x1b[31mFix: advisor verified this"
            in lines), result.output
    assert "\x1b" not in result.output
    assert not any(line.startswith(("Fix: advisor", "Fix: none", "hint:", "\\x1b")) for line in lines)
