"""The probe's start-up parts, timed beside other processes: starting Python and importing torch, the first
optimizer's imports, the workload check's cold build + step and the model's build on the CPU (what each is:
``advisor.probe.coldstart``).

Why: these parts run once, before any timed window, at the priority the probe started with, so a wall clock over
them also counts the time the scheduler gave other processes. Three advisor probes started together on a 2-vCPU
VM measured 6.6-8.4 s of job start-up each against 2.4 s for one alone, and 10 s to start Python and import torch
against 3.8 s, while their steady steps (timed in windows that count the free cores and raise the priority,
``advisor.probe.contention``) did not move (audit of 2026-12-06). Every answer is the time on this machine when
idle (README, "A busy machine").

How: each part is timed as a window is: ``/proc/stat`` at its ends for the others' CPU time, steal time and run
queue (``contention.window_load``), else psutil's CPU times (``advisor.probe.cpu_times``: the others' CPU time only,
steal and run queue unknown), and this process's CPU time beside the wall clock. Where neither can be read, the
others' load is recorded as unknown (None), never as an idle machine's 0, and the wall clock stands. Where the
others' load over a start-up's parts was not clean (``schemas.profile.quiet``), each part counts this process's CPU
time (at most its wall time: the parts run on one thread, bar a check step's few operators). On a quiet machine the
wall clock stands: an import reads hundreds of files, and CPU time alone would leave those waits out. On a GPU the
build (CUDA's context, the copy) waits for the driver, which CPU time misses: its start-up stays on the wall clock.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from advisor.probe.coldstart import first_use_seconds, startup_seconds
from advisor.probe.contention import CPU_TIMES, CpuLoadSource, WindowLoad, window_load
from advisor.probe.cpu_times import load_source
from advisor.schemas import DeviceProfile, HostInfo
from advisor.schemas.devices import BUSY_STARTUP, PROCESS_START, StartupClock
from advisor.units import format_duration

PROCESS_START_MAX_SECONDS = 3600.0  # HostInfo.process_start_seconds' bound
NOTE_MIN_SECONDS = 0.1  # what the CPU time took off the wall clock for a note to say so (it shows tenths)


@dataclass(frozen=True)
class PartTime:
    """One start-up part: its wall and CPU seconds, and the others' load over it (None: not measured;
    ``steal_known`` False: psutil's CPU times, which count no steal time or run queue)."""

    wall_seconds: float
    cpu_seconds: float
    load: WindowLoad | None = None
    steal_known: bool = True

    @property
    def cpu_used(self) -> float:
        return min(self.wall_seconds, self.cpu_seconds)


@dataclass(frozen=True)
class StartupParts:
    """The parts the probe child times before it probes a device: the first optimizer's imports and the check."""

    first_use: PartTime | None = None
    check: PartTime | None = None

    @property
    def first_use_seconds(self) -> float:
        return self.first_use.wall_seconds if self.first_use else 0.0

    @property
    def check_seconds(self) -> float:
        return self.check.wall_seconds if self.check else 0.0


class PartTimer:
    """Times one part from its creation to ``stop()``: the wall clock, this process's CPU time, the others' load."""

    def __init__(self, source: CpuLoadSource | None = None) -> None:
        self.source = source or load_source()  # /proc/stat, else psutil's CPU times
        self._sample = self.source.sample()
        self._wall = time.perf_counter()
        self._cpu = time.process_time()

    def stop(self, wall_seconds: float | None = None, cpu_seconds: float | None = None) -> PartTime:
        """The part, its wall and CPU seconds as timed here unless given (a figure timed inside it)."""
        end = self.source.sample()
        read = self._sample is not None and end is not None  # else unknown: window_load's zeros would read as idle
        load = window_load(self._sample, end, os.cpu_count() or 1, own_threads=1) if read else None
        wall = time.perf_counter() - self._wall if wall_seconds is None else wall_seconds
        cpu = time.process_time() - self._cpu if cpu_seconds is None else cpu_seconds
        return PartTime(max(0.0, wall), max(0.0, cpu), load, steal_known=not read or end.measure != CPU_TIMES)


def clock_of(parts: Sequence[PartTime], wall_seconds: float, cpu_seconds: float) -> StartupClock:
    """The record of a start-up made of ``parts``: the others' load is their mean over the parts' wall time, over
    those it was read for (None where it was read for none: unknown; steal and run queue, where counted)."""
    measured = [p for p in parts if p.load is not None and p.wall_seconds > 0]

    def mean(field: str, over: list[PartTime], digits: int) -> float | None:
        wall = sum(p.wall_seconds for p in over)
        return round(sum(getattr(p.load, field) * p.wall_seconds for p in over) / wall, digits) if over else None

    counted = [p for p in measured if p.steal_known]
    others, steal = mean("others_cores", measured, 3), mean("steal_fraction", counted, 4)
    # Unknown is not taken for busy: the wall clock stands, as it does for a window whose load was not read.
    clean = others is None or WindowLoad(others, min(1.0, steal or 0.0), 0.0).clean
    return StartupClock(wall_seconds=wall_seconds, cpu_seconds=min(wall_seconds, cpu_seconds),
                        others_cpu_cores=others, steal_fraction=None if steal is None else min(1.0, steal),
                        run_queue=mean("run_queue", counted, 2), clock="wall" if clean else "process_cpu")


