"""Advisor probes on one machine take turns at timing: a machine-wide advisory lock (``flock``) on a file in the
machine's shared temporary folder, /tmp, whatever each user's ``TMPDIR`` (``ADVISOR_PROBE_LOCK`` names another).

Why (README "Probes on a shared machine"): two probes that time side by side each measure under the other's load.
Two users' ``advisor recommend`` on one box, sent at the same moment, got "when idle" times 2.1x apart with disjoint
80% intervals. So the probe child holds this lock from its first timed step (the one-step check) to its last (the
input pipeline); loading the workload and the analysis (fake tensors: nothing timed) run outside it, and so does
the bf16 analysis after the timing. A second probe waits for the lock, saying so in its progress, for at most
``ADVISOR_PROBE_WAIT`` seconds (``advisor.settings.probe_wait_seconds``, default 60); past that it times anyway,
beside the other, and its windows' notes say so, as before.

The lock goes with the process: ``flock`` is released when the last descriptor of the open file closes, which the
kernel does when a killed probe dies. The descriptor is opened close-on-exec, after the CPU twin is forked, so no
program the workload starts holds it; a process the workload forks while the lock is held does share it, and the
probe's process group, which the parent kills when the probe ends, takes that with it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from advisor.schemas.turn_notes import LOCK_FILE, WAITED

LOCK_NAME = "advisor-probe.lock"
# The lock is about the machine's CPUs, so its folder is the one every user shares, not each user's TMPDIR (two
# users with TMPDIRs of their own timed side by side): /tmp, where POSIX has it for every user.
SHARED_FOLDERS = ("/tmp",)
_POLL_SECONDS = 0.25
_REPORT_EVERY_SECONDS = 1.0
_PID_FIELD_BYTES = 16  # the holder's pid, written in place (never truncated: see _open)


def lock_path(env: Mapping[str, str] | None = None, shared_folders: tuple[str, ...] = SHARED_FOLDERS) -> str:
    """The lock file: ``ADVISOR_PROBE_LOCK`` where set (a service with a private /tmp, or a test), else
    ``advisor-probe.lock`` in the first of ``shared_folders`` this user can write, else in the temporary folder
    (``TMPDIR``), which then only probes with that folder share."""
    env = os.environ if env is None else env
    chosen = env.get("ADVISOR_PROBE_LOCK", "").strip()
    if chosen:
        return os.path.abspath(chosen)  # the child may run elsewhere
    for folder in shared_folders:
        if os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
            return os.path.join(folder, LOCK_NAME)
    return os.path.join(tempfile.gettempdir(), LOCK_NAME)


@dataclass(frozen=True)
class TurnOutcome:
    """How a probe got its turn: ``waited_seconds`` for ``holder_pid``; ``timed_out`` when it timed beside it."""

    waited_seconds: float = 0.0
    holder_pid: int | None = None
    timed_out: bool = False


def wait_for_turn(try_lock: Callable[[], bool], holder: Callable[[], int | None], max_wait_seconds: float,
                  report: Callable[[str], None], clock: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], None] = time.sleep) -> TurnOutcome:
    """Try ``try_lock`` until it succeeds or ``max_wait_seconds`` pass, reporting the wait about once a second.

    The seam for tests: ``clock`` and ``sleep`` are a fake clock's, ``try_lock`` and ``holder`` a fake lock's.
    """
    start = clock()
    if try_lock():
        return TurnOutcome()
    pid = holder()
    last_report = None
    while True:
        waited = clock() - start
        if waited >= max_wait_seconds:
            return TurnOutcome(waited_seconds=waited, holder_pid=pid, timed_out=True)
        if last_report is None or waited - last_report >= _REPORT_EVERY_SECONDS:
            last_report = waited
            report(f"waiting for {_who(pid)} to finish timing ... {waited:.0f}s (at most {max_wait_seconds:.0f}s)")
        sleep(min(_POLL_SECONDS, max(max_wait_seconds - waited, 0.0)))
        if try_lock():
            return TurnOutcome(waited_seconds=clock() - start, holder_pid=pid)
        pid = holder() or pid  # the holder may change hands while this probe waits


def turn_note(outcome: TurnOutcome, max_wait_seconds: float) -> str | None:
    """What the profile's notes say about the wait (None: there was nobody to wait for)."""
    who = _who(outcome.holder_pid)
    if outcome.timed_out:
        return (f"{WAITED}the limit of {_seconds(max_wait_seconds)} (ADVISOR_PROBE_WAIT) for {who} to finish "
                "timing, then timed beside it: the two disturbed each other's timings. Probe again when it has "
                "finished, or raise ADVISOR_PROBE_WAIT.")
    if outcome.waited_seconds > 0 or outcome.holder_pid is not None:
        return (f"{WAITED}{_seconds(outcome.waited_seconds)} for {who} to finish timing, so that the two "
                "did not time side by side (Profile.probe_wait_seconds; ADVISOR_PROBE_WAIT=0 turns this off).")
    return None


