"""advisor.history.answer_deadline: a PostgreSQL connection that stops answering is cut, not waited on for ever.

The server is reached through a TCP proxy in this process that can stall: it stops moving bytes while both
sockets stay open, as a hung proxy or server process would (the kernel keeps acknowledging, so no TCP timeout
fires).
"""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

import advisor.history.answer_deadline as answer_deadline
from advisor.errors import HistoryError
from advisor.history.repository import History


class StallingProxy:
    """Forwards 127.0.0.1:<port> to the PostgreSQL server until ``stalled`` is set."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.stalled = threading.Event()
        self.closed = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        src.settimeout(0.05)
        while not self.closed.is_set():
            if self.stalled.is_set():
                time.sleep(0.05)  # hold the bytes: neither read nor forward, the sockets stay open
                continue
            try:
                data = src.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            try:
                dst.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        self.closed.set()
        self.listener.close()
        for s in self.sockets:
            s.close()


@pytest.fixture
def proxied_url(postgres_url):
    parts = urlsplit(postgres_url)
    proxy = StallingProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    netloc = f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else f"127.0.0.1:{proxy.port}"
    try:
        yield urlunsplit(parts._replace(netloc=netloc)), proxy
    finally:
        proxy.close()


def stall(proxy: StallingProxy) -> None:
    proxy.stalled.set()
    time.sleep(0.2)  # let a pump that was inside recv() finish that one read


def test_a_pooled_connection_that_stalled_is_replaced_and_a_hung_server_fails_in_seconds(proxied_url, monkeypatch):
    monkeypatch.setattr(answer_deadline, "PING_SECONDS", 1.0)
    url, proxy = proxied_url
    hist = History(url + "&connect_timeout=2")
    try:
        assert hist.list() == []  # migrated, and one pooled connection open through the proxy
        stall(proxy)
        started = time.monotonic()
        with pytest.raises(HistoryError) as err:
            hist.list()
        waited = time.monotonic() - started
        # The pool's pre-ping of the stalled connection is cut after 1 s; the new connection the pool then opens
        # gets no answer either and fails its connect_timeout (2 s here): seconds in all, not for ever.
        assert 2.5 < waited < 8, waited
        assert "failed" in err.value.message and "timeout" in err.value.message.lower(), err.value.message
        proxy.stalled.clear()
        assert hist.list() == []  # the cut connection was dropped: a fresh one works
    finally:
        proxy.stalled.clear()
        hist.close()


def test_the_deadline_names_the_wait_when_a_statement_hangs(proxied_url, monkeypatch):
    monkeypatch.setattr(answer_deadline, "STATEMENT_SECONDS", 1.0)
    monkeypatch.setattr(answer_deadline, "PING_SECONDS", 30.0)
    url, proxy = proxied_url
    hist = History(url)
    try:
        hist.list()
        with hist.engine.connect() as conn:  # checked out (and pinged) while the proxy still moves bytes
            from sqlalchemy import text

            stall(proxy)
            started = time.monotonic()
            with pytest.raises(HistoryError) as err:
                conn.execute(text("SELECT 1"))
            assert time.monotonic() - started < 5
        assert "did not answer within 1 s" in err.value.message and "nothing was written" in err.value.message
        proxy.stalled.clear()
        assert hist.list() == []
    finally:
        proxy.stalled.clear()
        hist.close()


def test_a_watcher_thread_ends_when_nothing_waits(monkeypatch):
    monkeypatch.setattr(answer_deadline, "IDLE_EXIT_SECONDS", 0.2)
    deadline = answer_deadline.AnswerDeadline(statement_seconds=5.0)
    a, b = socket.socketpair()
    try:
        deadline.watch(a, 5.0)
        thread = deadline._thread
        assert thread is not None and thread.is_alive()
        assert deadline.release(a) is None  # answered in time: not cut
        thread.join(timeout=3)
        assert not thread.is_alive() and deadline._thread is None
    finally:
        a.close()
        b.close()


def test_a_connection_past_its_deadline_has_its_socket_shut_down():
    deadline = answer_deadline.AnswerDeadline(statement_seconds=0.2)
    a, b = socket.socketpair()
    try:
        deadline.watch(a, 0.2)
        a.settimeout(3)
        started = time.monotonic()
        assert a.recv(1) == b""  # the blocked read ends: the socket was shut down
        assert 0.15 < time.monotonic() - started < 2.5
        assert deadline.release(a) == 0.2
    finally:
        a.close()
        b.close()


@pytest.fixture
def locked_workloads(postgres_url):
    """Another session holding ``workloads`` in ACCESS EXCLUSIVE mode (a backup, a long transaction) until the test
    ends; yields a function that takes the lock, on a history migrated to the revision it is given."""
    from sqlalchemy import create_engine, text

    from advisor.history.migrate import upgrade

    holder = create_engine(postgres_url)
    conn = None

    def lock(revision: str = "head"):
        nonlocal conn
        upgrade(postgres_url, revision)
        conn = holder.connect()
        conn.execute(text("LOCK TABLE workloads IN ACCESS EXCLUSIVE MODE"))
        return postgres_url

    try:
        yield lock
    finally:
        if conn is not None:
            conn.rollback()
            conn.close()
        holder.dispose()


@pytest.mark.parametrize("revision", ["head", "0002"])  # a read waits for the lock; so does the migration on first use
def test_a_statement_behind_another_sessions_lock_is_told_as_a_lock_not_as_a_server_down(
        locked_workloads, monkeypatch, revision):
    from advisor.errors import DatabaseUnavailableError
    from advisor.history.migrate import current_revision

    monkeypatch.setattr(answer_deadline, "STATEMENT_SECONDS", 3.0)  # lock_timeout 2.5 s
    url = locked_workloads(revision)
    started = time.monotonic()
    with History(url) as hist, pytest.raises(DatabaseUnavailableError) as err:
        hist.list()
    assert time.monotonic() - started < 3.0  # the lock timeout, not the statement deadline, ended it
    assert "canceling statement due to lock timeout" in err.value.message, err.value.message
    assert "did not answer" not in err.value.message
    assert err.value.hint.startswith("Fix: another session holds a lock on the history's tables"), err.value.hint
    assert err.value.public == "The history database is unavailable: another process holds its lock."
    if revision == "0002":
        assert current_revision(url) == "0002"  # the migration was rolled back whole


def test_a_shorter_lock_timeout_of_the_users_own_is_kept(postgres_url, monkeypatch):
    from sqlalchemy import text

    with History(postgres_url) as hist, hist.engine.connect() as conn:
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "25s"  # 5/6 of the 30 s statement deadline
    with History(postgres_url.replace("search_path%3D", "lock_timeout%3D1s%20-csearch_path%3D")) as hist:
        with hist.engine.connect() as conn:
            assert conn.execute(text("SHOW lock_timeout")).scalar() == "1s"
