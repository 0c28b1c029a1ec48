"""Writing a user's output file (``-o``, ``--plot``, ``profile -o``) where they named it, and only there.

A regular file is replaced atomically (a temporary file beside it, then ``os.replace``): a failure leaves
neither half a file nor the temporary one, and the new file keeps the old one's permission bits (an export
over a ``0600`` file stays private). A symbolic link is written through, as a shell's ``>`` does: the file it
points at is replaced, the link stays. A device or a named pipe (``/dev/null``, ``/dev/stdout``, a FIFO a
reader waits on) is written into as it is: replacing it would put a regular file where the device was.
``StagedFile`` splits the write from the move, for an output that may only replace the old one once something
else has succeeded. ``path_text`` is a path as the text advisor stores and sends (the UTF-8 of its bytes, whatever
the locale), ``non_utf8_shown`` one that has none, as it can be printed.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"


def path_text(path: Path | str) -> str | None:
    """``path`` as text to store, send or compare: its bytes (``os.fsencode``) decoded as UTF-8, so that one file
    has one name whatever the locale decoded it with (a Latin-1 locale reads the UTF-8 ``modèle`` as ``modÃ¨le``,
    an ASCII one escapes its bytes); else, where its bytes are not UTF-8, the name as the locale reads it where that
    is text (a Latin-1 locale's own ``modèle``); None where it is neither (``non_utf8_shown`` says how it reads)."""
    text = os.fspath(path)
    try:
        return os.fsencode(text).decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text.encode("utf-8")  # a lone surrogate: a byte the locale's encoding could not decode either
    except UnicodeEncodeError:
        return None
    return text


def non_utf8_shown(path: Path | str) -> str | None:
    """``path`` as it can be printed (each byte that is not UTF-8 as ``\\xNN``) where it is not text
    (``path_text``), as a Latin-1 ``modèle.py`` is under a UTF-8 locale; None where it is. Such a path cannot go
    into JSON, a probe's start message or the history, and printing it as it is fails."""
    if path_text(path) is not None:
        return None
    return os.fsencode(os.fspath(path)).decode("utf-8", "backslashreplace")


def is_sqlite_database(path: Path) -> bool:
    """Whether ``path`` is a regular file that starts as every SQLite database does (the history's own, say)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return False
        with open(path, "rb") as handle:
            return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def existing_mode(path: Path | str) -> int | None:
    """The ``st_mode`` of what ``path`` names, through links (``/dev/stdout`` is the pipe or file behind it);
    None where nothing is there."""
    try:
        return os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None


def out_of_space(exc: OSError) -> bool:
    """Whether ``exc`` is a full disk, a used-up quota or a file over its size limit: the failures that freeing
    some space (or a smaller output) fixes."""
    return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def write_in_place(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(p)`` so that its output ends up at ``path`` as described above; returns the file written
    (the link's target for a link). OSError when it cannot be written."""
    return StagedFile(path, write).commit()


class StagedFile:
    """An output written now beside where it goes and moved into place only by ``commit()``; ``discard()`` (or a
    failed write) removes it, leaving any file already at ``path`` as it was. So a run that writes an output and
    then stores a result can put the output in place only once the result is stored (``recommend --plot``).
    A device or a pipe is written into at once: there is nothing to replace. OSError when it cannot be written.
    """

    def __init__(self, path: Path, write: Callable[[Path], object]) -> None:
        self._tmp: Path | None = None
        self._mode = existing_mode(path)
        if self._mode is not None and not stat.S_ISREG(self._mode):
            # A device or a pipe: there is no "in place" to swap. Opened by the name given, not its realpath:
            # /dev/stdout into a pipe resolves through /proc/self/fd/1 to "pipe:[N]", a name nothing can open.
            self.target = Path(path)
            write(self.target)
            return
        self.target = Path(os.path.realpath(path))
        # A name of its own: two writers of one output at once (threads of one process, or processes whose pids
        # repeat, as in containers that share a work folder) had one temporary file between them, and one moved the
        # other's half-written file into place.
        tmp = self.target.with_name(f".{self.target.stem[:40]}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
                                    f"{self.target.suffix}")
        self._tmp = tmp
        try:
            write(tmp)
            if self._mode is not None:
                os.chmod(tmp, stat.S_IMODE(self._mode))
        except BaseException:
            self.discard()
            raise

    def commit(self) -> Path:
        """Move the output into place; returns the file written."""
        if self._tmp is not None:
            try:
                os.replace(self._tmp, self.target)
            finally:
                self.discard()
        return self.target

    def discard(self) -> None:
        """Remove the output not yet moved into place (nothing once committed)."""
        tmp, self._tmp = self._tmp, None
        if tmp is not None:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
