"""bench/process_spread.py: the same step in fresh processes, measured for real in one child, and the table's range."""

from __future__ import annotations

import pytest
from bench_scripts import bench_modules

REPO_EXAMPLE = "examples/tabular_mlp.py"


@pytest.fixture(scope="module")
def process_spread():
    return bench_modules("process_spread")[0]


def test_the_table_gives_each_cases_median_range_and_faults(process_spread):
    runs = {"glibc": [{"step_ms": 25.0, "faults": 2000, "kernel_ms": 4.0}, {"step_ms": 40.0, "faults": 6800,
                                                                            "kernel_ms": 12.0},
                      {"step_ms": 30.0, "faults": 4000, "kernel_ms": 8.0}],
            "kept": [{"step_ms": 23.0, "faults": 0, "kernel_ms": 0.0}, {"step_ms": 24.0, "faults": 0,
                                                                        "kernel_ms": 0.0}]}
    lines = process_spread.table([{"name": "conv1d_audio", "batch": 64, "runs": runs}]).splitlines()
    assert lines[2] == "| conv1d_audio | 64 | glibc as it starts | 3 | 30.0 | 25.0-40.0 | 50% | 4,000 | 8.0 |"
    assert lines[3].startswith("| conv1d_audio | 64 | freed memory kept")
    assert lines[3].endswith("| 2 | 23.5 | 23.0-24.0 | 4% | 0 | 0.0 |")


def test_a_fresh_process_times_real_steps_and_counts_their_faults(process_spread):
    kept = process_spread.CASES[1][2]
    out = process_spread.one_process(REPO_EXAMPLE, 64, 6, kept)
    assert out["step_ms"] > 0
    assert out["faults"] >= 0 and out["kernel_ms"] >= 0
    assert {name for name, *_ in bench_modules("parallel_fraction")[0].WORKLOADS} >= set(process_spread.JUDGED)
