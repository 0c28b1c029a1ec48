"""A 1-D convolutional keyword classifier on 1 s of 16 kHz audio (log-mel-like 64 x 101 frames): a workload the
probe was not tuned on, for the CPU accuracy bench."""

import torch
from torch import nn

DATASET_SIZE = 20_000
EPOCHS = 2
BATCH_SIZE = 64


def build_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv1d(64, 128, 5, padding=2), nn.BatchNorm1d(128), nn.ReLU(),
        nn.Conv1d(128, 128, 5, padding=2, stride=2), nn.BatchNorm1d(128), nn.ReLU(),
        nn.Conv1d(128, 256, 3, padding=1, stride=2), nn.BatchNorm1d(256), nn.ReLU(),
        nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(256, 35),
    )


def make_batch(batch_size: int):
    return torch.randn(batch_size, 64, 101), torch.randint(0, 35, (batch_size,))
