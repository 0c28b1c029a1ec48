"""The process's standard output as the CLI writes it, set up once at start (``advisor.cli.app.main``).

Characters its encoding cannot hold (a Latin-1 or ASCII terminal: ``LC_ALL=en_US.ISO-8859-1``,
``PYTHONIOENCODING=ascii``) are written as ``?`` rather than failing the answer with a ``UnicodeEncodeError``
(stderr writes them as ``\\u2014`` escapes). A write that fails for another reason than a closed pipe (a full
disk, an I/O error) raises ``StandardOutputError``, which ``advisor.cli.errors`` reports as one message: an
``OSError`` alone does not say which file it came from.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import sys
from collections.abc import Iterator
from typing import TextIO


class StandardOutputError(OSError):
    """Writing standard output failed (a closed pipe is ``BrokenPipeError``, which stops quietly instead)."""


class _StandardOutput(io.FileIO):
    """File descriptor 1, whose failed writes say that they were standard output's."""

    def write(self, data) -> int | None:  # type: ignore[override]
        try:
            return super().write(data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StandardOutputError(exc.errno, exc.strerror) from None


def stand_in_for_closed_stderr() -> None:
    """A process started with its stderr closed (``advisor ... 2>&-``, a daemon's job runner) gets ``/dev/null``
    there: its answer still goes to stdout, with no progress bar and no notes. Python leaves ``sys.stderr`` None
    then, which every stderr write would trip on; and file descriptor 2, left free, would be the next file or
    socket opened, where a library's (or the probe child's) writes to "stderr" would land."""
    try:
        os.fstat(2)
    except OSError:
        with contextlib.suppress(OSError):
            fd = os.open(os.devnull, os.O_WRONLY)
            if fd != 2:  # the lowest free descriptor: 0 where stdin is closed too
                os.dup2(fd, 2)
                os.close(fd)
            os.set_inheritable(2, True)  # os.open's are not: the probe child would start with fd 2 closed again
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115


def set_up() -> None:
    """Put ``sys.stdout`` over a ``_StandardOutput`` with the same encoding and buffering, replacing what the
    encoding cannot hold; stderr escapes it. A stdout that is not a file descriptor (a test's capture) is left as
    it is."""
    stream = sys.stdout
    try:
        fd = stream.fileno()
        encoding = codecs.lookup(stream.encoding).name
    except (AttributeError, OSError, ValueError, LookupError, TypeError):
        return
    # UTF-8 holds every character; a surrogate-escaped byte of a file name (the C locale's) is written back as
    # the byte it was.
    errors = stream.errors if encoding == "utf-8" and stream.errors != "strict" else "replace"
    stream.flush()
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(_StandardOutput(fd, "w", closefd=False)), encoding=encoding,
                                  errors=errors, line_buffering=stream.line_buffering,
                                  write_through=getattr(stream, "write_through", False))
    if getattr(sys.stderr, "errors", None) not in (None, "backslashreplace") and hasattr(sys.stderr, "reconfigure"):
        sys.stderr.reconfigure(errors="backslashreplace")


@contextlib.contextmanager
def utf8_data(stream: TextIO) -> Iterator[None]:
    """While open, ``stream`` writes UTF-8 whatever its encoding, where it is not a terminal: for a data file
    written to standard output (CSV). Its ``?`` for what an ASCII or Latin-1 encoding cannot hold is meant for a
    reader's screen, and would otherwise silently change the names in a file or a pipe (JSON escapes them)."""
    isatty = getattr(stream, "isatty", None)
    reconfigure = getattr(stream, "reconfigure", None)
    try:
        plain = codecs.lookup(getattr(stream, "encoding", None) or "").name == "utf-8"
    except LookupError:
        plain = False
    if plain or not callable(reconfigure) or (callable(isatty) and isatty()):
        yield
        return
    encoding, errors = stream.encoding, stream.errors
    reconfigure(encoding="utf-8", errors="surrogateescape")
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more is written anyway
            reconfigure(encoding=encoding, errors=errors)
