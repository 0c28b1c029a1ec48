"""Writing a user's output file (``-o``, ``--plot``, ``profile -o``) where they named it, and only there.

A regular file is replaced atomically (a temporary file beside it, then ``os.replace``): a failure leaves
neither half a file nor the temporary one, and the new file keeps the old one's permission bits (an export
over a ``0600`` file stays private). A symbolic link is written through, as a shell's ``>`` does: the file it
points at is replaced, the link stays. A device or a named pipe (``/dev/null``, ``/dev/stdout``, a FIFO a
reader waits on) is written into as it is: replacing it would put a regular file where the device was.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"


def is_sqlite_database(path: Path) -> bool:
    """Whether ``path`` is a regular file that starts as every SQLite database does (the history's own, say)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return False
        with open(path, "rb") as handle:
            return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def write_in_place(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(p)`` so that its output ends up at ``path`` as described above; returns the file written
    (the link's target for a link). OSError when it cannot be written."""
    target = Path(os.path.realpath(path))
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        write(target)  # a device or a pipe: there is no "in place" to swap
        return target
    tmp = target.with_name(f".{target.stem[:40]}.{os.getpid()}.tmp{target.suffix}")
    try:
        write(tmp)
        if mode is not None:
            os.chmod(tmp, stat.S_IMODE(mode))
        os.replace(tmp, target)
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
    return target
