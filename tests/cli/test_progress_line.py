"""The probe's progress bar on a terminal: a long message ("waiting for another advisor probe (pid 665) to finish
timing ... 0s (at most 60s)") made rich shrink every column alike, so the elapsed time read ``0…`` and the bar was
one cell. The message and the bar give way now; the device, the percentage and the time stay whole."""

from __future__ import annotations

import io
import re
import sys

import pytest
from rich.console import Console

from advisor.cli import render

WAIT = "waiting for another advisor probe (pid 665) to finish timing ... 0s (at most 60s)"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("width", [100, 60, 40])
def test_a_long_message_leaves_the_time_and_percentage_whole(monkeypatch, width):
    buf = io.StringIO()
    monkeypatch.setattr(render, "err", lambda: Console(file=buf, width=width, force_terminal=True,
                                                       color_system=None))
    monkeypatch.setattr(sys, "stderr", _Terminal())  # probe_progress draws only on a terminal
    with render.probe_progress(True) as update:
        update("setup", 0.3, WAIT)
    frames = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue()).replace("\r", "\n")
    rows = [line for line in frames.splitlines() if "setup" in line]
    assert rows and all(re.search(r"setup .* +\d+% 0:00:0\d", line) for line in rows), frames
    assert any(" 30% 0:00:0" in line for line in rows), frames
    assert "…" not in frames and max(len(line) for line in frames.splitlines()) <= width
    if width == 100:  # the message is all there, over lines of its own column
        assert WAIT in " ".join(frames.split())