def _seconds(seconds: float) -> str:
    """A wait in whole seconds, or in hundredths below half a second: a wait of 0.25 s read "waited 0 s", and
    ADVISOR_PROBE_WAIT=0.3 "the limit of 0 s" (and 0.00004, "4e-05 s")."""
    if seconds >= 0.5:
        return f"{seconds:.0f} s"
    return "under 0.01 s" if seconds < 0.005 else f"{seconds:.2f}".rstrip("0").rstrip(".") + " s"


def _who(pid: int | None) -> str:
    return f"another advisor probe (pid {pid})" if pid else "another advisor probe"


class ProbeTurn:
    """This probe's turn at timing, in the probe child: ``take(fraction)`` (idempotent) waits for it, reporting the
    wait as setup progress at ``fraction`` and then sending a ``TurnFrame``; ``release()`` gives it up.

    ``path`` None: turns are off (``ADVISOR_PROBE_WAIT=0``), and ``take`` does nothing.
    """

    def __init__(self, path: str | None, max_wait_seconds: float, channel: Any) -> None:
        self.path = path
        self.max_wait_seconds = max_wait_seconds
        self.channel = channel  # the child's: send(frame), progress(device, fraction, message)
        self.fd: int | None = None
        self.outcome: TurnOutcome | None = None
        self.named = False  # this probe's pid is in the file (blanked on release)

    def take(self, fraction: float) -> None:
        """Wait for the turn (the first call only), and tell the parent how long it took."""
        if self.outcome is not None or self.path is None:
            return
        from advisor.probe.frames import TurnFrame

        try:
            self.fd, writable = _open(self.path)
        except OSError as exc:
            self.outcome = TurnOutcome()
            self.channel.send(TurnFrame(waited_seconds=0.0, note=(
                f"could not open {self.path}, {LOCK_FILE} ({exc.strerror or exc}): this probe timed without "
                "waiting for others, so another advisor probe running now may have disturbed its timings.")))
            return
        fd = self.fd
        self.outcome = wait_for_turn(lambda: _try_lock(fd), lambda: _read_pid(fd), self.max_wait_seconds,
                                     lambda message: self.channel.progress("setup", fraction, message))
        if writable and not self.outcome.timed_out:
            with contextlib.suppress(OSError):  # who holds it: only what a waiting probe names
                os.pwrite(fd, f"{os.getpid()}".ljust(_PID_FIELD_BYTES).encode(), 0)
                self.named = True
        self.channel.send(TurnFrame(waited_seconds=round(self.outcome.waited_seconds, 3),
                                    note=turn_note(self.outcome, self.max_wait_seconds)))

    def release(self) -> None:
        """Give the turn up (closing the descriptor releases the lock), blanking the pid this probe wrote: the next
        holder may be one that cannot write the file (another user's), and a waiter must not name this one."""
        if self.fd is not None:
            with contextlib.suppress(OSError):
                if self.named:
                    os.pwrite(self.fd, b" " * _PID_FIELD_BYTES, 0)
                os.close(self.fd)
            self.fd = None


def _open(path: str) -> tuple[int, bool]:
    """(a close-on-exec descriptor of the lock file, whether it is open for writing). Never follows a link, and
    never truncates: the file is in a folder anyone can write, so another user may have put a link there, or made
    the file. Created readable and writable by every user, so that theirs can lock it too."""
    base = os.O_CLOEXEC | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0)  # O_NONBLOCK: a FIFO planted there
    try:
        return _checked(os.open(path, os.O_RDWR | base)), True
    except FileNotFoundError:
        pass
    except PermissionError:  # another user's file that we may not write: flock needs only a descriptor
        return _checked(os.open(path, os.O_RDONLY | base)), False
    try:  # O_EXCL: Linux's protected_regular refuses a plain O_CREAT on another user's file in /tmp
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | base, 0o666)
    except FileExistsError:  # another probe made it meanwhile
        return _open(path)
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o666)  # the umask took write access from the others
    return _checked(fd), True


def _checked(fd: int) -> int:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        raise OSError(errno.EINVAL, "not a plain file")
    return fd


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_pid(fd: int) -> int | None:
    """The pid the holder wrote, if that process is alive: a killed holder's stays in the file, and a holder
    that may only read the file (another user's) writes none."""
    try:
        text = os.pread(fd, _PID_FIELD_BYTES, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    pid = int(text) if text.isdigit() and 0 < int(text) < 1 << 31 else None
    if pid is None:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except OSError:  # PermissionError: another user's process, alive
        pass
    return pid
