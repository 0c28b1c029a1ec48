"""What an installed advisor needs beyond its commands: how it starts and what it finds (audit: install)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    """This checkout's advisor first on the path, as the tests import it."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


def test_python_dash_m_advisor_runs_the_command(tmp_path):
    # CI images often have the venv's python but not its bin/ on PATH.
    done = subprocess.run([sys.executable, "-m", "advisor", "--version"], capture_output=True, text=True,
                          cwd=tmp_path, env=_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("advisor ")
