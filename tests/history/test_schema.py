"""The migrations create exactly the tables' metadata; the schema is created on first use; engines are set
up as promised (SQLite WAL + busy timeout, the default file in the user data dir)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from history_helpers import at_0001
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from advisor.errors import DatabaseUnavailableError, HistoryError
from advisor.history import migrate
from advisor.history.engine import create_history_engine, display_url, sqlite_file_missing
from advisor.history.repository import History
from advisor.history.tables import Base
from advisor.settings import Settings


def test_head_constant_matches_versions_folder():
    assert migrate.script_head() == migrate.HEAD_REVISION


def test_migrated_schema_equals_metadata(fresh_db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    assert migrate.upgrade(fresh_db_url) == migrate.HEAD_REVISION
    engine = create_history_engine(fresh_db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(ctx, Base.metadata)
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert diffs == []
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


def test_upgrade_is_idempotent_and_reports_revision(fresh_db_url):
    assert migrate.current_revision(fresh_db_url) is None
    assert migrate.upgrade(fresh_db_url) == "0003"
    assert migrate.upgrade(fresh_db_url) == "0003"
    assert migrate.current_revision(fresh_db_url) == "0003"


def test_downgrade_then_upgrade(fresh_db_url):
    migrate.upgrade(fresh_db_url)
    from alembic import command

    engine = create_history_engine(fresh_db_url)
    try:
        with engine.connect() as conn:
            command.downgrade(migrate._config(connection=conn), "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    assert migrate.upgrade(fresh_db_url) == "0003"


def test_first_use_creates_the_schema(fresh_db_url):
    with History(fresh_db_url) as hist:
        hist.create()  # as a first save does: a read of a SQLite file not yet made is refused (test_missing_file)
        assert hist.list() == []
    assert migrate.current_revision(fresh_db_url) == migrate.HEAD_REVISION


def test_first_use_does_not_run_alembic_when_at_head(fresh_db_url, monkeypatch):
    migrate.upgrade(fresh_db_url)

    def boom(*a, **k):
        raise AssertionError("upgrade ran although the database is at head")

    monkeypatch.setattr(migrate, "upgrade_engine", boom)
    with History(fresh_db_url) as hist:
        assert hist.list() == []


def test_database_from_a_newer_advisor_is_refused(fresh_db_url):
    migrate.upgrade(fresh_db_url)
    engine = create_history_engine(fresh_db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with History(fresh_db_url) as hist, pytest.raises(DatabaseUnavailableError, match="newer advisor") as err:
        hist.list()
    # The database named for its user; nothing of it for a caller of advisor serve (a 503, as for an outage).
    assert err.value.message.startswith(f"The history database {display_url(make_url(fresh_db_url))} is at schema "
                                        "revision '9999'")
    assert err.value.public == "The history database is unavailable: its schema is from a newer advisor."


def test_sqlite_engine_uses_wal_and_busy_timeout(tmp_path):
    url = f"sqlite:///{tmp_path / 'a' / 'b' / 'history.db'}"
    engine = create_history_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
    assert (tmp_path / "a" / "b" / "history.db").exists()


def test_default_database_is_in_the_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("ADVISOR_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    settings = Settings.from_env()
    assert settings.database_url is None
    with History(settings=settings) as hist:
        assert hist.list() == []
        assert hist.url.startswith("sqlite:///")
    files = list(tmp_path.rglob("history.db"))
    assert len(files) == 1 and "advisor" in files[0].parts


@pytest.mark.parametrize("folder", ["data%41b", "data?x=1", "data #b @c é"])
def test_the_default_database_is_where_its_folder_says(tmp_path, monkeypatch, folder):
    """The default URL was the path as it is: a "%41" in it was read as "A" (a history in another folder) and a "?"
    as SQLite URI options, refused though the user gave no URL."""
    if sys.platform != "linux":
        pytest.skip("the default history follows XDG_DATA_HOME on Linux only")
    monkeypatch.delenv("ADVISOR_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / folder))
    with History(settings=Settings.from_env()) as hist:
        assert hist.list() == []
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("history.db")] == [
        Path(folder, "advisor", "history.db")]


def test_environment_variable_picks_the_database(fresh_db_url):
    # The fixture also set ADVISOR_DATABASE_URL.
    with History() as hist:
        assert hist.url == fresh_db_url


def test_unreachable_server_is_a_history_error():
    with History("postgresql+psycopg2://postgres@127.0.0.1:1/nope?connect_timeout=2") as hist:
        with pytest.raises(HistoryError) as info:
            hist.list()
    assert "Fix:" in str(info.value)


def test_bad_url_is_a_history_error():
    with pytest.raises(HistoryError, match="not a database URL"):
        History("not a url")


def test_in_memory_sqlite_works():
    with History("sqlite://") as hist:
        assert hist.list() == []


def test_plain_postgresql_url_uses_the_installed_driver():
    """postgresql:// means psycopg 3 to SQLAlchemy 2.1; advisor[postgres] installs psycopg2: use what is there."""
    from importlib.util import find_spec

    engine = create_history_engine("postgresql://postgres@127.0.0.1:5432/test")
    try:
        expected = "psycopg" if find_spec("psycopg") is not None else "psycopg2"
        assert engine.dialect.driver == expected
    finally:
        engine.dispose()


