"""Data written raw to a file or pipe (CSV, JSON) has its control characters shown when it goes to a terminal."""

from __future__ import annotations

import io

from advisor.cli.console import TerminalText, for_terminal, safe_text, show_controls


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_control_characters_shown_and_plain_line_breaks():
    screen = _Terminal()
    stream = for_terminal(screen)
    assert isinstance(stream, TerminalText)
    text = 'name,seconds\r\n"\x1b]0;owned\x07evil\u202e",12\r\n'
    assert stream.write(text) == len(text)
    assert screen.getvalue() == 'name,seconds\n"\\x1b]0;owned\\x07evil\\u202e",12\n'


def test_a_file_or_pipe_gets_the_bytes_as_they_are():
    pipe = io.StringIO()
    assert for_terminal(pipe) is pipe


def test_history_export_to_a_terminal_shows_a_stored_names_control_characters(monkeypatch):
    import os
    from pathlib import Path

    from sqlalchemy import create_engine, update
    from typer.testing import CliRunner

    from advisor import api
    from advisor.cli.app import build_app
    from advisor.history.tables import WorkloadTable

    prof = api.load_profile(Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json")
    prof.workload.name = "evil"
    api.recommend(prof, dataset_size=5000, epochs=1, batch_size=64, top=2)
    # A name with control characters is refused on the way in now (workload.identity); a history written before
    # that (or by another tool) may still hold one, as stored here.
    engine = create_engine(os.environ["ADVISOR_DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(update(WorkloadTable).values(name="evil\x1b]0;owned\x07"))
    engine.dispose()
    runner = CliRunner()
    piped = runner.invoke(build_app(), ["history", "export"])
    assert piped.exit_code == 0 and "evil\x1b]0;owned\x07" in piped.output  # data, as stored
    monkeypatch.setattr("advisor.cli.console.for_terminal", lambda stream: TerminalText(stream))  # a terminal
    shown = runner.invoke(build_app(), ["history", "export"])
    assert shown.exit_code == 0 and "\x1b" not in shown.output and "evil\\x1b]0;owned\\x07" in shown.output
    assert shown.output.count("\n") == piped.output.count("\n")


def test_a_lone_surrogate_is_shown_not_a_unicode_encode_error():
    """A lone surrogate (a JSON escape) went to the console as it was, and no UTF-8 stream can write one."""
    assert safe_text("small\ud800cnn") == "small\\ud800cnn"
    assert show_controls("a\udfff\nb", multiline=True) == "a\\udfff\nb"
    stream = io.StringIO()
    TerminalText(stream).write("x\udbffy\n")
    assert stream.getvalue() == "x\\udbffy\n"
    assert stream.getvalue().encode("utf-8")  # writable now
