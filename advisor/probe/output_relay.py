"""The workload's own output (its prints, a model summary, warnings), relayed in whole lines to a progress display.

The probe's child writes its stdout and stderr to the parent's stderr (``advisor.probe.child``: stdout may be the
``--json`` answer). On a terminal that is where the progress bar is drawn, and the bar does not know of text
written past it: a workload that printed "loading..." in ``build_model`` tore the bar, each print glued to a copy
of the bar left on the screen ("0% 0:00:01 starting the probe processloading..."). Where the progress callback
takes the output (``write_output``, as the CLI's bar does), the child's descriptors 1 and 2 are a pipe instead,
and a thread here hands the lines to it, so that the bar prints them above itself.

A line is what a terminal would have kept of it: the text after its last carriage return (a tqdm bar's
updates are one line, its last state). A line left open is handed over when the probe ends, where it shows
anything; meanwhile, where the callback also has ``show_partial``, its current state is shown there (a download's
bar in ``make_dataloader``, written with carriage returns and no line end, showed nothing until it ended), at most
every 0.25 s, by its last 200 characters as a terminal shows them (its colours dropped), and cleared ("") when the
line ends.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from advisor.probe.fd_wait import wait_readable
from advisor.text import ESCAPE_SEQUENCE_CHARS, drop_escape_sequences

_POLL_SECONDS = 0.1
_DRAIN_SECONDS = 0.5  # after the child's group ended: what a process that left the group still writes, no more
_READ_BYTES = 65536
_COALESCE_SECONDS = 0.02
_PARTIAL_SECONDS = 0.25  # the open line's state shown at most this often (a tqdm bar redraws 10 times a second)
# The open line's state is shown by its last this many characters: a workload writing megabytes with no line end
# made the bar's row megabytes long, re-escaped and redrawn every 0.25 s (a terminal row shows ~200 at most).
_PARTIAL_CHARS = 200
# Of an open line, at most its last this many characters are looked at for those shown: a coloured line's
# escape sequences take ten characters a character shown, and a line of megabytes is not joined for it.
_TAIL_SCAN_CHARS = 16 * _PARTIAL_CHARS


def output_to(fd: int | None) -> None:
    """In a forked child: descriptors 1 and 2, and those ``sys.stdout`` and ``sys.stderr`` write to where the caller
    replaced them (pytest's capture, a file), made ``fd`` (the relay's pipe), which is then closed; None: kept.
    Only descriptors: no stream's lock is taken (``advisor.probe.line_end``)."""
    if fd is None:
        return
    targets = {1, 2}
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):  # none, closed, or not over a descriptor
            targets.add(stream.fileno())
    with contextlib.suppress(OSError):
        for target in sorted(targets - {fd}):
            os.dup2(fd, target)
        os.close(fd)


def output_sink(progress: Any) -> Callable[[str], None] | None:
    """The progress callback's ``write_output(lines)``, where it has one; None else (the child's output then goes
    to this process's stderr as it is)."""
    write = getattr(progress, "write_output", None)
    return write if callable(write) else None


def partial_sink(progress: Any) -> Callable[[str], None] | None:
    """The progress callback's ``show_partial(text)`` (the open line's current state; "" clears it), or None."""
    show = getattr(progress, "show_partial", None)
    return show if callable(show) else None


