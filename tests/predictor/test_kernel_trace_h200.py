"""The channels-first batch-norm constants shipped in ``advisor.predictor.calibration`` are the ones the stored H200
kernel trace gives (``bench/kernel_trace_h200.py``), and the trace's kernels are counted once."""

from __future__ import annotations

import json
import statistics

import pytest
from predictor_helpers import bench_modules

from advisor.hardware.specs import resolve_gpu
from advisor.predictor.calibration import BN_PLANE_BLOCKS_PER_SM, BN_PLANE_SECONDS
from advisor.predictor.optable import PLANE_SM_CLOCK_HZ, sm_clock_flops

(kt,) = bench_modules("kernel_trace_h200")


@pytest.fixture(scope="module")
def rows():
    return [json.loads(line) for line in kt.DATA.read_text().splitlines() if line.strip()]


def test_kernels_under_cuptis_own_events_are_not_counted_twice(rows):
    for r in rows:
        launched = sum(k["us"] for k in kt._launched(r))
        assert launched <= r["device_us_total"] * 1.001
        assert launched >= r["device_us_total"] * 0.95, r["label"]
    doubled = next(r for r in rows if r["label"] == "ResNet-50 NCHW" and r["precision"] == "bf16")
    assert sum(k["us"] for k in doubled["kernels"]) > 1.05 * doubled["device_us_total"]


def test_shipped_batch_norm_paces_are_the_traces_medians(rows):
    calls = kt.plane_calls(rows)
    assert set(calls) == {("native", "forward"), ("native", "backward"), ("cudnn", "forward"), ("cudnn", "backward")}
    sm_equivalents = sm_clock_flops(resolve_gpu("H200")) / (128.0 * PLANE_SM_CLOCK_HZ)
    pooled = []
    for (library, direction), found in calls.items():
        per_element = statistics.median(s / e for c, e, s in found if c <= 128)
        assert BN_PLANE_SECONDS[f"{library}.{direction}"] == pytest.approx(per_element, rel=0.01)
        pooled += [c * per_element * e / (s * sm_equivalents) for c, e, s in found if c > 2 * sm_equivalents]
    assert BN_PLANE_BLOCKS_PER_SM == pytest.approx(statistics.median(pooled), rel=0.01)


def test_checks_are_not_used_for_the_constants(rows):
    check_rows = [r for r in rows if f"{r['label']} {r['precision']}" in kt.CHECK_LABELS]
    assert len(check_rows) == len(kt.CHECKS)
    assert kt.plane_calls(rows) == kt.plane_calls([r for r in rows if r not in check_rows])
