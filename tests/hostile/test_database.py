"""Database URLs and databases that cannot be used: a folder that cannot be made, a backend advisor does not
support, a full disk, a schema from a newer advisor. Each ends in one clear message and exit 1."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "history"))
from history_helpers import recommendation, sqlite_driver_error  # noqa: E402


def run(*args: str):
    return CliRunner().invoke(build_app(), list(args))


@pytest.mark.parametrize(("command", "said"), [
    (("history", "list"), "No history at sqlite:////proc/advisor-test/h.db: the file does not exist"),  # reads only
    (("db", "upgrade"), "Cannot create the folder '/proc/advisor-test'"),
])
def test_a_folder_that_cannot_be_made(user_error, monkeypatch, command, said):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", "sqlite:////proc/advisor-test/h.db")
    user_error(run(*command), said, "ADVISOR_DATABASE_URL")


def test_a_file_where_the_folder_should_be(user_error, monkeypatch, tmp_path):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'file' / 'h.db'}")
    user_error(run("db", "upgrade"), "Cannot create the folder")


def test_oracle_is_told_what_is_supported_not_to_install_postgres(user_error, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", "oracle://scott:tiger@db.example/orcl")
    out = user_error(run("history", "list"), "oracle", "SQLite", "PostgreSQL")
    assert "advisor[postgres]" not in out
    assert "tiger" not in out  # the password is not echoed


def test_a_backend_sqlalchemy_does_not_know(user_error, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", "nosuchdb://host/db")
    user_error(run("history", "list"), "'nosuchdb'", "SQLite", "PostgreSQL")


def _fill_to_the_limit(url: str, monkeypatch) -> int:
    """A database that cannot grow (SQLite's max_page_count at its size on every connection), written until
    it is full; returns a recommendation id to record against."""
    from sqlalchemy import event

    import advisor.history.repository as repository
    from advisor.errors import HistoryError

    original = repository.create_history_engine

    def capped(engine_url: str, **options):
        engine = original(engine_url, **options)

        @event.listens_for(engine, "connect")
        def _cap(dbapi_connection, _record) -> None:
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

        return engine

    with repository.History(url) as hist:
        rec_id = hist.save_recommendation(recommendation("m"))
    monkeypatch.setattr(repository, "create_history_engine", capped)
    with repository.History(url) as hist:
        for i in range(2000):
            try:
                hist.record_outcome(rec_id, 1000.0 + i)  # each another run: the same one twice is refused
            except HistoryError as exc:
                assert "full" in str(exc)
                return rec_id
    raise AssertionError("the capped database never filled up")


def test_a_full_disk_is_not_called_a_lock(user_error, monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'history.db'}"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    rec_id = _fill_to_the_limit(url, monkeypatch)
    out = user_error(run("history", "record", str(rec_id), "--actual-seconds", "999"),
                      "database or disk is full", "Nothing was written", "free some space")
    assert "lock" not in out


def test_database_error_hints_by_cause():
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    from advisor.history.engine import database_error

    engine = create_engine("sqlite://")

    def hint(orig: Exception) -> str:
        error = database_error(engine, OperationalError("INSERT", {}, orig), "{where} failed: {detail}", "default")
        return error.hint or ""

    class PgError(Exception):
        def __init__(self, message: str, pgcode: str) -> None:
            super().__init__(message)
            self.pgcode = pgcode

    full = sqlite3.OperationalError("database or disk is full")
    assert "free some space" in hint(full) and "lock" not in hint(full)
    assert "free some space" in hint(PgError("could not extend file", "53100"))
    assert "lock" in hint(PgError("could not obtain lock", "55P03"))
    assert hint(ValueError("something else")) == "default"


def _newer_database(tmp_path: Path, monkeypatch) -> Path:
    from advisor.history.migrate import upgrade

    path = tmp_path / "history.db"
    upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{path}")
    return path


@pytest.mark.parametrize("command", [("db", "upgrade"), ("history", "list")])
def test_a_database_from_a_newer_advisor(user_error, tmp_path, monkeypatch, command):
    path = _newer_database(tmp_path, monkeypatch)
    # The database is named: with several ADVISOR_DATABASE_URLs in a rolling upgrade, which one is ahead.
    user_error(run(*command), f"The history database sqlite:///{path} is at schema revision '9999'",
               "newer advisor", "upgrade advisor")


@pytest.mark.parametrize("stored", ["", "   ", "oops, see ticket 42", "0003\n"])
@pytest.mark.parametrize("command", [("db", "upgrade"), ("history", "list")])
def test_a_version_row_that_holds_no_revision_is_damage_not_a_newer_advisor(user_error, tmp_path, monkeypatch,
                                                                             stored, command):
    path = _newer_database(tmp_path, monkeypatch)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (stored,))
    out = user_error(run(*command), f"The history database sqlite:///{path} has a damaged schema version: its "
                                    f"alembic_version row holds {stored!r}, which is not a revision id",
                     "UPDATE alembic_version SET version_num = '0003'")
    assert "newer advisor" not in out


def test_the_default_folder_that_cannot_be_made_names_where_it_comes_from(monkeypatch, tmp_path):
    # ADVISOR_DATABASE_URL is unset, so "unset it for the default" cannot help: the default itself failed.
    (tmp_path / "file").write_text("x")
    monkeypatch.delenv("ADVISOR_DATABASE_URL")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "file"))
    result = run("db", "upgrade")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "Cannot create the folder" in result.output
    assert "default location" in result.output and "XDG_DATA_HOME" in result.output
    assert "--no-save" in result.output
    assert "unset it" not in result.output


def test_a_chosen_folder_that_cannot_be_made_still_offers_the_default(monkeypatch, tmp_path):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'file' / 'h.db'}")
    result = run("db", "upgrade")
    assert result.exit_code == 1, result.output
    assert "unset it for the default" in result.output


def test_sqlite_uri_options_on_a_plain_path_are_refused_not_ignored(user_error, monkeypatch, tmp_path):
    """An audit: ?mode=ro without ?uri=true was dropped by the driver, and the "read-only" history was written to;
    with ?uri=true on a plain path, SQLite wrote a new file named 'h.db?mode=ro'."""
    from advisor.history.repository import History

    db = tmp_path / "h.db"
    with History(f"sqlite:///{db}") as hist:
        hist.create()
        hist.save_recommendation(recommendation("baseline"))
    profile = Path(__file__).resolve().parent / "data" / "tabular_profile.json"
    for url in (f"sqlite:///{db}?mode=ro", f"sqlite:///{db}?mode=ro&uri=true", f"sqlite:///{db}?cache=shared"):
        monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
        option = url.split("?")[1].split("=")[0]
        for command in (("history", "list"),
                        ("recommend", "--profile", str(profile), "--dataset-size", "1000", "--epochs", "1")):
            out = " ".join(user_error(run(*command), "gives SQLite URI options", one_message=True).split())
            assert f"({option})" in out and f"sqlite:///file:{db}?{option}=" in out and "&uri=true" in out, out
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM recommendations").fetchone() == (1,)  # nothing written
    assert [p.name for p in tmp_path.iterdir() if "?" in p.name] == []  # no 'h.db?mode=ro'
    # the form the message gives reads the history, and a write to it fails as one to a read-only file
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///file:{db}?mode=ro&uri=true")
    listed = run("history", "list")
    assert listed.exit_code == 0 and "baseline" in listed.output, listed.output
    user_error(run("recommend", "--profile", str(profile), "--dataset-size", "1000", "--epochs", "1"), "readonly")
    # the driver's own options stay plain-path options
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{db}?timeout=5")
    assert run("history", "list").exit_code == 0


def test_a_full_disk_that_stops_the_wal_index_growing_is_told_as_a_full_disk(tmp_path):
    """On a full disk SQLite fails to open a WAL history with "disk I/O error" (SQLITE_IOERR_SHMSIZE: no room to
    grow its ``-shm`` index, "generally because the disk is full", SQLite's words); that was told with "check
    ADVISOR_DATABASE_URL", and a CI runner's full disk read as a wrong URL."""
    err = sqlite_driver_error(f"sqlite:///{tmp_path / 'h.db'}", "SQLITE_IOERR_SHMSIZE", "disk I/O error",
                              statement="SELECT", message="Cannot use the history database {where}: {detail}",
                              hint="Fix: check ADVISOR_DATABASE_URL.")
    assert err.message.endswith(": disk I/O error (no space to grow its index file 'h.db-shm': the disk is full)")
    assert err.hint.startswith("Fix: free some space on the disk that holds the database")
    assert err.public == "The history database is unavailable: its disk is full."
