"""Processes by pid and by name, for the probe and the service alike (neither may import the other): whether a
process is still there (the probe's scratch sweep, the service's shared load table), and the names advisor gives
its own processes.

A probe child started fresh is ``python3 -P -c "...from advisor.probe.child import main..."`` (its command line
says what it is), but one forked from a Python API caller shows the caller's command line, and ``advisor serve
--workers N``'s workers (``multiprocessing`` spawn) are ``python3 -B -c "from multiprocessing.spawn import
spawn_main..."``: all "python3" in ``ps -e``, ``top`` and ``pgrep``, and in the probe's naming of the busiest
other process (``advisor.probe.contention``). Each now names itself (Linux ``prctl(PR_SET_NAME)``, the name
``ps -e``, ``top``, ``pgrep`` and psutil's ``name()`` read). The command line (``ps aux``, htop) is left as it is:
rewriting it takes overwriting the interpreter's argv memory (what the setproctitle package does), which the
standard library does not offer.
"""

from __future__ import annotations

import os
import sys

PROBE_PROCESS_NAME = "advisor-probe"  # the probe's child, its twins and its watchdog (forked from it)
SERVER_PROCESS_NAME = "advisor-serve"  # a worker of `advisor serve --workers N`
_PR_SET_NAME = 15  # <linux/prctl.h>
_MAX_NAME_BYTES = 15  # the kernel's TASK_COMM_LEN, 16 with its NUL


def name_this_process(name: str) -> bool:
    """Give this process the name ``name`` (at most 15 bytes) as the system lists it. Call it from the main
    thread: the kernel names the calling thread, and the main thread's name is the process's; threads started
    after it take it too. Returns False where it cannot (not Linux, no libc, no ctypes)."""
    if not sys.platform.startswith("linux") or len(name.encode()) > _MAX_NAME_BYTES:
        return False
    try:
        import ctypes  # a Python built without libffi has none (a server needs no torch, which needs it)

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_NAME, ctypes.c_char_p(name.encode()), 0, 0, 0) == 0
    except (ImportError, OSError, AttributeError):
        return False


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists: another user's counts (signal 0 is then refused, not missing); no pid
    below 1 does."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, though not ours (a reused pid)
        return True
    return True
