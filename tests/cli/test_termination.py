"""SIGTERM and SIGHUP end a command as Ctrl-C does: one line, exit 128 + the signal, the probe's processes and
scratch folder gone (Python's default ended the process on the spot: exit 143 without a word, and the scratch
folder left behind)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

pytestmark = pytest.mark.slow

SLEEPY = textwrap.dedent("""
    import time
    import torch
    from torch import nn

    def build_model():
        return nn.Linear(8, 1)

    def make_batch(batch_size):
        time.sleep(0.5)
        return torch.randn(batch_size, 8), torch.randn(batch_size, 1)
""")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_terminated_probe_says_so_and_leaves_nothing_behind(tmp_path, signum):
    workload = tmp_path / "sleepy.py"
    workload.write_text(SLEEPY)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}
    proc = subprocess.Popen([sys.executable, "-c", "from advisor.cli.app import main; main()", "profile",
                             str(workload), "--batch-size", "8", "--probe-seconds", "30", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    while not any(p.name().startswith("advisor-probe") or "python" in p.name() for p in parent.children()) \
            or not list(scratch.glob("advisor-probe-*")):
        assert time.monotonic() < deadline, "the probe did not start"
        time.sleep(0.2)
    children = parent.children(recursive=True)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err
    assert err.strip().endswith(f"Terminated ({signal.Signals(signum).name}).")
    assert "Traceback" not in err
    assert list(scratch.iterdir()) == []
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []
