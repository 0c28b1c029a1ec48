"""A workload or profile file this user may not read is a workload problem: one message naming the file and its
permissions, exit 1, and under --json the error document. typer's own readability check on WORKLOAD and
--profile made it a usage error (exit 2, "Invalid value for 'WORKLOAD': path ... is not readable") with nothing
on stdout for a pipeline parsing --json.

As a user other than root (CI) ``chmod 000`` is the whole set-up. root reads any file, so there the kernel's
refusal is stood in for where advisor (and typer) meet it: ``os.access`` and the profile's read.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app

ROOT = Path(__file__).resolve().parents[2]
JOB = ["--dataset-size", "20000", "--epochs", "2", "--no-save"]


def _deny_reading(monkeypatch, path: Path) -> None:
    path.chmod(0)
    if not os.access(path, os.R_OK):
        return  # not root: the permission itself refuses it
    real_access, real_read_text = os.access, pathlib.Path.read_text

    def access(target, mode, *args, **kwargs):
        if os.fspath(target) == os.fspath(path) and mode & os.R_OK:
            return False
        return real_access(target, mode, *args, **kwargs)

    def read_text(self, *args, **kwargs):
        if os.fspath(self) == os.fspath(path):
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_text(self, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(pathlib.Path, "read_text", read_text)


@pytest.mark.parametrize("command", [
    ("recommend", "WORKLOAD", *JOB, "--json"),
    ("predict", "WORKLOAD", *JOB, "--gpu", "h100", "--json"),
    ("profile", "WORKLOAD", "--json"),
])
def test_an_unreadable_workload_is_a_workload_error(tmp_path, monkeypatch, command):
    workload = tmp_path / "unread.py"
    shutil.copy(ROOT / "examples" / "tabular_mlp.py", workload)
    _deny_reading(monkeypatch, workload)
    result = CliRunner().invoke(build_app(), [str(workload) if a == "WORKLOAD" else a for a in command])
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "WorkloadError"
    assert error["message"] == f"{workload}: cannot be read (Permission denied)."
    assert error["hint"] == (f"Fix: the permissions keep advisor from reading the file (`ls -l {workload}` shows "
                             f"the file's, `namei -l {workload}` each folder's on the way): make it readable to "
                             "this user (chmod), or run advisor as a user who can read it.")


def test_an_unreadable_profile_says_so(tmp_path, monkeypatch):
    from advisor.probe import save_profile
    from advisor.schemas import Profile, WorkloadInfo

    path = save_profile(Profile(workload=WorkloadInfo(name="w", param_count=1), devices=[]), tmp_path / "p.json")
    _deny_reading(monkeypatch, path)
    result = CliRunner().invoke(build_app(), ["recommend", "--profile", str(path), *JOB, "--json"])
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "ProbeError"
    assert error["message"] == f"{path}: could not read the profile (Permission denied)."
    assert error["hint"].startswith(f"Fix: the permissions keep advisor from reading the file (`ls -l {path}`")
