"""A deadline on every answer a database server owes an open connection: past it, the connection is cut.

``connect_timeout`` bounds only the opening of a connection. On one already open (a pooled connection of the
service, a ``track``ed job's), libpq waits for ever for a statement's answer or a pool pre-ping's: a server
process that hangs, or a proxy that stalls, keeps the kernel acknowledging the bytes, so no TCP timeout fires
either. Here each statement (and each pre-ping) registers its connection with a deadline; one watcher thread
per engine shuts down the socket of any that passes it. libpq's wait then ends with "server closed the
connection", the pool drops that connection, and the caller gets a ``HistoryError`` that says what happened.

The watcher thread starts with the first statement and ends after ``IDLE_EXIT_SECONDS`` without one, so a
process that opens many engines does not keep a thread per engine.

A statement that waits for another session's lock (a backup, a long transaction, another advisor migrating)
is no hung server: each connection's ``lock_timeout`` is set below the statement's deadline
(``LOCK_WAIT_SHARE``), so such a wait ends first, in the server's own "canceling statement due to lock timeout"
(SQLSTATE 55P03), which the user is told as a lock (``advisor.history.engine``), not as a server to check.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

from sqlalchemy import Engine, event

from advisor.errors import DatabaseUnavailableError

# A statement of advisor's history answers in milliseconds (100,000 recommendations: the whole export ~2 s,
# bench/README.md "History scale"); a pre-ping is one round trip.
STATEMENT_SECONDS = 30.0
PING_SECONDS = 10.0
IDLE_EXIT_SECONDS = 5.0
# The share of a statement's deadline it may wait for a lock (25 s of 30 s): the rest leaves the server the time
# to answer that it gave up, before the deadline would cut the connection.
LOCK_WAIT_SHARE = 5 / 6


class AnswerDeadline:
    """The connections now waiting for an answer, each with its deadline, and the thread that cuts late ones."""

    def __init__(self, statement_seconds: float | None = None, ping_seconds: float | None = None) -> None:
        self.statement_seconds = STATEMENT_SECONDS if statement_seconds is None else statement_seconds
        self.ping_seconds = PING_SECONDS if ping_seconds is None else ping_seconds
        self._cond = threading.Condition()
        self._waiting: dict[int, tuple[float, float, Any]] = {}  # id(DBAPI connection) -> (deadline, s, it)
        self._cut: dict[int, float] = {}  # id(DBAPI connection) -> the seconds it was given
        self._thread: threading.Thread | None = None

    def watch(self, dbapi_connection: Any, seconds: float) -> None:
        with self._cond:
            self._cut.pop(id(dbapi_connection), None)
            self._waiting[id(dbapi_connection)] = (time.monotonic() + seconds, seconds, dbapi_connection)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="advisor-db-deadline", daemon=True)
                self._thread.start()
            self._cond.notify()

    def release(self, dbapi_connection: Any) -> float | None:
        """Stop watching ``dbapi_connection``; the seconds it was given when it was cut for missing them, else None."""
        with self._cond:
            self._waiting.pop(id(dbapi_connection), None)
            cut = self._cut.pop(id(dbapi_connection), None)
            self._cond.notify()  # the watcher may now sleep until a later deadline, or end
            return cut

    def _run(self) -> None:
        with self._cond:
            idle_since = time.monotonic()
            while True:
                now = time.monotonic()
                for key, (deadline, seconds, conn) in list(self._waiting.items()):
                    if deadline <= now:
                        del self._waiting[key]
                        self._cut[key] = seconds
                        _shut_down(conn)
                if self._waiting:
                    idle_since = now
                    self._cond.wait(min(d for d, _, _ in self._waiting.values()) - now)
                elif now - idle_since >= IDLE_EXIT_SECONDS:
                    self._thread = None
                    return
                else:
                    self._cond.wait(IDLE_EXIT_SECONDS - (now - idle_since))


def _shut_down(dbapi_connection: Any) -> None:
    """Shut the connection's socket down both ways: the driver's blocked wait returns with the connection closed."""
    try:
        fd = dbapi_connection.fileno()
    except Exception:  # noqa: BLE001 - a driver without fileno(), or a connection already closed: nothing to cut
        return
    sock = socket.socket(fileno=os.dup(fd))
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already shut
    finally:
        sock.close()  # the duplicate only: the driver still owns (and will close) its own descriptor


def attach(engine: Engine, deadline: AnswerDeadline, shown_as: str) -> None:
    """Give every statement and pre-ping on ``engine`` ``deadline``'s limits (a server engine's). ``shown_as``: the
    database as its error names it for its own user (``engine.display_url``: the password hidden, in a
    ``?password=`` argument too)."""

    @event.listens_for(engine, "connect")
    def _lock_wait(dbapi_connection, _record) -> None:
        set_lock_timeout(dbapi_connection, deadline)

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany) -> None:
        deadline.watch(conn.connection.dbapi_connection, deadline.statement_seconds)

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany) -> None:
        deadline.release(conn.connection.dbapi_connection)

    @event.listens_for(engine, "handle_error")
    def _on_error(ctx) -> None:
        # (A pre-ping's error comes here without a connection: the pool then opens a new one, see _watched_ping.)
        raw = ctx.connection.connection.dbapi_connection if ctx.connection is not None else None
        seconds = deadline.release(raw) if raw is not None else None
        if seconds is not None and isinstance(ctx.original_exception, Exception):
            # (An interrupt, Ctrl-C or advisor's Terminated, is no database fault even on a connection cut at the
            # same moment: it goes on as it is, and the command ends as interrupted, not as a database outage.)
            ctx.is_disconnect = True  # the pool drops it
            # A DatabaseUnavailableError, so that advisor serve answers 503 (the driver's error it is raised from
            # is not SQLAlchemy's DBAPIError, which is how the service tells a database fault from a bad request).
            given_up = f"did not answer within {seconds:g} s, so the request was given up; nothing was written."
            raise DatabaseUnavailableError(
                f"The history database {shown_as} {given_up}",
                hint="Fix: check that the database server is up and reachable (a stalled proxy or a hung server "
                     "holds connections open), then run the command again.",
                public=f"The history database {given_up}")

    ping = engine.dialect.do_ping

    def _watched_ping(dbapi_connection) -> bool:
        # The pool's pre-ping goes to the driver directly, past the statement events. A ping cut here fails as a
        # closed connection, which the pool replaces with a new one (a connection a NAT or firewall dropped while
        # idle is then replaced in seconds; a server that hung fails that new one's connect_timeout).
        deadline.watch(dbapi_connection, deadline.ping_seconds)
        try:
            return ping(dbapi_connection)
        finally:
            deadline.release(dbapi_connection)

    engine.dialect.do_ping = _watched_ping


def set_lock_timeout(dbapi_connection: Any, deadline: AnswerDeadline) -> None:
    """Give a new PostgreSQL connection a ``lock_timeout`` of ``LOCK_WAIT_SHARE`` of the statement deadline, unless
    it has a shorter one already (the URL's ``?options=-clock_timeout=5s``, the role's or the database's setting).
    A session setting, committed, so that it outlives the pool's rollbacks; the query itself is watched by the
    deadline like any statement."""
    milliseconds = max(1, int(deadline.statement_seconds * LOCK_WAIT_SHARE * 1000))
    deadline.watch(dbapi_connection, deadline.statement_seconds)
    try:
        cursor = dbapi_connection.cursor()
        try:
            # pg_settings gives lock_timeout in ms; 0 is "no limit".
            cursor.execute("SELECT set_config('lock_timeout', %s, false) FROM pg_settings WHERE name = 'lock_timeout' "
                           "AND (setting::bigint = 0 OR setting::bigint > %s)", (str(milliseconds), milliseconds))
        finally:
            cursor.close()
        dbapi_connection.commit()
    finally:
        deadline.release(dbapi_connection)
