"""The host side of a training step, measured on this machine: ``measure_input_pipeline`` -> ``InputPipeline``.

Runs in the probe's child process (``advisor.probe.child``), after the device probes, so that its worker processes
never share the cores with a timed step. It runs user code and imports torch.

With a ``make_dataloader``: the loader is built and read at 1, 2 and N worker processes (N: this process's usable
cores, ``os.sched_getaffinity``, held to what the budget affords). At each count the first wave of batches is
untimed: the first batch waits for the workers to start (its wall time at the most workers is
``startup_seconds``), and the other workers' first batches were made during that wait, so they would arrive
"free". Then batches are timed until the point's share of the budget is spent (at least ``MIN_TIMED_BATCHES``;
a loader whose data runs out starts a new pass, its first wave untimed again). When one batch at one worker would
take more than a point's share, every point is timed at a quarter of the batch size instead (the rate per
sample barely depends on the batch size), and a note says so. After each count the workers are shut down
(``advisor.workload.LoaderRun``), so that none is left behind.

With only ``make_batch``: batches are made in the training process itself, so there is one point (workers 0),
the median of a few ``make_batch(batch_size)`` calls after a first one that is not timed (it pays for first use:
lazy imports, and the allocator's fresh pages, ResNet-50's 224 x 224 batch of 256 paid twice its later CPU time).
Calls are made until ``MIN_MAKE_BATCH_CALLS`` are timed and their time on the rate's clock reaches
``MAKE_BATCH_SECONDS`` (``MAKE_BATCH_CALLS`` at most), or all the calls' time on that clock reaches the
measurement's budget. The rules count the calls' own time, not the wall: beside other processes the wall time
stretches with their waits, and a 1-second wall limit once left only the first call, set-up included, timed
(ResNet-50 measured at 744 samples/s on a busy 2-core VM against ~1,200 by the later calls, issue 8). The wall
time is held to ``MAKE_BATCH_WALL_SHARE`` x the budget. Where only the first call fitted, it is what is timed,
with a note.

A busy machine (issue 8): the question is how fast the loader is on an idle machine of this kind. Each point
records what other processes used meanwhile (``advisor.probe.contention``, the loader's own workers excluded)
and how long the processes that made the batches sat runnable, waiting for a CPU someone else held (the
scheduler's run delay, ``/proc/<pid>/schedstat``). Where others used the machine, the rate is taken over the
wall time less that wait (``LoaderPoint.clock`` "wall_less_wait"): time spent sleeping or reading a disk still
counts, time spent queued behind another process does not. On a quiet machine it is the wall time.

Both record the bytes of one sample's tensors (what crosses to the device each step) and whether batches come
in page-locked memory (a DataLoader's ``pin_memory=True``, or tensors that report ``is_pinned()``; on a machine
without a GPU nothing can be pinned, so the loader's intent is what is recorded).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from advisor.errors import WorkloadError
from advisor.probe.contention import CPU_TIMES, CpuLoadSource, TaskTimes, task_times, window_load
from advisor.probe.cpu_times import load_source
from advisor.probe.ladder import MAX_TIMED_BATCH_SIZE
from advisor.schemas import InputPipeline, LoaderPoint
from advisor.schemas.profile import quiet
from advisor.units import format_duration
from advisor.workload import LoaderRun, Workload, sample_count, split_batch
from advisor.workload.describe import raised

MIN_TIMED_BATCHES = 2  # timed batches at each worker count, however long they take
MAX_WORKERS = 32  # the most worker processes timed, whatever the cores
WORKER_START_SECONDS = 0.25  # a worker's start-up, roughly: N is held to budget / this
SMALLER_BATCH = 4  # one batch too slow for a point's share: time batch_size // this instead ...
MAX_SMALLER = 2  # ... at most this many times
MIN_POINT_SECONDS = 0.5  # a later worker count with less than this left is skipped (and noted)
MAX_PASSES = 3  # passes over a loader whose data runs out, per worker count
MAKE_BATCH_SECONDS = 0.5  # a make_batch-only workload's timed calls, on the rate's clock: enough once ...
MIN_MAKE_BATCH_CALLS = 2  # ... at least this many are timed (after the first, which is not), ...
MAKE_BATCH_CALLS = 5  # ... and at most this many timed calls
MAKE_BATCH_WALL_SHARE = 3.0  # their wall time, stretched by others' load, is held to this x the input budget
INPUT_SHARE = 0.1  # of the probe budget, held to [MIN_INPUT_SECONDS, MAX_INPUT_SECONDS]
MIN_INPUT_SECONDS = 3.0
MAX_INPUT_SECONDS = 15.0

MIN_UNWAITED_SHARE = 0.05  # a busy point's time less its waits is held to at least this share of its wall time

Report = Callable[[float, str], None]
Tasks = Callable[[int | None], TaskTimes | None]


def input_budget_seconds(probe_seconds: float) -> float:
    """The measurement's budget for a probe of ``probe_seconds``: a tenth of it, 3 s at least, 15 s at most."""
    return min(MAX_INPUT_SECONDS, max(MIN_INPUT_SECONDS, INPUT_SHARE * probe_seconds))


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, which a container or taskset narrows)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def worker_counts(cores: int, budget_seconds: float) -> list[int]:
    """1, 2 and N workers: N the usable cores, held to ``MAX_WORKERS`` and to what the budget can start."""
    most = min(cores, MAX_WORKERS, max(2, int(budget_seconds / WORKER_START_SECONDS)))
    return sorted({1, 2, most}) if cores > 1 else [1]


