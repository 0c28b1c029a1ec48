"""History tests run on SQLite and on the real PostgreSQL server (tests/conftest.py POSTGRES_URL).

Each PostgreSQL test gets a schema of its own (dropped afterwards) through the URL's search_path, so runs in
parallel or in CI never see each other's rows. The PostgreSQL cases are skipped, with the reason, only when
the server cannot be reached.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The same default as tests/conftest.py (which pytest's importlib mode does not let us import).
POSTGRES_URL = os.environ.get("ADVISOR_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")

_pg_error: list[str] = []


def _postgres_reachable() -> str | None:
    """None if the server answers, else why not (cached for the session)."""
    if _pg_error:
        return _pg_error[0] or None
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        _pg_error.append("")
    except Exception as exc:  # pragma: no cover - CI has the server
        _pg_error.append(f"PostgreSQL at {POSTGRES_URL} is unreachable: {type(exc).__name__}: {exc}")
    return _pg_error[0] or None


def postgres_schema_url(schema: str) -> str:
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options={quote(f'-csearch_path={schema}')}"


def _new_schema():
    why = _postgres_reachable()
    if why:
        pytest.skip(why)
    from sqlalchemy import create_engine, text

    schema = f"advisor_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    return admin, schema


def _drop_schema(admin, schema: str) -> None:
    from sqlalchemy import text

    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL schema; yields a URL whose default schema it is."""
    admin, schema = _new_schema()
    try:
        yield postgres_schema_url(schema)
    finally:
        _drop_schema(admin, schema)


@pytest.fixture(scope="session")
def _migrated_postgres():
    """One migrated schema for the session (per xdist worker); tests empty its tables instead of migrating."""
    from advisor.history.migrate import upgrade

    admin, schema = _new_schema()
    url = postgres_schema_url(schema)
    upgrade(url)
    try:
        yield admin, schema, url
    finally:
        _drop_schema(admin, schema)


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory):
    from advisor.history.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "history.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_db_url(request, tmp_path, monkeypatch):
    """The URL of an EMPTY database (no tables) on each backend; also ADVISOR_DATABASE_URL for the test."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db' / 'history.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path, monkeypatch):
    """The URL of a migrated history database with no rows, on each backend; also ADVISOR_DATABASE_URL."""
    if request.param == "sqlite":
        import shutil

        target = tmp_path / "db" / "history.db"
        target.parent.mkdir()
        shutil.copyfile(request.getfixturevalue("_migrated_sqlite"), target)
        url = f"sqlite:///{target}"
    else:
        from sqlalchemy import text

        from advisor.history.tables import Base

        admin, schema, url = request.getfixturevalue("_migrated_postgres")
        tables = ", ".join(f'"{schema}"."{t}"' for t in Base.metadata.tables)
        with admin.connect() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    return url


@pytest.fixture
def history(db_url):
    from advisor.history.repository import History

    with History(db_url) as hist:
        yield hist
