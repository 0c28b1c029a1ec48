"""The workload's own output on a terminal with the progress bar: written past the bar, it tore it (each print glued
to a copy of the bar left on the screen). A progress callback with ``write_output`` now takes it, whole lines at a
time, from a pipe on the child's descriptors 1 and 2 (``advisor.probe.output_relay``); without one it goes to
stderr as before."""

from __future__ import annotations

import os
import textwrap
import threading

import pytest

from advisor.probe.output_relay import OutputRelay
from advisor.probe.runner import run_profile
from advisor.workload import Workload

PRINTS = '''
import os, sys
import torch
print("top level loading...")

def build_model():
    print("loading model...")
    os.write(2, b"written by C code\\n")  # past Python's streams: the descriptor itself
    return torch.nn.Linear(4, 2)

def make_batch(batch_size):
    sys.stderr.write("\\r 10%|#  \\r100%|##########\\n")  # a tqdm bar: one line, its last state
    return torch.randn(batch_size, 4), torch.randint(0, 2, (batch_size,))
'''


class Taker:
    """A progress callback that takes the workload's output."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, device: str, fraction: float, message: str) -> None:
        pass

    def write_output(self, lines: str) -> None:
        with self.lock:
            self.lines.extend(lines.split("\n"))


def test_lines_are_what_a_terminal_kept_and_an_open_one_comes_at_the_end():
    got: list[str] = []
    relay = OutputRelay(got.append)
    os.write(relay.write_fd, b"a\r b\r c\r\nd\n")
    os.write(relay.write_fd, "é".encode()[:1])
    os.write(relay.write_fd, "é".encode()[1:] + b"\nopen")
    relay.close()
    assert "\n".join(got).split("\n") == [" c", "d", "é", "open"]


@pytest.mark.slow
def test_a_workload_file_s_prints_reach_the_progress_callback_not_stderr(tmp_path, capfd):
    path = tmp_path / "printing.py"
    path.write_text(textwrap.dedent(PRINTS))
    taker = Taker()
    run_profile(path, devices=["cpu"], batch_size=8, probe_seconds=1, analyze=False, progress=taker)
    assert "top level loading..." in taker.lines and "loading model..." in taker.lines
    assert "written by C code" in taker.lines and "100%|##########" in taker.lines
    assert not any("\r" in line or "10%|#" in line for line in taker.lines)
    err = capfd.readouterr().err
    assert "loading model..." not in err and "written by C code" not in err


@pytest.mark.slow
def test_a_forked_child_s_prints_reach_it_too(capfd):
    """An in-memory workload that does not pickle (lambdas) is probed in a fork of this process."""
    import torch

    def make_batch(batch_size):
        print("batch", batch_size)
        return torch.randn(batch_size, 4), torch.randint(0, 2, (batch_size,))

    wl = Workload(model=lambda: print("forked build") or torch.nn.Linear(4, 2), make_batch=make_batch)
    taker = Taker()
    run_profile(wl, devices=["cpu"], batch_size=8, probe_seconds=1, analyze=False, progress=taker)
    assert "forked build" in taker.lines and "batch 8" in taker.lines
    assert "forked build" not in capfd.readouterr().err


@pytest.mark.slow
def test_without_write_output_the_prints_go_to_stderr(tmp_path, capfd):
    path = tmp_path / "printing.py"
    path.write_text(textwrap.dedent(PRINTS))
    run_profile(path, devices=["cpu"], batch_size=8, probe_seconds=1, analyze=False,
                progress=lambda device, fraction, message: None)
    out, err = capfd.readouterr()
    assert "loading model..." in err and "written by C code" in err and "loading model..." not in out


def test_an_open_line_is_shown_as_it_reads_now_and_cleared_when_it_ends():
    # A download's bar in make_dataloader (tqdm: carriage returns, no line end until it is done) showed nothing
    # until it ended: the relay hands whole lines only
    import time

    lines: list[str] = []
    states: list[str] = []
    relay = OutputRelay(lines.append, states.append)
    os.write(relay.write_fd, b"\rDownloading:  10%|#         |")
    deadline = time.monotonic() + 5
    while not states and time.monotonic() < deadline:
        time.sleep(0.05)
    assert states == ["Downloading:  10%|#         |"] and lines == []
    time.sleep(0.3)  # past the 0.25 s between two states shown
    os.write(relay.write_fd, b"\rDownloading:  50%|#####     |")
    deadline = time.monotonic() + 5
    while len(states) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert states[-1] == "Downloading:  50%|#####     |"
    os.write(relay.write_fd, b"\rDownloading: 100%|##########|\ndone\n")
    relay.close()
    assert states[-1] == ""  # the line ended: its row goes
    assert "\n".join(lines).split("\n") == ["Downloading: 100%|##########|", "done"]


def test_an_open_line_of_megabytes_is_shown_by_its_tail():
    # 2 MB written with no line end: the open line's row was handed all 2,000,000 characters, re-escaped and
    # redrawn by the bar every 0.25 s; it now gets the line's last 200, "…" first
    import time

    lines: list[str] = []
    states: list[str] = []
    relay = OutputRelay(lines.append, states.append)
    for _ in range(40):
        os.write(relay.write_fd, b"x" * 50_000)
    os.write(relay.write_fd, b"the end")
    deadline = time.monotonic() + 10
    while not (states and states[-1].endswith("the end")) and time.monotonic() < deadline:
        time.sleep(0.05)
    relay.close()
    shown = [state for state in states if state]
    assert max(len(state) for state in shown) == 200
    assert shown[-1] == "\u2026" + "x" * 192 + "the end"
    assert states[-1] == "" and len(lines[0]) == 2_000_007  # the whole line still comes at the end


def test_without_show_partial_an_open_line_comes_at_the_end_only():
    lines: list[str] = []
    relay = OutputRelay(lines.append)
    os.write(relay.write_fd, b"\rstep 1\rstep 2")
    import time

    time.sleep(0.4)
    assert lines == []
    relay.close()
    assert lines == ["step 2"]


def test_an_open_line_redrawn_for_long_keeps_only_what_shows():
    # A tqdm bar's updates are one open line: kept whole, it grew by every redraw (a 10-minute download, 6,000
    # redraws) and each read copied all of it; only the text after its last carriage return is ever shown
    lines: list[str] = []
    relay = OutputRelay(lines.append)
    try:
        for i in range(0, 3000, 100):
            os.write(relay.write_fd, "".join(f"\rstep {j:5d}|{'#' * (j % 40)}" for j in range(i, i + 100)).encode())
        os.write(relay.write_fd, b"\r")  # a carriage return that ends it, kept for what comes next
        import time

        deadline = time.monotonic() + 5
        while not relay._pending.startswith("step  2999") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(relay._pending) < 100, len(relay._pending)
        os.write(relay.write_fd, b"X\n")
    finally:
        relay.close()
    assert lines == ["X"]


def test_an_open_line_of_megabytes_does_not_hold_the_child_up():
    # A workload writing a long line in pieces (print(..., end="")) and no line end: each 64 KiB read copied the
    # whole open line again, so 10 MB took 4.7 s to read, the child blocked on the full pipe meanwhile
    import time

    lines: list[str] = []
    relay = OutputRelay(lines.append, lambda state: None)
    piece = b"x" * 4096
    started = time.monotonic()
    try:
        for _ in range(10 * 256):
            os.write(relay.write_fd, piece)  # blocks while the pipe is full: the child's wait
        written_seconds = time.monotonic() - started
    finally:
        relay.close()
    assert written_seconds < 1.5, written_seconds
    assert len(lines) == 1 and len(lines[0]) == 10 * 2**20


def _states_shown(data: list[bytes]) -> list[str]:
    """The open line's states the relay shows for ``data``, written a piece at a time (0.3 s apart: each shown)."""
    import time

    states: list[str] = []
    relay = OutputRelay(lambda lines: None, states.append)
    try:
        for count, piece in enumerate(data, 1):
            time.sleep(0.3)  # past the 0.25 s between two states shown
            os.write(relay.write_fd, piece)
            deadline = time.monotonic() + 5
            while len([state for state in states if state]) < count and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        relay.close()
    return [state for state in states if state]


