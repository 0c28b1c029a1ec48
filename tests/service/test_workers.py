"""Several workers, each on a listening socket of its own (``advisor.service.workers``): a burst of connections is
spread over them at accept time, and SIGTERM stops them all."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from service_helpers import REPO, Server, plain_http

from advisor.service import workers

linux_only = pytest.mark.skipif(not workers.reuse_port_supported(), reason="SO_REUSEPORT spreads load on Linux")


@linux_only
def test_every_worker_socket_joins_the_port_and_a_stranger_cannot():
    first = workers.listening_socket("127.0.0.1", 0, 16)
    try:
        port = first.getsockname()[1]
        second = workers.listening_socket("127.0.0.1", port, 16)  # a second worker's socket: the same port
        second.close()
        stranger = socket.socket()
        with pytest.raises(OSError):
            stranger.bind(("127.0.0.1", port))  # without SO_REUSEPORT the port is taken
        stranger.close()
    finally:
        first.close()


def _get(port: int, start: threading.Barrier) -> int:
    """GET /healthz on a new connection opened when all the others are; the status."""
    start.wait(30)
    return plain_http(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=30)


@linux_only
@pytest.mark.postgres
def test_a_burst_of_connections_is_spread_over_the_workers_and_sigterm_stops_them(tmp_path, pg_url):
    with Server(tmp_path, database_url=pg_url, workers=2) as srv:
        pids = srv.worker_pids()
        assert len(pids) == 2
        start = threading.Barrier(40)
        threads, statuses = [], []
        for _ in range(40):
            t = threading.Thread(target=lambda: statuses.append(_get(srv.port, start)))
            t.start()
            threads.append(t)
        for t in threads:
            t.join(60)
        assert statuses == [200] * 40
        logged = [json.loads(line) for line in srv.log.splitlines() if line.startswith("{")]
        served = Counter(line["worker"] for line in logged
                         if line.get("logger") == "advisor.service.access" and line.get("path") == "/healthz")
        # each connection goes to a socket by a hash of its address: 40 split about evenly (fewer than 8 on one
        # worker has a chance below 1e-5); one shared socket gave most of a burst to one worker
        assert set(served) == set(pids) and min(served.values()) >= 8, served
        srv.process.send_signal(signal.SIGTERM)
        assert srv.process.wait(60) == 0
    assert all(not _alive(pid) for pid in pids)


@linux_only
@pytest.mark.postgres
def test_workers_stop_when_the_supervisor_is_killed_outright(tmp_path, pg_url):
    with Server(tmp_path, database_url=pg_url, workers=2) as srv:
        pids = srv.worker_pids()
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)
        srv.process.kill()  # SIGKILL: the supervisor cannot stop its workers itself
        srv.process.wait(30)
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in pids)  # not serving on, orphaned, holding the port
        with socket.socket() as again:  # a restarted server can have the port
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", srv.port))


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


_SUPERVISE = """
import sys
from advisor.service import workers
supervisor = workers.Supervisor({"app": "advisor_no_such_module:app", "host": "127.0.0.1",
                                 "port": int(sys.argv[1]), "log_level": "critical"}, 2, graceful_seconds=1.0)
supervisor.run()
print("failed" if supervisor.failed else "stopped")
"""


@linux_only
def test_a_worker_that_cannot_start_stops_the_supervisor_instead_of_restarting_forever():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = subprocess.run([sys.executable, "-c", _SUPERVISE, str(port)], capture_output=True, text=True, timeout=60,
                         cwd=REPO)
    assert out.stdout.strip().splitlines()[-1] == "failed", out.stderr[-2000:]


@linux_only
def test_the_workers_are_named_advisor_serve_and_contention_calls_them_advisors(tmp_path, pg_url):
    """Spawned by multiprocessing, a worker was "python3 -B -c from multiprocessing.spawn import spawn_main..." and
    listed as "python3" (ps -e, top, pgrep), and a probe beside the server named it "python3 (pid N, 90% CPU)"."""
    import psutil

    from advisor.probe.contention import _process_name

    with Server(tmp_path, database_url=pg_url, workers=2) as srv:
        pids = srv.worker_pids()
        assert len(pids) == 2
        for pid in pids:
            proc = psutil.Process(pid)
            proc.info = {"pid": pid, "name": proc.name()}  # as busiest_other_process's process_iter fills it
            assert open(f"/proc/{pid}/comm").read() == "advisor-serve\n"
            assert _process_name(proc) == "another advisor command"
        found = subprocess.run(["pgrep", "-x", "advisor-serve"], capture_output=True, text=True).stdout.split()
        assert set(pids) <= {int(p) for p in found}