class OutputRelay:
    """A pipe for the child's descriptors 1 and 2, read by a thread that hands each line to ``write``.

    Args:
        write: called from the relay's thread with the complete lines of a read, joined by ``\\n`` (no line end).
        partial: called from the relay's thread with the open line's current state, "" once it ended; None: not.
    """

    def __init__(self, write: Callable[[str], None], partial: Callable[[str], None] | None = None) -> None:
        self._write = write
        self._partial = partial
        self._partial_shown = ""
        self._partial_at = 0.0
        self.read_fd, self.write_fd = os.pipe()
        self._decoder = codecs.getincrementaldecoder(getattr(sys.stderr, "encoding", None) or "utf-8")("replace")
        # The open line as a terminal would show it: its text since its last carriage return, in the pieces it
        # came in (joined only to be shown or handed over: joined at each read, a megabyte written with no line
        # end was copied again by every 64 KiB read, 20 MB in 17 s, the child blocked meanwhile), and how many
        # carriage returns end it (the text that comes next starts the line again).
        self._open: list[str] = []
        self._open_returns = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="advisor-probe-output", daemon=True)
        self._thread.start()

    def started(self) -> None:
        """The child has its copy of the write end: this process's is closed, so that the pipe ends with it."""
        with contextlib.suppress(OSError):
            os.close(self.write_fd)

    def close(self) -> None:
        """After the child's process group ended: the rest of its output handed over, the pipe closed."""
        self.started()
        self._stop.set()
        self._thread.join(_DRAIN_SECONDS + 2 * _POLL_SECONDS)
        if not self._thread.is_alive():
            os.close(self.read_fd)

    def _pump(self) -> None:
        deadline = None
        while deadline is None or time.monotonic() < deadline:
            if deadline is None and self._stop.is_set():
                deadline = time.monotonic() + _DRAIN_SECONDS
            if not wait_readable(self.read_fd, _POLL_SECONDS):
                if self._stop.is_set():
                    break  # ended, and nothing more came
                self._show_partial()
                continue
            try:
                data = os.read(self.read_fd, _READ_BYTES)
            except OSError:
                break
            if not data:
                break  # every writer gone
            self._feed(self._decoder.decode(data), more_waiting=len(data) == _READ_BYTES)
            self._show_partial()
        self._feed(self._decoder.decode(b"", final=True))
        self._clear_partial()
        # The line left open, where it shows anything: a terminal shows none of a line a tqdm(leave=False) bar
        # erased ("\r" and blanks) or of the cursor shown again at the end (rich's "\x1b[?25h"), and the next text
        # writes over it; handed, each printed a blank line above the bar.
        if drop_escape_sequences(_kept(self._pending), cut=True).strip():
            self._hand([self._pending])
        self._open, self._open_returns = [], 0

    @property
    def _pending(self) -> str:
        """The open line as kept: its text since its last carriage return, and the carriage returns that end it."""
        return "".join(self._open) + "\r" * self._open_returns

    def _feed(self, text: str, more_waiting: bool = False) -> None:
        *lines, rest = text.split("\n")
        if lines:
            lines[0] = self._pending + lines[0]
            self._open, self._open_returns = [], 0
        self._add_open(rest)
        if lines:
            self._clear_partial()
            self._hand(lines)
            # Lines that come fast are handed a read's worth at a time: one redraw of the bar each, not one a line
            # (a print in make_batch is a line a step; this process's drawing takes CPU from the timed child).
            # The pipe holds 64 KiB meanwhile, so the child is not held up by it; but where a read filled the
            # buffer, more waits and the pipe is full: the child was held up by each wait (a model summary of
            # 100,000 lines printed in 4.6 s, 0.9 s without the bar), and the next read is a full one anyway.
            if not more_waiting:
                time.sleep(_COALESCE_SECONDS)

    def _add_open(self, text: str) -> None:
        """``text`` (no line end) added to the open line. Of it only what follows its last carriage return shows
        (``_kept``): a tqdm bar's updates (one line, redrawn for minutes) grew it without bound."""
        bare = text.rstrip("\r")
        if not bare:
            self._open_returns += len(text)
            return
        if "\r" in bare:
            self._open = [bare.rsplit("\r", 1)[-1]]
        elif self._open_returns:
            self._open = [bare]
        else:
            self._open.append(bare)
        self._open_returns = len(text) - len(bare)

    def _show_partial(self) -> None:
        if self._partial is None or time.monotonic() - self._partial_at < _PARTIAL_SECONDS:
            return
        state = self._tail()
        if not state.strip():  # a line that shows nothing (a tqdm(leave=False) bar erased) is no row: a blank stayed
            state = ""
        if state == self._partial_shown:
            return
        self._partial_at = time.monotonic()
        self._call(self._partial, state)
        self._partial_shown = state

    def _tail(self) -> str:
        """The end of the open line as a terminal shows it (its escape sequences, colours, dropped), at most
        ``_PARTIAL_CHARS`` characters; "…" first where its start was cut. Only its last pieces are joined (the line
        may be megabytes), and not cut inside an escape sequence: a coloured line cut in "\\x1b[31m" showed "[31m"."""
        pieces: list[str] = []
        size = 0
        for piece in reversed(self._open):
            pieces.append(piece)
            size += len(piece)
            if size > _TAIL_SCAN_CHARS + ESCAPE_SEQUENCE_CHARS:
                break
        line = "".join(reversed(pieces))
        cut = size > _TAIL_SCAN_CHARS + ESCAPE_SEQUENCE_CHARS
        if cut:
            line = line[-(_TAIL_SCAN_CHARS + ESCAPE_SEQUENCE_CHARS):]
            # Started at the last escape character just before the cut, a sequence the cut ran through is whole
            start = line.rfind("\x1b", 0, ESCAPE_SEQUENCE_CHARS)
            line = line[start if start >= 0 else ESCAPE_SEQUENCE_CHARS:]
        plain = drop_escape_sequences(line, cut=True)
        if cut or len(plain) > _PARTIAL_CHARS:
            return "\u2026" + plain[-(_PARTIAL_CHARS - 1):]
        return plain

    def _clear_partial(self) -> None:
        if self._partial is not None and self._partial_shown:
            self._call(self._partial, "")
            self._partial_shown = ""

    def _hand(self, lines: list[str]) -> None:
        self._call(self._write, "\n".join(_kept(line) for line in lines))

    @staticmethod
    def _call(show: Callable[[str], None], text: str) -> None:
        try:
            show(text)
        except Exception:  # noqa: BLE001 - a display that fails must not stop the pipe's reading (the child blocks)
            pass


def _kept(line: str) -> str:
    """What a terminal kept of a line: the text after its last carriage return (one that ends it aside)."""
    return line.rstrip("\r").rsplit("\r", 1)[-1]
