"""Test models and helpers shared by the probe tests (tests/probe/conftest.py puts this folder on sys.path)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import torch

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench_module(name: str) -> ModuleType:
    """The bench script ``name`` (e.g. "pool_cpu_runs"), imported with bench/ on sys.path for as long as that
    takes (bench scripts import each other by bare name)."""
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH))


class OomAbove(torch.nn.Module):
    """'Runs out of memory' above a batch size, as a too-large batch does on a GPU."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.fc = torch.nn.Linear(16, 4)

    def forward(self, x):
        if x.shape[0] > self.limit:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return self.fc(x)
