"""The busy-machine check off Linux: where /proc/stat cannot be read (simulated as ``test_contention`` does, a
source whose ``sample`` is None), the timed windows' load was recorded as unknown and the probe said it could not
read it, though psutil's CPU times give the other processes' CPU time. It now falls back to them
(``advisor.probe.cpu_times``), records no steal or run queue (unknown, not 0), and its notes say which measure."""

from __future__ import annotations

import time
from collections import namedtuple

import pytest

from advisor.probe.contention import CPU_TIMES, ProcStat, Window
from advisor.probe.cpu_times import CpuTimes, load_source
from advisor.probe.device_notes import busy_notes, noise_notes
from advisor.schemas import DeviceProfile, Measurement

MacTimes = namedtuple("MacTimes", "user nice system idle")  # psutil.cpu_times()'s fields on macOS


class UnreadLoad:
    """A machine whose /proc/stat cannot be read: ``ProcStat.sample`` returns None there."""

    def sample(self):
        return None


def _others_busy(cores: float):
    """psutil.cpu_times() of a Mac where other processes use ``cores`` cores beside this process's own time."""
    return lambda: MacTimes(user=cores * time.monotonic() + time.process_time(), nice=0.0, system=0.0, idle=0.0)


def test_without_proc_stat_the_window_reads_psutils_cpu_times_and_records_no_steal_or_run_queue():
    source = load_source(proc_stat=UnreadLoad(), cpu_times=CpuTimes(_others_busy(1.5)))
    assert isinstance(source, CpuTimes)
    window = Window(cores=2, clock="thread_cpu", threads=1, busiest={"name": None})
    window.begin(source)
    # The fake and the sample read the clocks a moment apart: over 0.05 s a 0.3 ms gap on a loaded machine moved the
    # figure past 0.01 (1.468, in CI); over 0.5 s the same gap is a tenth of it.
    time.sleep(0.5)
    fields = window.end(source)
    assert fields["others_cpu_cores"] == pytest.approx(1.5, abs=0.01)  # was None: the load not read at all
    assert fields["steal_fraction"] is None and fields["run_queue"] is None  # not counted: unknown, never a 0
    assert fields["load_measure"] == CPU_TIMES == "psutil"
    assert Measurement(device="cpu", batch_size=8, **fields).load_measure == "psutil"


def test_where_proc_stat_can_be_read_it_stays_the_measure():
    proc = ProcStat()
    if proc.sample() is None:
        pytest.skip("needs /proc/stat")
    assert isinstance(load_source(), ProcStat)
    window = Window(cores=2, clock="wall", threads=2)
    window.begin(proc)
    fields = window.end(proc)
    assert fields["load_measure"] == "/proc/stat" and fields["steal_fraction"] is not None


def test_psutils_own_cpu_times_are_read_here():
    sample = CpuTimes().sample()  # the real psutil.cpu_times() of this machine
    assert sample is not None and sample.measure == "psutil" and sample.busy_seconds > 0
    assert CpuTimes(lambda: (_ for _ in ()).throw(OSError("no counters"))).sample() is None


def _device(measure: str | None) -> DeviceProfile:
    steal, queue = (None, None) if measure == "psutil" else (0.0, 0.5)
    ms = [Measurement(device="cpu", batch_size=b, threads=1, compute_seconds=0.01, compute_seconds_samples=[0.01] * 5,
                      clock="thread_cpu", others_cpu_cores=1.5, steal_fraction=steal, run_queue=queue,
                      load_measure=measure) for b in (8, 16)]
    return DeviceProfile(device="cpu", kind="cpu", name="Test CPU", threads=2, measurements=ms, largest_batch_size=16)


def test_the_busy_note_says_the_load_was_measured_by_psutils_cpu_times():
    (note,) = busy_notes(_device("psutil"))
    assert note.startswith("cpu: other processes used up to 1.5 cores during 2 of 2 timed windows (measured by "
                           "psutil's CPU times, as /proc/stat could not be read: other processes' CPU time, no steal "
                           "time or run queue): ")
    assert note in noise_notes([_device("psutil")], cores=2, os_name="Darwin")
    assert not any("could not be read (" in n for n in noise_notes([_device("psutil")], cores=2, os_name="Darwin"))
    (linux,) = busy_notes(_device("/proc/stat"))
    assert "psutil" not in linux


def test_a_load_neither_measure_could_read_off_linux_says_both_were_tried():
    dev = _device(None).model_copy(update={"measurements": [
        m.model_copy(update={"others_cpu_cores": None, "steal_fraction": None, "run_queue": None, "clock": "wall"})
        for m in _device(None).measurements]})
    (note,) = noise_notes([dev], cores=2, os_name="Darwin")
    assert note.startswith("cpu: the CPU load could not be read (neither /proc/stat nor psutil's CPU times) while "
                           "2 of 2 timed windows ran")
