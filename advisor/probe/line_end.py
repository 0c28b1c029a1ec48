"""Whether the probe child's own output (the workload's prints, an ``input()`` prompt) left a line open: the
parent's error message comes next on the same terminal, and was glued to a prompt ("continue? error: ...").

The child's ``sys.stdout`` (sent to standard error, ``advisor.probe.child``) and ``sys.stderr`` are replaced by text
streams over the same descriptors, with the same encoding, that record whether the last text written ended its
line. What C code writes to the descriptors themselves is not seen.
"""

from __future__ import annotations

import io
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
            # Buffered as the stream was: `python -u` (PYTHONUNBUFFERED) writes each text at once.
            unbuffered = isinstance(getattr(stream, "buffer", None), io.FileIO)
            raw = open(stream.fileno(), "wb", buffering=0 if unbuffered else -1, closefd=False)  # noqa: SIM115
            tracked = _Tracked(raw, encoding=stream.encoding, errors=stream.errors,
                               line_buffering=stream.line_buffering, write_through=stream.write_through)
        except (AttributeError, OSError, ValueError):
            return stream
        tracked.line_end = self
        return tracked

    def close_line(self, stream: TextIO) -> None:
        """A newline on ``stream`` where the last text written left a line open."""
        if self.line_open:
            stream.write("\n")
            stream.flush()


class _Tracked(io.TextIOWrapper):
    """A text stream that tells its ``LineEnd`` whether each text written ended its line."""

    line_end: LineEnd

    def write(self, text: str) -> int:
        written = super().write(text)
        if text:
            self.line_end.line_open = not text.endswith("\n")
        return written
