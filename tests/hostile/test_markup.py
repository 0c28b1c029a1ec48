"""Hostile text on the terminal: user and data text is never read as rich markup, and its control characters
(ESC sequences, BEL, C1, DEL) never reach the terminal raw."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "history"))
from history_helpers import recommendation  # noqa: E402

RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\x7f", "\x00", "\u202e")


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'history.db'}"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    return url


def run(*args: str):
    return CliRunner().invoke(build_app(), list(args))


def _clean_exit(result, code: int) -> None:
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


def _save(db: str, name: str, *, outcome: bool = False) -> int:
    from advisor.history.repository import History

    with History(db) as hist:
        rec_id = hist.save_recommendation(recommendation(name))
        if outcome:
            hist.record_outcome(rec_id, 1000.0)
        return rec_id


def test_since_that_looks_like_a_closing_tag(db):
    result = run("history", "list", "--since", "[/x]")
    _clean_exit(result, 1)
    assert "Cannot read --since '[/x]'" in result.output


def test_provider_that_looks_like_a_closing_tag():
    result = run("pricing", "list", "--provider", "[/x]")
    _clean_exit(result, 1)
    assert "'[/x]'" in result.output


def test_gpu_name_with_markup_is_printed_as_typed():
    result = run("pricing", "list", "--gpu", "[bold]H100")
    _clean_exit(result, 1)
    assert "'[bold]H100'" in result.output


def test_workload_named_like_markup_shows(db):
    rec_id = _save(db, "[@x=(]pwn")
    result = run("history", "show", str(rec_id))
    _clean_exit(result, 0)
    assert "[@x=(]pwn" in result.output
    listed = run("history", "list")
    _clean_exit(listed, 0)
    assert "[@x=(]pwn" in listed.output


def test_markup_in_a_name_is_not_applied(db):
    rec_id = _save(db, "[red]evil[/red]")
    result = run("history", "show", str(rec_id))
    _clean_exit(result, 0)
    assert "[red]evil[/red]" in result.output


def test_control_characters_in_a_name_are_made_visible(db):
    rec_id = _save(db, "a\x1b[2Jb\x07c\x9bd\x7fe\u202ef", outcome=True)
    for args in (("history", "show", str(rec_id)), ("history", "list"), ("history", "compare")):
        result = run(*args)
        _clean_exit(result, 0)
        assert "\\x1b[2Jb" in result.output, args
        for raw in RAW_CONTROLS:
            assert raw not in result.output, (args, raw)
    shown = run("history", "show", str(rec_id)).output
    assert "a\\x1b[2Jb\\x07c\\x9bd\\x7fe\\u202ef" in shown


def test_bidi_marks_and_unicode_line_separators_in_a_name_are_made_visible(db):
    rec_id = _save(db, "a\u200fb\u200ec\u061cd\u2028e\u2029f")
    shown = run("history", "show", str(rec_id)).output
    assert "a\\u200fb\\u200ec\\u061cd\\u2028e\\u2029f" in shown
    assert not any(raw in shown for raw in ("\u200f", "\u200e", "\u061c", "\u2028", "\u2029"))


def test_a_line_break_in_a_name_under_the_table_is_shown_not_followed(db):
    from history_helpers import candidate

    from advisor.history.repository import History

    evil = candidate(0, fits_memory=False, reason="does not fit in memory")
    evil.instance_type = "x\nnote: forged line"
    with History(db) as hist:
        rec_id = hist.save_recommendation(recommendation("m").model_copy(update={"excluded": [evil]}))
    shown = run("history", "show", str(rec_id)).output
    assert "(e.g. x\\x0anote: forged line:" in shown
    assert "\nnote: forged line" not in shown


def test_control_characters_in_an_instance_name_are_made_visible(db):
    rec_id = _save(db, "m")
    result = run("history", "record", str(rec_id), "--actual-seconds", "5", "--instance", "x\x1b[31m")
    _clean_exit(result, 1)  # not one of its candidates
    for raw in RAW_CONTROLS:
        assert raw not in result.output


def test_error_message_and_hint_are_escaped(capsys):
    from advisor.cli import render
    from advisor.errors import HistoryError

    render.error(HistoryError("bad [bold]x[/] \x1b]0;title\x07 [/y]", hint="Fix: [link=http://e]here[/link]\x1b[0m"))
    err = capsys.readouterr().err
    assert "bad [bold]x[/] \\x1b]0;title\\x07 [/y]" in err
    assert "Fix: [link=http://e]here[/link]\\x1b[0m" in err
    assert "\x1b" not in err and "\x07" not in err


def test_note_and_line_keep_text_as_it_is(capsys):
    from advisor.cli import render

    render.note("plot written to [b]x$.png\x1b[K")
    render.line("Recorded 5 s on [/i]\x9b")
    captured = capsys.readouterr()
    assert "plot written to [b]x$.png\\x1b[K" in captured.err
    assert "Recorded 5 s on [/i]\\x9b" in captured.out


def test_safe_text_keeps_newlines_only_when_asked():
    from advisor.cli.render import safe_text

    assert safe_text("a\nb") == "a\\x0ab"
    assert safe_text("a\nb\tc", multiline=True) == "a\nb\\x09c"
    assert safe_text("[bold]x") == "\\[bold]x"


def test_a_catalog_instance_type_with_a_line_break_stays_on_its_line_in_the_verdict(db, tmp_path):
    # The verdict and the notes under the table printed a catalog's newline as it was: "evil" ended the
    # Recommendation line and the row's text began one of its own, ESC sequence and all (shown, but at column 0).
    import csv

    catalog = tmp_path / "evil.csv"
    with catalog.open("w", newline="") as f:
        csv.writer(f).writerows([
            ["provider", "instance_type", "region", "vcpus", "memory_gib", "gpu_model", "gpu_count", "price_hour_usd",
             "snapshot_date"],
            ["aws", "evil\n\x1b[31mFAKE", "us-east-1", "8", "64", "", "0", "0.01", "2025-01-01"]])
    profile = Path(__file__).resolve().parent / "data" / "tabular_profile.json"
    result = run("recommend", "--profile", str(profile), "--dataset-size", "5000", "--epochs", "1", "--batch-size",
                 "64", "--pricing", str(catalog), "--no-save")
    _clean_exit(result, 0)
    assert "Recommendation: Rent aws evil\\x0a\\x1b[31mFAKE (8 vCPU, us-east-1)" in result.output
    assert "\x1b" not in result.output
    # Every time the name is printed (the verdict, its warning, the table, the notes), it is printed whole
    shown = result.output.count("evil\\x0a\\x1b[31mFAKE")
    assert shown >= 4 and result.output.count("FAKE") == shown, result.output
