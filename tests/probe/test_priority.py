"""The CPU probe's raised priority on a busy machine: the threads and the autogroup raised and put back, nothing
changed without the privilege, windows timed on every thread while the others are held back, and the raising
given up where a raised window was still disturbed (cgroups)."""

from __future__ import annotations

import time

import pytest
import torch
from probe_helpers import tiny_batch, tiny_model

from advisor.probe.contention import CpuSample
from advisor.probe.device_notes import raised_notes
from advisor.probe.measure import DeviceProbe, ProbeOptions
from advisor.probe.priority import RAISED_NICE, ProbePriority
from advisor.probe.threads import measure_thread_scaling
from advisor.schemas import Measurement
from advisor.workload import Workload


class Scheduler:
    """The seam's ``getpriority``/``setpriority``: a nice value per thread id; ``deny`` refuses to lower one."""

    def __init__(self, nices: dict[int, int], deny: set[int] = frozenset()):
        self.nices, self.deny, self.calls = dict(nices), set(deny), []

    def get(self, tid: int) -> int:
        return self.nices[tid]

    def set(self, tid: int, nice: int) -> None:
        self.calls.append((tid, nice))
        if tid in self.deny and nice < self.nices[tid]:
            raise PermissionError(1, "Operation not permitted")
        self.nices[tid] = nice


def fake_priority(tmp_path, nices: dict[int, int], deny: set[int] = frozenset(), autogroup: int | None = 0):
    tasks = tmp_path / "task"
    tasks.mkdir()
    for tid in nices:
        (tasks / str(tid)).mkdir()
    group = tmp_path / "autogroup"
    if autogroup is not None:
        group.write_text(f"/autogroup-85 nice {autogroup}\n")
    scheduler = Scheduler(nices, deny)
    priority = ProbePriority(tasks_dir=str(tasks), autogroup_path=str(group), getpriority=scheduler.get,
                             setpriority=scheduler.set)
    return priority, scheduler, group


def _autogroup_nice(group) -> int:
    """The fake /proc/self/autogroup holds what was last written ("-20"), or the kernel's form at the start."""
    text = group.read_text()
    return int(text.split("nice")[1]) if "nice" in text else int(text)


def test_every_thread_and_the_autogroup_are_raised_and_put_back(tmp_path):
    priority, scheduler, group = fake_priority(tmp_path, {101: 0, 102: 5})
    assert priority.raise_() and priority.raised
    assert scheduler.nices == {101: RAISED_NICE, 102: RAISED_NICE}
    assert _autogroup_nice(group) == RAISED_NICE
    priority.restore()
    assert scheduler.nices == {101: 0, 102: 5} and not priority.raised
    assert _autogroup_nice(group) == 0


def test_without_the_privilege_nothing_stays_changed_and_it_is_not_tried_again(tmp_path):
    priority, scheduler, group = fake_priority(tmp_path, {101: 0, 102: 0}, deny={102})
    assert not priority.raise_()
    assert scheduler.nices == {101: 0, 102: 0}  # the first thread, raised before the refusal, is put back
    assert _autogroup_nice(group) == 0
    scheduler.calls.clear()
    assert not priority.raise_() and not priority.usable and scheduler.calls == []


def test_a_user_who_asks_for_normal_priority_gets_no_change(tmp_path):
    tasks = tmp_path / "task"
    tasks.mkdir()
    (tasks / "7").mkdir()
    scheduler = Scheduler({7: 0})
    priority = ProbePriority(False, tasks_dir=str(tasks), getpriority=scheduler.get, setpriority=scheduler.set)
    assert not priority.raise_() and scheduler.calls == []


def test_threads_are_not_raised_in_an_autogroup_that_cannot_be(tmp_path):
    priority, scheduler, group = fake_priority(tmp_path, {101: 0})
    priority._write_autogroup = lambda nice: False  # the kernel refusing to lower the group's nice
    assert not priority.raise_() and not priority.enabled
    assert scheduler.nices == {101: 0} and _autogroup_nice(group) == 0


def test_no_autogroup_still_raises_the_threads(tmp_path):
    priority, scheduler, group = fake_priority(tmp_path, {101: 0}, autogroup=None)
    assert priority.raise_() and scheduler.nices == {101: RAISED_NICE}
    priority.restore()
    assert scheduler.nices == {101: 0} and not group.exists()