def test_a_server_that_never_answers_fails_within_the_connect_timeout(monkeypatch):
    """A PostgreSQL URL without ?connect_timeout= gets advisor's: a host that takes the connection and never
    answers (a stalled proxy, a host cut off) is a HistoryError, not a hang."""
    import socket
    import time
    from concurrent.futures import ThreadPoolExecutor

    from advisor.history import engine

    monkeypatch.setattr(engine, "CONNECT_TIMEOUT_SECONDS", 2)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes the handshake; nothing ever reads or answers
    def listed() -> BaseException | None:
        with History(f"postgresql+psycopg2://postgres@127.0.0.1:{silent.getsockname()[1]}/nope") as hist:
            try:
                hist.list()
            except HistoryError as exc:
                return exc
        return None

    # In a thread, so that a hang fails the test instead of stopping the suite (closing the socket ends it).
    pool = ThreadPoolExecutor(1)
    try:
        started = time.monotonic()
        error = pool.submit(listed).result(timeout=20)
        assert time.monotonic() - started < 20
    finally:
        silent.close()
        pool.shutdown()
    assert isinstance(error, HistoryError) and "Fix:" in str(error)


def test_a_job_of_more_than_2_31_epochs_or_samples_a_batch_is_stored(fresh_db_url):
    # The flags take counts up to 10^12; PostgreSQL's INTEGER stopped at 2^31 - 1 (a driver traceback on save).
    from history_helpers import recommendation

    big = 5_000_000_000
    with History(fresh_db_url) as hist:
        rid = hist.save_recommendation(recommendation(epochs=big, batch_size=big))
        shown = hist.show(rid)
    assert (shown.recommendation.epochs, shown.recommendation.batch_size) == (big, big)


def test_the_upgrade_from_0001_keeps_every_row(fresh_db_url, monkeypatch):
    from alembic import command
    from history_helpers import recommendation

    engine = create_history_engine(fresh_db_url)
    try:
        with engine.connect() as conn:
            command.upgrade(migrate._config(connection=conn), "0001")
    finally:
        engine.dispose()
    monkeypatch.setattr(migrate, "HEAD_REVISION", "0001")  # write at 0001, as a history made before 0002 was
    with History(fresh_db_url) as hist:
        rid = hist.save_recommendation(recommendation(n=5))
        hist.record_outcome(rid, 100.0)
    monkeypatch.undo()
    assert migrate.upgrade(fresh_db_url) == "0003"
    with History(fresh_db_url) as hist:
        shown = hist.show(rid)
    assert len(shown.recommendation.candidates) == 5 and len(shown.outcomes) == 1


def test_a_name_longer_than_the_old_varchar_is_stored_on_every_backend(fresh_db_url):
    """Migration 0003: a 300-character host, device or workload name, or a 150-character instance type from a
    pricing file, is stored on PostgreSQL as on SQLite (it was "value too long for type character varying")."""
    from history_helpers import candidate, profile, recommendation

    long_host, long_device, long_instance = "h" * 300, "D" * 300, "i" * 150
    prof = profile(name="w" * 200)  # the longest a profile holds (a stored answer's may be longer: below)
    prof.host.hostname = long_host
    prof.devices[0].name = long_device
    prof.workload.optimizer = "O" * 150
    cand = candidate(0, instance_type=long_instance, provider="p" * 80, region="r" * 80)
    rec = recommendation(name="w" * 250, n=1, chosen=0).model_copy(
        update={"candidates": [cand], "chosen": cand, "best_per_tier": {"cpu": cand}, "best_per_provider": {}})
    with History(fresh_db_url) as hist:
        rid = hist.save_recommendation(rec, profile=prof)
        hist.record_outcome(rid, 1000.0, instance_type=long_instance)
        shown = hist.show(rid)
        rows = hist.training_rows()
    assert shown.recommendation.chosen.instance_type == long_instance
    assert shown.recommendation.workload.name == "w" * 250
    assert [o.instance_type for o in shown.outcomes] == [long_instance]
    assert len(rows) == 1 and rows[0].actual_seconds == 1000.0
    with create_history_engine(fresh_db_url).connect() as conn:
        stored = conn.execute(text("select hostname from profiles")).scalar_one()
        device = conn.execute(text("select device_name from measurements limit 1")).scalar_one()
    assert (stored, device) == (long_host, long_device)


@pytest.mark.parametrize("url", ["sqlite:///{tmp}/h.db ", " sqlite:///{tmp}/h.db", "sqlite:///{tmp}/h.db\n"])
def test_url_with_a_space_at_an_end_is_refused(tmp_path, url):
    url = url.format(tmp=tmp_path)
    with pytest.raises(HistoryError, match="not a database URL: it starts or ends with a space") as info:
        History(url)
    assert repr(url) in info.value.message
    assert list(tmp_path.iterdir()) == []
    assert sqlite_file_missing(url) is False  # left for the engine to refuse, not read as "no history yet"


