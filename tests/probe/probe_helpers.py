"""Test models and helpers shared by the probe tests (tests/probe/conftest.py puts this folder on sys.path)."""

from __future__ import annotations

import torch


def tiny_model() -> torch.nn.Module:
    """A model whose step takes a millisecond or so: probe tests that time it stay fast on a busy machine."""
    return torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))


def tiny_batch(b: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``tiny_model``'s batch: 16 features, 4 classes."""
    return torch.randn(b, 16), torch.randint(0, 4, (b,))


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
