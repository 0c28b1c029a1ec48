"""Workload files and message checks shared by the workload tests (conftest.py puts this folder on sys.path).

Every user error asserts the exception type and the message's parts: the file (or workload), the problem
and the "Fix:" line.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from advisor.errors import AdvisorError
from advisor.workload import CheckResult, check_workload, load_workload

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"

HEADER = """\
import torch
import torch.nn.functional as F
from torch import nn

"""

# A small good workload; the error tests below change one piece of it.
GOOD_MODEL = """\
def build_model():
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
"""
GOOD_BATCH = """\
def make_batch(batch_size):
    return torch.randn(batch_size, 64), torch.randint(0, 10, (batch_size,))
"""


def write(tmp_path: Path, body: str, name: str = "model.py", header: bool = True) -> Path:
    path = tmp_path / name
    path.write_text((HEADER if header else "") + textwrap.dedent(body))
    return path


def assert_message(err: pytest.ExceptionInfo, *phrases: str) -> str:
    message = str(err.value)
    assert isinstance(err.value, AdvisorError)
    assert err.value.exit_code == 1
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in:\n{message}"
    assert "Fix:" in message, message
    return message


def check_file(tmp_path: Path, body: str, batch_size: int = 2) -> CheckResult:
    return check_workload(load_workload(write(tmp_path, body)), batch_size=batch_size)