def test_a_tilde_in_a_sqlite_path_is_the_home_folder_for_the_driver_too(tmp_path, monkeypatch):
    """The folder was made under the home folder, and the driver then asked for "~/..." and could not open it."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    with History("sqlite:///~/advisor/history.db") as hist:
        with pytest.raises(HistoryError, match="No history at"):  # a read makes nothing; a first write does
            hist.list()
        hist.create()
        assert hist.list() == []
    assert (tmp_path / "home" / "advisor" / "history.db").is_file()
    assert not (tmp_path / "~").exists()


def test_a_uri_filename_makes_no_folders_here(tmp_path, monkeypatch):
    """``file:`` names are SQLite's URIs: no "file:/..." folder tree in the working folder."""
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    with History(f"sqlite:///file:{tmp_path}/h.db?mode=rwc&uri=true") as hist:
        assert hist.list() == []
    assert (tmp_path / "h.db").is_file()
    with pytest.raises(HistoryError, match=r"without \?uri=true") as info:
        History(f"sqlite:///file:{tmp_path}/other.db")
    assert "Fix: add ?uri=true" in info.value.hint
    assert list(here.iterdir()) == []


@pytest.mark.parametrize(("make", "words"), [
    (lambda p: p.write_bytes(b"SQLite format 3\x00x"), "is not a SQLite database, or is corrupt"),
    (lambda p: p.write_text("hello\n"), "is not a SQLite database, or is corrupt"),
    (lambda p: p.mkdir(), "is a folder, not a database file"),
])
def test_a_path_that_is_not_a_sqlite_file_is_named_as_such(tmp_path, make, words):
    """Not "check ADVISOR_DATABASE_URL (and that the server is running)", nor a bare "unable to open"."""
    path = tmp_path / "history.db"
    make(path)
    with pytest.raises(HistoryError) as info:
        History(f"sqlite:///{path}").list()
    assert f"{str(path)!r} {words}" in info.value.message
    assert "server" not in info.value.hint and "Fix: point ADVISOR_DATABASE_URL at a SQLite database file" in \
        info.value.hint
    assert info.value.public == "The history database is unavailable: its file is not a SQLite database."


@pytest.mark.parametrize("command", [("history", "list"), ("db", "upgrade")])
def test_a_corrupt_default_history_is_to_be_moved_aside_not_unset(tmp_path, monkeypatch, command):
    """The default file is what is used with nothing set: "unset it for the default file" could not be followed."""
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    monkeypatch.delenv("ADVISOR_DATABASE_URL")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "my data"))
    if sys.platform != "linux":
        pytest.skip("the default history follows XDG_DATA_HOME on Linux only")
    path = tmp_path / "my data" / "advisor" / "history.db"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 40)
    result = CliRunner().invoke(build_app(), list(command))
    assert result.exit_code == 1, result.output
    said = " ".join(result.output.split())
    assert f"{str(path)!r} is not a SQLite database, or is corrupt" in said
    assert (f"Fix: this is the default history file (used where ADVISOR_DATABASE_URL is unset): move it aside to "
            f"start a new one (mv '{path}' '{path}.bad'), set ADVISOR_DATABASE_URL to another file, or pass "
            "--no-save to recommend or predict without a history.") in said
    assert "unset it" not in result.output



MIGRATED = ("migrated the history database from revision 0001 to 0003; advisor versions before this one can no "
            "longer open it\n")


def test_a_read_that_migrates_a_database_says_so_once_on_stderr(fresh_db_url, capsys):
    """Any first use migrates, reads included, and an older advisor then refuses the database: a shared one was
    moved with nothing printed. One stderr line when it moves; none at head, none for a new database's schema."""
    at_0001(fresh_db_url)
    with History(fresh_db_url) as hist:
        assert hist.list() == []
    assert capsys.readouterr() == ("", MIGRATED)
    with History(fresh_db_url) as hist:
        hist.list()
    assert capsys.readouterr().err == ""
    assert migrate.upgrade_from(fresh_db_url) == ("0003", "0003")
    assert capsys.readouterr().err == ""


def test_a_new_databases_schema_is_not_announced(fresh_db_url, capsys):
    with History(fresh_db_url) as hist:
        hist.create()  # a new SQLite file is made by a first write (a read of a missing one is refused)
        hist.list()
    assert capsys.readouterr().err == ""


def test_db_upgrade_says_from_which_revision_and_json_stays_on_stdout(fresh_db_url):
    import json

    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    def run(*args):
        result = CliRunner().invoke(build_app(), ["db", "upgrade", *args])
        assert result.exit_code == 0, result.output
        return result

    at_0001(fresh_db_url)
    first = run("--json")
    assert first.stderr == MIGRATED
    got = json.loads(first.stdout)
    assert (got["previous_revision"], got["revision"], got["migrated"]) == ("0001", "0003", True)
    again = run("--json")
    assert again.stderr == "" and json.loads(again.stdout)["migrated"] is False
    assert run().stdout.endswith(" is already at revision 0003.\n")
    at_0001(fresh_db_url)  # back down, then the text
    text = run()
    assert text.stdout.endswith(": revision 0001 -> 0003.\n") and text.stderr == MIGRATED
