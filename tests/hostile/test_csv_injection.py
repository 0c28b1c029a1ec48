"""CSV formula injection: a workload name a spreadsheet would run (=, +, -, @, tab, CR first) is exported
with a leading single quote (OWASP), and a CR inside a name cannot start a row of its own (with the rest of
the name, unquoted, as its first cell); numbers stay numbers and the JSON export keeps the text as it is."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "history"))
from history_helpers import recommendation  # noqa: E402

NAMES = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "plain", "a=b",
         "x\r=cmd()", "y\n@cmd()"]


@pytest.fixture
def db(tmp_path, monkeypatch):
    from advisor.history.repository import History

    url = f"sqlite:///{tmp_path / 'history.db'}"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    with History(url) as hist:
        for name in NAMES:
            rec_id = hist.save_recommendation(recommendation(name))
            hist.record_outcome(rec_id, 5000.0)  # slower than predicted: a negative error_pct
    return url


def _export(*args: str) -> str:
    result = CliRunner().invoke(build_app(), ["history", "export", *args])
    assert result.exit_code == 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.output


def test_csv_cells_that_start_a_formula_are_quoted(db, tmp_path):
    out = tmp_path / "h.csv"
    _export("--format", "csv", "-o", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8"), newline="")))
    names = [r["workload"] for r in rows]
    assert names == ["'" + n if n[0] in "=+-@\t\r" else n for n in NAMES]
    errors = [float(r["error_pct"]) for r in rows]
    assert all(e < 0 for e in errors)  # numbers are written as numbers, never quoted
    assert all(not r["error_pct"].startswith("'") for r in rows)


def test_csv_to_stdout_is_quoted_too(db):
    text = _export("--format", "csv")
    assert "'=HYPERLINK(" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


def test_json_export_keeps_names_as_they_are(db, tmp_path):
    out = tmp_path / "h.json"
    _export("--format", "json", "-o", str(out))
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [d["workload"] for d in data] == NAMES


def test_csv_cell_rule():
    from advisor.history.export import csv_cell

    assert csv_cell("=1") == "'=1" and csv_cell("\r1") == "'\r1" and csv_cell("x=1") == "x=1"
    assert csv_cell(-12.5) == -12.5 and csv_cell(None) is None and csv_cell("") == ""