def measure_input_pipeline(workload: Workload, batch_size: int, budget_seconds: float, cores: int | None = None,
                           *, cpu_name: str | None = None, report: Report | None = None,
                           load: CpuLoadSource | None = None, tasks: Tasks = task_times) -> InputPipeline:
    """Time the workload's input pipeline on this machine (see the module docstring).

    Args:
        workload: the workload; its ``make_dataloader`` is timed when it has one, else its ``make_batch``.
        batch_size: the batch size to time at (the user's training batch size).
        budget_seconds: wall time for the whole measurement (a later worker count that does not fit is skipped).
        cores: usable cores (default ``usable_cores()``): N of the worker counts, and ``host_cores``.
        cpu_name: this machine's CPU as reported, stored with the result.
        report: ``report(fraction 0..1, message)`` as it goes.
        load: the machine's CPU counters (default ``/proc/stat``, else psutil's CPU times); a seam for tests.
        tasks: a task's scheduler counters by pid (None: this thread); a seam for tests.

    Raises:
        WorkloadError: the user's make_dataloader (or make_batch) raised, returned something that is not an
            iterable of batches, or yielded nothing.
    """
    cores = cores or usable_cores()
    notify: Report = report or (lambda fraction, message: None)
    clock = _Clock(cores=cores, load=load or load_source(), tasks=tasks)
    # The rates are per sample: a job's batch past what the ladder times is timed at that largest one.
    job_batch_size, batch_size = batch_size, min(batch_size, MAX_TIMED_BATCH_SIZE)
    if workload.make_dataloader is None:
        notify(0.0, f"the input pipeline: make_batch({batch_size}) on its own")
        result = _measure_make_batch(workload, batch_size, budget_seconds, clock)
    else:
        result = _measure_dataloader(workload, batch_size, budget_seconds, clock, notify)
    if job_batch_size > batch_size:
        result.notes.append(f"the input pipeline was timed at batch size {batch_size:,}, the largest batch the "
                            f"probe times, not at the job's {job_batch_size:,}.")
    notify(1.0, "the input pipeline: done")
    return result.pipeline(workload, cores, cpu_name)


