"""A team's server: PostgreSQL history, two worker processes, real clients on 127.0.0.1 (bounded loops).

* 50 clients post recommendations from saved profiles at once: all succeed, distinct ids, every row stored.
* A worker killed mid-request: its clients see the connection drop, nothing is half-written, the other worker
  keeps serving and uvicorn starts a new one.
* The database goes away and comes back (a TCP relay to PostgreSQL that the test opens and closes; the
  machine's PostgreSQL keeps running): 503 with a clear message meanwhile, and the server recovers by itself.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from service_helpers import Server, auth, free_port, profile_data
from sqlalchemy import create_engine, func, select

from advisor.history.tables import CandidateTable, MeasurementTable, ProfileTable, RecommendationTable

pytestmark = pytest.mark.postgres
TOP = 10  # the candidates a recommendation lists (``--top``'s default), each stored as a row


def _post(url: str, body: dict) -> int | str:
    """The stored id, minus the status when it is not 201, or the name of the transport error (a connection
    dropped by a killed worker)."""
    try:
        with httpx.Client(timeout=120) as http:
            response = http.post(url + "/v1/recommendations", json=body, headers=auth())
            return response.json()["id"] if response.status_code == 201 else -response.status_code
    except httpx.TransportError as exc:
        return type(exc).__name__


def _stored(db_url: str) -> dict[int, tuple[int, int, int]]:
    """id -> (n_candidates, listed candidate rows, measurement rows of its profile) for every stored row.
    ``n_candidates`` counts every candidate the answer ranked; the rows stored are its top ``TOP`` of them."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            r, c, m = RecommendationTable, CandidateTable, MeasurementTable
            listed = dict(conn.execute(select(c.recommendation_id, func.count()).where(
                c.excluded.is_(False), c.rank.is_not(None)).group_by(c.recommendation_id)).all())
            measured = dict(conn.execute(select(r.id, func.count(m.id)).join(ProfileTable, ProfileTable.id ==
                                                                             r.profile_id)
                                         .join(m, m.profile_id == ProfileTable.id).group_by(r.id)).all())
            rows = conn.execute(select(r.id, r.n_candidates)).all()
        return {row.id: (row.n_candidates, listed.get(row.id, 0), measured.get(row.id, 0)) for row in rows}
    finally:
        engine.dispose()


@pytest.mark.slow
def test_fifty_clients_at_once(tmp_path, pg_url):
    profiles = [profile_data(f"team_model_{i}") for i in range(5)]
    with Server(tmp_path, database_url=pg_url, workers=2) as srv:
        start = threading.Barrier(50)

        def client(i: int):
            start.wait(30)
            return _post(srv.url, {"profile": profiles[i % 5], "dataset_size": 20_000 + 1000 * (i % 5),
                                   "epochs": 2})

        began = time.monotonic()
        with ThreadPoolExecutor(50) as pool:
            results = list(pool.map(client, range(50)))
        took = time.monotonic() - began
        assert all(isinstance(r, int) and r > 0 for r in results) and len(results) == 50, results
        assert len(set(results)) == 50, "ids must be distinct"
        stored = _stored(pg_url)
        assert sorted(stored) == sorted(results)
        assert all(listed == min(n, TOP) and n > 0 and measurements > 0 for n, listed, measurements in stored.values())
        listed = httpx.get(srv.url + "/v1/history", params={"limit": 100}, headers=auth()).json()["entries"]
        assert sorted(e["id"] for e in listed) == sorted(results)
        assert {e["workload"] for e in listed} == {f"team_model_{i}" for i in range(5)}
    assert took < 60


@pytest.mark.slow
def test_a_worker_killed_mid_request(tmp_path, pg_url):
    data = profile_data()
    with Server(tmp_path, database_url=pg_url, workers=2) as srv:
        workers = srv.worker_pids()
        assert len(workers) == 2
        # Warm both workers (imports), so the requests below are in the middle of real work when one dies.
        with ThreadPoolExecutor(4) as pool:
            assert all(isinstance(r, int) for r in pool.map(
                lambda i: _post(srv.url, {"profile": data, "dataset_size": 5000 + i, "epochs": 1}), range(4)))
        # A worker killed at the very instant it has answered may hold no request yet (its event loop had not
        # accepted the next connection: seen in CI, all 240 answered). So the kill comes a little after an answer,
        # and a round in which nothing was in flight is played again against the worker started in its place.
        ok: list = []
        dropped: list = []
        for attempt in range(3):
            round_ok, round_dropped = _kill_round(srv, data, 90_000 + 1000 * attempt)
            ok += round_ok
            dropped += round_dropped
            if round_dropped:
                break
        assert all(r > 0 for r in ok), ok  # no 5xx: a request either succeeded or lost its connection
        assert dropped, f"no killed worker had a request in flight in 3 rounds: {ok}\n{srv.log[-3000:]}"
        assert ok, f"the other worker stopped serving: {dropped}"
        # The other worker (and the one uvicorn starts in place of the dead one) keep serving.
        after = [_post(srv.url, {"profile": data, "dataset_size": 70_000 + i, "epochs": 1}) for i in range(4)]
        assert all(isinstance(r, int) and r > 0 for r in after), after
        stored = _stored(pg_url)
        assert set(ok) | set(after) <= set(stored), (sorted((set(ok) | set(after)) - set(stored)), dropped, after)
        # Nothing half-written: every stored recommendation has all its candidates and its profile's rows.
        assert all(listed == min(n, TOP) and n > 0 and measurements > 0
                   for n, listed, measurements in stored.values()), stored


