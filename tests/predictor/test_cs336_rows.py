"""bench/cs336_rows.py: students' published tables are filtered by a fixed rule, predicted, and never fitted."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from bench_scripts import bench_modules

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    return bench_modules("cs336_rows", "gpu_rows")


def _row(**over) -> dict:
    base = {"repo": "someone/assignment2-systems", "path": "results.md", "gpu_catalog": "A100-40GB",
            "model_code": "staff", "compiled": "no", "attention": "naive", "timing_ok": "yes",
            "vocab_size": "10000", "precision": "fp32", "context_length": "256", "batch_size": "4",
            "warmup_steps": "5", "notes": "table 1; mean of 10"}
    return {**base, **over}


def test_the_rule_names_why_a_row_is_not_judged(bench):
    cs336, _ = bench
    assert cs336.why_dropped(_row()) is None
    assert cs336.why_dropped(_row(compiled="yes")) == "compiled, or not known to be eager"
    assert cs336.why_dropped(_row(model_code="own")) == "not the course's model"
    assert cs336.why_dropped(_row(gpu_catalog="")) == "GPU not in the catalog, or not stated precisely"
    assert cs336.why_dropped(_row(precision="fp16-pure")).startswith("a precision not priced here")
    assert cs336.why_dropped(_row(warmup_steps="0")) == "no warm-up"
    assert cs336.why_dropped(_row(batch_size="4 (sweep default; not in CSV)")) is None  # the leading number
    assert cs336.why_dropped(_row(context_length="")) == "context or batch not stated"
    assert cs336.why_dropped(_row(notes="xl ran past GPU memory (spill)")).startswith("flagged in its notes")
    assert cs336.why_dropped(_row(repo="dfrumkin/cs336-assignment2", path="writeup/tables/mixed_precision.tex"))


def test_every_collected_row_is_judged_or_counted_and_never_fitted(bench):
    cs336, gpu_rows = bench
    import advisor.predictor.calibration_fit as C
    from advisor.hardware.specs import resolve_gpu

    with cs336.ROWS.open(newline="") as f:
        raw = list(csv.DictReader(f))
    rows, dropped = cs336.load_rows()
    assert len(rows) + sum(dropped.values()) == len(raw)
    assert len(rows) >= 400 and len({r.repo for r in rows}) >= 15
    for r in rows:
        assert resolve_gpu(r.gpu).name == r.gpu
        assert r.fwd_bwd_ms or r.forward_ms or r.step_ms
        assert r.precision in cs336.PRECISIONS and len(r.dims) == 4
    fitted = {r.source for r in gpu_rows.lambda_rows(C.load_fit_rows()) + gpu_rows.published_rows()}
    assert not any("cs336" in s for s in fitted)
    assert "cs336" not in (REPO / "bench" / "gpu_rows.py").read_text()


def test_a_small_model_is_host_bound_and_a_large_one_gpu_bound(bench):
    cs336, _ = bench
    import advisor.predictor.calibration_fit as C

    small = cs336.Row("r", "r@0:p", "A100-40GB", "fp32", (768, 3072, 12, 12), 128, 4, 30.0, 90.0, None)
    large = cs336.Row("r", "r@0:p", "A100-40GB", "fp32", (1024, 4096, 24, 16), 512, 4, 130.0, 410.0, None)
    done = cs336.analyses([small, large])
    cal = C.load_calibration()
    p_small = cs336.predict(done[(small.dims, 128, "fp32")], "A100-40GB", "fp32", 4, cal)
    p_large = cs336.predict(done[(large.dims, 512, "fp32")], "A100-40GB", "fp32", 4, cal)
    assert p_small.host_share > 0.5 > 0.3 > p_large.host_share
    # forward alone < forward + backward < the whole step with AdamW, for both
    for p in (p_small, p_large):
        assert 0 < p.forward_ms < p.fwd_bwd_ms < p.step_ms
    # 24 layers at 4x the tokens cost more than 12 at 1x, by more than the FLOPs' ratio's square root
    assert p_large.fwd_bwd_ms > 2 * p_small.fwd_bwd_ms
