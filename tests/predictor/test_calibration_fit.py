"""The calibration fit tool: the reference rows map to specs and precisions, the fit recovers constants."""

from __future__ import annotations

import pytest

from advisor.hardware.specs import resolve_gpu
from advisor.predictor import calibration_fit as C
from advisor.predictor.calibration import EFFICIENCY_KEYS, default_calibration
from advisor.schemas import Analysis, OpRecord


def test_reference_rows_map_to_specs_and_precisions():
    rows = C.load_reference_rows()
    assert len(rows) == 290
    by = {(r.gpu_model, r.source_precision, r.model, r.gpu_count): r for r in rows}
    a100 = by[("A100-SXM4-40GB", "fp32", "ResNet-50 v1.5", 1)]
    assert a100.precision == "tf32" and a100.spec.name == resolve_gpu("A100-40GB").name  # NGC ran TF32
    v100 = by[("V100-32GB", "fp32", "BERT-large (uncased)", 1)]
    assert v100.precision == "fp32" and v100.throughput == 12.0 and v100.batch_size == 12
    assert by[("V100-32GB", "amp_fp16", "BERT-base (uncased)", 1)].precision == "fp16"
    # Every GPU of the table has the figures its rows need (the last four were filled 2026-12-01, DERIVED).
    assert [r.skip_reason for r in rows if r.skip_reason] == []
    assert by[("GTX 1080 Ti", "amp_fp16", "BERT-base (uncased)", 1)].spec.name == "GTX1080Ti"
    current = C.load_reference_rows(C.reference_path(C.CURRENT_FILE))
    assert {r.table for r in current} == {"current"} and {r.table for r in rows} == {"reference"}
    assert any(r.gpu == "H100-SXM" for r in current)


def test_legacy_fp16_rows_say_they_ran_no_autocast_and_are_priced_as_autocast():
    """Lambda's 2020-21 "fp16" rows were said to be DLE --amp (autocast); the table's ResNet-50 column is its
    --fp16 --static-loss-scale 256 config (network_to_half) and its BERT rows apex O2. Labels and numbers stay."""
    import csv
    import json

    from advisor.data_files import data_file

    with open(data_file("profiles", "reference_benchmarks.csv"), newline="") as fh:
        fp16 = [r for r in csv.DictReader(fh) if r["precision"] == "amp_fp16"]
    resnet = [r for r in fp16 if r["model"] == "ResNet-50 v1.5"]
    assert (len(resnet), len(fp16)) == (48, 146)
    for row in fp16:
        assert "--amp mixed precision" not in row["notes"]
        assert "not autocast; priced as autocast, the precision a user runs" in row["notes"], row
        assert ("--fp16 --static-loss-scale 256" in row["notes"] and "network_to_half" in row["notes"]) == (
            row in resnet), row
        assert ("opt_level O2" in row["notes"]) == (row not in resnet), row
    clause = ("'amp_fp16' priced as fp16 autocast, the precision a user runs (Lambda's 2020-21 'fp16' rows ran no "
              "autocast: ResNet-50 pure fp16, DLE --fp16 --static-loss-scale 256, network_to_half; BERT apex O2, the "
              "model in fp16 with fp32 master weights)")
    assert C.FIT_METHOD.endswith(clause)
    with open(data_file("profiles", "calibration.json")) as fh:
        assert json.load(fh)["provenance"]["method"].endswith(clause)


def _synthetic(model: str) -> Analysis:
    """A step with one big matmul (compute-bound) and one memory-bound op, per sample."""
    ops = [OpRecord(op="aten.mm.default", kind="matmul", phase="forward", flops=(2e11, 4e11), bytes=(1e8, 2e8)),
           OpRecord(op="aten.add.Tensor", kind="elementwise", phase="forward", flops=(0.0, 0.0),
                    bytes=(2e9, 4e9) if model == "mem" else (2e7, 4e7))]
    return Analysis(batch_sizes=(1, 2), ops=ops, flops_per_sample=2e11, param_count=1, trainable_param_count=1,
                    param_bytes=4, gradient_bytes=4, optimizer="SGD", optimizer_state_bytes=0)


def test_fit_recovers_known_constants_from_synthetic_rows():
    truth = default_calibration().with_values(
        {**{k: 0.6 for k in EFFICIENCY_KEYS}, "memory_efficiency": 0.7})
    analyses = {(m, "fp32"): _synthetic(m) for m in ("mm", "mem")}
    rows = []
    for gpu in ("V100-32GB", "A100-80GB", "H100-SXM", "RTX 3090", "L4"):
        spec = resolve_gpu(gpu)
        for model in ("mm", "mem"):
            row = C.ReferenceRow(model=model, source_precision="fp32", gpu_model=gpu, gpu_count=1, batch_size=16,
                                 throughput=1.0, source="synthetic", spec=spec, precision="fp32")
            row.throughput = C.predict_row(row, analyses, truth)
            rows.append(row)
    # fp32 GEMMs at full tiles are compute-bound (operand staging overlaps the math): operand_reuse is not
    # identifiable from these rows and stays fixed.
    free = ("compute.all", "memory_efficiency")
    fitted = C.fit(rows, analyses, free=free, prior_weight=1e-6)
    assert fitted.compute_eff("matmul", "fp32") == pytest.approx(0.6, rel=0.05)
    assert fitted.memory_efficiency == pytest.approx(0.7, rel=0.05)
    ev = C.evaluate(rows, analyses, fitted)
    assert C.Evaluation.stats(ev.row_errors())["median_abs_error"] < 0.01
    assert len(ev.ratios) == 2 * (5 * 4 // 2)  # every pair of GPUs, per model
    cv = C.cross_validate(rows, analyses, "gpu", free=free, prior_weight=1e-6)
    assert C.Evaluation.stats(cv.row_errors())["p90_abs_error"] < 0.05


def test_trace_precision_for():
    assert [C.trace_precision_for(p) for p in ("fp32", "tf32", "bf16", "fp16")] == ["fp32", "fp32", "fp16", "fp16"]


def test_fit_tool_imports_the_roofline_not_the_other_way():
    """The cycle calibration <-> roofline is gone: the runtime constants import nothing of the fit tool."""
    import ast
    from pathlib import Path

    import advisor.predictor.calibration as runtime

    tree = ast.parse(Path(runtime.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not {m for m in imported if m and ("roofline" in m or "calibration_fit" in m or "probe" in m)}
