"""``history export -o`` to places that cannot take a file: one clear message, exit 1, no traceback; and the
file is written atomically (nothing under its name, and no temporary file, when the export fails midway)."""

from __future__ import annotations

import sys
from pathlib import Path

from history_helpers import recommendation  # on sys.path through this folder's conftest
from typer.testing import CliRunner

from advisor.cli.app import build_app


def _export(*args: str):
    return CliRunner().invoke(build_app(), ["history", "export", *args])


def test_missing_folder(user_error, saved_history, tmp_path):
    user_error(_export("-o", str(tmp_path / "nope" / "h.csv")), "does not exist", one_message=True)


def test_a_folder_in_place_of_the_file(user_error, saved_history, tmp_path):
    (tmp_path / "out").mkdir()
    user_error(_export("-o", str(tmp_path / "out")), "folder", one_message=True)


def test_proc(user_error, saved_history):
    user_error(_export("-o", "/proc/advisor-history.csv"), "/proc", one_message=True)


def test_failure_midway_leaves_nothing(user_error, saved_history, tmp_path, monkeypatch):
    from advisor.errors import HistoryError
    from advisor.history.repository import History

    def broken(self, fmt, out=None, **kw):
        out.write("recommendation_id,half a row")
        raise HistoryError("The history database failed midway.")

    monkeypatch.setattr(History, "export", broken)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "h.csv").write_text("the previous export\n")
    user_error(_export("-o", str(out_dir / "h.csv")), "failed midway", one_message=True)
    assert [p.name for p in out_dir.iterdir()] == ["h.csv"]
    assert (out_dir / "h.csv").read_text() == "the previous export\n"


def test_success_leaves_only_the_file(saved_history, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = _export("--format", "json", "-o", str(out_dir / "h.json"))
    assert result.exit_code == 0, result.output
    assert [p.name for p in out_dir.iterdir()] == ["h.json"]
    assert '"workload": "m"' in (out_dir / "h.json").read_text()


def test_the_history_database_itself_is_refused(user_error, saved_history, tmp_path):
    """-o onto the database's own path exited 0 and replaced the whole history with its CSV."""
    path = tmp_path / "history.db"
    user_error(_export("-o", str(path)), "a SQLite database (the history's own, say); writing there would replace "
               "the database with the output", one_message=True)
    assert path.read_bytes().startswith(b"SQLite format 3\x00")


def test_a_link_is_written_through_and_a_private_file_stays_private(saved_history, tmp_path):
    import os
    import stat

    real, link = tmp_path / "real.csv", tmp_path / "link.csv"
    real.write_text("old\n")
    real.chmod(0o600)
    link.symlink_to(real)
    res = _export("-o", str(link))
    assert res.exit_code == 0, res.output
    assert link.is_symlink() and os.readlink(link) == str(real)  # the link stays; its target has the export
    assert real.read_text().startswith("recommendation_id,")
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


def test_a_named_pipe_is_written_into_not_replaced(saved_history, tmp_path):
    import os
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    res = _export("-o", str(fifo))
    reader.join(10)
    assert res.exit_code == 0, res.output
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the pipe, not a regular file put in its place
    assert got and got[0].startswith(b"recommendation_id,")


def test_csv_on_standard_output_keeps_names_whatever_its_encoding(tmp_path):
    """With PYTHONIOENCODING=ascii, CSV to a pipe wrote 'mod?le' for 'modèle' and exit 0: the terminal's '?'
    corrupted a data export. It is now UTF-8, as a file written with -o is."""
    import os
    import subprocess

    from advisor.history.repository import History

    url = f"sqlite:///{tmp_path / 'history.db'}"
    with History(url) as hist:
        hist.save_recommendation(recommendation("modèle"))
    repo = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "ADVISOR_DATABASE_URL": url, "PYTHONIOENCODING": "ascii",
           "PYTHONPATH": os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH", "")) if p)}
    done = subprocess.run([sys.executable, "-c", "from advisor.cli.app import main; main()", "history", "export",
                           "--format", "csv"], capture_output=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "modèle".encode() in done.stdout
    assert b"mod?le" not in done.stdout
