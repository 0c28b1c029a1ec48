"""A workload that prints (``loading...``, a model summary) under the progress bar on a terminal: its text was
written past the bar, which then redrew on the next line, so the screen kept a torn copy of the bar for each print
("  setup ━━╺━━━ 5% 0:00:02 loading the workloadbatch 2"). The workload's output now goes through the bar, which
prints it above itself, whole lines, and leaves nothing of itself when it ends (it is transient)."""

from __future__ import annotations

import os
import pty
import re
import select
import sys
import textwrap

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pty: Linux")]

WIDTH = 100
PRINTS = '''
import torch
print("top level loading...")

def build_model():
    print("loading model...")
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    print(model)
    return model

def make_batch(batch_size):
    print("\\x1b[32mbatch\\x1b[0m", batch_size)
    return torch.randn(batch_size, 4), torch.randint(0, 2, (batch_size,))
'''
_CSI = re.compile(r"\x1b\[([0-9;?]*)[ -/]*([@-~])")


def screen_lines(text: str, width: int) -> list[str]:
    """What a terminal ``width`` columns wide shows of ``text`` (with its scrollback): the cursor moves and
    erasures rich's live display uses (``\\r``, ``ESC[2K``, ``ESC[nA``), the rest of each sequence ignored."""
    rows: list[list[str]] = [[]]
    row = col = 0
    i = 0
    while i < len(text):
        match = _CSI.match(text, i) if text[i] == "\x1b" else None
        if match:
            count = int(match.group(1)) if match.group(1).isdigit() else None
            if match.group(2) == "K":
                del rows[row][0 if count == 2 else col:]
            elif match.group(2) == "A":
                row = max(0, row - (count or 1))
            i = match.end()
            continue
        char, i = text[i], i + 1
        if char == "\r":
            col = 0
        elif char == "\n":
            row, col = row + 1, 0
        elif char >= " ":
            if col >= width:
                row, col = row + 1, 0
            while len(rows) <= row:
                rows.append([])
            line = rows[row]
            line.extend(" " * (col - len(line)))
            line[col:col + 1] = [char]
            col += 1
        while len(rows) <= row:
            rows.append([])
    return ["".join(r).rstrip() for r in rows]


def run_on_a_terminal(args: list[str], cwd: str, env: dict[str, str]) -> tuple[int, str]:
    """``advisor ARGS`` on a pseudo-terminal ``WIDTH`` columns wide: (exit code, all it wrote)."""
    code = "import sys\nfrom advisor.cli.app import main\nsys.argv = ['advisor', *sys.argv[1:]]\nmain()\n"
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.chdir(cwd)
        os.environ.update(env)
        os.environ["COLUMNS"] = str(WIDTH)
        os.execv(sys.executable, [sys.executable, "-c", code, *args])
    chunks = []
    while select.select([fd], [], [], 120)[0]:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", "replace")


def test_the_workload_s_prints_leave_the_bar_whole(tmp_path):
    (tmp_path / "printing.py").write_text(textwrap.dedent(PRINTS))
    code, written = run_on_a_terminal(
        ["profile", "printing.py", "--device", "cpu", "--batch-size", "8", "--probe-seconds", "1", "-o", "p.json"],
        str(tmp_path), {"ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"})
    assert code == 0, written[-2000:]
    bar = re.compile(r"\d+% \d+:\d\d:\d\d")  # its percentage and elapsed time
    assert bar.search(_CSI.sub("", written))  # it was drawn
    lines = screen_lines(written, WIDTH)
    assert [line for line in lines if bar.search(line)] == []  # nothing of it left: not a torn copy per print
    assert "top level loading..." in lines and "loading model..." in lines and "batch 8" in lines
    assert "  (0): Linear(in_features=4, out_features=8, bias=True)" in lines
