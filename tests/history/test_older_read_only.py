"""An older SQLite history that may not be written here (``?mode=ro``, ``?immutable=1``, a read-only file or folder)
is read as it is where the pending migrations change nothing on SQLite (0002 and 0003 retype columns on PostgreSQL
only), and a command that would migrate it says that migrating writes and how to do it on a copy, never the URL
already in use."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from history_helpers import at_0001, recommendation, sqlite_driver_error
from sqlalchemy import text
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.errors import DatabaseUnavailableError
from advisor.history import migrate
from advisor.history.engine import create_history_engine
from advisor.history.repository import History


def _schema(path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE "
                                   "'alembic%'").fetchall())


@pytest.fixture
def old_history(tmp_path, monkeypatch):
    """A SQLite file at revision 0001 holding one recommendation (id 1), its WAL checkpointed into the file."""
    path = tmp_path / "old.db"
    at_0001(f"sqlite:///{path}")
    with monkeypatch.context() as patch:
        patch.setattr(migrate, "HEAD_REVISION", "0001")  # write at 0001, as a history made before 0002 was
        with History(f"sqlite:///{path}") as hist:
            hist.save_recommendation(recommendation("resnet", n=3))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def test_the_migrations_that_say_they_change_nothing_on_sqlite_change_nothing(tmp_path):
    path = tmp_path / "h.db"
    at_0001(f"sqlite:///{path}")
    before = _schema(path)
    assert migrate.no_op_upgrade("sqlite", "0001") and not migrate.no_op_upgrade("postgresql", "0001")
    assert migrate.upgrade(f"sqlite:///{path}") == "0003"
    assert _schema(path) == before


@pytest.mark.parametrize("options", ["mode=ro", "immutable=1"])
def test_an_older_history_opened_read_only_is_read_as_it_is(old_history, options, monkeypatch):
    url = f"sqlite:///file:{old_history}?{options}&uri=true"
    digest = hashlib.sha256(old_history.read_bytes()).hexdigest()
    with History(url) as hist:
        listed = hist.list()
        assert [r.workload for r in listed] == ["resnet"]
        assert len(hist.show(listed[0].id).recommendation.candidates) == 3
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    result = CliRunner().invoke(build_app(), ["history", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # nothing was migrated, so nothing is announced
    assert hashlib.sha256(old_history.read_bytes()).hexdigest() == digest
    assert migrate.current_revision(f"sqlite:///{old_history}") == "0001"


@pytest.mark.parametrize("options", ["mode=ro", "immutable=1"])
def test_migrating_an_older_history_that_may_not_be_written_says_to_do_it_on_a_copy(old_history, options,
                                                                                     monkeypatch):
    url = f"sqlite:///file:{old_history}?{options}&uri=true"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    result = CliRunner().invoke(build_app(), ["db", "upgrade"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: Migrating the history database {url} from revision 0001 to 0003 failed: attempt to write a "
        "readonly database. Nothing was changed: it is still at revision 0001.\n"
        "Fix: this history is at revision 0001, older than this advisor's 0003, and migrating it writes to it: copy "
        "the file to a folder you can write, point ADVISOR_DATABASE_URL at the copy and run `advisor db upgrade` (or "
        "make the file and its folder writable).\n")
    with pytest.raises(DatabaseUnavailableError) as err, History(url) as hist:
        hist.create()  # a write migrates first
    assert err.value.hint.startswith("Fix: this history is at revision 0001, older than this advisor's 0003")
    assert migrate.current_revision(f"sqlite:///{old_history}") == "0001"


def test_a_read_only_folder_hint_never_gives_the_immutable_url_already_in_use(tmp_path):
    (tmp_path / "h.db").touch()  # the file the URL reads (one that does not exist is to be created elsewhere)
    err = sqlite_driver_error(f"sqlite:///file:{tmp_path}/h.db?immutable=1&uri=true", "SQLITE_READONLY_DIRECTORY",
                              "attempt to write a readonly database")
    assert "immutable=1&uri=true'" not in err.hint
    assert err.hint == ("Fix: this URL (immutable=1) reads the file as it is and never writes it; to save to it, make "
                        "the folder writable, or copy the file to a folder you can write and point "
                        "ADVISOR_DATABASE_URL there.")


def test_a_read_of_an_older_history_that_may_be_written_still_migrates_it(old_history):
    with History(f"sqlite:///{old_history}") as hist:
        assert len(hist.list()) == 1
    engine = create_history_engine(f"sqlite:///{old_history}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"
    engine.dispose()
