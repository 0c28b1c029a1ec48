"""Nothing the workload starts outlives the probe: not after a run that succeeds, fails or times out, and not
after advisor itself is SIGKILLed (the hostile-input issue).

Each workload starts ``sleep 897`` and forks a copy of itself that sleeps, at its top level, and writes their
pids to a file. The probe's child leads a process group that the runner kills whenever the probe ends; a
watchdog in that group kills it when the child dies with advisor (advisor.probe.lifetime).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

from advisor.errors import ProbeError, WorkloadError
from advisor.probe import run_profile

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and prctl: Linux")

REPO = Path(__file__).resolve().parents[2]
WORKLOAD = """
import os
import subprocess
import time

import torch
from torch import nn

PIDS = {pids!r}


def note(pid):
    with open(PIDS, "a") as f:
        f.write(f"{{pid}}\\n")


{spawn}


def build_model():
    {in_build_model}
    return nn.Sequential(nn.Linear(16, 4))


def make_batch(batch_size):
    return torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,))
"""
SLEEPERS = """
note(subprocess.Popen(["sleep", "897"]).pid)
_pid = os.fork()
if _pid == 0:
    time.sleep(897)
    os._exit(0)
note(_pid)
"""
# A bare fork: both copies go on loading the workload and into the probe's code, and both note their pid.
BARE_FORK = """
os.fork()
note(os.getpid())
"""


def workload(tmp_path: Path, spawn: str = SLEEPERS, in_build_model: str = "pass") -> tuple[Path, Path]:
    pids = tmp_path / "pids.txt"
    path = tmp_path / "spawner.py"
    path.write_text(textwrap.dedent(WORKLOAD).format(pids=str(pids), spawn=spawn, in_build_model=in_build_model))
    return path, pids


def read_pids(pids: Path, count: int, timeout_seconds: float = 60.0) -> list[int]:
    deadline = time.monotonic() + timeout_seconds
    while True:
        found = [int(p) for p in pids.read_text().split()] if pids.exists() else []
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"the workload wrote {len(found)} of {count} pids"
        time.sleep(0.05)


def gone(pid: int) -> bool:
    """The process has ended (a zombie left for an init that does not reap counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "State:\tZ" in state


def assert_all_gone(pids: list[int], timeout_seconds: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not all(gone(pid) for pid in pids):
        if time.monotonic() > deadline:
            for pid in pids:  # no leftovers from a failing test either
                if not gone(pid):
                    os.kill(pid, signal.SIGKILL)
            pytest.fail(f"still running: {[pid for pid in pids if not gone(pid)]}")
        time.sleep(0.05)


def probe(path: Path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a noisy probe on a busy machine
        return run_profile(path, **{"batch_size": 8, "probe_seconds": 0.5, "threads": 1, "analyze": False,
                                    "thread_scaling": False, "timeout_seconds": 60, **kwargs})


def test_nothing_the_workload_started_outlives_a_probe_that_succeeds(tmp_path):
    path, pids = workload(tmp_path)
    prof = probe(path)
    assert prof.device("cpu").largest_batch_size == 8
    assert_all_gone(read_pids(pids, 2, timeout_seconds=0))


def test_a_bare_fork_at_the_top_of_the_workload_neither_doubles_the_result_nor_outlives_it(tmp_path):
    path, pids = workload(tmp_path, spawn=BARE_FORK)
    prof = probe(path)
    assert [d.device for d in prof.devices] == ["cpu"]
    sizes = [m.batch_size for m in prof.device("cpu").measurements]
    # One result: each ladder point once (a forked copy sending its own frames would repeat them). How many
    # points fit the half-second budget depends on how busy the machine is.
    assert sizes and len(sizes) == len(set(sizes)) and set(sizes) <= {1, 2, 4, 8}
    assert_all_gone(read_pids(pids, 2, timeout_seconds=0))


def test_nothing_outlives_a_probe_that_fails(tmp_path):
    path, pids = workload(tmp_path, in_build_model="raise ValueError('broken')")
    with pytest.raises(WorkloadError):
        probe(path)
    assert_all_gone(read_pids(pids, 2, timeout_seconds=0))


def test_nothing_outlives_a_probe_that_times_out(tmp_path):
    path, pids = workload(tmp_path, in_build_model="time.sleep(600)")
    with pytest.raises(ProbeError, match="did not finish within 5 s"):
        probe(path, timeout_seconds=5)
    assert_all_gone(read_pids(pids, 2, timeout_seconds=0))


def test_nothing_outlives_an_advisor_killed_with_sigkill(tmp_path):
    child_pid = tmp_path / "child.pid"
    path, pids = workload(tmp_path, in_build_model=(
        f"open({str(child_pid)!r}, 'w').write(str(os.getpid()))\n    time.sleep(600)"))
    code = ("from advisor.probe import run_profile; "
            f"run_profile({str(path)!r}, batch_size=8, probe_seconds=1, analyze=False, timeout_seconds=600)")
    advisor = subprocess.Popen([sys.executable, "-c", code], cwd=str(REPO))
    try:
        started = read_pids(pids, 2)
        deadline = time.monotonic() + 60
        while not child_pid.exists() or not child_pid.read_text():
            assert time.monotonic() < deadline and advisor.poll() is None, "the probe never reached build_model"
            time.sleep(0.05)
        processes = [*started, int(child_pid.read_text())]
        assert not any(gone(pid) for pid in processes)
    finally:
        advisor.kill()  # SIGKILL: no clean-up runs in advisor's process
        advisor.wait()
    assert_all_gone(processes)
