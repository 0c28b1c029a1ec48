"""Importing bench scripts from tests (on sys.path through tests/conftest.py)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "bench"


def bench_modules(*names: str) -> tuple[ModuleType, ...]:
    """The bench scripts ``names`` (e.g. "gpu_rows"), imported with bench/ on sys.path for as long as that takes
    (bench scripts import each other by bare name)."""
    sys.path.insert(0, str(BENCH))
    try:
        return tuple(importlib.import_module(n) for n in names)
    finally:
        sys.path.remove(str(BENCH))
