"""The probe child's faulthandler dump (``ChildStart.fault_file``): waiting for a hung child's, and where a dead
or hung child was, read from it. The child, which runs user code, can replace the file: it is read without
blocking or following a link, only while it is a regular file, and only its end.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import time
from pathlib import Path

from advisor.probe.lifetime import ADVISOR_ROOT

_DUMP_WAIT_SECONDS = 2.0  # at most, after SIGUSR1, for faulthandler to write the hung child's stack
_DUMP_READ_BYTES = 1 << 20  # of the dump's end: every thread's stack, many times over


def wait_for_dump(fault_file: str) -> None:
    """Until the child's stack dump is written (its size stops growing), at most _DUMP_WAIT_SECONDS."""
    deadline = time.monotonic() + _DUMP_WAIT_SECONDS
    size = -1
    while time.monotonic() < deadline:
        time.sleep(0.02)
        try:
            new = os.path.getsize(fault_file)
        except OSError:  # the child removed or replaced it: no dump to wait for
            return
        if new and new == size:
            return
        size = new


_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<func>\S+)')


def _read_dump(fault_file: str) -> str:
    """The end of the child's faulthandler dump; "" unless it is a regular file. The child can replace the file
    (a FIFO blocked this process for good, a link to /dev/zero would be read whole): opened without blocking
    or following a link, and at most ``_DUMP_READ_BYTES`` of its end read."""
    try:
        fd = os.open(fault_file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return ""
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return ""
        os.lseek(fd, max(0, info.st_size - _DUMP_READ_BYTES), os.SEEK_SET)
        return os.read(fd, _DUMP_READ_BYTES).decode(errors="replace")
    except OSError:
        return ""
    finally:
        os.close(fd)


def where_in_dump(fault_file: str, user_file: str | None) -> str:
    """' (in make_batch, model.py:12)' from the child's faulthandler dump: the innermost frame of the user's
    code (the workload file, else the innermost frame outside advisor, torch and the standard library)."""
    text = _read_dump(fault_file)
    frames = [m.groupdict() for m in _FRAME.finditer(text)]  # innermost first, per thread
    if not frames:
        return ""
    chosen = None
    if user_file:
        chosen = next((f for f in frames if _same_file(f["file"], user_file)), None)
    if chosen is None:
        library = (ADVISOR_ROOT + os.sep + "advisor", os.sep + "torch" + os.sep, sys.base_prefix, sys.prefix)
        chosen = next((f for f in frames if not any(s in f["file"] for s in library)
                       and not f["file"].startswith("<")), None)
    if chosen is None:
        return ""
    return f" (in {chosen['func']}, {Path(chosen['file']).name}:{chosen['line']})"


def _same_file(a: str, b: str) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False
