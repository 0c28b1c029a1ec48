"""A probe process ends with the process that started it.

advisor's own process can be killed without running any clean-up (SIGKILL, or SIGTERM from ``timeout`` or a
job scheduler, which Python does not turn into an exception). The probe's child runs in its own session, so
nothing would stop it then, and a hung model would spin forever. On Linux each probe process asks the
kernel for SIGKILL when its parent goes (``prctl(PR_SET_PDEATHSIG)``); the parent is the thread that
started it, which waits for it, so it cannot go early. Elsewhere this is a no-op.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None) -> None:
    """SIGKILL this process when its parent ends; exit now if ``parent_pid`` has already gone."""
    if not sys.platform.startswith("linux") or parent_pid is None:
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
            return
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent went before the request took effect
        os._exit(3)
