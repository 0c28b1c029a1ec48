"""The consoles and the escaping every printed piece of user or data text goes through.

``safe_text`` makes control characters visible (``\\x1b``) and escapes rich markup; ``out`` prints results on
stdout, ``err`` errors, notes and progress on stderr. ``advisor.cli.render`` re-exports all three.
"""

from __future__ import annotations

import errno
import os
import sys

from rich.console import Console
from rich.markup import escape

from advisor.text import show_controls

__all__ = ["safe_text", "show_controls", "TerminalText"]


def safe_text(value: object, *, multiline: bool = False) -> str:
    """``value`` as text to put in rich markup: control characters made visible (``\\x1b``), markup escaped.

    ``multiline`` keeps line breaks (error messages and hints span lines); elsewhere a newline is shown as
    ``\\x0a`` too, so that a name cannot break a table row.
    """
    return escape(show_controls(value, multiline=multiline))


class TerminalText:
    """A text stream for data written raw where it goes to a file or a pipe (CSV, JSON) when it goes to a
    terminal instead: control characters shown (``\\x1b``) as ``show_controls`` shows them, so that a stored
    name cannot drive the terminal; line breaks kept, a CSV row's ``\\r\\n`` written as a plain one."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(show_controls(text.replace("\r\n", "\n"), multiline=True))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def for_terminal(stream):
    """``stream`` itself, or a ``TerminalText`` over it when it is a terminal."""
    isatty = getattr(stream, "isatty", None)
    return TerminalText(stream) if callable(isatty) and isatty() else stream


class _ResultConsole(Console):
    """A closed pipe (``advisor ... | head -1``) is a ``BrokenPipeError`` for ``advisor.cli.errors`` to end
    quietly with exit 0; rich's own handling exits 1, the user-error code."""

    def on_broken_pipe(self) -> None:
        self.quiet = True  # nothing more to write: what is buffered is dropped
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


def out() -> Console:
    """The console for results (stdout). It reads markup: give it only ``safe_text`` for data."""
    # Piped output (no terminal) gets a wide fixed width so tables stay one line per row in logs and files.
    width = None if sys.stdout.isatty() else 160
    return _ResultConsole(soft_wrap=False, highlight=False, emoji=False, width=width)


def err() -> Console:
    """The console for errors, notes and progress (stderr). It reads markup, like ``out``."""
    return Console(stderr=True, soft_wrap=True, highlight=False, emoji=False)
