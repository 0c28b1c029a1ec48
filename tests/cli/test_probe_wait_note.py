"""A run that is not on a terminal (a CI log, ``--json``) still says that its probe waited for another advisor
probe's turn, and how long: the wait's progress line shows only on a terminal, so the note is all such a run has."""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
HELD_SECONDS = 3.0


def _opened_by_another(path: Path) -> bool:
    """Whether a process other than this one has ``path`` open (the probe child, about to wait for the lock)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == str(path) for fd in os.listdir(f"/proc/{pid}/fd")):
                return True
        except OSError:  # gone, or not ours to read
            continue
    return False


@pytest.mark.parametrize("as_json", [False, True], ids=["human", "json"])
def test_a_recommend_off_a_terminal_says_its_probe_waited(tmp_path, as_json):
    lock = tmp_path / "advisor-probe.lock"  # this test's own lock, not the machine's
    env = {**os.environ, "ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}", "ADVISOR_PROBE_LOCK": str(lock),
           "ADVISOR_PROBE_WAIT": "240", "PYTHONPATH": str(ROOT)}
    gate = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    fcntl.flock(gate, fcntl.LOCK_EX)
    args = [sys.executable, "-m", "advisor", "recommend", str(ROOT / "examples" / "tabular_mlp.py"),
            "--dataset-size", "100000", "--epochs", "1", "--batch-size", "128", "--probe-seconds", "2"]
    proc = subprocess.Popen([*args, *(["--json"] if as_json else [])], env=env, text=True, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # pipes: not a terminal
    try:
        deadline = time.monotonic() + 180
        while not _opened_by_another(lock) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(HELD_SECONDS)  # the probe waits this long at least
    finally:
        os.close(gate)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    text = json.dumps(json.loads(out)["notes"]) if as_json else " ".join(out.split())  # the lines unwrapped
    waited = re.findall(r"this probe waited (\d+) s for another advisor probe to finish timing", text)
    assert len(waited) == 1, out
    assert int(waited[0]) >= HELD_SECONDS - 0.5
