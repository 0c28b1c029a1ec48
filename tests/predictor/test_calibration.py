"""Calibration: the packaged constants load; a bad file is an error."""

from __future__ import annotations

import json
import math

import pytest

from advisor.errors import PredictionError
from advisor.predictor import calibration as C


def test_packaged_calibration_loads_with_provenance():
    cal = C.load_calibration()
    for key in C.EFFICIENCY_KEYS:
        assert 0 < cal.compute_efficiency[key] <= 1
    assert 0 < cal.memory_efficiency <= 1
    assert cal.operand_reuse > 0 and cal.gemm_k_fill >= 0 and cal.conv_layout_passes >= 0
    assert 0.1 <= cal.rel_sigma < 1 and 0.05 <= cal.ratio_sigma < 1
    prov = cal.provenance
    assert prov["fitted_on"] and prov["rows_used"] > 40 and "reference_benchmarks.csv" in " ".join(prov["data"])
    # Fitted on every source; the leave-one-source-out error is reported, not bounded here (bench/README.md).
    assert 0 < prov["loso_median_abs_log_error"] < 1
    low, high = cal.interval(100.0)
    assert low < 100.0 < high and math.isclose(low * high, 100.0**2)
    assert cal.interval(100.0, from_probe=True) == pytest.approx(
        (100 * math.exp(-cal.ratio_sigma), 100 * math.exp(cal.ratio_sigma)))


def test_bad_calibration_file(tmp_path):
    bad = tmp_path / "cal.json"
    bad.write_text("{not json")
    with pytest.raises(PredictionError, match="Fix:") as err:
        C.load_calibration(bad)
    assert "python bench/gpu_rows.py" in str(err.value)
    with pytest.raises(PredictionError):
        C.load_calibration(tmp_path / "missing.json")
    good = tmp_path / "ok.json"
    good.write_text(json.dumps({"memory_efficiency": 0.5, "unknown_key": 1}))
    assert C.load_calibration(good).memory_efficiency == 0.5
