"""bench/blackwell_rows.py: the published B200 rows load with their sources, pair up, and never reach a fit."""

from __future__ import annotations

from pathlib import Path

from bench_scripts import bench_modules

REPO = Path(__file__).resolve().parents[2]


def test_blackwell_rows_load_pair_and_are_never_fitted():
    (blackwell,) = bench_modules("blackwell_rows")
    rows = blackwell.load_rows()
    assert {r.kind for r in rows} == {"training", "gemm"}
    assert all(r.url.startswith("https://") and r.value > 0 for r in rows)
    pairs = blackwell._pairs(rows)
    assert len(pairs) == 4 and all(b.gpu == "B200" and h.gpu == "H100-SXM" for b, h in pairs)
    # published per-GPU ratios as the README's table gives them
    assert [round(b.value / h.value, 2) for b, h in pairs] == [2.13, 2.12, 1.46, 1.34]
    assert blackwell.datasheet_peak("B200", "fp8") / blackwell.datasheet_peak("H100-SXM", "fp8") > 2.2
    assert "blackwell" not in (REPO / "bench" / "gpu_rows.py").read_text()
