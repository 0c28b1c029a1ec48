"""Whether the probe child's own output (the workload's prints, an ``input()`` prompt) left a line open: the
parent's error message comes next on the same terminal, and was glued to a prompt ("continue? error: ...").

The child's ``sys.stdout`` (sent to standard error, ``advisor.probe.child``) and ``sys.stderr`` are replaced by text
streams over the same descriptors, with the same encoding, that record whether the last text written ended its
line. What C code writes to the descriptors themselves is not seen.

A forked child (an in-memory workload that does not pickle) first swaps the streams it inherited for fresh ones on
the same descriptors, without flushing them (``unlocked_std_streams``): another thread of the caller (a notebook
kernel's output thread, a logger) may have held a stream's lock at the fork, and in the child no thread ever
releases it, so the child's first flush or print waited forever and the probe ended "did not finish within 63 s
... while starting", blaming the user's code. Text the inherited buffers held is the parent's to write.
"""

from __future__ import annotations

import io
import sys
from typing import TextIO


class LineEnd:
    """Whether the last text written through the streams ``track`` made left its line open."""

    def __init__(self) -> None:
        self.line_open = False

    def track(self, stream: TextIO | None) -> TextIO | None:
        """A text stream over ``stream``'s descriptor, as ``stream`` writes, that records into this; ``stream``
        itself where it has no descriptor (a notebook's, in a forked child) or is gone."""
        try:
            stream.flush()
            tracked = _over_descriptor(stream, _Tracked)
        except (AttributeError, OSError, ValueError):
            return stream
        tracked.line_end = self
        return tracked

    def close_line(self, stream: TextIO) -> None:
        """A newline on ``stream`` where the last text written left a line open."""
        if self.line_open:
            stream.write("\n")
            stream.flush()


def unlocked_std_streams() -> tuple[TextIO | None, TextIO | None]:
    """In a forked child, before anything writes: ``sys.stdout`` and ``sys.stderr`` replaced by fresh text streams
    over the same descriptors, the inherited ones left untouched (not flushed: their locks may be held for good).
    One without a descriptor (a notebook's own stream object) stays. Returns the inherited streams, which the
    caller holds until the process ends: one freed would flush as it goes, and could wait on its lock."""
    inherited = sys.stdout, sys.stderr
    fresh = []
    for stream in inherited:
        try:
            fresh.append(_over_descriptor(stream, io.TextIOWrapper))
        except (AttributeError, OSError, ValueError):
            fresh.append(stream)
    sys.stdout, sys.stderr = fresh
    return inherited


def _over_descriptor(stream: TextIO, cls: type[io.TextIOWrapper]) -> io.TextIOWrapper:
    """A ``cls`` text stream over ``stream``'s descriptor, encoding and buffering as ``stream`` has them (reading
    only its attributes: none takes its buffer's lock)."""
    # Buffered as the stream was: `python -u` (PYTHONUNBUFFERED) writes each text at once.
    unbuffered = isinstance(getattr(stream, "buffer", None), io.FileIO)
    raw = open(stream.fileno(), "wb", buffering=0 if unbuffered else -1, closefd=False)  # noqa: SIM115
    return cls(raw, encoding=stream.encoding, errors=stream.errors, line_buffering=stream.line_buffering,
               write_through=stream.write_through)


class _Tracked(io.TextIOWrapper):
    """A text stream that tells its ``LineEnd`` whether each text written ended its line."""

    line_end: LineEnd

    def write(self, text: str) -> int:
        written = super().write(text)
        if text:
            self.line_end.line_open = not text.endswith("\n")
        return written
