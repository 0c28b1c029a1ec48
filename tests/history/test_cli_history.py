"""The history commands end to end through the CLI (typer's CliRunner), on SQLite and PostgreSQL: a stored
recommendation, ``advisor history record``, then ``compare``, ``list``, ``show``, ``export`` and ``db upgrade``."""

from __future__ import annotations

import csv
import io
import json

import pytest
from history_helpers import recommendation
from typer.testing import CliRunner

from advisor.history.repository import History


@pytest.fixture
def cli():
    from advisor.cli.app import build_app

    app = build_app()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args))

    return run


def test_db_upgrade(cli, fresh_db_url):
    result = cli("db", "upgrade", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["revision"] == "0003"


def test_record_then_compare_list_show_export(cli, db_url):
    with History(db_url) as hist:
        rec_id = hist.save_recommendation(recommendation("resnet", chosen=1))  # predicts 1800 s on g5.xlarge

    result = cli("history", "record", str(rec_id), "--actual-seconds", "2000", "--json")
    assert result.exit_code == 0, result.output
    recorded = json.loads(result.output)
    assert (recorded["schema_version"], recorded["actual_seconds"]) == (1, 2000.0)

    result = cli("history", "compare", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["rows"]) == 1
    row = data["rows"][0]
    assert (row["recommendation_id"], row["predicted_seconds"], row["actual_seconds"]) == (rec_id, 1800.0, 2000.0)
    assert row["error_pct"] == pytest.approx(-10.0)
    assert data["by_device"][0]["key"] == "A10G" and data["by_method"][0]["key"] == "scaled"
    result = cli("history", "compare", "--workload", "nosuch")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("No recorded run matches --workload 'nosuch' (runs of other workloads")
    assert "Nothing to compare yet" not in result.output

    result = cli("history", "list", "--json")
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.output)["entries"]
    assert (entry["id"], entry["workload"], entry["actual_seconds"]) == (rec_id, "resnet", 2000.0)

    result = cli("history", "show", str(rec_id), "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["recommendation"]["id"] == rec_id and shown["outcomes"][0]["actual_seconds"] == 2000.0
    assert shown["schema_version"] == 1  # at the top, as every other history --json document has it
    result = cli("history", "show", str(rec_id))
    assert result.exit_code == 0, result.output
    (line,) = [ln for ln in result.output.splitlines() if "g5.xlarge" in ln and "completed" in ln]
    assert "33m20s" in line and "2000" not in line  # the run in the units the rest of the output uses

    result = cli("history", "export", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["recommendation_id"], r["actual_seconds"]) for r in rows] == [(str(rec_id), "2000.0")]


def test_record_unknown_id_is_a_clean_error(cli, db_url):
    result = cli("history", "record", "42", "--actual-seconds", "10")
    assert result.exit_code == 1
    assert "No recommendation 42 in history." in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_to_stdout_writes_nothing_when_the_database_cannot_be_read(cli, tmp_path, monkeypatch, fmt):
    """The database is opened and read before the first character: not "[" or the CSV header, then an error."""
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00x")
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{bad}")
    result = cli("history", "export", "--format", fmt)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert "error:" in result.stderr


def test_export_into_a_stream_writes_nothing_when_the_database_cannot_be_read(tmp_path):
    from advisor.errors import HistoryError

    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00x")
    out = io.StringIO()
    with pytest.raises(HistoryError), History(f"sqlite:///{bad}") as hist:
        hist.export("json", out)
    assert out.getvalue() == ""


def test_calibration_text_with_runs_from_one_recommendation(cli, history):
    """9 runs of 1 recommendation: the needs-line says both requirements (it said "9 (needs 8)" under "needs at
    least 8 runs from 3 recommendations"), and no held-out figure stands where no fold held anything out."""
    rec_id = history.save_recommendation(recommendation("resnet", chosen=1))  # predicts 1800 s
    for seconds in range(2000, 2900, 100):
        history.record_outcome(rec_id, seconds)
    result = cli("history", "calibration")
    assert result.exit_code == 0, result.output
    assert "Only 9 completed run(s) from 1 recommendation(s)" in result.output
    assert "runs with outcomes: 9 (needs 8 from 3 recommendations); cross-validation folds: 0" in result.output
    assert "held-out" not in result.output
    assert "uncorrected predictions (nothing held out): median |error| 25.0%" in result.output  # 1800 s for 2400


def test_training_rows_say_when_the_history_holds_more_than_they_read(history):
    """The correction reads the newest runs only; it then says "at least", not "Only 20000 completed run(s)"."""
    from advisor.predictor.learned import evaluate

    rec_id = history.save_recommendation(recommendation("resnet", chosen=1))
    for seconds in range(2000, 2700, 100):
        history.record_outcome(rec_id, seconds)
    every = history.training_rows()
    assert len(every) == 7 and not every.capped
    newest = history.training_rows(limit=5)
    assert newest.capped and [r.actual_seconds for r in newest] == [2200.0, 2300.0, 2400.0, 2500.0, 2600.0]
    assert not history.training_rows(limit=7).capped
    assert evaluate(newest, min_runs=3).reason.startswith("At least 5 completed run(s) from 1 recommendation(s)")
    assert evaluate(every, min_runs=3).reason.startswith("Only 7 completed run(s)")
