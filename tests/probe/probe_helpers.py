"""Test models and helpers shared by the probe tests (tests/probe/conftest.py puts this folder on sys.path)."""

from __future__ import annotations

import torch


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