def test_a_coloured_open_line_is_shown_as_it_reads_not_cut_inside_its_colours():
    # A coloured bar (ESC[31m#ESC[0m a cell) was cut at its last 200 characters, inside an escape sequence: the row
    # showed "…[31m####################", 20 cells of 200 characters; and a read that ended inside one showed "\x1b[3"
    cells = "".join(f"\x1b[3{i % 7 + 1}m#\x1b[0m" for i in range(30))
    many = "".join(f"\x1b[3{i % 7 + 1}m#\x1b[0m" for i in range(500))
    shown = _states_shown([f"\r{cells} 30".encode(), f"\r{many} 500".encode(), b"\rstep 7 \x1b[3"])
    assert shown == ["#" * 30 + " 30", "\u2026" + "#" * 195 + " 500", "step 7 "]


def test_lines_that_fill_the_pipe_are_read_without_waiting(monkeypatch):
    # The relay waited 0.02 s after each read that held lines (one redraw of the bar a read's worth), the child
    # blocked on the full pipe meanwhile: a model summary of 100,000 lines printed in 4.6 s under the bar, 0.9 s
    # without it. Where a read fills the buffer, more is waiting: no wait then. (The wait made 0.3 s to show it.)
    import time

    from advisor.probe import output_relay

    monkeypatch.setattr(output_relay, "_COALESCE_SECONDS", 0.3)
    lines: list[str] = []
    relay = OutputRelay(lines.append)
    data = b"".join(b"line %6d of the model summary\n" % i for i in range(64_000))  # 2 MB: 30 full reads
    started = time.monotonic()
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(relay.write_fd, view[:65536]):]
        written_seconds = time.monotonic() - started
    finally:
        relay.close()
    assert written_seconds < 3, written_seconds  # 30 waits of 0.3 s: 9 s
    assert "\n".join(lines).split("\n") == [f"line {i:6d} of the model summary" for i in range(64_000)]


