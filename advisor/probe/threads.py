"""The CPU's thread scaling: a training step on one thread against all of them, for the Amdahl fit that scales
the probe to other thread counts (``advisor.predictor.cpu_scaling``). Measured only on a free machine, or on a busy
one with the probe's priority raised above the others' (``advisor.probe.priority``) and their load measured low
meanwhile: otherwise it would time its own contention, not the model's scaling."""

from __future__ import annotations

import os
import time
from typing import Any, Protocol

from advisor.probe import stats
from advisor.probe.contention import CLEAN_OTHERS_CORES, free_cores, window_load
from advisor.probe.memory_meter import is_oom
from advisor.schemas import Measurement, ThreadPoint


class StepRunner(Protocol):
    """What the thread-scaling measure needs of a device probe (``advisor.probe.measure.DeviceProbe``)."""

    torch: Any
    load_source: Any
    priority: Any  # advisor.probe.priority.ProbePriority

    def batch(self, batch_size: int) -> tuple[Any, Any]: ...

    def train(self, inputs: Any, target: Any) -> None: ...

    def user_error(self, what: str, batch_size: int, exc: BaseException) -> Exception: ...


def measure_thread_scaling(probe: StepRunner, fits: list[Measurement], budget: float) -> list[ThreadPoint]:
    """Compute time at 1 thread and at all threads, interleaved, at the largest batch that fits ``budget``."""
    torch = probe.torch
    full = torch.get_num_threads()
    rounds = 4  # the first is a warm-up
    # Worst case, one thread is `full` times slower than all of them.
    affordable = [m.batch_size for m in fits if m.compute_seconds * (1 + full) * rounds <= budget]
    if not affordable:
        return []
    cores = os.cpu_count() or 1
    busy = free_cores(probe.load_source, cores) < full - CLEAN_OTHERS_CORES
    if busy and not probe.priority.raise_():
        return []  # a busy machine would time its own contention, not the model's thread scaling
    b = max(affordable)
    try:
        start = probe.load_source.sample() if busy else None
        times = _interleaved(probe, b, full, rounds, budget)
        clean = not busy or window_load(start, probe.load_source.sample(), cores, own_threads=full).clean
        probe.priority.judge(raised=busy, clean=clean)
        if not clean:
            return []  # raised, the others still ran: contention again
    finally:
        probe.priority.restore()
    return [ThreadPoint(threads=t, batch_size=b, compute_seconds=stats.median(v)) for t, v in sorted(times.items())]


def _interleaved(probe: StepRunner, b: int, full: int, rounds: int, budget: float) -> dict[int, list[float]]:
    """The step at batch size ``b`` on ``full`` threads and on one, in turns, each round after the first timed."""
    torch = probe.torch
    times: dict[int, list[float]] = {1: [], full: []}
    started = time.perf_counter()
    try:
        inputs, target = probe.batch(b)
        for r in range(rounds):
            if r > 1 and time.perf_counter() - started > 2 * budget:
                break  # a busy machine: keep the rounds done
            for threads in (full, 1):
                torch.set_num_threads(threads)
                t0 = time.perf_counter()
                probe.train(inputs, target)
                if r:
                    times[threads].append(time.perf_counter() - t0)
    except Exception as exc:  # user code: the training step
        if is_oom(exc):
            return {}
        raise probe.user_error("the training step", b, exc) from exc
    finally:
        torch.set_num_threads(full)
    return times
