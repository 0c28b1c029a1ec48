"""A database that is not an advisor history (another program's tables, no schema version) is refused, and nothing
is added to it: advisor creates its tables in an empty database on first use, and beside another program's only
when asked to by ``advisor db upgrade``."""

from __future__ import annotations

import pytest
from history_helpers import table_names
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.errors import DatabaseUnavailableError
from advisor.history import migrate
from advisor.history.engine import create_history_engine
from advisor.history.repository import History
from advisor.history.tables import Base


def _make(url: str, *statements: str) -> None:
    engine = create_history_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def test_another_programs_database_is_not_read_as_an_empty_history_nor_added_to(fresh_db_url):
    _make(fresh_db_url, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
          "INSERT INTO users VALUES (1, 'alice')")
    for use in (lambda h: h.list(), lambda h: h.create()):
        with pytest.raises(DatabaseUnavailableError) as err, History(fresh_db_url) as hist:
            use(hist)
        assert err.value.message == (
            f"The database {make_url(fresh_db_url)} does not hold an advisor history: it holds "
            "other tables (users) and none of advisor's, so advisor did not add its tables to it.")
        assert err.value.hint == (
            "Fix: point ADVISOR_DATABASE_URL at another database, or an empty one (a new SQLite file starts a "
            "history); to keep the history in this database beside its tables, run `advisor db upgrade` once, "
            "which creates advisor's tables there.")
        assert err.value.public == "The history database is unavailable: it does not hold an advisor history."
    result = CliRunner().invoke(build_app(), ["history", "list"])
    assert result.exit_code == 1 and "does not hold an advisor history" in result.stderr, result.output
    assert table_names(fresh_db_url) == {"users"}

    result = CliRunner().invoke(build_app(), ["db", "upgrade"])  # asked for: the history beside the users
    assert result.exit_code == 0, result.output
    assert table_names(fresh_db_url) == {"users", migrate.VERSION_TABLE, *Base.metadata.tables}
    with History(fresh_db_url) as hist:
        assert hist.list() == []