@dataclass
class _Result:
    """What the measurement found, before it becomes an ``InputPipeline``."""

    source: str
    batch_size: int
    bytes_per_sample: float = 0.0
    pinned_memory: bool = False
    persistent_workers: bool = False
    points: list[LoaderPoint] = field(default_factory=list)
    startup_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def pipeline(self, workload: Workload, cores: int, cpu_name: str | None) -> InputPipeline:
        return InputPipeline(source=self.source, batch_size=self.batch_size, bytes_per_sample=self.bytes_per_sample,
                             pinned_memory=self.pinned_memory, points=self.points, host_cores=cores,
                             cpu_name=cpu_name, startup_seconds=self.startup_seconds,
                             persistent_workers=self.persistent_workers, default_workers=workload.num_workers,
                             notes=self.notes)


# ------------------------------------------------------------------------------------------ the clock


@dataclass(frozen=True)
class _Clock:
    """Where a point's counters come from: the machine's CPU load and the scheduler's times of the tasks that
    make the batches (the loader's worker processes, or this thread)."""

    cores: int
    load: CpuLoadSource
    tasks: Tasks

    def start(self, at: float | None, pids: list[int]) -> _Span:
        """A stretch timed from ``at`` (the arrival of the last untimed batch; None: once the counters are read)
        with ``pids`` making the batches (none: this thread)."""
        ids: list[int | None] = list(pids) or [None]
        sample, before = self.load.sample(), [self.tasks(p) for p in ids]
        return _Span(self, time.perf_counter() if at is None else at, sample, ids, before)


@dataclass
class _Tally:
    """A point's timed stretches, added up: wall, the batch makers' mean wait for a CPU, others' load."""

    wall_seconds: float = 0.0
    wait_seconds: float | None = None  # None: no task's counters could be read
    others_core_seconds: float = 0.0
    steal_seconds: float = 0.0  # the steal share x the wall time
    load_unread: bool = False  # a stretch's CPU load could not be read (/proc/stat, psutil): others' share unknown
    steal_unread: bool = False  # read by psutil's CPU times, which count no steal time: unknown, not 0

    @property
    def others_cpu_cores(self) -> float:
        return self.others_core_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def steal_fraction(self) -> float:
        return min(1.0, self.steal_seconds / self.wall_seconds) if self.wall_seconds > 0 else 0.0

    @property
    def busy(self) -> bool:
        """Others used the machine, and the batch makers' waits are known (so they can be taken out)."""
        return self.wait_seconds is not None and not self.load_unread and \
            not quiet(self.others_cpu_cores, self.steal_fraction)

    @property
    def seconds(self) -> float:
        """The wall time; on a busy machine less the time the batch makers waited for a CPU (why: the question
        is how fast the loader is on an idle machine of this kind, and a wait is time another process took)."""
        return self.unwaited_seconds if self.busy else self.wall_seconds

    @property
    def unwaited_seconds(self) -> float:
        return max(self.wall_seconds - (self.wait_seconds or 0.0), MIN_UNWAITED_SHARE * self.wall_seconds)

    def point(self, workers: int, samples: int, batches: int) -> LoaderPoint:
        measured = self.wait_seconds is not None
        loaded = measured and not self.load_unread  # unknown stays None, never a quiet 0.0
        return LoaderPoint(workers=workers, samples_per_second=samples / max(self.seconds, 1e-9),
                           batches_timed=batches, seconds=self.wall_seconds,
                           others_cpu_cores=round(self.others_cpu_cores, 3) if loaded else None,
                           steal_fraction=round(self.steal_fraction, 4) if loaded and not self.steal_unread else None,
                           wait_seconds=round(self.wait_seconds, 6) if measured else None,
                           clock="wall_less_wait" if self.busy else "wall")


