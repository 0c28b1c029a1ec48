"""``advisor history compare`` over many runs: a workload far off is shown on its own (the pooled figure hid
it), the error's sign is stated, and ``--limit`` bounds the per-run rows while the aggregates count every run."""

from __future__ import annotations

import json

import pytest
from history_helpers import recommendation
from typer.testing import CliRunner

from advisor.history.repository import History


@pytest.fixture
def cli():
    from advisor.cli.app import build_app

    app = build_app()
    return lambda *args: CliRunner().invoke(app, list(args))


def _fill(db_url: str) -> None:
    """6 runs of "slow" that took twice their prediction (1800 s each on g5.xlarge) and 14 of "fine" on time."""
    with History(db_url) as hist:
        for name, runs, ratio in (("slow", 6, 2.0), ("fine", 14, 1.0)):
            for _ in range(runs):
                hist.record_outcome(hist.save_recommendation(recommendation(name, chosen=1)), 1800.0 * ratio)


def test_a_workload_twice_as_slow_is_shown_on_its_own_with_the_signs_meaning(cli, db_url):
    _fill(db_url)
    data = json.loads(cli("history", "compare", "--json").output)
    by_workload = {g["key"]: g for g in data["by_workload"]}
    assert (by_workload["slow"]["n"], by_workload["fine"]["n"]) == (6, 14)
    assert by_workload["slow"]["median_abs_error_pct"] == pytest.approx(50.0)
    assert by_workload["slow"]["mean_error_pct"] == pytest.approx(-50.0)  # took longer: negative
    assert by_workload["fine"]["mean_error_pct"] == pytest.approx(0.0)
    assert data["overall"]["median_abs_error_pct"] == pytest.approx(0.0)  # the pooled figure alone hides it
    text = " ".join(cli("history", "compare").output.split())
    assert "│ workload │ slow │ 6 │ 50.0% │ -50.0% │" in text
    assert ("error = (predicted - actual) / actual: negative = the job took longer than predicted") in text


def test_limit_bounds_the_rows_and_the_aggregates_count_every_run(cli, db_url):
    _fill(db_url)
    every = json.loads(cli("history", "compare", "--json", "--limit", "100").output)
    assert every["n_runs"] == len(every["rows"]) == 20
    page = json.loads(cli("history", "compare", "--json", "--limit", "3").output)
    assert page["n_runs"] == 20 and page["rows"] == every["rows"][-3:]  # the latest recorded
    assert page["by_workload"] == every["by_workload"] and page["overall"] == every["overall"]
    text = " ".join(cli("history", "compare", "--limit", "3").output.split())
    assert "Predicted vs actual (the latest 3 of 20 runs; --limit N shows more)" in text
    assert "Aggregated over all 20 runs" in text
    summary = cli("history", "compare", "--limit", "0")
    assert summary.exit_code == 0 and "Predicted vs actual" not in summary.output
    assert "Aggregated over all 20 runs" in summary.output and "Nothing to compare" not in summary.output
    assert len(json.loads(cli("history", "compare", "--json").output)["rows"]) == 20  # default 50
    bad = cli("history", "compare", "--limit", "-1")
    assert bad.exit_code == 1 and " ".join(bad.output.split()) == (
        "error: --limit must be 0 or more, got -1. Fix: e.g. --limit 20 for the latest 20 runs, or --limit 0 for "
        "the aggregates alone.")
