"""make_batch's rate timed beside other processes (advisor.probe.input_pipeline, issue 8), with real busy loops:
a CPU-bound make_batch is timed at its own pace, its first call (first-use set-up) left out even where the load
stretches each call past a second, and a make_batch that sleeps keeps its sleep."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psutil
import pytest
import torch

from advisor.probe.input_pipeline import measure_input_pipeline
from advisor.schemas import InputPipeline
from advisor.workload import Workload

BATCH = 256
STEADY_DRAWS = 30  # randn calls of a steady make_batch call (~0.1 s of CPU on the project VMs) ...
FIRST_DRAWS = 160  # ... and of its first (set-up: ResNet-50's first call paid twice its later CPU time)
SLEEP_SECONDS = 0.15


def model():
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 4))


@contextmanager
def busy_loops(count: int) -> Iterator[None]:
    """``count`` processes spinning on a core each, running before the block starts and killed after it."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        time.sleep(0.2 * count)
        yield
    finally:
        for loop in loops:  # ours, by handle
            loop.kill()
            loop.wait()


@contextmanager
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the probe's make_batch runs between steps; one thread keeps the CPU clock exact
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def cpu_heavy() -> tuple[Callable, list[float]]:
    """A make_batch that computes (its first call about five times as long), and the CPU seconds each call used."""
    used: list[float] = []

    def make_batch(batch_size: int):
        start = time.thread_time()
        for _ in range(FIRST_DRAWS if not used else STEADY_DRAWS):
            x = torch.randn(batch_size, 3, 32, 32)
        used.append(time.thread_time() - start)
        return x, torch.zeros(batch_size, dtype=torch.long)

    return make_batch, used


def timed(make_batch: Callable, loops: int, budget_seconds: float = 5.0) -> InputPipeline:
    with busy_loops(loops):
        return measure_input_pipeline(Workload(model=model, make_batch=make_batch, num_workers=0), batch_size=BATCH,
                                      budget_seconds=budget_seconds)


def rates(loops: int) -> tuple[float, float, InputPipeline]:
    """(the measured rate, the rate by make_batch's own CPU time over its later calls, the pipeline)."""
    make_batch, used = cpu_heavy()
    pipeline = timed(make_batch, loops)
    return pipeline.points[0].samples_per_second, BATCH / statistics.median(used[1:] or used), pipeline


@pytest.mark.slow
@pytest.mark.skipif((psutil.cpu_count() or 1) > 4, reason="three busy loops do not crowd a machine of > 4 cores")
def test_busy_loops_beside_a_cpu_heavy_make_batch_leave_its_rate_within_a_quarter_of_its_cpu_time():
    with one_thread():
        for _pair in range(2):  # one more pair where the shared machine's drift moved the reference
            idle, idle_cpu, _ = rates(0)
            busy, busy_cpu, pipeline = rates(3)
            if 2 / 3 < busy / idle < 1.5:
                break
    point = pipeline.points[0]
    # Three loops on two cores stretch each call's wall time: the old 1-second wall limit was spent by the first
    # call (set-up included), the only one then timed, at a fifth of the later calls' rate.
    assert point.batches_timed >= 2 and point.clock == "wall_less_wait", point
    assert busy == pytest.approx(busy_cpu, rel=0.25), (busy, busy_cpu)  # the same run's own CPU time
    assert idle == pytest.approx(idle_cpu, rel=0.25), (idle, idle_cpu)
    # Two runs are two stretches of a shared machine (one drifted 0.72x beside other suites at load 10): the
    # same-run checks above are the tight ones; across runs, the old code's first-call rate (a fifth) still fails.
    assert 2 / 3 < busy / idle < 1.5, (idle, busy)
    assert not pipeline.notes


def test_a_make_batch_that_sleeps_keeps_its_sleep_beside_a_busy_loop():
    # Its thread uses almost no CPU: a CPU clock would make it look free. Its wall time less its waits for a CPU
    # keeps the sleep, which an idle machine pays too.
    def make_batch(batch_size: int):
        time.sleep(SLEEP_SECONDS)
        return torch.zeros(batch_size, 3, 2, 2), torch.zeros(batch_size, dtype=torch.long)

    pipeline = timed(make_batch, loops=1, budget_seconds=2.0)
    point = pipeline.points[0]
    assert point.batches_timed >= 2
    assert point.samples_per_second == pytest.approx(BATCH / SLEEP_SECONDS, rel=0.25)


def test_a_make_batch_whose_first_call_spends_the_budget_is_timed_once_with_a_note():
    def make_batch(batch_size: int):
        time.sleep(0.4)
        return torch.zeros(batch_size, 3, 2, 2), torch.zeros(batch_size, dtype=torch.long)

    pipeline = timed(make_batch, loops=0, budget_seconds=0.3)
    assert pipeline.points[0].batches_timed == 1
    assert pipeline.notes == ["make_batch(256) was timed once, its first call, which also pays for first use (lazy "
                              "imports, fresh memory): that call took 0.4s of the input pipeline's 0.3s, so its "
                              "rate may read low."]
