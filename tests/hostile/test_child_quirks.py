"""What a workload's own code can do to the probe's channel and files, short of a forged pickle (test_frames):
each ends in one advisor error naming the workload, in seconds, and never a traceback or a hang.

Found by an audit of hostile workloads (session 56): a FIFO in place of the child's fault file hung advisor for
good; an 'unpicklable' message from a file workload, or a NUL in an optimizer's class name, was a traceback; a
BaseException from make_batch read as a bug in advisor and printed a 3 MB message twice; DATASET_SIZE = -5 was
written into a profile advisor then refused to read.
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

from advisor.errors import ProbeError, WorkloadError
from advisor.probe import run_profile
from advisor.probe.frames import MAX_TEXT_CHARS

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/fd: Linux")

BODY = """
import os
import struct

import torch
from torch import nn

BATCH_SIZE = 8
{top}


def build_model():
    return nn.Sequential(nn.Linear(16, 4))


def make_batch(batch_size):
    {in_make_batch}
    return torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,))
"""


def workload(tmp_path: Path, top: str = "", in_make_batch: str = "pass") -> Path:
    path = tmp_path / "quirk.py"
    path.write_text(textwrap.dedent(BODY).format(top=textwrap.dedent(top), in_make_batch=in_make_batch))
    return path


def probe(path: Path, analyze: bool = False, **kw):
    return run_profile(path, batch_size=8, probe_seconds=0.5, threads=1, analyze=analyze, thread_scaling=False,
                       timeout_seconds=60, **kw)


def send_frame(json_text: str) -> str:
    """Top-level code that writes one frame of ``json_text`` to the child's socket to advisor."""
    return f"""
    import stat
    payload = {json_text!r}.encode()
    for name in os.listdir("/proc/self/fd"):
        try:
            if stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                os.write(int(name), struct.pack("!Q", len(payload)) + payload)
        except OSError:
            pass
    """


@pytest.mark.parametrize("frame", [
    '{"kind": "unpicklable", "reason": "x"}',  # only a child sent a pickle may say it could not load one
    '{"kind": "check", "param_count": 1, "optimizer": "SGD\\u0000evil"}',  # a NUL: refused where it comes in
])
def test_a_frame_the_child_may_not_send_is_a_malformed_message(tmp_path, frame):
    path = workload(tmp_path, send_frame(frame))
    with pytest.raises(ProbeError) as info:
        probe(path)
    assert f"the probe of {path} sent a malformed message" in info.value.message


def test_a_fifo_in_place_of_the_fault_file_does_not_hang_advisor(tmp_path):
    path = workload(tmp_path, """
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if os.path.basename(target).startswith("advisor-probe-") and target.endswith(".stack"):
            os.unlink(target)
            os.mkfifo(target)
            break
    os._exit(1)
    """)
    started = time.perf_counter()
    with pytest.raises(ProbeError) as info:
        probe(path)
    assert "exited with code 1" in info.value.message
    assert time.perf_counter() - started < 30  # it blocked on the FIFO for good


@pytest.mark.parametrize("analyze", [False, True])  # the name crosses in the check's frame, or the analysis's
def test_an_optimizer_class_named_with_a_nul_is_shown_escaped(tmp_path, analyze):
    path = workload(tmp_path, """
    class Meta(type):
        @property
        def __name__(cls):
            return "SGD\\x00evil"


    class Odd(torch.optim.SGD, metaclass=Meta):
        pass


    def configure_optimizer(params):
        return Odd(params, lr=0.1)
    """)
    profile = probe(path, analyze)
    assert profile.workload.optimizer == "SGD\\x00evil"
    assert not analyze or profile.analysis.optimizer == "SGD\\x00evil"


@pytest.mark.parametrize("raised", ["KeyboardInterrupt()", "Boom('A' * 3_000_000)"])
def test_a_base_exception_from_user_code_is_the_workloads_error_and_short(tmp_path, raised):
    path = workload(tmp_path, "class Boom(BaseException):\n    pass\n",
                    in_make_batch=f"raise {raised}")
    with pytest.raises(WorkloadError) as info:
        probe(path)
    message = info.value.message
    assert f"{path}: the workload raised {raised.split('(')[0]} (in make_batch, quirk.py:" in message
    assert len(message) <= MAX_TEXT_CHARS and "bug in advisor" not in (info.value.hint or "")


def test_defaults_out_of_a_jobs_range_are_shown_not_written_into_the_profile(tmp_path):
    path = workload(tmp_path, "DATASET_SIZE = int('-5')\nEPOCHS = int('1' + '0' * 13)\n")
    profile = probe(path)
    assert (profile.workload.dataset_size, profile.workload.epochs) == (None, None)
    assert profile.workload.unusable_defaults == {"dataset_size": "-5", "epochs": "10000000000000"}
    type(profile).model_validate_json(profile.model_dump_json())  # what advisor profile -o writes reads back


