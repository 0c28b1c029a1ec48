"""The probe's start-up parts timed beside other processes (advisor.probe.startup_clock): the wall clock on a quiet
machine, the process's CPU time on a busy one, the record of which, and the note that says so."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from advisor.probe.contention import WindowLoad
from advisor.probe.startup_clock import (
    PartTime,
    StartupParts,
    clock_of,
    device_startup,
    mean_clock,
    startup_notes,
)
from advisor.schemas import DeviceProfile, HostInfo
from advisor.schemas.devices import CpuInfo, StartupClock


def _load(others: float) -> WindowLoad:
    return WindowLoad(others_cores=others, steal_fraction=0.0, run_queue=2 * others)


def test_a_quiet_start_up_keeps_the_wall_clock():
    build = PartTime(0.4, 0.1, _load(0.0))
    parts = StartupParts(first_use=PartTime(1.0, 0.9, _load(0.1)), check=PartTime(0.6, 0.5, _load(0.0)))
    seconds, clock = device_startup(False, build, parts, first_excess_seconds=0.05)
    assert seconds == pytest.approx(0.6 + 1.0 + 0.05) and clock.clock == "wall"  # a disk's waits count, as a job's
    assert clock.wall_seconds == pytest.approx(seconds) and clock.cpu_seconds == pytest.approx(0.5 + 0.9 + 0.05)


def test_a_busy_start_up_counts_each_parts_cpu_time_never_more_than_its_wall_time():
    # Three probes at once on a 2-vCPU VM: the others used about a core over the first use and the check.
    build = PartTime(0.4, 0.6, _load(0.0))  # two threads: more CPU than wall; the wall bounds it
    parts = StartupParts(first_use=PartTime(3.0, 1.0, _load(1.2)), check=PartTime(2.0, 0.5, _load(1.0)))
    seconds, clock = device_startup(False, build, parts, first_excess_seconds=0.1)
    assert clock.clock == "process_cpu" and clock.wall_seconds == pytest.approx(2.0 + 3.0 + 0.1)
    assert seconds == clock.cpu_seconds == pytest.approx(0.5 + 1.0 + 0.1)  # max(build 0.4, check 0.5) + first use
    # the others' load is its mean over the parts' wall time, as a window's is over its own
    assert clock.others_cpu_cores == pytest.approx((1.2 * 3.0 + 1.0 * 2.0) / 5.4, abs=1e-3)
    assert clock.run_queue == pytest.approx(2 * clock.others_cpu_cores, abs=0.01)


def test_parts_given_without_their_timing_keep_their_wall_time_and_a_gpu_its_wall_clock():
    seconds, clock = device_startup(False, PartTime(0.1, 0.1, _load(1.0)), StartupParts(check=PartTime(2.5, 2.5)))
    assert seconds == pytest.approx(2.5) and clock.clock == "process_cpu"  # the cold check's 2.5 s stands
    seconds, clock = device_startup(False, PartTime(0.1, 0.1), StartupParts())  # none timed: the build alone
    assert seconds == pytest.approx(0.1) and clock.clock == "wall"
    seconds, clock = device_startup(True, PartTime(0.8, 0.2, _load(1.0)),
                                    StartupParts(first_use=PartTime(1.0, 0.3, _load(1.0)), check=PartTime(2.5, 2.5)))
    assert seconds == pytest.approx(0.8 + 1.0) and clock is None  # CUDA's context waits for the driver


def test_the_note_says_what_the_wall_clock_and_the_cpu_time_were_and_only_where_cpu_time_was_used():
    busy = clock_of([PartTime(6.6, 2.3, _load(1.4))], 6.6, 2.3)
    quiet = clock_of([PartTime(2.4, 2.0, _load(0.0))], 2.4, 2.0)
    cpu_info = CpuInfo(model_name="x", arch="x86_64", physical_cores=1, logical_cores=2, torch_threads=2,
                       memory_gib=8)
    host = HostInfo(cpu=cpu_info, process_start_seconds=3.1,
                    process_start_clock=clock_of([PartTime(10.0, 3.1, _load(1.5))], 10.0, 3.1))
    cpu = DeviceProfile(device="cpu", kind="cpu", name="x", startup_seconds=2.3, startup_clock=busy)
    notes = startup_notes([cpu], host)
    assert len(notes) == 2
    assert notes[0].startswith("starting Python and importing torch timed beside other processes")
    assert "10.0s wall, 3.1s of CPU used" in notes[0]
    assert notes[1].startswith("cpu: start-up (the model's build, the first step) timed beside other processes "
                               "(they used 1.4 cores, run queue 2.8): 6.6s wall, 2.3s of CPU used")
    assert startup_notes([cpu.model_copy(update={"startup_clock": quiet})], None) == []
    # an older profile, without the record: no note, and it still loads
    old = DeviceProfile.model_validate({"device": "cpu", "kind": "cpu", "name": "x", "startup_seconds": 2.0})
    assert old.startup_clock is None
    assert startup_notes([old], host.model_copy(update={"process_start_clock": None})) == []


def test_pooled_processes_start_up_record_is_their_mean():
    a = StartupClock(wall_seconds=4.0, cpu_seconds=1.0, others_cpu_cores=1.0, clock="process_cpu")
    b = StartupClock(wall_seconds=2.0, cpu_seconds=1.5, others_cpu_cores=0.0, clock="wall")
    pooled = mean_clock([a, b, None])
    assert (pooled.wall_seconds, pooled.cpu_seconds, pooled.others_cpu_cores) == (3.0, 1.25, 0.5)
    assert pooled.clock == "process_cpu" and mean_clock([None]) is None


FRESH = textwrap.dedent("""
    import json
    from advisor.probe.contention import CpuSample

    class Busy:  # others use a core all the time (the seam the probe's windows use)
        t = 0.0
        def sample(self):
            self.t += 1.0
            return CpuSample(wall_seconds=self.t, busy_seconds=self.t, steal_seconds=0.0, own_seconds=0.0,
                             procs_running=3)

    from advisor.probe.startup_clock import timed_process_start
    print(json.dumps({k: getattr(v, "model_dump", lambda: v)() for k, v in timed_process_start(Busy()).items()}))
""")


@pytest.mark.slow  # a fresh interpreter imports torch: 1-5 s
def test_python_start_beside_others_counts_the_interpreters_cpu_time():
    out = json.loads(subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True,
                                    check=True).stdout)
    clock = out["process_start_clock"]
    assert clock["clock"] == "process_cpu" and clock["others_cpu_cores"] == pytest.approx(1.0)
    assert 0 < out["process_start_seconds"] == clock["cpu_seconds"] <= clock["wall_seconds"]
