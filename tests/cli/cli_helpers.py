"""Helpers shared by the CLI tests (tests/cli/conftest.py puts this folder on the path)."""

from __future__ import annotations

from click.testing import Result
from typer.testing import CliRunner


def run(app, *args) -> Result:
    """``advisor ARGS`` through typer's CliRunner; paths and numbers may be passed as they are."""
    return CliRunner().invoke(app, [str(a) for a in args])