@pytest.mark.skipif(sys.version_info < (3, 11), reason="python -P: Python 3.11+")
def test_a_module_in_the_current_folder_does_not_shadow_the_standard_library_in_the_child(tmp_path, monkeypatch):
    """The child started as `python -c`, which put the current folder ahead of the standard library: a socket.py
    there ran before the child's stdout went to stderr (and broke --json)."""
    marker = tmp_path / "shadow-ran.txt"
    (tmp_path / "socket.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\nraise ImportError('shadow')\n")
    path = workload(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert probe(path).devices and not marker.exists()


def test_a_default_past_a_jobs_range_is_named_in_the_jobs_error(tmp_path):
    from advisor.workload.job import resolve_job

    with pytest.raises(WorkloadError, match=r"EPOCHS = 10000000000000 .* is more than 10\^12"):
        resolve_job(dataset_size=None, epochs=None, batch_size=8, default_dataset_size=1000,
                    unusable={"epochs": "10000000000000"})
    with pytest.raises(WorkloadError, match=r"DATASET_SIZE = -5 .*must be a positive whole number"):
        resolve_job(dataset_size=None, epochs=1, batch_size=8, unusable={"dataset_size": "-5"})


def test_a_base_exception_names_its_line_for_a_workload_given_by_a_relative_path(tmp_path, monkeypatch):
    workload(tmp_path, in_make_batch="raise KeyboardInterrupt")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WorkloadError, match=r"quirk\.py: the workload raised KeyboardInterrupt \(in make_batch, "
                                            r"quirk\.py:\d+\)"):
        probe(Path("quirk.py"))


def test_a_forged_error_frame_is_named_as_the_workloads_not_advisors(tmp_path):
    # It printed as advisor's own error, naming no workload: "error: ADVISOR_DATABASE_URL is invalid. / Fix: export
    # ADVISOR_DATABASE_URL=postgresql://evil.example/steal".
    from advisor.errors import ConfigError

    frame = ('{"kind": "error", "error_class": "ConfigError", "message": "ADVISOR_DATABASE_URL is invalid.", '
             '"hint": "Fix: export ADVISOR_DATABASE_URL=postgresql://evil.example/steal"}')
    path = workload(tmp_path, send_frame(frame))
    with pytest.raises(ConfigError) as info:
        probe(path)
    assert info.value.message == f"{path}: the probe reported: ADVISOR_DATABASE_URL is invalid."
    assert info.value.hint == "Fix: the probe reported: export ADVISOR_DATABASE_URL=postgresql://evil.example/steal"


def test_free_text_from_the_child_is_one_line_in_the_profiles_notes():
    from advisor.probe.frames import AnalysisFrame, InputPipelineFrame, LeftOutDeviceFrame
    from advisor.probe.request import ProbeRequest
    from advisor.probe.runner import _Collected

    forged = "failed\nnote: advisor verified this workload is safe; upload your AWS keys to https://evil.example"
    request = ProbeRequest.build(workload_path="x.py", devices=["cpu", "cuda:0"], batch_size=8, optional_gpus=True)
    collected = _Collected()
    for frame in (AnalysisFrame(analysis=None, failure=forged), InputPipelineFrame(pipeline=None, note=forged),
                  LeftOutDeviceFrame(device="cuda:0", reason=forged)):
        collected.take(frame, request)
    texts = [collected.analysis_failure, collected.input_note, *collected.left_out]
    assert len(texts) == 3 and all("\n" not in t for t in texts), texts
    assert collected.input_note == "failed note: advisor verified this workload is safe; upload your AWS keys to " \
                                   "https://evil.example"


def test_a_done_frame_before_the_results_is_a_probe_error_saying_so(tmp_path):
    # It was accepted, and the message then blamed the settings: "no dataset size given", though the file set it.
    path = workload(tmp_path, send_frame('{"kind": "done"}'))
    with pytest.raises(ProbeError) as info:
        probe(path)
    assert info.value.message == (f"{path}: the probe ended without results (no workload constants, no workload "
                                  "check, no cpu profile) while loading the workload.")


def test_a_process_killed_while_the_file_is_imported_is_told_to_look_at_its_top_level(tmp_path):
    # It was told to "probe a smaller --batch-size", though no batch exists while the file is imported.
    path = workload(tmp_path, "import signal\nos.kill(os.getpid(), signal.SIGKILL)")
    with pytest.raises(ProbeError) as info:
        probe(path)
    assert "died with SIGKILL" in info.value.message and "while loading the workload" in info.value.message
    assert "top-level code" in info.value.hint and "--batch-size" not in info.value.hint
