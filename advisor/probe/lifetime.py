"""How the probe's child starts, and how it ends with everything the user's code started from it.

The parent's side: ``start_fresh`` (a fresh interpreter) and ``fork_starter`` (a fork of the caller) start the
child as the leader of its own process group, and ``ChildProcess.end`` SIGKILLs that whole group when the probe
ends, on every path (done, error, timeout), before it reaps the child.

The child's side: advisor's own process can be killed without running any clean-up (SIGKILL, or SIGTERM from
``timeout`` or a job scheduler, which Python does not turn into an exception). Then ``ChildProcess.end`` never
runs, and nothing would stop the child, nor what the workload started (``subprocess.Popen(["sleep", "900"])``,
``os.fork()`` at the top of the file), and a hung model would spin forever. On Linux:

- ``die_with_parent``: each probe process asks the kernel for SIGKILL when its parent goes
  (``prctl(PR_SET_PDEATHSIG)``); the parent is the thread that started it, which waits for it, so it cannot
  go early. That covers only the process itself: its own children are re-parented, not killed.
- ``guard_group``: the child, as its group's leader, forks a watchdog into the group before any user code
  runs. The watchdog runs nothing else: it asks for a signal when the child goes (by advisor's death or its
  own), and then SIGKILLs the group, itself included. A process the workload moves to another group or
  session (``setsid``, ``start_new_session=True``) escapes both; only a cgroup would hold it.

Elsewhere these are no-ops.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.current_folder import check_current_folder
from advisor.errors import ConfigError, ProbeError
from advisor.output_file import non_utf8_shown
from advisor.probe.fd_wait import wait_readable
from advisor.probe.frames import ChildStart, FrameReader, encode, receive, send_payload

if TYPE_CHECKING:  # pragma: no cover
    from advisor.workload import Workload

ADVISOR_ROOT = str(Path(__file__).resolve().parents[2])  # the folder advisor is imported from
_PR_SET_PDEATHSIG = 1
# advisor's own credentials (advisor.settings, advisor.service.config, advisor.service.client), which the probe's
# child never needs: the workload runs as the user and can read the user's files anyway, but it was handed the
# history's URL (password and all) and the service's tokens, and wrote rows into the history under --no-save.
# The user's other variables stay: a training job may need AWS_* or HF_* for its data.
ADVISOR_SECRETS = ("ADVISOR_DATABASE_URL", "ADVISOR_API_TOKEN", "ADVISOR_API_TOKENS")


def child_environment() -> dict[str, str]:
    """This process's environment less ``ADVISOR_SECRETS``: the probe child's."""
    return {name: value for name, value in os.environ.items() if name not in ADVISOR_SECRETS}


def drop_advisor_secrets() -> None:
    """Remove ``ADVISOR_SECRETS`` from this process's environment: a forked child's first act (it inherits the
    caller's ``os.environ`` as it is)."""
    for name in ADVISOR_SECRETS:
        os.environ.pop(name, None)


# ---------------------------------------------------------------------------------------- the parent's side


class ChildProcess:
    """A started child, the leader of its own process group: a ``subprocess.Popen`` or a fork
    (``multiprocessing.Process``), behind one interface. It is reaped only by ``end()``, so that its pid, which
    names the group, cannot be reused by another process before the group is killed."""

    def __init__(self, handle: Any, sock: socket.socket) -> None:
        self.handle = handle
        self.sock = sock
        self.reader = FrameReader()
        self._ended = False

    @property
    def pid(self) -> int:
        """The child's pid, which is also its process group's id."""
        return self.handle.pid

    def receive(self, timeout_seconds: float) -> tuple[list[bytes], bool]:
        """(frame payloads that arrived, whether the child's end of the socket closed)."""
        return receive(self.sock, self.reader, timeout_seconds)

    def readable(self) -> bool:
        """Data (or the end of the stream) is waiting on the socket."""
        return wait_readable(self.sock, 0)

    def status(self) -> int | None:
        """The exit status (negative: killed by that signal), or None while it runs; does not reap it."""
        if hasattr(os, "waitid"):
            try:
                result = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:  # reaped already (by end())
                pass
            else:
                if result is None:
                    return None
                return result.si_status if result.si_code == os.CLD_EXITED else -result.si_status
        return self.handle.poll() if isinstance(self.handle, subprocess.Popen) else self.handle.exitcode

    def wait_status(self, timeout_seconds: float) -> int | None:
        """``status()``, waiting up to ``timeout_seconds`` for the child to exit; does not reap it."""
        deadline = time.monotonic() + timeout_seconds
        while (code := self.status()) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        return code

    def signal_group(self, sig: int) -> None:
        """Send ``sig`` to the child's process group (nothing once ``end()`` has run)."""
        if not self._ended:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, sig)

    def end(self) -> None:
        """SIGKILL the child's process group (the child, its twin and watchdog, and whatever the workload
        started), whether the child is still running or not; then reap the child. Idempotent."""
        if self._ended:
            return
        self.signal_group(signal.SIGKILL)
        self._ended = True
        with contextlib.suppress(OSError):
            self.handle.kill()  # in case it never led its group
        if isinstance(self.handle, subprocess.Popen):
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.handle.wait(5.0)
        else:
            self.handle.join(5.0)
        with contextlib.suppress(OSError):
            self.sock.close()


