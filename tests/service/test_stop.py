"""Stopping ``advisor serve``: SIGTERM and Ctrl-C (SIGINT to the process group) are one graceful stop, exit 0,
with one worker or several; with several, a Ctrl-C while a worker is still starting loses no request and leaves
no stray "Process advisor-serve-worker:" line (a worker still starting had taken connections and died of a
``KeyboardInterrupt``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from service_helpers import REPO, Server, free_port, plain_http

from advisor.service import workers


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_of_one_worker_exits_0_whichever_the_signal(tmp_path, signum):
    srv = Server(tmp_path, database_url=f"sqlite:///{tmp_path / 'h.db'}", workers=1)
    try:
        os.killpg(srv.process.pid, signum)  # SIGINT to the group, as a terminal's Ctrl-C sends it
        assert srv.process.wait(60) == 0, srv.log[-3000:]  # was -15 (killed by SIGTERM) for SIGTERM
    finally:
        srv.stop()
    assert "Finished server process" in srv.log and "Traceback" not in srv.log


# An app whose second worker to start takes SLOW_SECONDS over its start-up, and says when it began.
_APP = """
import asyncio, os
SLOW_SECONDS = 6.0

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    os.close(os.open("fast", os.O_CREAT | os.O_EXCL))
                except FileExistsError:
                    open("slow", "w").close()
                    await asyncio.sleep(SLOW_SECONDS)
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})
"""
_SUPERVISE = """
import sys
from advisor.service import workers
supervisor = workers.Supervisor({"app": "slow_app:app", "host": "127.0.0.1", "port": int(sys.argv[1]),
                                 "lifespan": "on", "log_level": "warning"}, 2, graceful_seconds=2.0)
supervisor.run()
print("failed" if supervisor.failed else "stopped")
"""


def _sigint_as_at_a_terminal() -> None:
    # A test run started in the background (`.ci/run &`) hands its children SIGINT ignored, which Python keeps; a
    # terminal's Ctrl-C reaches a foreground process with the default action, as these tests mean to.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _sigint_blocked(pid: int) -> bool:
    blocked_line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                        if line.startswith("SigBlk:"))
    return bool(int(blocked_line.split()[1], 16) & (1 << (signal.SIGINT - 1)))


def _get(port: int, results: list, timeout: float = 30.0) -> None:
    try:
        results.append(plain_http(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=timeout))
    except (OSError, IndexError, ValueError) as exc:  # reset, or closed with no answer
        results.append(repr(exc))


@pytest.mark.skipif(not workers.reuse_port_supported(), reason="advisor's own workers: Linux SO_REUSEPORT")
def test_ctrl_c_while_a_worker_starts_loses_no_request_and_leaves_no_stray_line(tmp_path):
    (tmp_path / "slow_app.py").write_text(_APP)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(tmp_path), str(REPO)))}
    with (tmp_path / "log").open("w") as log:
        supervisor = subprocess.Popen([sys.executable, "-c", _SUPERVISE, str(port)], cwd=tmp_path, env=env,
                                      stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                      preexec_fn=_sigint_as_at_a_terminal)
    try:
        deadline = time.monotonic() + 90
        ready: list = []
        while time.monotonic() < deadline and not ((tmp_path / "slow").exists() and ready == [200]):
            ready.clear()
            _get(port, ready, timeout=5)
            time.sleep(0.1)
        assert ready == [200] and (tmp_path / "slow").exists(), (tmp_path / "log").read_text()[-3000:]
        # Every worker, the first included, holds SIGINT blocked: the first had it unblocked again by the
        # resource tracker multiprocessing starts alongside it, and died of a late Ctrl-C with a traceback.
        worker_pids = [child.pid for child in psutil.Process(supervisor.pid).children()
                       if "spawn_main" in " ".join(child.cmdline())]
        assert len(worker_pids) == 2 and all(_sigint_blocked(pid) for pid in worker_pids), worker_pids
        # One worker serves, the other is in its start-up: 16 connections, which the kernel spread over every
        # socket listening on the port, then Ctrl-C.
        results: list = []
        threads = [threading.Thread(target=_get, args=(port, results)) for _ in range(16)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        os.killpg(supervisor.pid, signal.SIGINT)
        for thread in threads:
            thread.join(60)
        assert results == [200] * 16
        assert supervisor.wait(60) == 0
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGKILL)
            supervisor.wait(10)
    log_text = (tmp_path / "log").read_text()
    assert log_text.strip().splitlines()[-1] == "stopped", log_text[-3000:]
    assert "Process advisor-serve-worker" not in log_text and "Traceback" not in log_text, log_text[-3000:]
