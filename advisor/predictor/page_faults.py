"""What the kernel's share of a measured CPU step (page faults: the memory allocator handing freed memory back
and taking fresh pages again, ``Measurement.kernel_cpu_share``) does to a prediction: a wider interval and a note
with the fix.

That share is not the same in two processes running the same loop: glibc's heap and its thresholds depend on
everything the process allocated before, so the probe's process and a fresh training process fault differently.
On this project's 2-core VM (bench/README.md, "Page faults") the same step took 0.5-2x the probe process's
faults in fresh processes, both ways round (wide_mlp 2,100 in the probe's against 2,600-4,400; small_cnn 4,500
against 2,200), so the point estimate stays and the interval widens: that part of the step's time within
0.5-2x of the probe's, 80% of the time. Where the probe timed the step with freed memory kept
(``advisor.probe.allocator``), that part is what keeping it took off, and the note says by how much. The fix the
note gives is the probed OS's (``HostInfo.os_name``): glibc's settings and ``LD_PRELOAD`` are Linux's.
"""

from __future__ import annotations

import math

from advisor.os_words import linux_tools_apply, os_label
from advisor.predictor.job import Z80
from advisor.schemas import DeviceProfile, HostInfo

NOTE_SHARE = 0.10  # the note and the wider interval from this kernel share of the step's CPU time on
FAULT_SIGMA = math.log(2.0) / Z80  # the kernel part of a step within 0.5-2x of the probe's, 80% of the time


def page_fault_sigma(dev: DeviceProfile, batch_size: int, notes: list[str], host: HostInfo | None = None) -> float:
    """The relative sigma a measured CPU's page faults add to a job at ``batch_size`` (0 below ``NOTE_SHARE``),
    their note appended to ``notes``. The measurement at the nearest batch size measured speaks for the job; where
    the probe also timed the step at that batch size with freed memory kept (``DeviceProfile.kept_memory``), the
    share of the step that took off is the faults' part (it counts their cost outside the kernel too), and the note
    gives the figures, and the fix for the OS of the ``host`` probed (``allocator_fix``)."""
    timed = [m for m in dev.measurements if m.kernel_cpu_share is not None and m.compute_seconds and not m.oom]
    if dev.kind != "cpu" or not timed:
        return 0.0
    m = min(timed, key=lambda m: (abs(math.log(m.batch_size / batch_size)), -m.batch_size))
    kept = dev.kept_memory if dev.kept_memory and dev.kept_memory.batch_size == m.batch_size else None
    part = m.kernel_cpu_share if kept is None else max(0.0, kept.saving)
    if max(m.kernel_cpu_share, part) < NOTE_SHARE:
        return 0.0
    faults = f" ({m.page_faults_per_step:,.0f} page faults a step)" if m.page_faults_per_step is not None else ""
    note = (f"{dev.device}: {m.kernel_cpu_share:.0%} of the CPU time of a step at batch size {m.batch_size} went to "
            f"the kernel supplying memory{faults}: the memory allocator hands freed memory back to the system and "
            "takes fresh pages again. A fresh training process does more or less of that than the probe's, so the "
            "interval is wider.")
    if kept is not None:
        note += (f" With freed memory kept, the probe's step at batch size {kept.batch_size} took "
                 f"{kept.kept_step_seconds * 1e3:,.1f} ms instead of {kept.probed_step_seconds * 1e3:,.1f} ms"
                 f" ({_change(kept.saving)}; {kept.kept_faults_per_step:,.0f} page faults a step instead of "
                 f"{kept.probed_faults_per_step:,.0f}).")
    if kept is None or kept.saving >= NOTE_SHARE / 2:
        note += allocator_fix(host.os_name if host is not None else None)
    notes.append(note)
    return part * FAULT_SIGMA


def allocator_fix(os_name: str | None) -> str:
    """The note's fix on ``os_name`` (``platform.system()``'s; None: an older profile's, worded for Linux as it was):
    on Linux an allocator that keeps freed memory, through ``LD_PRELOAD`` or glibc's thresholds; elsewhere neither
    exists, so the words say what keeps it where a job is trained on Linux instead, and that advisor knows no
    setting for this OS's allocator."""
    if linux_tools_apply(os_name):
        return (" Fix: an allocator that keeps freed memory (jemalloc or TCMalloc through LD_PRELOAD, as PyTorch's "
                "CPU performance tuning guide advises, or glibc's MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ "
                "set to a few GB) removes most of it and makes the step faster.")
    return (" On a Linux machine an allocator that keeps freed memory (jemalloc or TCMalloc, as PyTorch's CPU "
            "performance tuning guide advises) removes most of it and makes the step faster; advisor knows no such "
            f"setting for {os_label(os_name)}'s allocator.")


def _change(saving: float) -> str:
    return f"{saving:.0%} less" if saving >= 0 else f"{-saving:.0%} more"
