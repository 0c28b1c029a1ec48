"""The CPU probe's twin (advisor.probe.twin): the user's batch size is timed in a process that ran nothing else.

The workloads here log "pid batch_size" for every batch they make, so the tests can see which process made
which batch: the probe's child makes the check's batch (size 2) and the smaller ladder points; the twin makes
only the user's batch size.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from advisor.errors import WorkloadError
from advisor.probe import run_profile

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux")]

LOGGING = """
import os
import torch
import torch._dynamo  # the first optimizer step's import, paid before the twins fork: a start-up under a second
from torch import nn

BATCH_SIZE = 32
LOG = {log!r}


def build_model():
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))


def make_batch(batch_size):
    with open(LOG, "a") as f:
        f.write(f"{{os.getpid()}} {{batch_size}}\\n")
    {extra}
    return torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,))
"""


def logging_workload(tmp_path: Path, extra: str = "pass") -> tuple[Path, Path]:
    log = tmp_path / "batches.log"
    path = tmp_path / "logged.py"
    path.write_text(textwrap.dedent(LOGGING.format(log=str(log), extra=extra)))
    return path, log


def batches_by_pid(log: Path) -> dict[int, set[int]]:
    seen: dict[int, set[int]] = {}
    for line in log.read_text().splitlines():
        pid, size = map(int, line.split())
        seen.setdefault(pid, set()).add(size)
    return seen


def test_users_batch_size_is_timed_in_a_twin_that_made_no_other_batch(tmp_path):
    # A twin that finds the machine busy times on another clock or thread count, and the pool keeps only the
    # comparable one (advisor.probe.pool._comparable) and counts the other as left out. Both twins' steps are
    # accounted for in every draw; the pooled steps are asserted of the first draw that pooled both (a loaded CI
    # machine can disturb a twin in every draw: then the pure pooling is what tests/probe/test_pool.py checks).
    pooled = None
    for attempt in range(3):
        target, twins = _one_twin_probe(tmp_path / f"draw{attempt}")
        # both pooled, or one kept alone (no split to record) and the other counted as left out
        assert (len(target.process_samples), target.processes_left_out) in {(2, 0), (0, 1)}, target
        if len(target.process_samples) == 2:
            pooled = target
            break
    if pooled is None:
        pytest.skip("a twin found the machine busy in each of three probes (left out, and counted as such)")
    # Each twin timed its own steps; the measurement keeps them all, in order, and says how many were whose.
    assert min(pooled.process_samples) >= 2 and len(pooled.compute_seconds_samples) >= 8
    assert sum(pooled.process_samples) == len(pooled.compute_seconds_samples)
    assert pooled.processes_left_out == 0


def _one_twin_probe(folder: Path):
    folder.mkdir()
    path, log = logging_workload(folder)
    profile = run_profile(path, batch_size=32, probe_seconds=4, analyze=False, thread_scaling=False)
    by_pid = batches_by_pid(log)
    assert len(by_pid) == 3 and os.getpid() not in by_pid  # the child and two twins
    calls = [tuple(map(int, line.split())) for line in log.read_text().splitlines()]
    twins = [pid for pid, sizes in by_pid.items() if sizes == {32}]  # not the check's batch of 2, nor the ladder's
    assert len(twins) == 2
    (child,) = set(by_pid) - set(twins)
    assert {2, 4, 8, 16} <= by_pid[child]
    # The child makes a batch of 32 only to time the input pipeline, after the devices (and the twin) are done.
    child_sizes = [size for pid, size in calls if pid == child]
    assert 32 not in child_sizes[: max(i for i, size in enumerate(child_sizes) if size != 32) + 1]
    dev = profile.device("cpu")
    assert sorted(m.batch_size for m in dev.measurements) == [4, 8, 16, 32]
    target = next(m for m in dev.measurements if m.batch_size == 32)
    assert target.compute_seconds > 0 and len(target.compute_seconds_samples) >= 4
    assert dev.largest_batch_size == 32 and dev.startup_seconds > 0
    for twin in twins:
        with pytest.raises(ChildProcessError):  # the twins were waited for, not left behind
            os.waitpid(twin, os.WNOHANG)
    return target, twins


def test_without_fresh_target_the_child_times_every_size(tmp_path):
    path, log = logging_workload(tmp_path)
    profile = run_profile(path, batch_size=32, probe_seconds=4, analyze=False, thread_scaling=False,
                          fresh_target=False)
    (sizes,) = batches_by_pid(log).values()  # one process: the check (sizes 2, 3) and the whole ladder
    assert {2, 4, 8, 16, 32} <= sizes
    assert sorted(m.batch_size for m in profile.device("cpu").measurements) == [4, 8, 16, 32]


def test_an_explicit_ladder_is_timed_in_the_child(tmp_path):
    path, log = logging_workload(tmp_path)
    run_profile(path, batch_size=32, batch_sizes=[8, 32], probe_seconds=4, analyze=False, thread_scaling=False)
    (sizes,) = batches_by_pid(log).values()
    assert {2, 8, 32} <= sizes and not {4, 16} & sizes


def test_out_of_memory_in_the_twin_is_the_limit_and_the_child_measures_below_it(tmp_path):
    path, log = logging_workload(tmp_path, extra=(
        "if batch_size >= 32:\n        raise RuntimeError('DefaultCPUAllocator: not enough memory: "
        "you tried to allocate 1 bytes. Cannot allocate memory')"))
    profile = run_profile(path, batch_size=32, probe_seconds=4, analyze=False, thread_scaling=False)
    dev = profile.device("cpu")
    assert dev.oom_batch_size == 32
    assert [m.batch_size for m in dev.measurements if not m.oom] == [4, 8, 16]
    assert [m.batch_size for m in dev.measurements if m.oom] == [32]
    assert dev.largest_batch_size == 16 and dev.startup_seconds > 0
    twin = [pid for pid, sizes in batches_by_pid(log).items() if sizes == {32}]
    assert len(twin) == 1


def test_a_user_error_at_the_users_batch_size_comes_back_from_the_twin_as_is(tmp_path):
    path, _ = logging_workload(tmp_path, extra="if batch_size == 32:\n        raise ValueError('no 32s here')")
    with pytest.raises(WorkloadError) as info:
        run_profile(path, batch_size=32, probe_seconds=2, analyze=False, thread_scaling=False)
    assert "at batch size 32" in info.value.message and "ValueError: no 32s here" in info.value.message


def test_a_twin_that_dies_leaves_the_child_to_time_the_batch_size_itself(tmp_path):
    # Only the first process to make a batch of 32 exits; the second one (the child, on the fallback) runs.
    path, log = logging_workload(tmp_path, extra=(
        "marker = LOG + '.died'\n    if batch_size == 32 and not os.path.exists(marker):\n"
        "        open(marker, 'w').close()\n        os._exit(7)"))
    profile = run_profile(path, batch_size=32, probe_seconds=4, analyze=False, thread_scaling=False)
    assert sorted(m.batch_size for m in profile.device("cpu").measurements) == [4, 8, 16, 32]
    twin, child = sorted(batches_by_pid(log).values(), key=len)
    assert twin == {32} and {2, 4, 8, 16, 32} <= child