@dataclass
class _Span:
    """One stretch being timed (a pass over the loader, or one make_batch call)."""

    clock: _Clock
    at: float
    sample: Any
    ids: list[int | None]
    before: list[TaskTimes | None]
    latest: list[TaskTimes | None] = field(default_factory=list)

    def touch(self) -> None:
        """Read the counters now: a loader whose data runs out shuts its workers down before the stretch ends."""
        self.latest = [self.clock.tasks(p) for p in self.ids]

    def stop(self, tally: _Tally, now: float) -> None:
        """Add this stretch, ended at ``now``, to ``tally``."""
        wall = max(0.0, now - self.at)
        after = [self.clock.tasks(p) for p in self.ids]
        after = [a if a is not None else (self.latest[i] if self.latest else None) for i, a in enumerate(after)]
        pairs = [(b, a) for b, a in zip(self.before, after, strict=True) if b is not None and a is not None]
        end = self.clock.load.sample()
        tally.load_unread = tally.load_unread or self.sample is None or end is None
        tally.steal_unread = tally.steal_unread or getattr(end, "measure", None) == CPU_TIMES
        load = window_load(self.sample, end, self.clock.cores)
        # The loader's worker processes are other processes to /proc/stat, but not to the question asked.
        workers_cpu = sum(a.cpu_seconds - b.cpu_seconds for b, a in pairs) if self.ids != [None] else 0.0
        tally.wall_seconds += wall
        tally.others_core_seconds += max(0.0, load.others_cores * wall - workers_cpu)
        tally.steal_seconds += load.steal_fraction * wall
        if pairs:
            waited = sum(a.wait_seconds - b.wait_seconds for b, a in pairs) / len(pairs)
            tally.wait_seconds = (tally.wait_seconds or 0.0) + max(0.0, waited)


# ------------------------------------------------------------------------------------------ a dataloader


class _TooSlow(Exception):
    """Internal: one batch takes more than a worker count's share of the budget at this batch size."""


