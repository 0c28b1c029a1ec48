"""What the kernel's share of a measured CPU step (page faults: the memory allocator handing freed memory back
and taking fresh pages again, ``Measurement.kernel_cpu_share``) does to a prediction: a wider interval and a note
with the fix.

That share is not the same in two processes running the same loop: glibc's heap and its thresholds depend on
everything the process allocated before, so the probe's process and a fresh training process fault differently.
On this project's 2-core VM (bench/README.md, "Page faults") the same step took 0.5-2x the probe process's
faults in fresh processes, both ways round (wide_mlp 2,100 in the probe's against 2,600-4,400; small_cnn 4,500
against 2,200), so the point estimate stays and the interval widens: that part of the step's time within
0.5-2x of the probe's, 80% of the time.
"""

from __future__ import annotations

import math

from advisor.predictor.job import Z80
from advisor.schemas import DeviceProfile

NOTE_SHARE = 0.10  # the note and the wider interval from this kernel share of the step's CPU time on
FAULT_SIGMA = math.log(2.0) / Z80  # the kernel part of a step within 0.5-2x of the probe's, 80% of the time


def page_fault_sigma(dev: DeviceProfile, batch_size: int, notes: list[str]) -> float:
    """The relative sigma a measured CPU's page faults add to a job at ``batch_size`` (0 below ``NOTE_SHARE``),
    their note appended to ``notes``. The measurement at the nearest batch size measured speaks for the job."""
    timed = [m for m in dev.measurements if m.kernel_cpu_share is not None and m.compute_seconds and not m.oom]
    if dev.kind != "cpu" or not timed:
        return 0.0
    m = min(timed, key=lambda m: (abs(math.log(m.batch_size / batch_size)), -m.batch_size))
    share = m.kernel_cpu_share
    if share < NOTE_SHARE:
        return 0.0
    faults = f" ({m.page_faults_per_step:,.0f} page faults a step)" if m.page_faults_per_step is not None else ""
    notes.append(f"{dev.device}: {share:.0%} of the CPU time of a step at batch size {m.batch_size} went to the "
                 f"kernel supplying memory{faults}: the memory allocator hands freed memory back to the system and "
                 "takes fresh pages again. A fresh training process does more or less of that than the probe's, so "
                 "the interval is wider. Fix: an allocator that keeps freed memory (jemalloc or TCMalloc through "
                 "LD_PRELOAD, as PyTorch's CPU performance tuning guide advises, or glibc's MALLOC_MMAP_THRESHOLD_ "
                 "and MALLOC_TRIM_THRESHOLD_ set to a few GB) removes most of it and makes the step faster.")
    return share * FAULT_SIGMA
