"""The start-up clock where /proc/stat cannot be read (simulated as ``test_cpu_times`` does: ``sample`` None). It read
/proc/stat only, so off Linux every start-up recorded others_cpu_cores 0.0, steal 0.0, run queue 0.0, an idle
machine's figures. It now falls back to psutil's CPU times (``advisor.probe.cpu_times``) and, where neither can be
read, records the load as unknown (None) and says so in a note that does not call the machine idle."""

from __future__ import annotations

import json
import time

import pytest

from advisor.probe.contention import ProcStat
from advisor.probe.cpu_times import CpuTimes
from advisor.probe.startup_clock import PartTime, PartTimer, clock_of, mean_clock, startup_notes
from advisor.schemas import HostInfo
from advisor.schemas.devices import CpuInfo, StartupClock

_CPU = CpuInfo(model_name="x", arch="x86_64", physical_cores=1, logical_cores=2, torch_threads=2, memory_gib=8)


@pytest.fixture
def no_proc_stat(monkeypatch):
    monkeypatch.setattr(ProcStat, "sample", lambda self: None)


def _timed_part() -> PartTime:
    timer = PartTimer()  # the default source, as the probe child's
    time.sleep(0.05)
    return timer.stop()


def test_without_proc_stat_the_start_up_reads_psutils_cpu_times_steal_and_run_queue_unknown(no_proc_stat):
    part = _timed_part()
    clock = clock_of([part], part.wall_seconds, part.cpu_seconds)
    assert clock.others_cpu_cores is not None  # psutil's CPU times were read (was 0.0, from nothing read)
    assert clock.steal_fraction is None and clock.run_queue is None  # psutil counts neither (was 0.0 and 0.0)


def test_where_neither_can_be_read_the_load_is_unknown_and_the_note_does_not_call_it_idle(no_proc_stat,
                                                                                          monkeypatch):
    monkeypatch.setattr(CpuTimes, "sample", lambda self: None)
    part = _timed_part()
    assert part.load is None
    clock = clock_of([part], part.wall_seconds, part.cpu_seconds)
    assert (clock.others_cpu_cores, clock.steal_fraction, clock.run_queue, clock.clock) == (None, None, None, "wall")
    host = HostInfo(cpu=_CPU, process_start_seconds=clock.wall_seconds, process_start_clock=clock)
    [note] = startup_notes([], host)
    assert note.startswith("starting Python and importing torch: other processes' use of the CPU over it could "
                           "not be read (neither /proc/stat nor psutil's CPU times)")
    assert "unknown whether the machine was idle" in note
    # the profile keeps the unknown as null, and reads it back so
    again = HostInfo.model_validate(json.loads(host.model_dump_json()))
    assert again.process_start_clock.others_cpu_cores is None


def test_an_older_profiles_numbers_still_read_and_the_mean_skips_unknowns():
    old = StartupClock.model_validate({"wall_seconds": 2.0, "cpu_seconds": 1.0, "others_cpu_cores": 0.5,
                                       "steal_fraction": 0.0, "run_queue": 1.0})
    assert (old.others_cpu_cores, old.steal_fraction, old.run_queue) == (0.5, 0.0, 1.0)
    assert StartupClock.model_validate({"wall_seconds": 2.0, "cpu_seconds": 1.0}).others_cpu_cores == 0.0
    unknown = StartupClock(wall_seconds=4.0, cpu_seconds=3.0, others_cpu_cores=None, steal_fraction=None,
                           run_queue=None)
    mean = mean_clock([old, unknown])
    assert mean.wall_seconds == 3.0 and mean.others_cpu_cores == 0.5 and mean.run_queue == 1.0
    assert mean_clock([unknown]).others_cpu_cores is None


def test_a_busy_start_up_read_by_psutil_is_noted_without_a_run_queue():
    busy = StartupClock(wall_seconds=6.6, cpu_seconds=2.3, others_cpu_cores=1.4, steal_fraction=None,
                        run_queue=None, clock="process_cpu")
    [note] = startup_notes([], HostInfo(cpu=_CPU, process_start_seconds=2.3, process_start_clock=busy))
    assert "(they used 1.4 cores): 6.6s wall, 2.3s of CPU used" in note