def _measure_dataloader(workload: Workload, batch_size: int, budget_seconds: float, clock: _Clock,
                        notify: Report) -> _Result:
    cores = clock.cores
    counts = worker_counts(cores, budget_seconds)
    result = _Result(source="dataloader", batch_size=batch_size)
    if counts[-1] < cores:
        result.notes.append(f"timed at up to {counts[-1]} loader workers on this machine's {cores} cores (the "
                            f"time a worker takes to start, {MAX_WORKERS} at most)")
    deadline = time.perf_counter() + budget_seconds
    i = smaller = 0
    while i < len(counts):
        workers = counts[i]
        share = (deadline - time.perf_counter()) / (len(counts) - i)
        if result.points and share < MIN_POINT_SECONDS:
            result.notes.append(f"{', '.join(map(str, counts[i:]))} workers not timed: the budget was spent")
            break
        notify(i / len(counts), f"the input pipeline at {workers} worker{'s' * (workers > 1)}")
        try:
            _time_point(workload, result, workers, share, clock,
                        slow_ok=smaller >= MAX_SMALLER or result.batch_size == 1 or bool(result.points))
        except _TooSlow:
            smaller += 1
            new_size = max(1, result.batch_size // SMALLER_BATCH)
            result.notes.append(f"one batch of {result.batch_size} took longer than the time for a worker count, so "
                                f"the loader was timed at batch size {new_size} (the rate per sample barely "
                                "depends on the batch size)")
            result.batch_size = new_size
            continue
        i += 1
    return result


def _time_point(workload: Workload, result: _Result, workers: int, share: float, clock: _Clock,
                slow_ok: bool) -> None:
    """Time the loader at ``workers`` workers for about ``share`` seconds; add its point to ``result``."""
    started = time.perf_counter()
    with LoaderRun(workload, result.batch_size, workers) as run:
        first = run.next_batch()
        arrived = time.perf_counter()
        if first is None:
            raise run.empty_error()
        first_seconds = arrived - started
        if not slow_ok and first_seconds * (MIN_TIMED_BATCHES + 1) > share:
            raise _TooSlow()
        if not result.points:  # what crosses to the device, and how, from the first batch timed
            result.bytes_per_sample = _bytes_per_sample(workload, first, run.call)
            result.pinned_memory = bool(getattr(run.loader, "pin_memory", False)) or _any_pinned(first)
            result.persistent_workers = getattr(run.loader, "persistent_workers", False) is True
        result.startup_seconds = first_seconds  # the last (most workers) point's stands
        samples, batches, tally = _timed_batches(run, workers, started + share, arrived, clock)
    if batches == 0:
        raise WorkloadError(
            f"{workload.label}: {run.call} yields too few batches per pass to time it (its first batch of each pass "
            "waits for the workers to start, so it is not timed).",
            hint=f"Fix: give the loader's dataset more samples ({MIN_TIMED_BATCHES + 1} batches or more).")
    result.points.append(tally.point(workers, samples, batches))


def _timed_batches(run: LoaderRun, workers: int, until: float, arrived: float,
                   clock: _Clock) -> tuple[int, int, _Tally]:
    """(samples, batches, their timing) after each pass's first wave, until ``until`` (and at least
    ``MIN_TIMED_BATCHES``), over at most ``MAX_PASSES`` passes. ``arrived``: when the pass's first batch came.

    Each stretch is timed from the arrival of the last untimed batch, not from when this code gets to ask for
    the next: the workers go on making batches meanwhile, so a later mark would count part of a batch as free.
    """
    samples = batches = 0
    tally = _Tally()
    passes = 1
    span = clock.start(_skip_first_wave(run, workers, skipped=1, arrived=arrived), run.worker_pids())
    while True:
        batch = run.next_batch()
        now = time.perf_counter()
        if batch is None:  # the data ran out: a new pass, its first wave untimed
            span.stop(tally, now)
            if passes >= MAX_PASSES or (batches >= MIN_TIMED_BATCHES and now >= until):
                return samples, batches, tally
            passes += 1
            run.restart()
            span = clock.start(_skip_first_wave(run, workers, skipped=0, arrived=time.perf_counter()),
                               run.worker_pids())
            continue
        samples += sample_count(batch) or run.batch_size
        batches += 1
        span.touch()
        if batches >= MIN_TIMED_BATCHES and now >= until:
            span.stop(tally, now)
            return samples, batches, tally


def _skip_first_wave(run: LoaderRun, workers: int, skipped: int, arrived: float) -> float:
    """Take the batches the workers made while they started (one per worker), leaving enough to time; the
    arrival time of the last one taken (``arrived`` when none is taken here)."""
    length = _length(run.loader)
    wave = workers if length is None else min(workers, max(1, length - MIN_TIMED_BATCHES))
    for _ in range(wave - skipped):
        if run.next_batch() is None:
            break
        arrived = time.perf_counter()
    return arrived


def _length(loader: Any) -> int | None:
    """Batches per pass, where the loader knows it (a DataLoader over a map-style dataset)."""
    try:
        return int(len(loader))
    except Exception:  # noqa: BLE001 - user code: __len__ of an iterable dataset raises TypeError, or anything
        return None


# -------------------------------------------------------------------------------------- make_batch only


def _measure_make_batch(workload: Workload, batch_size: int, budget_seconds: float, clock: _Clock) -> _Result:
    """The median of a few make_batch(batch_size) calls in this process (workers 0), the first left out when
    there are others (it also pays for first-use set-up: lazy imports, the allocator's first pages); calls are
    made until enough are timed or ``budget_seconds`` are spent on the rate's clock (the module docstring)."""
    deadline = time.perf_counter() + MAKE_BATCH_WALL_SHARE * budget_seconds
    calls: list[_Tally] = []
    batch = None
    while not _enough_calls(calls[1:]) and sum(c.seconds for c in calls) < budget_seconds and \
            time.perf_counter() < deadline:
        batch = None  # the last batch goes before the next is made
        calls.append(_Tally())
        span = clock.start(None, [])  # the clock starts after its own reads: a make_batch can take microseconds
        try:
            batch = workload.make_batch(batch_size)
        except WorkloadError:
            raise
        except Exception as exc:  # noqa: BLE001 - user code: make_batch
            raise WorkloadError(f"{workload.label}: make_batch({batch_size}) raised {raised(exc)}",
                                hint="Fix: make_batch(batch_size) must run at the training batch size.") from exc
        span.stop(calls[-1], time.perf_counter())
    call = f"make_batch({batch_size})"
    samples = sample_count(batch) or batch_size
    timed = calls[1:] or calls
    notes = [] if len(calls) > 1 else [
        f"{call} was timed once, its first call, which also pays for first use (lazy imports, fresh memory): that "
        f"call took {format_duration(calls[0].seconds)} of the input pipeline's {format_duration(budget_seconds)}, so "
        "its rate may read low."]
    point = _median_point(timed, samples)
    return _Result(source="make_batch", batch_size=batch_size, points=[point], pinned_memory=_any_pinned(batch),
                   bytes_per_sample=_bytes_per_sample(workload, batch, call, returned="returned"), notes=notes)


def _enough_calls(timed: list[_Tally]) -> bool:
    """Enough make_batch calls are timed: ``MAKE_BATCH_CALLS``, or ``MIN_MAKE_BATCH_CALLS`` whose time on the
    rate's clock reaches ``MAKE_BATCH_SECONDS`` (the wall, less the waits where others held the CPU: why not the
    wall alone, the module docstring)."""
    return len(timed) >= MAKE_BATCH_CALLS or \
        (len(timed) >= MIN_MAKE_BATCH_CALLS and sum(c.seconds for c in timed) >= MAKE_BATCH_SECONDS)


def _median_point(calls: list[_Tally], samples: int) -> LoaderPoint:
    """The point of make_batch calls: the median call's time, each on the clock the calls together need (the
    wall; less the waits when the machine was busy over them)."""
    total = _Tally(wall_seconds=sum(c.wall_seconds for c in calls),
                   others_core_seconds=sum(c.others_core_seconds for c in calls),
                   steal_seconds=sum(c.steal_seconds for c in calls),
                   load_unread=any(c.load_unread for c in calls), steal_unread=any(c.steal_unread for c in calls))
    waits = [c.wait_seconds for c in calls if c.wait_seconds is not None]
    total.wait_seconds = sum(waits) if len(waits) == len(calls) else None
    per_call = [c.unwaited_seconds if total.busy else c.wall_seconds for c in calls]
    rate = samples / max(statistics.median(per_call), 1e-9)
    return total.point(0, samples, len(calls)).model_copy(update={"samples_per_second": rate})


# ------------------------------------------------------------------------------------------- the batch


def _bytes_per_sample(workload: Workload, batch: Any, call: str, returned: str = "yielded") -> float:
    """Bytes of the batch's tensors (inputs and target) per sample: what crosses to the device."""
    inputs, target = split_batch(workload, batch, source=f"{call} {returned}")
    total = _tensor_bytes(inputs) + _tensor_bytes(target)
    count = sample_count(batch)
    if not count:
        raise WorkloadError(f"{workload.label}: {call} {returned} a batch holding no tensor.",
                            hint="Fix: return (inputs, target) as tensors (torch.tensor(v), torch.from_numpy(a)).")
    return total / count


def _tensor_bytes(obj: Any) -> int:
    if hasattr(obj, "nbytes") and hasattr(obj, "shape"):
        return int(obj.nbytes)
    if isinstance(obj, dict):
        return sum(_tensor_bytes(v) for v in obj.values())
    if isinstance(obj, (tuple, list)):
        return sum(_tensor_bytes(v) for v in obj)
    return 0


def _any_pinned(obj: Any) -> bool:
    """Some tensor in ``obj`` is in page-locked memory (False wherever that cannot be asked)."""
    if isinstance(obj, dict):
        return any(_any_pinned(v) for v in obj.values())
    if isinstance(obj, (tuple, list)):
        return any(_any_pinned(v) for v in obj)
    is_pinned = getattr(obj, "is_pinned", None)
    if not callable(is_pinned):
        return False
    try:
        return bool(is_pinned())
    except (RuntimeError, TypeError):  # no accelerator to ask on this build
        return False
