"""The process's standard output as the CLI writes it, set up once at start (``advisor.cli.app.main``).

Characters its encoding cannot hold (a Latin-1 or ASCII terminal: ``LC_ALL=en_US.ISO-8859-1``,
``PYTHONIOENCODING=ascii``) are written as ``?`` rather than failing the answer with a ``UnicodeEncodeError``
(stderr writes them as ``\\u2014`` escapes), except the answer's own marks and dashes, which have ASCII
stand-ins that keep them apart (``ASCII_STAND_INS``): the chosen row's ``➜`` and a marketplace listing's ``†``
were both ``?``, which is also the mark of an undated spot price. A write that fails for another reason than a
closed pipe (a full disk, an I/O error) raises ``StandardOutputError``, which ``advisor.cli.errors`` reports as
one message: an ``OSError`` alone does not say which file it came from.

Standard error whose reader went away (``advisor ... 2>&1 >answer.json | head -1``) drops the rest of the notes
and the command goes on: its answer on stdout and its exit code are what they would have been. (A closed pipe on
stdout ends the command quietly with exit 0, the reader having chosen to stop; rich's own handling of either was
exit 1, and a ``--json`` error's document on stdout was lost with the message.)
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import sys
from collections.abc import Iterator
from typing import TextIO

# What stdout writes for a mark or a dash its encoding cannot hold: one character each, so tables keep their widths.
ASCII_STAND_INS = {"➜": ">", "†": "+", "–": "-", "—": "-"}
_STAND_IN_ERRORS = "advisor-stand-in"  # the codec error handler's name (``set_up`` registers it)


def _stand_in(error: UnicodeError) -> tuple[str, int]:
    """The codec error handler: each character the encoding cannot hold as its ASCII stand-in, else ``?``."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start:error.end]
    return "".join(ASCII_STAND_INS.get(char, "?") for char in text), error.end


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


class _StandardError(io.FileIO):
    """File descriptor 2, which a reader that went away (a closed pipe) turns into ``/dev/null``: what is left of
    the notes is dropped, not an error in the middle of a command or of its error message."""

    def write(self, data) -> int | None:  # type: ignore[override]
        try:
            return super().write(data)
        except BrokenPipeError:
            with contextlib.suppress(OSError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self.fileno())  # the probe child started from here on inherits it too
                os.close(devnull)
            return len(data)


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
    encoding cannot hold (``ASCII_STAND_INS``, else ``?``), and ``sys.stderr`` over a ``_StandardError``,
    escaping it. A stream that is not a file descriptor (a test's capture) is left as it is."""
    stream = sys.stdout
    codecs.register_error(_STAND_IN_ERRORS, _stand_in)  # the same function again on a second call: harmless
    with contextlib.suppress(AttributeError, OSError, ValueError, LookupError, TypeError):
        encoding = codecs.lookup(stream.encoding).name
        # UTF-8 holds every character; a surrogate-escaped byte of a file name (the C locale's) is written back
        # as the byte it was.
        errors = stream.errors if encoding == "utf-8" and stream.errors != "strict" else _STAND_IN_ERRORS
        sys.stdout = _over(stream, _StandardOutput, errors)
    with contextlib.suppress(AttributeError, OSError, ValueError, LookupError, TypeError):
        sys.stderr = _over(sys.stderr, _StandardError, "backslashreplace")


def _over(stream, raw: type[io.FileIO], errors: str) -> io.TextIOWrapper:
    """A text stream like ``stream`` (its file descriptor, encoding and buffering) over a ``raw`` file."""
    fd, encoding = stream.fileno(), codecs.lookup(stream.encoding).name
    stream.flush()
    wrapper = io.TextIOWrapper(io.BufferedWriter(raw(fd, "w", closefd=False)), encoding=encoding, errors=errors,
                               line_buffering=stream.line_buffering,
                               write_through=getattr(stream, "write_through", False))
    # the stream keeps its file open (closefd above is False): stderr's stand-in for a closed one is the only
    # reference to its /dev/null, whose descriptor would close with it
    wrapper.wrapped = stream
    return wrapper


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


def say_ended(message: str) -> None:
    """The last line of a command that was interrupted (Ctrl-C) or terminated (SIGTERM, SIGHUP), on stderr:
    "Interrupted." and what was saved before. Nothing where stderr cannot be written (closed, or None before
    ``set_up``)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
