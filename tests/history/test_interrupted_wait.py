"""Ctrl-C and SIGTERM end a command that waits for the PostgreSQL history (a statement behind another session's
lock) at once, as interrupted: exit 130 / 143, the statement cancelled on the server, nothing written. (psycopg2
waited in libpq, which retries through signals, until the 30 s answer deadline cut the connection; the interrupt
was then reported as "did not answer within 30 s", exit 1.)

Real processes: the CLI in a session of its own, the signal sent with os.kill, the lock held by a connection here.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from advisor.history.repository import History


def _sigint_as_at_a_terminal() -> None:
    # A test run started in the background (`.ci/run &`) hands its children SIGINT ignored, which Python keeps; a
    # terminal's Ctrl-C reaches a foreground process with the default action, as these tests mean to.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


pytestmark = pytest.mark.slow

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
RUN_TABLES = ("workloads", "profiles", "measurements", "recommendations", "candidates")


def _blocked_by(admin, holder_pid: int) -> list[int]:
    with admin.connect() as conn:
        return list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))"),
                                 {"holder": holder_pid}).scalars())


def _interrupt_while_blocked(url: str, lock: str, args: list[str], signum: int) -> tuple[int, str, float, bool]:
    """Run ``advisor ARGS`` while a connection here holds ``LOCK TABLE recommendations IN <lock> MODE``; once it
    waits on that lock, send it ``signum``. Its exit code, stderr, the seconds from the signal to its end, and
    whether its statement still waited on the server 10 s later (not cancelled)."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    holder = create_engine(url).connect()
    try:
        holder.execute(text(f"LOCK TABLE recommendations IN {lock} MODE"))
        holder_pid = holder.execute(text("SELECT pg_backend_pid()")).scalar()
        proc = subprocess.Popen([sys.executable, "-m", "advisor", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True,
                                preexec_fn=_sigint_as_at_a_terminal,
                                env={**os.environ, "ADVISOR_DATABASE_URL": url, "ADVISOR_PROBE_WAIT": "0"})
        deadline = time.monotonic() + 120
        while not _blocked_by(admin, holder_pid):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the command never waited on the lock"
            time.sleep(0.1)
        sent = time.monotonic()
        os.kill(proc.pid, signum)
        _, err = proc.communicate(timeout=90)
        ended = time.monotonic() - sent
        gone_by = time.monotonic() + 10
        while (still_waiting := bool(_blocked_by(admin, holder_pid))) and time.monotonic() < gone_by:
            time.sleep(0.1)
        return proc.returncode, err, ended, still_waiting
    finally:
        holder.rollback()
        holder.close()
        admin.dispose()


@pytest.mark.parametrize(("signum", "code", "said"), [(signal.SIGINT, 130, "Interrupted."),
                                                      (signal.SIGTERM, 143, "Terminated (SIGTERM).")])
def test_a_read_waiting_on_a_lock_ends_at_once_as_interrupted(postgres_url, signum, code, said):
    History(postgres_url).create()
    rc, err, ended, still_waiting = _interrupt_while_blocked(postgres_url, "ACCESS EXCLUSIVE", ["history", "list"],
                                                             signum)
    assert rc == code, err
    assert err.strip() == said
    # Seconds, not the 30 s answer deadline (what the signal used to wait for), however busy the machine.
    assert ended < 15, ended
    # Cancelled on the server, not left waiting for the lock behind a closed connection.
    assert not still_waiting


def test_a_save_waiting_on_a_lock_is_terminated_with_nothing_written(postgres_url):
    History(postgres_url).create()
    args = ["recommend", "--profile", str(PROFILE), "-q"]
    # SHARE: the INSERTs of its save wait, its reads do not.
    rc, err, ended, still_waiting = _interrupt_while_blocked(postgres_url, "SHARE", args, signal.SIGTERM)
    assert rc == 143, err
    assert err.strip().endswith("Terminated (SIGTERM).") and "Traceback" not in err, err
    assert ended < 15, ended
    assert not still_waiting
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in RUN_TABLES} == dict.fromkeys(
                RUN_TABLES, 0)
    finally:
        engine.dispose()


def test_a_wait_callback_already_registered_is_kept(monkeypatch):
    from psycopg2 import extensions

    from advisor.history.engine import create_history_engine

    def theirs(conn):  # a program's own (gevent's, through psycogreen)
        raise AssertionError("not called: no connection is opened")

    previous = extensions.get_wait_callback()
    extensions.set_wait_callback(theirs)
    try:
        create_history_engine("postgresql+psycopg2://nobody@127.0.0.1:1/none").dispose()
        assert extensions.get_wait_callback() is theirs
    finally:
        extensions.set_wait_callback(previous)


# The CLI as its console script runs it, saying on stderr when it first asks for the write lock (its check that the
# history can be written, before any work).
_SAY_WRITING = """
import sys
import advisor.history.engine as engine

real = engine.writer

def writer(*args, **kwargs):
    sys.stderr.write("writing\\n")
    sys.stderr.flush()
    return real(*args, **kwargs)

engine.writer = writer
from advisor.cli.app import main
sys.argv = ["advisor", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize(("signum", "code", "said"), [(signal.SIGINT, 130, "Interrupted."),
                                                      (signal.SIGTERM, 143, "Terminated (SIGTERM).")])
def test_a_command_waiting_for_a_locked_sqlite_history_ends_at_once(tmp_path, signum, code, said):
    # SQLite waited in C, in its busy handler, until its 30 s busy timeout: the signal took effect ~27 s later.
    path = tmp_path / "h.db"
    url = f"sqlite:///{path}"
    History(url).create()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write: a long one, an sqlite3 shell's open transaction
    try:
        proc = subprocess.Popen([sys.executable, "-c", _SAY_WRITING, "recommend", "--profile", str(PROFILE), "-q"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                                preexec_fn=_sigint_as_at_a_terminal, env={**os.environ, "ADVISOR_DATABASE_URL": url})
        try:
            first = proc.stderr.readline()
            assert first == "writing\n", first + proc.stderr.read()
            time.sleep(1.0)  # into the wait for the lock, which is 30 s long
            sent = time.monotonic()
            os.kill(proc.pid, signum)
            _, err = proc.communicate(timeout=90)
            ended = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    finally:
        holder.rollback()
        holder.close()
    assert proc.returncode == code, err
    assert [line for line in err.splitlines() if line != "writing"] == [said]
    assert ended < 15, ended  # well under the 30 s the wait lasted, however busy the machine
    with sqlite3.connect(path) as conn:
        assert {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in RUN_TABLES} == dict.fromkeys(
            RUN_TABLES, 0)


def test_only_a_locked_database_is_waited_for_on_every_python():
    """Python 3.10's sqlite3 errors have no ``sqlite_errorname``: there the text tells a lock from another fault,
    which is reported at once instead of retried for the whole 30 s."""
    import sqlite3

    from advisor.history.sqlite_wait import _busy

    locked, other = sqlite3.OperationalError("database is locked"), sqlite3.OperationalError("disk I/O error")
    assert _busy(locked) and not _busy(other)  # as 3.10 raises them (no error name)
    named = sqlite3.OperationalError("disk I/O error")
    named.sqlite_errorname = "SQLITE_IOERR"
    assert not _busy(named)
    named.sqlite_errorname = "SQLITE_BUSY"
    assert _busy(named)
