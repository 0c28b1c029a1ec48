"""The worker processes' load, shared: each worker's recommendation and prediction requests in hand (queued or
being computed), in a small memory-mapped file that ``advisor serve`` creates for its workers.

uvicorn's workers share one listening socket and each takes the connections it happens to accept: a burst of
clients can leave one worker with twice the other's (measured: 74 vs 34 requests of one burst, one worker idle for
a third of it). A keep-alive connection stays with its worker, so that worker stays the busier one. A worker that
holds more requests than another (``Loads.busier_than_another``) answers with ``Connection: close``: the client
opens a new connection, which the idler worker, waiting on the socket while the busy one computes, usually
accepts first. Requests are never refused or moved; only the next connection may go elsewhere.
"""

from __future__ import annotations

import fcntl
import logging
import mmap
import os
import struct
from pathlib import Path

from advisor.processes import pid_alive

LOADS_ENV = "ADVISOR_SERVE_LOADS"  # the file's path, set by ``advisor serve`` for its workers
SLOTS = 64  # workers (and their replacements) a file has room for; a dead worker's slot is taken again
_SLOT = struct.Struct("<qq")  # worker pid, requests in hand
# How many more requests than the least busy worker a worker holds before it hands connections back.
MARGIN = 1


def create(path: str | Path) -> None:
    """An empty file of ``SLOTS`` slots."""
    Path(path).write_bytes(b"\0" * (SLOTS * _SLOT.size))


class Loads:
    """This worker's slot in the shared file, and the others' loads. One per worker process (the app's)."""

    def __init__(self, path: str | Path) -> None:
        with open(path, "r+b") as f:
            self._map = mmap.mmap(f.fileno(), SLOTS * _SLOT.size)
            # Workers start together: claim a free slot (never used, or its worker gone) under a lock.
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                free = [i for i in range(SLOTS) if not pid_alive(self._read(i)[0])]
                if not free:
                    raise OSError(f"{path}: no free slot for another worker")
                self.slot = free[0]
                _SLOT.pack_into(self._map, self.slot * _SLOT.size, os.getpid(), 0)
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        self.load = 0

    def _read(self, i: int) -> tuple[int, int]:
        return _SLOT.unpack_from(self._map, i * _SLOT.size)

    def add(self, n: int) -> None:
        """``n`` more requests in hand (negative: done). Called on the worker's event loop only."""
        self.load += n
        struct.pack_into("<q", self._map, self.slot * _SLOT.size + 8, self.load)

    def busier_than_another(self) -> bool:
        """Whether another live worker holds at least ``MARGIN + 1`` fewer requests than this one."""
        others = [load for pid, load in (self._read(i) for i in range(SLOTS) if i != self.slot) if pid_alive(pid)]
        return bool(others) and self.load > min(others) + MARGIN

    def close(self) -> None:
        _SLOT.pack_into(self._map, self.slot * _SLOT.size, 0, 0)
        self._map.close()


def open_loads(path: str | None) -> Loads | None:
    """This worker's ``Loads`` in the file at ``path``; None without one, or when it cannot be used (removed by a
    temp cleaner, full): the worker then serves without handing connections back, and says so."""
    if not path:
        return None
    try:
        return Loads(path)
    except (OSError, ValueError) as exc:
        logging.getLogger("advisor.service").warning("workers' shared load unavailable (%s): serving without it",
                                                     exc)
        return None
