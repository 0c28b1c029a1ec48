"""Whether a process is still there, by its pid: the one answer the probe's scratch sweep and the service's shared
load table both ask (neither may import the other)."""

from __future__ import annotations

import os


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
