"""Waiting for a file descriptor to become readable, at any descriptor number.

``select.select`` takes only descriptors below FD_SETSIZE (1024): a host process with more files open (a
service, a notebook kernel with many sockets) got ``ValueError: filedescriptor out of range in select()`` and a
traceback from every probe. ``poll`` has no such limit; ``select`` is kept only where the platform has no poll.
"""

from __future__ import annotations

import math
import select
from typing import Any


def wait_readable(source: Any, timeout_seconds: float) -> bool:
    """Whether ``source`` (a descriptor, or anything with ``fileno()``) has data or its end waiting, after waiting
    at most ``timeout_seconds`` (0: just look)."""
    timeout_seconds = max(timeout_seconds, 0.0)
    if not hasattr(select, "poll"):
        return bool(select.select([source], [], [], timeout_seconds)[0])
    poller = select.poll()
    poller.register(source, select.POLLIN | select.POLLPRI)
    # poll's timeout is in milliseconds; rounded up, so a short wait is not a busy spin at 0 ms
    return bool(poller.poll(math.ceil(timeout_seconds * 1000)))
