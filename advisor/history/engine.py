"""Engines for the history database: one per ``History``, never a module-level one.

SQLite: the parent folder is created, WAL journal (readers never block the writer), a 30 s busy timeout, foreign
keys on, and transactions begun by us rather than by the driver: ``BEGIN IMMEDIATE`` for writes (so two writing
processes queue on the lock instead of failing on a stale snapshot), plain ``BEGIN`` for reads.
PostgreSQL (or anything else SQLAlchemy speaks): a normal pooled engine with pre-ping, since a ``track``ed job
may hold a ``History`` for hours.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from advisor.errors import HistoryError

BUSY_TIMEOUT_SECONDS = 30.0
_BEGIN_OPTION = "advisor_begin"


def _use_wal(cursor) -> None:
    """Switch the file to WAL, waiting out another process that holds the lock meanwhile.

    Changing the journal mode needs an exclusive lock, and SQLite answers "database is locked" to it at once,
    without calling the busy handler, while another connection is opening or migrating the same new file. The
    mode is stored in the file, so only the first connection ever switches it; later ones find it set.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    delay_seconds = 0.005
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() + delay_seconds > deadline:
                raise
            time.sleep(delay_seconds)
            delay_seconds = min(delay_seconds * 2, 0.2)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_history_engine(url: str) -> Engine:
    """A new engine for ``url``; for a SQLite file, creates the folder it lives in."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise HistoryError(f"The history database URL {url!r} is not a database URL.",
                           hint="Fix: set ADVISOR_DATABASE_URL to e.g. sqlite:////path/history.db or "
                                "postgresql://user@host/db, or unset it for the default file.") from exc
    if parsed.get_backend_name() != "sqlite":
        if parsed.drivername == "postgresql":
            # A plain postgresql:// URL means psycopg (3) to SQLAlchemy 2.1 but psycopg2 to 2.0; use the driver
            # that is installed (advisor[postgres] installs psycopg2-binary).
            from importlib.util import find_spec

            if find_spec("psycopg") is None and find_spec("psycopg2") is not None:
                parsed = parsed.set(drivername="postgresql+psycopg2")
        try:
            return create_engine(parsed, pool_pre_ping=True, future=True)
        except ModuleNotFoundError as exc:
            raise HistoryError(f"The driver for {parsed.get_backend_name()} is not installed ({exc.name}).",
                               hint="Fix: pip install 'advisor[postgres]' (psycopg2-binary).") from exc

    database = parsed.database
    memory = not database or database == ":memory:" or database.startswith("file::memory:")
    if memory:
        # One shared connection, so that every session sees the same in-memory database.
        engine = create_engine(parsed, poolclass=StaticPool,
                               connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_SECONDS})
    else:
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # We issue BEGIN ourselves (see _on_begin); the driver must not open transactions behind our back.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        if not memory:
            _use_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())

    @event.listens_for(engine, "handle_error")
    def _on_interrupt(ctx) -> None:
        # Ctrl-C (or SystemExit) inside a statement: SQLAlchemy then drops the connection without a rollback
        # and without closing the cursor. A sqlite3 connection with a live statement (an executemany) does not
        # really close; it would keep the transaction, and the write lock, for as long as this process lives
        # (a notebook, say). Roll back and close the cursor first, so that the lock goes now.
        if isinstance(ctx.original_exception, Exception):
            return
        try:
            cursor = getattr(ctx.execution_context, "cursor", None)
            if cursor is not None:
                cursor.close()
            raw = ctx.connection.connection.dbapi_connection if ctx.connection is not None else None
            if raw is not None and raw.in_transaction:
                raw.rollback()
        except Exception:  # noqa: S110 - best effort; the connection is being discarded anyway
            pass

    return engine


def writer(engine: Engine) -> Engine:
    """The same engine (same pool), but its transactions take SQLite's write lock up front."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
    return engine
