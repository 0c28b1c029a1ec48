"""Waiting for a SQLite history's write lock in slices, so that Ctrl-C and SIGTERM end the wait at once.

SQLite waits for a lock another process holds (a long write, a backup, an ``sqlite3`` shell with a transaction
open) in its busy handler, in C, sleeping until the busy timeout (30 s) without returning to Python. Python runs a
signal's handler only once it returns: a Ctrl-C or a SIGTERM during that wait took effect up to 30 s later (and
``sqlite3.Connection.interrupt`` does not end a busy wait either). ``begin`` asks for the lock with a short busy
timeout, again and again until the whole timeout has passed, so that a signal's handler runs between two tries;
the last try goes through SQLAlchemy, which turns a lock still held into its usual error.
"""

from __future__ import annotations

import sqlite3
import time

from sqlalchemy import Connection

# How long one try waits in SQLite's busy handler: the longest a signal waits for its handler.
SLICE_SECONDS = 0.1


def begin(conn: Connection, statement: str, timeout_seconds: float) -> None:
    """Run ``statement`` (``BEGIN IMMEDIATE``) on ``conn``, waiting up to ``timeout_seconds`` for the lock in
    slices; SQLite's busy timeout is ``timeout_seconds`` again afterwards, for every other statement."""
    raw = conn.connection.dbapi_connection
    deadline = time.monotonic() + timeout_seconds
    cursor = raw.cursor()
    try:
        while (left_seconds := deadline - time.monotonic()) > SLICE_SECONDS:
            cursor.execute(f"PRAGMA busy_timeout = {int(SLICE_SECONDS * 1000)}")
            try:
                cursor.execute(statement)
                return
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    break  # another fault: the last try says it, as SQLAlchemy reports it
        cursor.execute(f"PRAGMA busy_timeout = {max(int(left_seconds * 1000), 0)}")
        conn.exec_driver_sql(statement)
    finally:
        cursor.execute(f"PRAGMA busy_timeout = {int(timeout_seconds * 1000)}")
        cursor.close()


def _busy(exc: Exception) -> bool:
    """Whether ``exc`` is SQLite's "database is locked" (SQLITE_BUSY): by its error name where Python gives one
    (3.11+), else by its text, so that on Python 3.10 another fault is not retried for the whole wait."""
    name = getattr(exc, "sqlite_errorname", None)
    return name == "SQLITE_BUSY" if name else "database is locked" in str(exc)
