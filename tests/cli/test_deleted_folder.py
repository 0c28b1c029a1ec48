"""Run from a folder deleted under the shell (``git checkout``, ``rm -rf build``, a CI clean-up): ``import torch``
ends the process there with exit code 2. A probing command said the workload "called sys.exit() or os._exit()",
and ``advisor hardware`` printed only oneMKL's two FATAL ERROR lines and exited 2, the usage-error code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
WORKLOAD = ROOT / "examples" / "tabular_mlp.py"
MESSAGE = "The current folder no longer exists (deleted?)"


def _in_deleted_folder(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    gone = tmp_path / "gone"
    gone.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}",
           "ADVISOR_PROBE_WAIT": "0"}
    # the shell enters the folder, removes it, then becomes advisor there
    return subprocess.run(["sh", "-c", 'cd "$1" && rmdir "$1" && shift && exec "$@"', "sh", str(gone),
                           sys.executable, "-m", "advisor", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.parametrize("args", [
    ("hardware",),
    ("hardware", "--json"),
    ("recommend", str(WORKLOAD), "--dataset-size", "20000", "--epochs", "2", "--no-save", "--json"),
    ("predict", str(WORKLOAD), "--dataset-size", "20000", "--epochs", "2", "--gpu", "h100"),
    ("profile", str(WORKLOAD), "-o", "/dev/null"),
])
def test_a_deleted_current_folder_is_one_message_and_exit_1(tmp_path, args):
    ran = _in_deleted_folder(tmp_path, *args)
    assert ran.returncode == 1, ran.stderr[-2000:]
    if "--json" in args:
        error = json.loads(ran.stdout)["error"]
        assert error["type"] == "ConfigError" and error["message"].startswith(MESSAGE)
        assert error["hint"] == "Fix: cd to an existing folder, then run advisor again."
    else:
        assert ran.stderr.startswith(f"error: {MESSAGE}"), ran.stderr[-2000:]
        assert "Fix: cd to an existing folder" in ran.stderr
    assert "Traceback" not in ran.stderr and "FATAL" not in ran.stderr and "sys.exit" not in ran.stderr


def test_the_probe_child_is_not_started_from_a_deleted_folder(monkeypatch):
    """The Python API probes through ``start_fresh`` too: no child starts, so none dies importing torch."""
    from advisor.probe import lifetime

    def gone() -> str:
        raise FileNotFoundError(2, "No such file or directory")

    started = []
    monkeypatch.setattr(os, "getcwd", gone)
    monkeypatch.setattr(lifetime.subprocess, "Popen", lambda *a, **k: started.append(a))
    with pytest.raises(ConfigError, match=r"current folder no longer exists"):
        lifetime.start_fresh(None, None)
    assert started == []
