"""A SQLite history in a folder that may not be written (a CI artifact, a read-only mount) is told as such, with
the URL that reads it as it is (``immutable=1``), and that URL works; the URL the user gave is shown as given.

The commands run in a process without the permission to write the folder: as a user other than root, as it is;
as root, with the capabilities that override file permissions dropped (``setpriv``), else skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from history_helpers import sqlite_driver_error


def _unprivileged() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("root without setpriv: a read-only folder cannot be made here")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]


@contextlib.contextmanager
def _read_only(folder: Path) -> Iterator[Path]:
    """``folder`` may not be written while the block runs (then may again, for tmp_path's clean-up)."""
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)


@pytest.fixture
def read_only_history(tmp_path, _migrated_sqlite):
    folder = tmp_path / "ro"
    folder.mkdir()
    shutil.copyfile(_migrated_sqlite, folder / "h.db")
    with _read_only(folder):
        yield folder / "h.db"


def _advisor(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ADVISOR_DATABASE_URL": url}
    return subprocess.run([*_unprivileged(), sys.executable, "-m", "advisor", *args], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("url", ["sqlite:///{path}", "sqlite:///file:{path}?mode=ro&uri=true"])
def test_a_history_in_a_read_only_folder_says_so_and_how_to_read_it(read_only_history, url):
    given = url.format(path=read_only_history)
    run = _advisor(given, "history", "list", "--json")
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert f"Cannot use the history database {given}: the folder '{read_only_history.parent}' may not be " \
           "written" in run.stderr, run.stderr  # the URL as given: file:, not file%3A
    immutable = f"sqlite:///file:{read_only_history}?immutable=1&uri=true"
    assert f"Fix: to read it as it is, set ADVISOR_DATABASE_URL='{immutable}'" in run.stderr
    assert "may read and write the database file" not in run.stderr  # not the old advice, for a read
    listed = _advisor(immutable, "history", "list", "--json")  # the URL the hint gives reads it
    assert listed.returncode == 0, listed.stderr
    assert sorted(os.listdir(read_only_history.parent)) == ["h.db"]  # nothing was made beside it


def test_the_hint_names_the_file_of_a_uri_filename_too(tmp_path):
    path = tmp_path / "a folder" / "h.db"
    path.parent.mkdir()
    path.touch()  # a file there to read (one that does not exist yet is to be created: no URL reads it)
    err = sqlite_driver_error(f"sqlite:///file:{tmp_path}/a%20folder/h.db?mode=ro&uri=true",
                              "SQLITE_READONLY_DIRECTORY", "attempt to write a readonly database",
                              statement="PRAGMA journal_mode", message="Cannot use {where}: {detail}", hint="default")
    # (SQLAlchemy decodes the %20 of the URL it parses; "file:" stays, not "file%3A")
    assert err.message.startswith(f"Cannot use sqlite:///file:{path}?mode=ro&uri=true: the folder "
                                  f"{str(path.parent)!r} may not be written")
    assert err.message.endswith("(attempt to write a readonly database)")
    assert f"sqlite:///file:{tmp_path}/a%20folder/h.db?immutable=1&uri=true" in err.hint
    assert err.public == "The history database is unavailable: its folder is read-only."


def test_a_read_only_file_in_a_writable_folder_keeps_the_permissions_hint(tmp_path):
    err = sqlite_driver_error(f"sqlite:///{tmp_path / 'h.db'}", "SQLITE_READONLY",
                              "attempt to write a readonly database", hint="default")
    assert err.hint.startswith("Fix: check that you may read and write the database file and its folder")
    assert Path(tmp_path).is_dir()


@pytest.mark.parametrize("folder", ["d%41", "d?x=1", "d#e"])
def test_the_hints_url_reads_a_history_whose_path_holds_a_percent_or_question_mark(tmp_path, _migrated_sqlite,
                                                                                   folder):
    """The hint's immutable=1 URL for .../d%41/h.db named .../d%2541/h.db, which SQLAlchemy reads as "d%41" and
    SQLite's URI then as "dA": "unable to open database file". Both readings are undone now."""
    from advisor.history import read_only_folder
    from advisor.history.repository import History

    path = tmp_path / folder / "h.db"
    path.parent.mkdir()
    shutil.copyfile(_migrated_sqlite, path)
    hint = read_only_folder.hint(path)
    url = hint.split("ADVISOR_DATABASE_URL='", 1)[1].split("'", 1)[0]
    assert url.endswith("/h.db?immutable=1&uri=true"), url
    with History(url) as hist:
        assert hist.list() == []
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted([folder, "h.db"])


def test_a_new_history_in_a_read_only_folder_is_not_offered_a_file_to_read(tmp_path):
    """A history to be made in a folder that may not be written (a read-only CI cache, a mount) was told as a
    file there to read: "SQLite opens the history ... to read it too", with an immutable=1 URL of a file that
    does not exist. It is a file that cannot be created there, with where to put it instead."""
    folder = tmp_path / "ro"
    folder.mkdir()
    with _read_only(folder):
        run = _advisor(f"sqlite:///{folder / 'h.db'}", "db", "upgrade", "--json")
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    error = json.loads(run.stdout)["error"]
    assert error["message"] == (f"Cannot use the history database sqlite:///{folder / 'h.db'}: the folder "
                                f"'{folder}' may not be written, so the history file 'h.db' cannot be created there "
                                "(unable to open database file)")
    assert error["hint"].startswith("Fix: set ADVISOR_DATABASE_URL to a file in a folder you can write")
    assert "immutable" not in run.stderr and "to read it" not in run.stderr
    assert os.listdir(folder) == []


def test_sqlite_driver_error_is_database_errors_answer_to_the_named_error(tmp_path):
    # history_helpers.sqlite_driver_error: the error class sqlite3 names, raised by the statement, on the URL's engine
    from advisor.errors import DatabaseUnavailableError

    err = sqlite_driver_error(f"sqlite:///{tmp_path / 'h.db'}", "SQLITE_READONLY_DIRECTORY",
                              "attempt to write a readonly database", message="[{detail}]")
    assert isinstance(err, DatabaseUnavailableError)
    assert err.message == (f"[the folder '{tmp_path}' may not be written, so the history file 'h.db' cannot be "
                           "created there (attempt to write a readonly database)]")
    assert err.public == "The history database is unavailable: its folder is read-only."
