"""README's key lists for ``history compare --json`` and ``hardware --json``'s ``host`` name every key the
commands print: they left out ``n_runs`` and ``by_workload``, and ``process_start_clock``."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from advisor.cli.app import build_app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _listed(after: str, until: str) -> set[str]:
    """The backticked names README lists from ``after`` up to ``until``."""
    start = README.index(after) + len(after)
    return set(re.findall(r"`([a-z_]+)`", README[start:README.index(until, start)]))


def test_history_compare_json_keys_are_the_readmes(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'history.db'}")
    app = build_app()
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    result = CliRunner().invoke(app, ["history", "compare", "--json"])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)) == _listed("`history compare --json`:", ";")


def test_hardware_json_host_keys_are_the_readmes():
    result = CliRunner().invoke(build_app(), ["hardware", "--json"])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["host"]) == _listed("`hardware --json`: `schema_version`, `host` (", ")")
