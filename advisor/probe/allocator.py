"""The memory allocator's what-if on the CPU: the training step with glibc's malloc told to keep freed memory.

PyTorch's CPU tensors come from glibc's malloc, which hands large freed blocks back to the kernel (munmap, or
trimming the heap's top) and takes fresh, zeroed pages at the next allocation: a minor page fault a page. How many
a step takes depends on everything the process allocated before, so two processes running the same loop differ
(``advisor.predictor.page_faults``). What a user can do about it is the same everywhere: an allocator that keeps
freed memory. This module measures what that would give, in the probe's child once the ladder is done, within its
own small budget: steps at the ladder's largest batch size with ``mallopt`` raising the mmap and trim thresholds
(what ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` set in a fresh process), on the threads and clock
the ladder timed that batch size with, beside the ladder's own step there (bench/README.md, "Page faults"). Steps
timed on the wall clock while other processes used the CPU give no figure: they would be compared with a step
timed in a clean or raised-priority window.

Only where the ladder saw the kernel take a share of the step (``MIN_KERNEL_SHARE``), on glibc, and last: glibc
cannot be put back into its adaptive mode, so the thresholds are set back to glibc's starting values afterwards
(what a fresh process starts with; it then stops adapting them). In the probe's child that is after every device
and the input pipeline were timed (``advisor.probe.kept_memory_last``), so that all of them see a fresh process's
allocator. Nothing here changes the user's job.
"""

from __future__ import annotations

import ctypes
import os
import time
from typing import Any, Protocol

from advisor.probe import stats
from advisor.probe.contention import CpuLoadSource, window_load
from advisor.probe.memory_meter import glibc_function, minor_faults
from advisor.schemas import KeptMemory, Measurement

MIN_KERNEL_SHARE = 0.05  # the kernel's share of the ladder's step from which the what-if is worth its time
MIN_STEPS = 3  # timed steps with freed memory kept, at least (a warm-up step besides)
MAX_STEPS = 50
KEEP_BYTES = 2**31 - 1  # mallopt takes an int: 2 GiB, above any block a training step frees and takes again
# glibc's own starting values (malloc/malloc.c: DEFAULT_MMAP_THRESHOLD_MIN, DEFAULT_TRIM_THRESHOLD)
GLIBC_MMAP_THRESHOLD = 128 * 1024
GLIBC_TRIM_THRESHOLD = 128 * 1024
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # <malloc.h>


class StepRunner(Protocol):
    """What this measure needs of a device probe (``advisor.probe.measure.DeviceProbe``)."""

    torch: Any
    load_source: CpuLoadSource | None  # what other processes use of the CPU (None: not measured)

    def batch(self, batch_size: int) -> tuple[Any, Any]: ...

    def train(self, inputs: Any, target: Any) -> None: ...


def _mallopt() -> Any:
    return glibc_function("mallopt")


def kept_memory_steps(reference: Measurement, budget_seconds: float) -> int | None:
    """The steps ``measure_kept_memory`` would time beside ``reference`` in ``budget_seconds``; None where it would
    measure nothing (not glibc, no page-fault count, the kernel's share below ``MIN_KERNEL_SHARE``, or fewer than
    ``MIN_STEPS`` and a warm-up step would fit)."""
    if (_mallopt() is None or minor_faults() is None or not reference.compute_seconds
            or reference.kernel_cpu_share is None or reference.kernel_cpu_share < MIN_KERNEL_SHARE):
        return None
    step = reference.compute_seconds + (reference.batch_seconds or 0.0)
    steps = min(MAX_STEPS, int(budget_seconds / step) - 1)  # and a warm-up step
    return steps if steps >= MIN_STEPS else None


def measure_kept_memory(probe: StepRunner, reference: Measurement, budget_seconds: float) -> KeptMemory | None:
    """The step at ``reference``'s batch size with freed memory kept, on ``reference``'s threads and clock, beside
    ``reference``'s own step; None where not measured (the kernel's share below ``MIN_KERNEL_SHARE``, not glibc,
    ``MIN_STEPS`` would not fit ``budget_seconds``, or an error: the ladder's figures stand without it).

    The step as it is comes from ``reference`` (the ladder's point, the twin's where the twin timed the user's batch
    size), not from steps timed here: how much a process faults depends on its history, and this process has run
    the whole ladder, where a training job is a fresh process as the twin is (a wide MLP here faulted 4,200 times a
    step in the twin and in fresh jobs, and not at all in the probe's child by the end of its ladder). With freed
    memory kept there are no faults to differ, whatever ran before."""
    mallopt = _mallopt()
    steps = kept_memory_steps(reference, budget_seconds)
    if mallopt is None or steps is None:
        return None
    step = reference.compute_seconds + (reference.batch_seconds or 0.0)
    torch = probe.torch
    threads = torch.get_num_threads()
    clock = time.thread_time if reference.clock == "thread_cpu" else time.perf_counter
    changed = False
    try:
        torch.set_num_threads(reference.threads or threads)
        changed = True
        mallopt(M_MMAP_THRESHOLD, ctypes.c_int(KEEP_BYTES))
        mallopt(M_TRIM_THRESHOLD, ctypes.c_int(KEEP_BYTES))
        source = probe.load_source if reference.clock == "wall" else None
        start = source.sample() if source is not None else None
        kept_seconds, kept_faults = _timed(probe, reference.batch_size, steps, clock)
        if source is not None and not window_load(start, source.sample(), os.cpu_count() or 1,
                                                  own_threads=reference.threads or threads).clean:
            # Other processes took the CPU beside these steps on the wall clock: 5-8x the reference's step here
            # (an LSTM beside other probes at raised priority), which no allocator explains. No figure.
            return None
    except Exception:  # noqa: BLE001 - an extra figure, never a reason to fail a probe whose steps all ran
        return None
    finally:
        if changed:
            mallopt(M_MMAP_THRESHOLD, GLIBC_MMAP_THRESHOLD)
            mallopt(M_TRIM_THRESHOLD, GLIBC_TRIM_THRESHOLD)
        torch.set_num_threads(threads)
    return KeptMemory(batch_size=reference.batch_size, threads=reference.threads, clock=reference.clock,
                      steps=steps, probed_step_seconds=step, kept_step_seconds=kept_seconds,
                      probed_faults_per_step=reference.page_faults_per_step or 0.0, kept_faults_per_step=kept_faults)


def _timed(probe: StepRunner, batch_size: int, steps: int, clock: Any) -> tuple[float, float]:
    """A warm-up step (the first after the thresholds change grows the heap), then ``steps`` timed (``make_batch``
    and the training step, as ``Measurement.batch_seconds`` + ``compute_seconds``): the median step on ``clock``
    and the median minor page faults of a step (a median, as the time's: now and then a step still maps its block
    afresh, another allocation having taken the freed one's place, and one such step is not the steady state)."""
    probe.train(*probe.batch(batch_size))
    seconds, faults = [], []
    for _ in range(steps):
        before = minor_faults()
        t0 = clock()
        probe.train(*probe.batch(batch_size))
        seconds.append(clock() - t0)
        faults.append(max(0, minor_faults() - before))
    return stats.median(seconds), float(stats.median(faults))
