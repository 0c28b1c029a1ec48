"""Several worker processes, each accepting on a listening socket of its own (Linux ``SO_REUSEPORT``).

uvicorn's own workers share one listening socket, and a burst of connections goes to whichever worker's event
loop wakes first: asyncio accepts every pending connection at once, so one burst of 50 clients was split 74 to
34 requests between two workers, and keep-alive keeps each client where it landed. With one socket per worker
in a ``SO_REUSEPORT`` group, the kernel spreads new connections over the workers' sockets by the connection's
addresses, so a burst is split evenly at accept time (``advisor.service.balance`` still hands connections back
from a worker that falls behind).

``Supervisor`` is the parent: it starts the workers, starts a new one in place of one that dies (not of one that
failed to start: that would fail again), and on SIGTERM or SIGINT asks each to stop (uvicorn's graceful
shutdown: in-flight requests finish) and waits for them, up to the graceful time. The workers take their stop
from it alone: they start with SIGINT blocked (a Ctrl-C reaches the terminal's whole process group, and killed a
worker still starting with a ``KeyboardInterrupt``: a bare "Process advisor-serve-worker:" line in the log), and
a SIGTERM before uvicorn's own handlers are in place ends one quietly. A worker's socket joins the port's group
only once its app has started (asyncio listens on it then): one still starting took connections from the kernel
and reset them when it stopped. A worker whose socket is
closed (it died) takes its pending connections with it; the others keep their own. A supervisor that is killed
outright (SIGKILL, the OOM killer) cannot stop its workers, so on Linux each worker asks the kernel for a SIGTERM
when its parent dies (``prctl(PR_SET_PDEATHSIG)``): it shuts down as on a normal stop instead of serving on,
orphaned, and keeping the port from a restarted server.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from multiprocessing import resource_tracker
from typing import Any

from advisor.processes import SERVER_PROCESS_NAME, name_this_process

# uvicorn's exit status for a worker that could not start (the app failed to load, the port to bind)
STARTUP_FAILURE = 3
POLL_SECONDS = 0.2

log = logging.getLogger("advisor.service")


def reuse_port_supported() -> bool:
    """Whether this system spreads connections over ``SO_REUSEPORT`` sockets (Linux does; BSD and macOS bind
    them but do not share the load)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, backlog: int | None) -> socket.socket:
    """A TCP socket bound to ``host:port`` in the port's ``SO_REUSEPORT`` group, listening with ``backlog``; with
    None, not listening yet: the kernel hands it no connection until it listens (asyncio's server does that)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        if backlog is not None:
            sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _stop_with_parent(parent_pid: int) -> None:
    """Have the kernel send this process SIGTERM when its parent dies (Linux; elsewhere nothing), and exit now if
    the parent ``parent_pid`` is already gone (it died before the request was made)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        log.warning("worker %d: cannot ask to stop with the supervisor (errno %d)", os.getpid(), ctypes.get_errno())
    if os.getppid() != parent_pid:
        sys.exit(0)


def run_worker(options: dict[str, Any], parent_pid: int | None = None) -> None:
    """One worker process: uvicorn's server over its own socket (``options``: ``uvicorn.Config``'s arguments);
    it stops when the supervisor ``parent_pid`` dies."""
    signal.signal(signal.SIGTERM, _stop_quietly)  # until uvicorn's handler (and after it, which raises it again)
    name_this_process(SERVER_PROCESS_NAME)  # spawned, it is "python3 -c ..." in ps, top and contention's naming
    import uvicorn

    if parent_pid is not None:
        _stop_with_parent(parent_pid)

    config = uvicorn.Config(**options)
    try:
        sock = listening_socket(config.host, config.port, None)  # bound now: a port in use fails the start here
    except OSError as exc:
        log.error("worker %d cannot listen on %s:%d: %s", os.getpid(), config.host, config.port, exc)
        sys.exit(STARTUP_FAILURE)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])  # returns, not started, when the app cannot be loaded or started
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def _stop_quietly(signum: int, frame: Any) -> None:  # noqa: ARG001 - a signal handler's signature
    raise SystemExit(0)


class Supervisor:
    """The parent of ``workers`` worker processes (see the module docstring). ``run()`` until a signal."""

    def __init__(self, options: dict[str, Any], workers: int, graceful_seconds: float) -> None:
        self.options, self.workers, self.graceful_seconds = options, workers, graceful_seconds
        self._context = multiprocessing.get_context("spawn")  # a clean interpreter: no state of the parent's
        self._processes: list[Any] = []
        self._stopping = False
        self.failed = False  # a worker could not start (the server then stopped)

    def _start(self) -> Any:
        process = self._context.Process(target=run_worker, args=(self.options, os.getpid()),
                                        name="advisor-serve-worker")
        # multiprocessing starts its resource tracker in the first start() and then *unblocks* SIGINT and SIGTERM
        # whatever the mask was, so the first worker started with SIGINT deliverable; it is started first here.
        resource_tracker.ensure_running()
        # Blocked here while the worker starts, so that it starts with SIGINT blocked (the mask survives fork and
        # exec); a Ctrl-C meanwhile reaches this process once it is unblocked.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        log.info("started worker process [%d]", process.pid)
        return process

    def _stop(self, signum: int, frame: Any) -> None:  # noqa: ARG002 - a signal handler's signature
        log.info("received %s, stopping the workers", signal.Signals(signum).name)
        self._stopping = True

    def run(self) -> None:
        old = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._processes = [self._start() for _ in range(self.workers)]
            while not self._stopping:
                time.sleep(POLL_SECONDS)
                self._replace_dead()
        finally:
            self._shut_down()
            for sig, handler in old.items():
                signal.signal(sig, handler)

    def _replace_dead(self) -> None:
        for i, process in enumerate(self._processes):
            if process.is_alive() or self._stopping:
                continue
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                log.error("worker process [%d] failed to start: stopping the server", process.pid)
                self._stopping = self.failed = True
                return
            log.warning("worker process [%d] died (exit status %s): starting another", process.pid,
                        process.exitcode)
            self._processes[i] = self._start()

    def _shut_down(self) -> None:
        for process in self._processes:
            if process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.graceful_seconds + 5.0
        for process in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker process [%d] did not stop in time: killed", process.pid)
                process.kill()
                process.join()
