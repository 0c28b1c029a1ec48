"""Fixtures for the hostile-input tests: the CLI as a user runs it, on a history database of the test's own."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(DATA.parents[1] / "history"))  # history_helpers


@pytest.fixture
def history_url(tmp_path, monkeypatch) -> str:
    """A fresh SQLite history for the test, through the environment as a user sets it."""
    url = f"sqlite:///{tmp_path / 'history.db'}"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    monkeypatch.delenv("ADVISOR_DEBUG", raising=False)
    return url


@pytest.fixture
def saved_history(history_url) -> str:
    """``history_url`` holding one saved recommendation, of the workload "m"."""
    from history_helpers import recommendation

    from advisor.history.repository import History

    with History(history_url) as hist:
        hist.save_recommendation(recommendation("m"))
    return history_url


@pytest.fixture
def invoke(history_url):
    """invoke(*args) -> typer's Result for `advisor ARGS` (stderr apart)."""
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    app = build_app()

    def run(*args: str, **kwargs):
        return CliRunner().invoke(app, [str(a) for a in args], **kwargs)

    return run


@pytest.fixture
def profile_data() -> dict:
    """A real profile of examples/tabular_mlp.py (probed on the development machine), as a dict to corrupt."""
    return json.loads((DATA / "tabular_profile.json").read_text())


@pytest.fixture
def profile_file(tmp_path, profile_data) -> Path:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile_data))
    return path


def _assert_user_error(result, *phrases: str, one_message: bool = False) -> str:
    """A user error as the contract has it: exit 1, a message (naming each phrase), no traceback, and not
    blamed on advisor. ``one_message``: exactly one "error:" line. Returns the output."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "bug in advisor" not in result.output, result.output
    if one_message:
        assert result.output.count("error:") == 1, result.output
    for phrase in phrases:
        assert phrase in result.output, (phrase, result.output)
    return result.output


@pytest.fixture
def user_error():
    """The check every hostile-input test makes of a refused input (see _assert_user_error)."""
    return _assert_user_error
