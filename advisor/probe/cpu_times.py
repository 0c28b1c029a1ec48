"""The busy-machine check's counters where ``/proc/stat`` cannot be read (macOS, Windows, a sandbox that hides
/proc): psutil's system-wide CPU times, less this process's own, are the other processes' CPU time. They give no
steal time and no run queue, so a window timed on them records those as unknown (``Measurement.load_measure``
"psutil"), and the probe's busy note says which measure it used (``advisor.probe.device_notes.busy_notes``).

``load_source`` picks the measure once per probe, so that a window's two ends are read the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from advisor.probe.contention import CPU_TIMES, CpuLoadSource, CpuSample, ProcStat

# The busy parts of psutil.cpu_times(), whichever the OS has: macOS user, nice, system; Linux irq and softirq too;
# Windows interrupt and dpc. Idle, iowait and steal are not busy; guest time is inside user already, as on
# /proc/stat.
_BUSY_FIELDS = ("user", "nice", "system", "irq", "softirq", "interrupt", "dpc")


class CpuTimes:
    """Counters from ``psutil.cpu_times()`` (all CPUs) and this process's CPU time; steal and the run queue are
    not counted (0 here, recorded as unknown: ``CpuSample.measure`` is ``CPU_TIMES``). ``cpu_times``: a seam
    for tests."""

    def __init__(self, cpu_times: Callable[[], Any] | None = None) -> None:
        self._cpu_times = cpu_times

    def sample(self) -> CpuSample | None:
        try:
            read = self._cpu_times
            if read is None:
                import psutil

                read = psutil.cpu_times
            times = read()
            busy = sum(float(getattr(times, name, 0.0) or 0.0) for name in _BUSY_FIELDS)
        except Exception:  # noqa: BLE001 - psutil.Error, or an OS it does not support: not measured
            return None
        return CpuSample(wall_seconds=time.monotonic(), busy_seconds=busy, steal_seconds=0.0,
                         own_seconds=time.process_time(), procs_running=0, measure=CPU_TIMES)


def load_source(proc_stat: CpuLoadSource | None = None, cpu_times: CpuLoadSource | None = None) -> CpuLoadSource:
    """``/proc/stat`` (``ProcStat``) where it can be read, else psutil's CPU times (``CpuTimes``); ``proc_stat``
    and ``cpu_times`` replace them (tests simulate a machine without /proc so)."""
    first = proc_stat or ProcStat()
    return first if first.sample() is not None else (cpu_times or CpuTimes())
