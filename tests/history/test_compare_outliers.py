"""`history compare` and `history calibration` agree on outliers: a run recorded with --force more than 20x from
its uncorrected prediction is a marked compare row, left out of compare's aggregates as calibration leaves it out,
and its stored notes say it was forced. Before, compare averaged it in unmarked (the workload's mean moved ~10
points) and nothing stored said the run was forced."""

from __future__ import annotations

import json
import math
import statistics

import pytest
from history_helpers import candidate, recommendation
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.history.repository import History
from advisor.predictor.learned import calibration_report


def _rec(hist: History, seconds: float, **overrides) -> int:
    cand = candidate(0, seconds=seconds, **overrides)
    rec = recommendation("mlp", n=0, excluded=0, candidates=[cand]).model_copy(update={"chosen": cand})
    return hist.save_recommendation(rec)


def test_a_forced_outlier_is_marked_and_left_out_of_compare_as_of_calibration(db_url):
    with History(db_url) as hist:
        rec = _rec(hist, 100.0)
        for seconds in (120.0, 90.0, 110.0):
            hist.record_outcome(rec, seconds)
        with pytest.warns(RuntimeWarning):
            forced = hist.record_outcome(rec, 3000.0, force=True)
        # a corrected candidate: 2,100 s is 14x its shown 150 s but 21x its uncorrected 100 s, the fit's figure
        corrected = _rec(hist, 150.0, method="history", base_seconds=100.0, base_method="scaled")
        with pytest.warns(RuntimeWarning):
            hist.record_outcome(corrected, 2100.0, force=True)
        comp = hist.compare()
        report = calibration_report(hist)
        stored = hist.show(rec).outcomes
    assert forced.notes == "recorded with --force: 30x its prediction"
    assert [o.notes for o in stored] == [None, None, None, "recorded with --force: 30x its prediction"]
    assert [(r.actual_seconds, r.outlier) for r in comp.rows if r.recommendation_id == rec] == [
        (120.0, False), (90.0, False), (110.0, False), (3000.0, True)]
    ratios = {r.actual_seconds: r.outlier_ratio for r in comp.rows}
    assert ratios[3000.0] == pytest.approx(30.0) and ratios[2100.0] == pytest.approx(21.0) and ratios[90.0] is None
    errors = [(100 - a) / a * 100 for a in (120.0, 90.0, 110.0)]
    overall = comp.overall
    assert (overall.n, overall.n_outliers) == (5, 2)
    assert overall.median_abs_error_pct == pytest.approx(statistics.median(abs(e) for e in errors))
    assert overall.mean_error_pct == pytest.approx(math.fsum(errors) / 3)
    # the same runs and figures as calibration's uncorrected 'scaled' group
    scaled = next(g for g in comp.by_method if g.key == "scaled")
    calibrated = next(g for g in report.by_method if g.key == "scaled")
    assert (scaled.n - scaled.n_outliers, calibrated.n) == (3, 3)
    assert scaled.median_abs_error_pct == pytest.approx(calibrated.median_abs_error_pct)
    assert scaled.mean_error_pct == pytest.approx(calibrated.mean_error_pct)
    # a group whose only run is an outlier has no figures
    history_group = next(g for g in comp.by_method if g.key == "history")
    assert (history_group.n, history_group.n_outliers, history_group.median_abs_error_pct,
            history_group.mean_error_pct, history_group.within_interval_pct) == (1, 1, None, None, None)


def test_compare_text_json_and_export_flag_the_outlier(db_url):
    with History(db_url) as hist:
        rec = _rec(hist, 100.0)
        hist.record_outcome(rec, 120.0)
        with pytest.warns(RuntimeWarning):
            hist.record_outcome(rec, 2400.0, force=True)
    runner = CliRunner()
    text = runner.invoke(build_app(), ["history", "compare"], env={"COLUMNS": "200"})
    assert text.exit_code == 0, text.output
    assert "-95.8% (24x: not learned from)" in text.output
    assert "2 (1 outlier left out)" in text.output
    assert "runs more than 20x from their uncorrected prediction (outliers) are left out of the figures" in text.output
    data = json.loads(runner.invoke(build_app(), ["history", "compare", "--json"]).output)
    assert [r["outlier"] for r in data["rows"]] == [False, True]
    assert data["overall"]["n_outliers"] == 1 and data["overall"]["mean_error_pct"] == pytest.approx(-100 / 6)
    export = json.loads(runner.invoke(build_app(), ["history", "export", "--format", "json"]).output)
    assert [(row["actual_seconds"], row["outlier"]) for row in export] == [(120.0, False), (2400.0, True)]
    shown = runner.invoke(build_app(), ["history", "show", str(rec)], env={"COLUMNS": "200"})
    assert "recorded with --force: 24x its prediction" in shown.output


def test_the_guard_and_compare_agree_on_the_20x_edge():
    """A run exactly 20x from its prediction is kept (over 20x is an outlier), either way, by ``history record``'s
    guard and by compare alike: 19x and 20x kept; 20.5x and 1/21 outliers."""
    from advisor.history.comparison import comparison
    from advisor.history.outcome_checks import outlier

    actuals = (1900.0, 2000.0, 2050.0, 5.0, 100.0 / 21)  # against a 100 s prediction
    rows = [(i, 1, "2026-01-01", a, "w", "aws", "g5.xlarge", "single_gpu", "A10G", 1, 4, "scaled", 100.0, 90.0,
             110.0, None) for i, a in enumerate(actuals, start=1)]
    assert [r.outlier for r in comparison(rows).rows] == [False, False, True, False, True]
    assert [outlier(a, 100.0) is not None for a in actuals] == [False, False, True, False, True]

