"""Shared test set-up: the history database and pricing never touch the user's real files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # helpers shared by every folder: bench_scripts, plot_helpers
EXAMPLES = REPO / "examples"


def _cuda_available() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    if _cuda_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Every test gets its own SQLite history and no user pricing overrides."""
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'history.db'}")
    monkeypatch.delenv("ADVISOR_PRICING", raising=False)
    monkeypatch.delenv("ADVISOR_DEBUG", raising=False)
    # Probes do not take turns with others on this machine (advisor.probe.turns): another checkout's test run
    # would make this one's probes wait; tests/probe/test_turns.py turns it on where it is what is tested.
    monkeypatch.setenv("ADVISOR_PROBE_WAIT", "0")
    monkeypatch.delenv("ADVISOR_PROBE_LOCK", raising=False)
    yield


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


POSTGRES_URL = os.environ.get("ADVISOR_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
