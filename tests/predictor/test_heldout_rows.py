"""bench/heldout_gpu.py: the held-out rows are predicted and never reach a fit."""

from __future__ import annotations

from pathlib import Path

from bench_scripts import bench_modules

REPO = Path(__file__).resolve().parents[2]


def test_heldout_rows_are_predicted_and_never_fitted():
    gpu_rows, heldout_gpu = bench_modules("gpu_rows", "heldout_gpu")
    import advisor.predictor.calibration_fit as C

    held, bert = heldout_gpu.rows(), heldout_gpu.bert_rows()
    assert len(held) == 12 and len(bert) == 8 and {r.source for r in held + bert} == {"heldout-dle"}
    # what the fit reads: Lambda's tables and published_throughput.csv, no held-out source among them
    fitted_sources = {r.source for r in gpu_rows.lambda_rows(C.load_fit_rows()) + gpu_rows.published_rows()}
    assert not any(s.startswith("heldout") for s in fitted_sources)
    assert "heldout" not in (REPO / "bench" / "gpu_rows.py").read_text()
    sample = [*held[:2], bert[1]]  # the 1-GPU A100 rows: ResNet-50 TF32 and AMP, BERT-large AMP
    analyses = gpu_rows.analyses_for(sample, {})
    for r in sample:
        p = gpu_rows.predict(r, analyses, C.load_calibration())
        assert p is not None and 0.3 < p / r.measured < 3
