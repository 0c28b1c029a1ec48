"""`history calibration`'s per-method figures count the runs the fit keeps, and give the interval coverage."""

from __future__ import annotations

from history_helpers import candidate, recommendation
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.history.repository import History
from advisor.predictor.learned import calibration_report


def _history(url: str) -> None:
    """12 runs over 4 recommendations of a 1,000 s prediction stored with its 80% interval 800-1,250 s: 9 inside
    it (1,100 s), 3 outside (1,400 s); then two forced outliers (1 s and 30,000 s) the fit leaves out; and one run
    of a candidate the correction changed (its stored interval is the corrected one: not counted in coverage)."""
    with History(url) as hist:
        hist.create()
        for i in range(4):
            cand = candidate(0, seconds=1000.0)
            rec = recommendation("mlp", n=0, excluded=0, candidates=[cand]).model_copy(update={"chosen": cand})
            rec_id = hist.save_recommendation(rec)
            for j in range(3):
                hist.record_outcome(rec_id, 1400.0 if i == j == 0 or (i, j) in ((1, 1), (2, 2)) else 1100.0 + i + j,
                                    force=True)
        hist.record_outcome(rec_id, 1.0, force=True)
        hist.record_outcome(rec_id, 30_000.0, force=True)
        cand = candidate(0, seconds=1500.0, method="history", base_seconds=1000.0, base_method="scaled")
        rec = recommendation("mlp", n=0, excluded=0, candidates=[cand]).model_copy(update={"chosen": cand})
        hist.record_outcome(hist.save_recommendation(rec), 5000.0)  # outside 1,200-1,875 s and 800-1,250 s


def test_by_method_counts_the_runs_the_fit_keeps_and_gives_coverage(tmp_path, monkeypatch):
    """Before: by_method n 15 (the 2 outliers counted, mean error pulled by the 1 s run) beside n_runs 13, and
    within_interval_pct null; the text printed no per-method line."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    _history(url)
    with History(url) as hist:
        report = calibration_report(hist)
    assert report.n_runs == 13
    [group] = report.by_method
    assert group.key == "scaled" and group.n == 13
    assert group.within_interval_pct == 75.0  # 9 of the 12 runs that stored an uncorrected interval
    assert -40 < group.mean_error_pct < 0
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    result = CliRunner().invoke(build_app(), ["history", "calibration"])
    assert result.exit_code == 0, result.output
    assert "uncorrected 'scaled': 13 runs, median |error|" in result.output
    assert "in the 80% interval 75.0% (of those storing it)" in " ".join(result.output.split())


def test_a_method_with_one_run_says_1_run(tmp_path, monkeypatch):
    """A method with a single run was "uncorrected 'measured': 1 runs, ..." (compare's tables say "1 run")."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    with History(url) as hist:
        hist.create()
        cand = candidate(0, seconds=1000.0)
        rec = recommendation("mlp", n=0, excluded=0, candidates=[cand]).model_copy(update={"chosen": cand})
        hist.record_outcome(hist.save_recommendation(rec), 1100.0)
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    result = CliRunner().invoke(build_app(), ["history", "calibration"])
    assert result.exit_code == 0, result.output
    assert "uncorrected 'scaled': 1 run, median |error| 9.1%, mean -9.1%" in " ".join(result.output.split())
