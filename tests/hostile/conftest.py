"""Fixtures for the hostile-input tests: the CLI as a user runs it, on a history database of the test's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def history_url(tmp_path, monkeypatch) -> str:
    """A fresh SQLite history for the test, through the environment as a user sets it."""
    url = f"sqlite:///{tmp_path / 'history.db'}"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    monkeypatch.delenv("ADVISOR_DEBUG", raising=False)
    return url


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
