"""A probe child that cannot be started (its interpreter unreadable to this user, removed by a venv rebuilt while
advisor ran, a process limit's EAGAIN) is a ProbeError naming the interpreter and the reason: it was the
PermissionError's traceback from subprocess.Popen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.errors import ProbeError
from advisor.probe import lifetime

WORKLOAD = Path(__file__).resolve().parents[2] / "examples" / "tabular_mlp.py"
REAL_POPEN = subprocess.Popen


def _refusing(error: OSError):
    """subprocess.Popen that fails as the kernel would for the probe's interpreter only."""

    def popen(args, *rest, **kwargs):
        if list(args[:1]) == [sys.executable] and "-c" in args:
            raise error
        return REAL_POPEN(args, *rest, **kwargs)

    return popen


@pytest.mark.parametrize(("error", "reason"), [
    (PermissionError(13, "Permission denied", sys.executable), "Permission denied"),
    (BlockingIOError(11, "Resource temporarily unavailable"), "Resource temporarily unavailable"),
])
def test_a_child_that_cannot_start_is_a_probe_error(monkeypatch, error, reason):
    monkeypatch.setattr(subprocess, "Popen", _refusing(error))
    monkeypatch.setattr(lifetime, "_start_frame", lambda start: b"frame")  # what it sends, had it started
    open_before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(ProbeError) as caught:
        lifetime.start_fresh(None, None)
    assert caught.value.message == f"The probe cannot start: running {sys.executable} failed: {reason}."
    assert caught.value.hint.startswith(f"Fix: check that this Python can be run by you (its file and folders: "
                                        f"`ls -l {sys.executable}`)")
    assert len(os.listdir("/proc/self/fd")) == open_before  # neither end of the socket pair is left open


def test_recommend_says_so_in_one_message(monkeypatch, tmp_path):
    monkeypatch.setattr(subprocess, "Popen", _refusing(PermissionError(13, "Permission denied", sys.executable)))
    monkeypatch.setenv("ADVISOR_PROBE_WAIT", "0")
    result = CliRunner().invoke(build_app(), ["recommend", str(WORKLOAD), "--dataset-size", "20000", "--epochs",
                                              "2", "--no-save", "--json"])
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "ProbeError"
    assert error["message"] == f"The probe cannot start: running {sys.executable} failed: Permission denied."