def used_seconds(clock: StartupClock) -> float:
    """The figure an idle machine's job pays: the wall clock where the machine was quiet, else the CPU time."""
    return clock.cpu_seconds if clock.clock == "process_cpu" else clock.wall_seconds


def device_startup(on_gpu: bool, build: PartTime, parts: StartupParts,
                   first_excess_seconds: float = 0.0) -> tuple[float, StartupClock | None]:
    """``DeviceProfile.startup_seconds`` and ``startup_clock`` (``coldstart.startup_seconds``'s parts: the build,
    the check's cold build + step and the first-use imports in ``parts``; the first step's excess was timed in a
    window)."""
    wall = startup_seconds(on_gpu, build.wall_seconds, parts.check_seconds, parts.first_use_seconds,
                           first_excess_seconds)
    if on_gpu:
        return wall, None
    check, first = parts.check or PartTime(0.0, 0.0), parts.first_use or PartTime(0.0, 0.0)  # None: not timed
    cpu = startup_seconds(False, build.cpu_used, check.cpu_used, first.cpu_used, first_excess_seconds)
    clock = clock_of([build, check, first], wall, cpu)
    return used_seconds(clock), clock


def timed_first_use(source: CpuLoadSource | None = None) -> PartTime:
    """``coldstart.first_use_seconds``, timed as a start-up part."""
    timer = PartTimer(source)
    first_use_seconds()
    return timer.stop()


def timed_process_start(source: CpuLoadSource | None = None) -> dict[str, Any]:
    """``HostInfo``'s ``process_start_seconds`` and ``process_start_clock``: from this interpreter's start to torch
    imported (Python's start, advisor's probe modules, ``import torch``), the others' load measured over the
    import (by far the larger part). Meaningful in a fresh interpreter only; empty where the start time cannot be
    read."""
    import psutil  # a dependency of advisor's

    from advisor.torch_import import import_torch

    timer = PartTimer(source)
    import_torch()  # imported here to be timed (the probe imports it next anyway); a broken torch: HardwareError

    try:
        wall = min(PROCESS_START_MAX_SECONDS, max(0.0, time.time() - psutil.Process().create_time()))
    except (OSError, psutil.Error):  # the profile stands without it
        return {}
    part = timer.stop()
    cpu = min(wall, time.process_time())  # this process's CPU time since it started
    clock = clock_of([part], wall, cpu)
    return {"process_start_seconds": used_seconds(clock), "process_start_clock": clock}


def mean_clock(clocks: Sequence[StartupClock | None]) -> StartupClock | None:
    """The record of a start-up that several fresh processes paid (``advisor.probe.pool``): their mean."""
    known = [c for c in clocks if c is not None]
    if not known:
        return None

    def mean(field: str) -> float | None:  # over the processes it was read for; None where for none
        read = [getattr(c, field) for c in known if getattr(c, field) is not None]
        return sum(read) / len(read) if read else None

    busy = any(c.clock == "process_cpu" for c in known)
    return StartupClock(wall_seconds=mean("wall_seconds"), cpu_seconds=mean("cpu_seconds"),
                        others_cpu_cores=mean("others_cpu_cores"), steal_fraction=mean("steal_fraction"),
                        run_queue=mean("run_queue"), clock="process_cpu" if busy else "wall")


def startup_notes(devices: Sequence[DeviceProfile], host: HostInfo | None) -> list[str]:
    """A note for each start-up figure taken from the CPU time because others used the CPU over its parts, where
    that took a tenth of a second or more off the wall clock; and one for each whose others' load could not be read
    (unknown: its wall clock is not known to be an idle machine's)."""
    timed = [(PROCESS_START, host.process_start_clock if host else None)]
    timed += [(f"{d.device}: start-up (the model's build, the first step)", d.startup_clock) for d in devices]
    notes = [f"{what} {BUSY_STARTUP} (they used {c.others_cpu_cores:.1f} cores"
             f"{'' if c.run_queue is None else f', run queue {c.run_queue:.1f}'}): {format_duration(c.wall_seconds)} "
             f"wall, {format_duration(c.cpu_seconds)} of CPU used, as the time on this machine when idle (the wall "
             "clock also counted their turns on the cores)."
             for what, c in timed if c is not None and c.clock == "process_cpu" and c.wall_seconds - c.cpu_seconds
             >= NOTE_MIN_SECONDS]
    unread = [what for what, c in timed if c is not None and c.others_cpu_cores is None]
    if unread:
        notes.append(f"{'; '.join(unread)}: other processes' use of the CPU over it could not be read (neither "
                     "/proc/stat nor psutil's CPU times), so it is the wall clock as timed, unknown whether the "
                     "machine was idle: if others were using the CPU, it also counts their turns on the cores.")
    return notes
