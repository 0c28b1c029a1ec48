"""A wide MLP regression (256 -> 1024 -> 1024 -> 512 -> 1, GELU, MSE): a workload the probe was not tuned on,
from the busy-machine report (issue: measurements under load)."""

import torch
from torch import nn

DATASET_SIZE = 80_000
EPOCHS = 2
BATCH_SIZE = 100


def build_model() -> nn.Module:
    return nn.Sequential(nn.Linear(256, 1024), nn.GELU(), nn.Linear(1024, 1024), nn.GELU(),
                         nn.Linear(1024, 512), nn.GELU(), nn.Linear(512, 1))


def make_batch(batch_size: int):
    return torch.randn(batch_size, 256), torch.randn(batch_size, 1)


def loss_fn(output, target):
    return nn.functional.mse_loss(output, target)