def _kill_round(srv: Server, data: dict, first_size: int) -> tuple[list, list]:
    """240 new jobs from 40 threads; the thread that gets the fourth answer kills, 0.1 s later, the worker that
    answered last, and waits until a new worker has replaced it. Returns (ids answered, errors of dropped ones).

    (A thread that watched the answers and then killed was starved of the GIL by the 40 posting ones; the
    worker that answered last is the one surely at work: the kernel need not share the connections evenly.)"""
    workers = srv.worker_pids()
    assert len(workers) == 2, (workers, srv.log[-3000:])
    answered, killed, victim = [], threading.Lock(), []

    def post(i: int) -> int | str:
        result = _post(srv.url, {"profile": data, "dataset_size": first_size + i, "epochs": 1})
        with killed:
            answered.append(result)
            if len(answered) == 4:
                victim.append(_last_worker(srv.log, workers) or workers[0])
                time.sleep(0.1)  # about a third of a job: the victim has taken its next request
                os.kill(victim[0], signal.SIGKILL)
        return result

    with ThreadPoolExecutor(40) as pool:
        results = list(pool.map(post, range(240)))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (len(srv.worker_pids()) != 2 or victim[0] in srv.worker_pids()):
        time.sleep(0.2)
    assert len(srv.worker_pids()) == 2 and victim[0] not in srv.worker_pids(), (victim, workers, srv.worker_pids(),
                                                                                 srv.log[-3000:])
    return [r for r in results if isinstance(r, int)], [r for r in results if isinstance(r, str)]


def _last_worker(log: str, workers: list[int]) -> int | None:
    """The worker pid of the last request in the access log, if it is one of ``workers``."""
    for line in reversed(log.splitlines()):
        try:
            pid = json.loads(line).get("worker")
        except ValueError:
            continue
        if pid in workers:
            return pid
    return None


class _Relay:
    """A TCP relay from 127.0.0.1:port to PostgreSQL; ``close()`` drops the listener and every connection."""

    def __init__(self, port: int, target: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.port, self.target = port, target
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self._listener.settimeout(0.2)
        self._open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self._open:
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
            client.settimeout(None)
            with self._lock:
                self._socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._open = False
        self._listener.close()
        with self._lock:
            for s in self._socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self._socks.clear()


def _expect_503(srv: Server, body: dict) -> None:
    response = httpx.post(srv.url + "/v1/recommendations", json=body, headers=auth(), timeout=60)
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["type"] == "ServiceUnavailable" and "nothing was stored" in error["message"]
    assert error["hint"].startswith("Fix:") and response.headers["retry-after"]
    assert "5432" not in response.text and str(srv.port) not in response.text and "postgres" not in response.text


def test_the_database_down_is_503_and_the_server_recovers_by_itself(tmp_path, pg_url):
    relay_port = free_port()
    url = pg_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{relay_port}/")
    assert url != pg_url
    body = {"profile": profile_data(), "dataset_size": 20000, "epochs": 1}
    with Server(tmp_path, database_url=url) as srv:  # starts while the database is unreachable
        assert "not usable yet" in srv.log
        down = httpx.get(srv.url + "/healthz")
        assert down.status_code == 503 and down.json()["database"] == "unavailable"
        _expect_503(srv, body)
        assert httpx.get(srv.url + "/v1/history", headers=auth()).status_code == 503
        relay = _Relay(relay_port)
        try:
            first = httpx.post(srv.url + "/v1/recommendations", json=body, headers=auth(), timeout=60)
            assert first.status_code == 201, first.text
        finally:
            relay.close()
        _expect_503(srv, body)  # gone again, with connections in the pool that are now dead
        relay = _Relay(relay_port)
        try:
            again = httpx.post(srv.url + "/v1/recommendations", json=body, headers=auth(), timeout=60)
            assert again.status_code == 201, again.text
            up = httpx.get(srv.url + "/healthz")
            assert up.status_code == 200 and up.json()["status"] == up.json()["database"] == "ok"
        finally:
            relay.close()
        assert "history database unavailable" in srv.log  # the cause is in the server's log
    assert sorted(_stored(pg_url)) == [first.json()["id"], again.json()["id"]]