class HeldBack:
    """The CPU-load seam: other processes use one core, except while ``priority`` is raised, when they are held
    back to ``raised_cores`` (0.02: what nice -20 leaves a busy loop; 1.0: a cgroup that nice does not reach)."""

    def __init__(self, priority: ProbePriority, raised_cores: float = 0.02):
        self.priority, self.raised_cores = priority, raised_cores
        self.busy, self.last = 0.0, time.monotonic()

    def sample(self) -> CpuSample:
        now = time.monotonic()
        self.busy += (self.raised_cores if self.priority.raised else 1.0) * (now - self.last)
        self.last = now
        return CpuSample(wall_seconds=now, busy_seconds=self.busy + time.process_time(), steal_seconds=0.0,
                         own_seconds=time.process_time(), procs_running=2)


def _probe(priority, load, threads=2):
    return DeviceProbe(Workload(model=tiny_model, make_batch=tiny_batch), "cpu",
                       ProbeOptions(batch_size=16, budget_seconds=2.0, threads=threads, thread_scaling=False,
                                    after_ladder=False, cpu_peak=False),
                       load_source=load, priority=priority).run()


@pytest.mark.slow
def test_a_busy_probe_times_every_window_on_every_thread_while_the_others_are_held_back(tmp_path, monkeypatch):
    from advisor.probe import contention

    # The busiest other process as named on a machine with a busy loop at nice 0 (the real one on a shared machine
    # may be another advisor probe at nice -20, which the note says was not held back).
    monkeypatch.setattr(contention, "busiest_other_process", lambda pids: {"name": "python3 (pid 7, 99% CPU)",
                                                                            "nice": 0})
    priority, scheduler, _ = fake_priority(tmp_path, {101: 0})
    prof = _probe(priority, HeldBack(priority))
    timed = [m for m in prof.measurements if not m.oom]
    assert timed and all(m.priority_nice == RAISED_NICE and m.threads == 2 and m.clock == "wall" and m.clean
                         for m in timed)
    assert not priority.raised and scheduler.nices == {101: 0}  # put back after the last window
    (note,) = raised_notes(prof)
    assert f"as {len(timed)} of {len(timed)} timed windows began" in note
    assert "advisor raised its priority above theirs" in note and "ADVISOR_PROBE_PRIORITY=normal" in note
    assert "the busiest was python3 (pid 7, 99% CPU)" in note and "held back meanwhile" in note


@pytest.mark.slow
def test_a_raised_window_still_disturbed_gives_up_the_raising_and_times_one_thread(tmp_path):
    priority, _, _ = fake_priority(tmp_path, {101: 0})
    prof = _probe(priority, HeldBack(priority, raised_cores=1.0))  # another cgroup: nice does not reach it
    timed = [m for m in prof.measurements if not m.oom]
    assert not priority.usable
    assert timed[-1].priority_nice is None and timed[-1].threads == 1 and timed[-1].clock == "thread_cpu"
    assert sum(m.priority_nice is not None for m in timed) <= 1  # the first window only
    assert raised_notes(prof) == []  # no clean raised window: the busy note says what happened instead


class Runner:
    """What measure_thread_scaling needs of a probe: the tiny model's step."""

    def __init__(self, priority, load):
        self.torch, self.priority, self.load_source = torch, priority, load
        self.model = tiny_model()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.01)

    def batch(self, batch_size):
        return tiny_batch(batch_size)

    def train(self, inputs, target):
        self.optimizer.zero_grad()
        torch.nn.functional.cross_entropy(self.model(inputs), target).backward()
        self.optimizer.step()

    def user_error(self, what, batch_size, exc):
        return exc


@pytest.mark.parametrize(("raised_cores", "scaled"), [(0.02, True), (1.0, False)])
def test_thread_scaling_on_a_busy_machine_only_where_raising_held_the_others_back(tmp_path, raised_cores, scaled):
    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        priority, scheduler, _ = fake_priority(tmp_path, {101: 0})
        fits = [Measurement(device="cpu", batch_size=8, threads=2, compute_seconds=0.001)]
        points = measure_thread_scaling(Runner(priority, HeldBack(priority, raised_cores)), fits, budget=1.0)
    finally:
        torch.set_num_threads(saved)
    assert [p.threads for p in points] == ([1, 2] if scaled else [])
    assert priority.usable is scaled and scheduler.nices == {101: 0}


def test_thread_scaling_on_a_busy_machine_without_the_privilege_is_not_timed(tmp_path):
    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        priority, _, _ = fake_priority(tmp_path, {101: 0}, deny={101})
        fits = [Measurement(device="cpu", batch_size=8, threads=2, compute_seconds=0.001)]
        assert measure_thread_scaling(Runner(priority, HeldBack(priority)), fits, budget=1.0) == []
    finally:
        torch.set_num_threads(saved)