@pytest.mark.parametrize("data", [b"done\n\x1b[?25h", b"done\n\r" + b" " * 40 + b"\r", b"done\n\r"])
def test_a_line_left_open_that_shows_nothing_is_not_handed(data):
    # rich's progress shows the cursor again at its end ("\x1b[?25h", no line end), a tqdm(leave=False) bar erases
    # its line ("\r", blanks, "\r"): a terminal shows nothing of either, and the next text writes over it; each was
    # handed as a line, a blank line printed above the bar by every probe process
    got: list[str] = []
    relay = OutputRelay(got.append)
    os.write(relay.write_fd, data)
    relay.close()
    assert "\n".join(got).split("\n") == ["done"]


def test_an_open_line_erased_takes_its_row_away():
    # A tqdm(leave=False) bar erases its line at its end ("\r", blanks, "\r") and the line stays open: its row went
    # on showing, blank, with a pulsing bar, until the workload's next line
    import time

    states: list[str] = []
    relay = OutputRelay(lambda lines: None, states.append)
    try:
        for count, piece in enumerate((b"\rDownloading: 50%|#####|", b"\r" + b" " * 30 + b"\r"), 1):
            os.write(relay.write_fd, piece)
            deadline = time.monotonic() + 3
            while len(states) < count and time.monotonic() < deadline:  # one state a piece
                time.sleep(0.05)
            time.sleep(0.3)  # past the 0.25 s between two states shown
        shown = list(states)
    finally:
        relay.close()
    assert shown == ["Downloading: 50%|#####|", ""]