def test_a_message_names_at_most_five_of_the_other_tables(fresh_db_url):
    _make(fresh_db_url, *(f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY)" for i in range(7)))
    with pytest.raises(DatabaseUnavailableError, match=r"other tables \(t0, t1, t2, t3, t4 and 2 more\)"):
        History(fresh_db_url).list()


def test_an_empty_database_still_gets_the_history_on_first_use(fresh_db_url):
    with History(fresh_db_url) as hist:
        hist.create()
        assert hist.list() == []
    assert table_names(fresh_db_url) == {migrate.VERSION_TABLE, *Base.metadata.tables}


@pytest.mark.parametrize("statements, why", [
    (("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)",
      "CREATE TABLE profiles (id INTEGER PRIMARY KEY, customer_id INTEGER, bio TEXT)"),
     "the columns of profiles are not advisor's"),
    (("CREATE TABLE workloads (id INTEGER PRIMARY KEY, job TEXT, cron TEXT)",),
     "the columns of workloads are not advisor's"),
    (("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)", "WORKLOADS"),
     "it also holds tables that are not advisor's (customers)"),
])
def test_another_programs_table_of_an_advisor_name_is_never_to_be_dropped(fresh_db_url, statements, why):
    engine = create_history_engine(fresh_db_url)
    with engine.begin() as conn:
        for statement in statements:
            if statement == "WORKLOADS":  # advisor's own workloads table, beside another program's
                Base.metadata.tables["workloads"].create(conn)
            else:
                conn.execute(text(statement))
    engine.dispose()
    before = table_names(fresh_db_url)
    ours = sorted(before & set(Base.metadata.tables))
    for attempt in (lambda: History(fresh_db_url).list(), lambda: migrate.upgrade(fresh_db_url)):
        with pytest.raises(DatabaseUnavailableError) as err:
            attempt()
        assert err.value.message == (
            f"The database {make_url(fresh_db_url)} holds tables named like advisor's ({', '.join(ours)}) and no "
            f"schema version (alembic_version), but {why}: it belongs to another program, and is no advisor history.")
        assert err.value.hint == (
            "Fix: point ADVISOR_DATABASE_URL at another database (an empty one, or a new SQLite file, starts a "
            "history); leave this one's tables as they are: they are not advisor's to drop.")
        assert "delete" not in err.value.hint and "drop those" not in err.value.hint
        assert err.value.public == "The history database is unavailable: it belongs to another program."
    assert table_names(fresh_db_url) == before


@pytest.mark.parametrize("revision", ["9f3e2a1b7c4d", "ae1027a6acf"])
def test_another_applications_alembic_revision_is_not_a_newer_advisor(fresh_db_url, revision):
    _make(fresh_db_url, "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
          f"INSERT INTO alembic_version VALUES ('{revision}')", "CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    result = CliRunner().invoke(build_app(), ["history", "list"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: The database {make_url(fresh_db_url)} holds another application's alembic revision '{revision}' in "
        "alembic_version (advisor's are four digits, 0001 to 0003): it is not an advisor history.\n"
        "Fix: point ADVISOR_DATABASE_URL at another database (an empty one, or a new SQLite file, starts a history)"
        + (", or keep the history in a schema of its own in this database (CREATE SCHEMA advisor, then "
           "?options=-csearch_path%3Dadvisor in the URL)" if fresh_db_url.startswith("postgresql") else "")
        + "; advisor keeps its own schema version in alembic_version, so it cannot share this one.\n")
    with pytest.raises(DatabaseUnavailableError) as err:
        migrate.upgrade(fresh_db_url)
    assert "upgrade advisor" not in err.value.hint and "newer advisor" not in err.value.message
    assert err.value.public == "The history database is unavailable: it holds another application's schema."
    assert table_names(fresh_db_url) == {"alembic_version", "invoices"}


def test_the_hint_for_another_applications_revision_works_on_postgresql(postgres_url, monkeypatch):
    """What the hint tells a team with one PostgreSQL database: a schema of advisor's own, named in the URL's
    search_path, holds the history beside the other application's alembic_version, which is left as it was."""
    _make(postgres_url, "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
          "INSERT INTO alembic_version VALUES ('9f3e2a1b7c4d')")
    other = f"{postgres_url.rsplit('search_path%3D', 1)[1]}_advisor"
    _make(postgres_url, f'CREATE SCHEMA "{other}"')
    own = f"{postgres_url.rsplit('search_path%3D', 1)[0]}search_path%3D{other}"
    try:
        monkeypatch.setenv("ADVISOR_DATABASE_URL", own)
        result = CliRunner().invoke(build_app(), ["history", "list"])
        assert result.exit_code == 0, result.stderr
        assert "nothing stored yet" in result.stdout
        assert "recommendations" in table_names(own)
        engine = create_history_engine(postgres_url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "9f3e2a1b7c4d"
        engine.dispose()
    finally:
        _make(postgres_url, f'DROP SCHEMA "{other}" CASCADE')


@pytest.mark.parametrize("order", [("0001", "0003"), ("0003", "0001")])
def test_a_version_table_with_two_rows_is_damage_whichever_row_comes_first(fresh_db_url, order):
    migrate.upgrade(fresh_db_url)
    _make(fresh_db_url, "DELETE FROM alembic_version",
          *(f"INSERT INTO alembic_version VALUES ('{revision}')" for revision in order))
    for command in (["history", "list"], ["db", "upgrade"]):
        result = CliRunner().invoke(build_app(), command)
        assert result.exit_code == 1, result.output
        assert result.stderr == (
            f"error: The history database {make_url(fresh_db_url)} has a damaged schema version: its alembic_version "
            "table holds 2 rows ('0001', '0003'), where it holds one revision id, so advisor cannot tell which schema "
            "its tables have.\n"
            "Fix: restore the database from a backup; or, if its tables are this advisor's newest schema, leave one "
            "row holding it (DELETE FROM alembic_version; INSERT INTO alembic_version VALUES ('0003')); or point "
            "ADVISOR_DATABASE_URL at another database.\n")
    with pytest.raises(DatabaseUnavailableError) as err, History(fresh_db_url) as hist:
        hist.list()
    assert err.value.public == "The history database is unavailable: its schema version is damaged."


def test_a_table_missing_at_head_is_told_as_a_damaged_schema(fresh_db_url):
    migrate.upgrade(fresh_db_url)
    cascade = "" if fresh_db_url.startswith("sqlite") else " CASCADE"
    _make(fresh_db_url, f"DROP TABLE recommendations{cascade}")
    result = CliRunner().invoke(build_app(), ["history", "list"])
    assert result.exit_code == 1, result.output
    said = ("no such table: recommendations" if fresh_db_url.startswith("sqlite")
            else 'relation "recommendations" does not exist')
    assert f"error: The history database {make_url(fresh_db_url)} failed: {said}" in result.stderr
    assert result.stderr.endswith(
        "Fix: the history's schema is damaged: its table 'recommendations' is missing, though its schema version says "
        "it is there (a table dropped by hand, a partial restore). Restore the database from a backup, or point "
        "ADVISOR_DATABASE_URL at another database.\n")
    assert "reachable" not in result.stderr and "Traceback" not in result.output
    with pytest.raises(DatabaseUnavailableError) as err, History(fresh_db_url) as hist:
        hist.list()
    assert err.value.public == "The history database is unavailable: its schema is damaged (a table is missing)."
