"""`history calibration --json` with nothing held out (folds 0) named the uncorrected predictions' in-sample
errors cv_error_before_pct / mean_error_before_pct, so a pipeline reading cv_* got an in-sample median under a
cross-validated name. Now the cv_* and mean_* fields are null there and the figures are in_sample_*."""

from __future__ import annotations

import json
import math
import statistics

import pytest
from history_helpers import candidate, recommendation
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.history.repository import History


def test_with_no_folds_the_json_says_in_sample_not_cv(db_url):
    actuals = {100.0: (120.0, 90.0), 200.0: (250.0,), 50.0: (40.0, 60.0)}
    with History(db_url) as hist:
        for predicted, runs in actuals.items():
            cand = candidate(0, seconds=predicted)
            rec = recommendation("mlp", n=0, excluded=0, candidates=[cand]).model_copy(update={"chosen": cand})
            rec_id = hist.save_recommendation(rec)
            for seconds in runs:
                hist.record_outcome(rec_id, seconds)
    errors = [(p - a) / a * 100 for p, runs in actuals.items() for a in runs]
    runner = CliRunner()
    result = runner.invoke(build_app(), ["history", "calibration", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["n_runs"], data["folds"]) == (5, 0)
    assert [data[k] for k in ("cv_error_before_pct", "cv_error_after_pct", "mean_error_before_pct",
                              "mean_error_after_pct")] == [None, None, None, None]
    assert data["in_sample_error_pct"] == pytest.approx(statistics.median(abs(e) for e in errors))
    assert data["in_sample_mean_error_pct"] == pytest.approx(math.fsum(errors) / 5)
    text = runner.invoke(build_app(), ["history", "calibration"], env={"COLUMNS": "200"})
    assert (f"uncorrected predictions (nothing held out): median |error| "
            f"{statistics.median(abs(e) for e in errors):.1f}%") in text.output


def test_the_text_signs_mean_errors_and_states_the_convention(db_url):
    """calibration printed "mean 17.8%" and "after 13.4%" (readable as absolute errors) with no sign convention;
    compare printed "+17.8%" and its convention line. Now calibration does both."""
    with History(db_url) as hist:
        for predicted, seconds in ((100.0, 80.0), (200.0, 160.0), (50.0, 40.0)):
            cand = candidate(0, seconds=predicted)
            rec = recommendation("mlp", n=0, excluded=0, candidates=[cand]).model_copy(update={"chosen": cand})
            hist.record_outcome(hist.save_recommendation(rec), seconds)
    result = CliRunner().invoke(build_app(), ["history", "calibration"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "uncorrected predictions (nothing held out): median |error| 25.0%, mean error +25.0%" in result.output
    assert "uncorrected 'scaled': 3 runs, median |error| 25.0%, mean +25.0%, in the 80% interval" in result.output
    assert result.output.rstrip().endswith(
        "error = (predicted - actual) / actual: negative = the job took longer than predicted")
