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
queue (``contention.window_load``), and this process's CPU time beside the wall clock. Where the others' load over
a start-up's parts was not clean (``schemas.profile.quiet``), each part counts this process's CPU time (at most its
wall time: the parts run on one thread, bar a check step's few operators). On a quiet machine the wall clock
stands: an import reads hundreds of files, and CPU time alone would leave those waits out. On a GPU the build
(CUDA's context, the copy) waits for the driver, which CPU time misses: its start-up stays on the wall clock.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from advisor.probe.coldstart import first_use_seconds, startup_seconds
from advisor.probe.contention import CpuLoadSource, ProcStat, WindowLoad, window_load
from advisor.schemas import DeviceProfile, HostInfo
from advisor.schemas.devices import BUSY_STARTUP, PROCESS_START, StartupClock
from advisor.units import format_duration

PROCESS_START_MAX_SECONDS = 3600.0  # HostInfo.process_start_seconds' bound
NOTE_MIN_SECONDS = 0.1  # what the CPU time took off the wall clock for a note to say so (it shows tenths)


@dataclass(frozen=True)
class PartTime:
    """One start-up part: its wall and CPU seconds, and the others' load over it (None: not measured)."""

    wall_seconds: float
    cpu_seconds: float
    load: WindowLoad | None = None

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
        self.source = source or ProcStat()
        self._sample = self.source.sample()
        self._wall = time.perf_counter()
        self._cpu = time.process_time()

    def stop(self, wall_seconds: float | None = None, cpu_seconds: float | None = None) -> PartTime:
        """The part, its wall and CPU seconds as timed here unless given (a figure timed inside it)."""
        load = window_load(self._sample, self.source.sample(), os.cpu_count() or 1, own_threads=1)
        wall = time.perf_counter() - self._wall if wall_seconds is None else wall_seconds
        cpu = time.process_time() - self._cpu if cpu_seconds is None else cpu_seconds
        return PartTime(max(0.0, wall), max(0.0, cpu), load)


def clock_of(parts: Sequence[PartTime], wall_seconds: float, cpu_seconds: float) -> StartupClock:
    """The record of a start-up made of ``parts``: the others' load is their mean over the parts' wall time."""
    measured = [p for p in parts if p.load is not None and p.wall_seconds > 0]
    wall = sum(p.wall_seconds for p in measured)

    def mean(field: str) -> float:
        return sum(getattr(p.load, field) * p.wall_seconds for p in measured) / wall if wall > 0 else 0.0

    load = WindowLoad(others_cores=mean("others_cores"), steal_fraction=min(1.0, mean("steal_fraction")),
                      run_queue=mean("run_queue"))
    return StartupClock(wall_seconds=wall_seconds, cpu_seconds=min(wall_seconds, cpu_seconds),
                        others_cpu_cores=round(load.others_cores, 3), steal_fraction=round(load.steal_fraction, 4),
                        run_queue=round(load.run_queue, 2), clock="wall" if load.clean else "process_cpu")


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

    def mean(field: str) -> float:
        return sum(getattr(c, field) for c in known) / len(known)

    busy = any(c.clock == "process_cpu" for c in known)
    return StartupClock(wall_seconds=mean("wall_seconds"), cpu_seconds=mean("cpu_seconds"),
                        others_cpu_cores=mean("others_cpu_cores"), steal_fraction=mean("steal_fraction"),
                        run_queue=mean("run_queue"), clock="process_cpu" if busy else "wall")


def startup_notes(devices: Sequence[DeviceProfile], host: HostInfo | None) -> list[str]:
    """A note for each start-up figure taken from the CPU time because others used the CPU over its parts, where
    that took a tenth of a second or more off the wall clock."""
    timed = [(PROCESS_START, host.process_start_clock if host else None)]
    timed += [(f"{d.device}: start-up (the model's build, the first step)", d.startup_clock) for d in devices]
    return [f"{what} {BUSY_STARTUP} (they used {c.others_cpu_cores:.1f} cores, run queue "
            f"{c.run_queue:.1f}): {format_duration(c.wall_seconds)} wall, {format_duration(c.cpu_seconds)} of CPU "
            "used, as the time on this machine when idle (the wall clock also counted their turns on the cores)."
            for what, c in timed if c is not None and c.clock == "process_cpu" and c.wall_seconds - c.cpu_seconds
            >= NOTE_MIN_SECONDS]
