"""How a psycopg2 connection waits for its server: in Python, so that Ctrl-C and SIGTERM end the wait at once.

Left to itself, psycopg2 waits inside libpq with the GIL released, and libpq retries a wait that a signal breaks:
Python's handler for Ctrl-C (and advisor's for SIGTERM, ``advisor.cli.termination.Terminated``) then runs only once the
server answers. A statement queued behind another session's lock (a migration, a backup, ``LOCK TABLE``) could not
be interrupted until the answer deadline (:mod:`advisor.history.answer_deadline`) cut it 30 s later, and was then
reported as a database that did not answer. psycopg2's documented way out is a wait callback
(``psycopg2.extensions.set_wait_callback``): libpq then works non-blocking and psycopg2 calls back into Python to
wait, where signal handlers run. The documented callback, ``psycopg2.extras.wait_select``, is not used as it is: it
turns Ctrl-C into the server's ``QueryCanceledError`` (a database error, exit 1, not 130), waits in ``select()``
(which fails on a descriptor above 1023: a busy service's), and, as any callback, takes libpq's
``connect_timeout`` away (libpq keeps it only in its own blocking connect). ``wait`` cancels the statement on the
server, re-raises the interrupt itself, waits in ``poll()`` and keeps the connect timeout.

The callback is one for the whole process in psycopg2 (every connection uses it), so it is registered when advisor
builds a psycopg2 engine (:func:`advisor.history.engine.create_history_engine`), not when advisor is imported: a
program that imports advisor and never opens a PostgreSQL history keeps psycopg2 as it was. A callback registered
already (gevent's through psycogreen, the program's own) is left in place. While one is registered psycopg2 refuses
COPY, large objects and replication on every connection of the process; advisor's history uses none of them.
"""

from __future__ import annotations

import os
import select
import threading
import time
from typing import Any

# How long an interrupted wait gives the server's cancel request: it opens a connection of its own, which a server
# that stopped answering never completes; the interrupt goes on after this in any case.
CANCEL_SECONDS = 2.0


def interruptible_waits() -> None:
    """Register ``wait`` as psycopg2's wait callback, unless a callback is registered already (kept: its
    program's choice)."""
    from psycopg2 import extensions

    if extensions.get_wait_callback() is None:
        extensions.set_wait_callback(wait)


def wait(conn: Any) -> None:
    """psycopg2's wait callback: poll ``conn`` until its operation is done. An interrupt (Ctrl-C's
    ``KeyboardInterrupt``, SIGTERM's ``Terminated``: any ``BaseException`` that is not an ``Exception``) cancels
    the statement on the server and is raised as it is; psycopg2 then closes the connection, which rolls back its
    transaction: nothing is written."""
    from psycopg2 import OperationalError, extensions

    give_up_at = _connect_deadline(conn) if conn.status == extensions.STATUS_SETUP else None
    try:
        while True:
            state = conn.poll()
            if state == extensions.POLL_OK:
                return
            if state not in (extensions.POLL_READ, extensions.POLL_WRITE):
                raise OperationalError(f"bad state from poll: {state}")
            timeout_ms = None
            if give_up_at is not None:
                timeout_ms = (give_up_at - time.monotonic()) * 1000
                if timeout_ms <= 0:
                    raise OperationalError("timeout expired")  # libpq's own words for it
            poller = select.poll()  # anew each time: a connect may move to another socket (the next address)
            poller.register(conn.fileno(), select.POLLIN if state == extensions.POLL_READ else select.POLLOUT)
            poller.poll(timeout_ms)
    except BaseException as exc:
        if not isinstance(exc, Exception):  # an interrupt; a database error is psycopg2's to raise
            _cancel(conn)
        raise


def _connect_deadline(conn: Any) -> float | None:
    """When a connection being opened is given up, as libpq's ``connect_timeout`` (from the DSN, else
    ``PGCONNECT_TIMEOUT``) would: none for 0, a negative or no value, at least 2 s. libpq gives each address that
    long; here it bounds the whole connect."""
    from psycopg2.extensions import parse_dsn

    try:
        value = parse_dsn(conn.dsn).get("connect_timeout") or os.environ.get("PGCONNECT_TIMEOUT")
        seconds = int(value) if value is not None else 0
    except (ValueError, TypeError, AttributeError):  # a value libpq would have refused before we got here
        return None
    return time.monotonic() + max(seconds, 2) if seconds > 0 else None


def _cancel(conn: Any) -> None:
    """Ask the server to stop the statement ``conn`` runs, so that a statement waiting on a lock ends now rather
    than when it gets the lock (a connection closed under it is only noticed then). In a thread given
    ``CANCEL_SECONDS``: libpq's cancel waits for the server, and retries through signals."""

    def _try() -> None:
        try:
            conn.cancel()
        except Exception:  # noqa: BLE001 - a connection still opening, or one already closed: nothing to cancel
            pass

    thread = threading.Thread(target=_try, name="advisor-db-cancel", daemon=True)
    thread.start()
    thread.join(CANCEL_SECONDS)