Starter = Callable[..., ChildProcess]  # (start, pickled, *, output_fd=None): start_fresh's and start_forked's


def start_fresh(start: ChildStart, pickled: bytes | None, *, output_fd: int | None = None) -> ChildProcess:
    """The child in a fresh interpreter, sent ``start`` (and ``pickled``, the API user's workload) as frames.
    ``output_fd``: where its stdout and stderr go (``advisor.probe.output_relay``); None: this process's stderr."""
    check_current_folder()  # the child's: a deleted one ends its import of torch, which read as the workload's doing
    frame = _start_frame(start)  # before the child: a start that cannot be sent starts nothing
    parent_sock, child_sock = socket.socketpair()
    code = (f"import sys; sys.path.insert(0, {ADVISOR_ROOT!r}); "
            f"from advisor.probe.child import main; main({child_sock.fileno()})")
    try:
        # A session (and process group) of its own: the parent ends the group with everything in it.
        # -P (Python 3.11+): the current folder is not put ahead of the standard library (a socket.py there ran
        # before the child's stdout went to stderr, and broke --json); the child sets its path from the parent's.
        safe_path = ("-P",) if sys.version_info >= (3, 11) else ()
        proc = subprocess.Popen([sys.executable, *safe_path, "-c", code], pass_fds=(child_sock.fileno(),),
                                stdin=subprocess.DEVNULL, start_new_session=True, env=child_environment(),
                                stdout=output_fd, stderr=output_fd)
    except OSError as exc:  # the interpreter gone (a venv rebuilt meanwhile) or not executable, EAGAIN, ENOMEM...
        parent_sock.close()
        raise _not_started(exc) from None
    finally:
        child_sock.close()
    child = ChildProcess(proc, parent_sock)
    try:
        parent_sock.sendall(frame)
        if pickled is not None:
            send_payload(parent_sock, pickled)
    except OSError:
        pass  # it died already: the message loop reports how
    return child


def _not_started(exc: OSError) -> ProbeError:
    """The error for a probe child that could not be started: the interpreter it runs and the system's reason."""
    where = f" ({exc.filename})" if exc.filename and exc.filename != sys.executable else ""
    return ProbeError(f"The probe cannot start: running {sys.executable} failed{where}: {exc.strerror or exc}.",
                      hint="Fix: check that this Python can be run by you (its file and folders: `ls -l "
                           f"{shlex.quote(sys.executable)}`), that it was not removed or rebuilt while advisor ran, "
                           "and that the process and memory limits (ulimit -u, -v) leave room for one more process.")


