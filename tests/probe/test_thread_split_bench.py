"""bench/thread_split.py: the fixed and per-sample parts of a step, and their two parallel fractions."""

from __future__ import annotations

import pytest
from bench_scripts import bench_modules


@pytest.fixture(scope="module")
def thread_split():
    return bench_modules("thread_split")[0]


def _row(name: str, a1: float, b1: float, p_fixed: float, p_sample: float, sizes=(64, 32, 16)) -> dict:
    """A workload whose two-thread steps follow the two fractions exactly."""
    t1 = {str(b): a1 + b1 * b for b in sizes}
    t2 = {str(b): a1 * (1 - p_fixed / 2) + b1 * b * (1 - p_sample / 2) for b in sizes}
    return {"name": name, "role": "fit", "batch": sizes[0], "a1_ms": a1, "b1_ms": b1, "t1_ms": t1, "t2_ms": t2,
            "a2_ms": a1 * (1 - p_fixed / 2), "b2_ms": b1 * (1 - p_sample / 2)}


def test_batch_sizes_halve_twice_without_repeats_or_zero(thread_split):
    assert thread_split.batch_sizes(128) == [128, 64, 32]
    assert thread_split.batch_sizes(2) == [2, 1]
    assert thread_split.batch_sizes(1) == [1]


def test_the_two_fractions_are_recovered_from_steps_that_follow_them(thread_split):
    rows = [_row("mlp", 8.0, 0.05, 0.3, 0.9), _row("cnn", 1.0, 2.0, 0.3, 0.9), _row("lm", 20.0, 0.5, 0.3, 0.9)]
    assert thread_split.fit_fractions(rows) == pytest.approx((0.3, 0.9))


def test_steps_with_no_fixed_part_cannot_separate_the_two(thread_split):
    with pytest.raises(ValueError, match="cannot separate"):
        thread_split.fit_fractions([_row("cnn", 0.0, 2.0, 0.3, 0.9)])


def test_the_table_judges_both_scalings_at_the_workloads_batch_size(thread_split):
    # One thread: 10 ms fixed + 10 ms per-sample at B = 64. Two threads, p_fixed 0.4 and p_sample 1.0: 8 + 5.
    row = _row("wide", 10.0, 10.0 / 64, 0.4, 1.0)
    lines = thread_split.table([row], 0.4, 1.0).splitlines()
    # The constant 0.8 gives 20 x 0.6 = 12 ms against 13 (-7.7%); the two fractions give 13 exactly.
    assert lines[2] == "| wide | fit | 64 | 10.0 + 10.0 | 8.0 + 5.0 | 0.50 | 0.70 | -7.7% | +0.0% |"
    # A negative intercept (a line through points with no fixed part) counts against the per-sample part.
    assert thread_split.split_two_thread_ms(-2.0, 1.0, 10, 0.5, 1.0) == pytest.approx(4.0)
