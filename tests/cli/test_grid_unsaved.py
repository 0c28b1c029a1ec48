"""``predict --gpus 1,2,...`` whose history fails part way (locked by another writer): the table is printed all
the same, as one prediction is, and the error says which rows were saved."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.errors import DatabaseUnavailableError
from advisor.history.repository import History

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
ARGS = ["predict", "--profile", str(PROFILE), "--dataset-size", "20000", "--epochs", "2", "--gpu", "A100-80GB",
        "--gpus", "1,2"]


def _locked_after_one(monkeypatch):
    """The history takes one prediction, then is locked (another connection's BEGIN IMMEDIATE)."""
    saved = History.save_prediction
    calls = []

    def save(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise DatabaseUnavailableError("The history database is locked by another writer.",
                                           hint="Fix: run the command again once it is free.")
        return saved(self, *args, **kwargs)

    monkeypatch.setattr(History, "save_prediction", save)


def test_a_table_whose_second_save_fails_is_printed_and_names_the_saved_row(tmp_path, monkeypatch):
    # The table was dropped: only "error: The history database is locked ...", after a probe that may take
    # minutes, and p1 (saved) was named nowhere.
    _locked_after_one(monkeypatch)
    env = {"ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}", "COLUMNS": "200"}
    result = CliRunner().invoke(build_app(), [*ARGS, "--json"], env=env)
    assert result.exit_code == 1, result.output
    rows = json.loads(result.stdout)["rows"]
    assert [r["count"] for r in rows] == [1, 2]
    assert [r["estimate"]["history_id"] for r in rows] == [1, None]
    assert ("error: The table was printed, but only p1 of its predictions was saved in history: the history "
            "database is locked by another writer.") in result.stderr
    assert "Fix: run the command again once it is free. Or pass --no-save to run without saving." in result.stderr


def test_a_text_table_whose_save_fails_is_printed_then_the_error(tmp_path, monkeypatch):
    _locked_after_one(monkeypatch)
    env = {"ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}", "COLUMNS": "200"}
    result = CliRunner().invoke(build_app(), ARGS, env=env)
    assert result.exit_code == 1, result.output
    assert "A100-80GB" in result.stdout and "Traceback" not in result.output
    assert "error: The table was printed, but only p1 of its predictions was saved in history" in result.stderr
