"""bench/parallel_fraction.py's busy-loop columns: what a busy probe's scaling gives against the idle machine."""

from __future__ import annotations

import pytest
from bench_scripts import bench_modules

from advisor.predictor.cpu_scaling import BUSY_PARALLEL_FRACTION


@pytest.fixture(scope="module")
def parallel_fraction():
    return bench_modules("parallel_fraction")[0]


def test_the_line_through_points_and_through_one_distinct_x(parallel_fraction):
    assert parallel_fraction.fit_line([(4, 9.0), (2, 5.0), (1, 3.0)]) == pytest.approx((1.0, 2.0))
    assert parallel_fraction.fit_line([(1, 3.0), (1, 5.0)]) == pytest.approx((4.0, 0.0))  # one batch size: no slope


def test_the_busy_probes_scaling_is_judged_against_the_idle_two_thread_step(parallel_fraction):
    assert BUSY_PARALLEL_FRACTION == 0.8  # the figures below: one thread x (0.2 + 0.8 / 2) = x 0.6 on two
    assert parallel_fraction.busy_scaled_error_pct(10.0, 5.0) == pytest.approx(20.0)  # 6 ms against 5
    assert parallel_fraction.busy_scaled_error_pct(10.0, 7.5) == pytest.approx(-20.0)  # 6 ms against 7.5
    rows = [{"name": "wide", "role": "held out", "t1_ms": 10.0, "busy_t1_ms": 11.0, "t2_ms": 6.0, "p": 0.8},
            {"name": "cnn", "role": "fit", "t1_ms": 100.0, "busy_t1_ms": 95.0, "t2_ms": 71.25, "p": 0.575}]
    table = parallel_fraction.busy_table(rows).splitlines()
    assert table[1].startswith("| workload | role | idle: 1 thread ms | beside a busy loop")
    assert table[3] == "| wide | held out | 10.0 | 11.0 | 1.100 | 6.0 | 0.80 | +10.0% |"
    assert table[4] == "| cnn | fit | 100.0 | 95.0 | 0.950 | 71.2 | 0.57 | -20.0% |"
