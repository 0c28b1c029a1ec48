"""bench/raised_priority.py's table: each case's median step, and each loaded case against the idle machine's."""

from __future__ import annotations

import pytest
from bench_scripts import bench_modules


@pytest.fixture(scope="module")
def raised_priority():
    return bench_modules("raised_priority")[0]


def test_the_table_puts_each_loaded_case_against_idle_and_says_where_raising_was_refused(raised_priority):
    rows = [{"name": "wide_mlp", "batch": 100, "idle": 11.25, "busy": 22.9, "raised": 10.9,
             "raised_other_session": 11.0, "threads_only": 283.9},
            {"name": "small_cnn", "batch": 128, "idle": 84.6, "busy": 272.0, "raised": None,
             "raised_other_session": None, "threads_only": None}]  # no privilege: never raised
    lines = raised_priority.table(rows).splitlines()
    assert lines[0].startswith("| workload | batch | idle ms | beside the loop, as started ms |")
    assert lines[0].endswith("| only the threads raised, the loop in another session / idle |")
    assert lines[2] == "| wide_mlp | 100 | 11.2 | 22.9 | 10.9 | 11.0 | 283.9 | 2.04 | 0.97 | 0.98 | 25.24 |"
    assert lines[3] == "| small_cnn | 128 | 84.6 | 272.0 | - | - | - | 3.22 | - | - | - |"
    assert [key for key, _, _ in raised_priority.CASES][0] == "idle"


def test_the_workloads_are_the_ones_the_cpu_bench_judges(raised_priority):
    (parallel_fraction,) = bench_modules("parallel_fraction")  # whose workloads fresh_rows runs
    names = {name for name, *_ in parallel_fraction.WORKLOADS}
    assert set(raised_priority.JUDGED) <= names
