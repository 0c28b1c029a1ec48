"""Fixtures for the CLI tests: the typer app, built once per test module and driven through typer's CliRunner
(``cli_helpers.run``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # cli_helpers, which importlib mode cannot import otherwise

from advisor.cli.app import build_app  # noqa: E402


@pytest.fixture(scope="module")
def app():
    return build_app()