def _start_frame(start: ChildStart) -> bytes:
    """``start`` as its frame, or a ConfigError naming the path that is not valid UTF-8 (JSON cannot carry it):
    the workload's name is checked before any probe, but a folder on ``sys.path`` or ``TMPDIR`` may be one."""
    try:
        return encode(start)
    except ValueError:
        with contextlib.suppress(ValueError):  # a UnicodeDecodeError: a path whose bytes are not UTF-8, shown below
            return encode(start.with_utf8_paths())
        paths = [start.request.workload_path, *start.sys_path, start.fault_file, start.scratch_dir]
        shown = next((s for s in map(non_utf8_shown, filter(None, paths)) if s is not None), None)
        if shown is None:
            raise
        raise ConfigError(f"The probe cannot start: the path {shown} is not valid UTF-8 (\\x.. marks each byte "
                          "that is not), and the probe's start message is JSON.",
                          hint="Fix: rename that folder or file to a UTF-8 name (or point TMPDIR or PYTHONPATH "
                               "elsewhere).") from None


def fork_starter(workload: Workload, run_forked: Callable[..., None]) -> Starter:
    """A starter that forks this process, the in-memory ``workload`` already in the child's memory; the child
    runs ``run_forked(sock, start, workload, parent_end, output_fd)`` (``advisor.probe.child.run_forked``)."""

    def start_forked(start: ChildStart, pickled: bytes | None, *, output_fd: int | None = None) -> ChildProcess:
        ctx = multiprocessing.get_context("fork")
        parent_sock, child_sock = socket.socketpair()
        # Python 3.12+ warns (DeprecationWarning) about forking a multi-threaded process. It is not silenced
        # here: warnings.catch_warnings() swaps the process-wide filter list, and two threads of the caller
        # probing at once left the "ignore" behind. Python's default filters hide it (it is raised in
        # multiprocessing, not __main__); a caller who turned DeprecationWarnings on is told the truth.
        proc = ctx.Process(target=run_forked, args=(child_sock, start, workload, parent_sock, output_fd),
                           name="advisor-probe", daemon=False)
        proc.start()
        # Its own process group from the start, whichever of this and the child's own setsid() comes first.
        with contextlib.suppress(OSError):
            os.setpgid(proc.pid, proc.pid)
        child_sock.close()
        return ChildProcess(proc, parent_sock)

    return start_forked


# ----------------------------------------------------------------------------------------- the child's side


def _pdeathsig(sig: int) -> bool:
    """Ask for ``sig`` when this thread's parent ends; False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent_pid: int | None) -> None:
    """SIGKILL this process when its parent ends; exit now if ``parent_pid`` has already gone."""
    if parent_pid is None or not _pdeathsig(signal.SIGKILL):
        return
    if os.getppid() != parent_pid:  # the parent went before the request took effect
        os._exit(3)


def guard_group() -> int | None:
    """Fork the watchdog that SIGKILLs this process's group when this process ends; its pid, or None where
    there is none (not Linux, not a group leader, or no fork). Call it before any user code runs."""
    leader = os.getpid()
    if not sys.platform.startswith("linux") or os.getpgrp() != leader:
        return None
    # Blocked before the fork, so that a SIGTERM arriving before sigwait is kept for it, not fatal.
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        pid = os.fork()
    except OSError:
        return None
    finally:
        if os.getpid() == leader:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
    if pid == 0:
        _watch(leader)  # never returns
    return pid


def _watch(leader: int) -> None:
    """The watchdog's life: hold nothing, wait for the leader to go, end the group."""
    try:
        # The runner signals the group with SIGUSR1 for stack dumps; a terminal's signals are not for it.
        for sig in (signal.SIGUSR1, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_IGN)
        # No descriptor of the child's (its channel to advisor, whose end of file tells advisor it is gone).
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.closerange(3, _max_fd())
        if not _pdeathsig(signal.SIGTERM):
            return  # no way to learn of the leader's end: the runner's kill of the group is all there is
        while os.getppid() == leader:  # anything else (a stray SIGTERM) is not the leader's end
            signal.sigwait({signal.SIGTERM})
        os.killpg(0, signal.SIGKILL)
    finally:
        os._exit(0)


def _max_fd() -> int:
    try:
        return os.sysconf("SC_OPEN_MAX")
    except (OSError, ValueError):
        return 4096
