"""Calibration: the packaged constants load, the reference rows map to specs, the fit recovers constants."""

from __future__ import annotations

import json
import math

import pytest

from advisor.errors import PredictionError
from advisor.hardware.specs import resolve_gpu
from advisor.predictor import calibration as C
from advisor.schemas import Analysis, OpRecord


def test_packaged_calibration_loads_with_provenance():
    cal = C.load_calibration()
    for key in C.EFFICIENCY_KEYS:
        assert 0 < cal.compute_efficiency[key] <= 1
    assert 0 < cal.memory_efficiency <= 1
    assert cal.operand_flops_per_element > 0 and cal.conv_layout_passes >= 0
    assert 0.1 <= cal.rel_sigma < 1 and 0.05 <= cal.ratio_sigma < 1
    prov = cal.provenance
    assert prov["fitted_on"] and prov["rows_used"] > 40 and "reference_benchmarks.csv" in " ".join(prov["data"])
    for fold in ("cv_leave_one_gpu_out", "cv_leave_one_model_out", "cv_leave_one_table_out"):
        assert prov[fold]["rows"]["median_abs_error"] < 0.25
    low, high = cal.interval(100.0)
    assert low < 100.0 < high and math.isclose(low * high, 100.0**2)
    assert cal.interval(100.0, from_probe=True) == pytest.approx(
        (100 * math.exp(-cal.ratio_sigma), 100 * math.exp(cal.ratio_sigma)))


def test_bad_calibration_file(tmp_path):
    bad = tmp_path / "cal.json"
    bad.write_text("{not json")
    with pytest.raises(PredictionError, match="Fix:"):
        C.load_calibration(bad)
    with pytest.raises(PredictionError):
        C.load_calibration(tmp_path / "missing.json")
    good = tmp_path / "ok.json"
    good.write_text(json.dumps({"memory_efficiency": 0.5, "unknown_key": 1}))
    assert C.load_calibration(good).memory_efficiency == 0.5


def test_reference_rows_map_to_specs_and_precisions():
    rows = C.load_reference_rows()
    assert len(rows) == 290
    by = {(r.gpu_model, r.source_precision, r.model, r.gpu_count): r for r in rows}
    a100 = by[("A100-SXM4-40GB", "fp32", "ResNet-50 v1.5", 1)]
    assert a100.precision == "tf32" and a100.spec.name == resolve_gpu("A100-40GB").name  # NGC ran TF32
    v100 = by[("V100-32GB", "fp32", "BERT-large (uncased)", 1)]
    assert v100.precision == "fp32" and v100.throughput == 12.0 and v100.batch_size == 12
    assert by[("V100-32GB", "amp_fp16", "BERT-base (uncased)", 1)].precision == "fp16"
    skipped = [r for r in rows if r.skip_reason]
    assert skipped and all(r.skip_reason.startswith("no spec") for r in skipped)
    assert any(r.gpu_model == "GTX 1080 Ti" for r in skipped)
    current = C.load_reference_rows(C.reference_path(C.CURRENT_FILE))
    assert {r.table for r in current} == {"current"} and {r.table for r in rows} == {"reference"}
    assert any(r.gpu == "H100-SXM" for r in current)


def _synthetic(model: str) -> Analysis:
    """A step with one big matmul (compute-bound) and one memory-bound op, per sample."""
    ops = [OpRecord(op="aten.mm.default", kind="matmul", phase="forward", flops=(2e11, 4e11), bytes=(1e8, 2e8)),
           OpRecord(op="aten.add.Tensor", kind="elementwise", phase="forward", flops=(0.0, 0.0),
                    bytes=(2e9, 4e9) if model == "mem" else (2e7, 4e7))]
    return Analysis(batch_sizes=(1, 2), ops=ops, flops_per_sample=2e11, param_count=1, trainable_param_count=1,
                    param_bytes=4, gradient_bytes=4, optimizer="SGD", optimizer_state_bytes=0)


def test_fit_recovers_known_constants_from_synthetic_rows():
    truth = C.default_calibration().with_values(
        {**{k: 0.6 for k in C.EFFICIENCY_KEYS}, "memory_efficiency": 0.7, "operand_flops_per_element": 300.0})
    analyses = {(m, "fp32"): _synthetic(m) for m in ("mm", "mem")}
    rows = []
    for gpu in ("V100-32GB", "A100-80GB", "H100-SXM", "RTX 3090", "L4"):
        spec = resolve_gpu(gpu)
        for model in ("mm", "mem"):
            row = C.ReferenceRow(model=model, source_precision="fp32", gpu_model=gpu, gpu_count=1, batch_size=16,
                                 throughput=1.0, source="synthetic", spec=spec, precision="fp32")
            row.throughput = C.predict_row(row, analyses, truth)
            rows.append(row)
    free = ("compute.all", "memory_efficiency", "operand_flops_per_element")
    fitted = C.fit(rows, analyses, free=free, prior_weight=1e-6)
    assert fitted.compute_eff("matmul", "fp32") == pytest.approx(0.6, rel=0.05)
    assert fitted.memory_efficiency == pytest.approx(0.7, rel=0.05)
    assert fitted.operand_flops_per_element == pytest.approx(300.0, rel=0.1)
    ev = C.evaluate(rows, analyses, fitted)
    assert C.Evaluation.stats(ev.row_errors())["median_abs_error"] < 0.01
    assert len(ev.ratios) == 2 * (5 * 4 // 2)  # every pair of GPUs, per model
    cv = C.cross_validate(rows, analyses, "gpu", free=free, prior_weight=1e-6)
    assert C.Evaluation.stats(cv.row_errors())["p90_abs_error"] < 0.05
