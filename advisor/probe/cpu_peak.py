"""This machine's CPU op rates: a fraction of a second of a small op mix, timed in the CPU probe.

What the CPU roofline (``advisor.predictor.cpu_roofline``) prices a model's operators with when the probe
could not time one training step within its budget (a model that obviously belongs on a GPU): the FLOP/s a
float32 matrix multiply reaches and the bytes/s a memory-bound elementwise add moves. Both run on one thread
and are timed by that thread's CPU time, so that another process on the other cores leaves the figures alone:
they are what one core does, and the predictor scales them to a thread count as it scales a measured step.
Each figure is the best of a few repeats (the least disturbed one).

The op mix is deliberately small (0.05 s of CPU time on a 2-core Zen 4 VM, 0.1-0.3 s of wall time when other
processes share the cores): a 512 x 512 matmul is large enough for the BLAS kernel to reach its steady rate on
one core, and the elementwise add streams 3 x 16 MiB, past the last-level cache of a small VM, as a large
model's activations do.
"""

from __future__ import annotations

import time
from typing import Any

from advisor.schemas.profile import CpuPeak

MATMUL_SIZE = 512  # 2 x 512^3 = 0.27 GFLOP a multiply: a few ms on one core
MATMULS_PER_REPEAT = 2
ELEMENTWISE_ELEMENTS = 1 << 22  # float32: 16 MiB a tensor, 48 MiB moved by one add (2 read, 1 written)
REPEATS = 3
FLOAT32_BYTES = 4


def measure_cpu_peak(torch: Any) -> CpuPeak:
    """The achieved matmul FLOP/s and elementwise bytes/s of one thread of this CPU (see the module doc).

    Runs on one thread and restores the thread count it found.
    """
    started = time.perf_counter()
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        flops_per_second = _matmul_rate(torch)
        bytes_per_second = _elementwise_rate(torch)
    finally:
        torch.set_num_threads(saved)
    return CpuPeak(threads=1, matmul_flops_per_second=flops_per_second, memory_bytes_per_second=bytes_per_second,
                   seconds=time.perf_counter() - started)


def _best_seconds(fn: Any) -> float:
    """The shortest of ``REPEATS`` runs of ``fn`` on this thread's CPU-time clock (after one untimed run)."""
    fn()
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.thread_time()
        fn()
        best = min(best, time.thread_time() - t0)
    return max(best, 1e-9)


def _matmul_rate(torch: Any) -> float:
    n = MATMUL_SIZE
    a, b = torch.ones(n, n), torch.ones(n, n)
    out = torch.empty(n, n)

    def run() -> None:
        for _ in range(MATMULS_PER_REPEAT):
            torch.mm(a, b, out=out)

    return 2.0 * n ** 3 * MATMULS_PER_REPEAT / _best_seconds(run)


def _elementwise_rate(torch: Any) -> float:
    n = ELEMENTWISE_ELEMENTS
    a, b = torch.ones(n), torch.ones(n)
    out = torch.empty(n)
    seconds = _best_seconds(lambda: torch.add(a, b, out=out))
    return 3.0 * n * FLOAT32_BYTES / seconds
