"""A small CNN for CIFAR-10-sized images: 32x32 RGB in, 10 classes out.

Three conv-BN-ReLU stages (32, 64, 128 channels, each halving the resolution), global average pooling
and a linear classifier (94,762 parameters): about 60 ms a step at batch 128 on a 2-core CPU, so under
half a minute an epoch. Batches are synthetic images and integer labels of CIFAR-10's shapes, so the
default cross-entropy loss applies; the optimizer is SGD with Nesterov momentum, as CIFAR recipes use.
Defaults: CIFAR-10's 50,000 training images, 2 epochs.

    advisor recommend examples/small_cnn.py --epochs 30
"""

import torch
from torch import nn

DATASET_SIZE = 50_000  # CIFAR-10 train split
EPOCHS = 2
BATCH_SIZE = 128
NUM_CLASSES = 10


def _stage(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


def build_model() -> nn.Module:
    return nn.Sequential(
        _stage(3, 32),  # 16x16
        _stage(32, 64),  # 8x8
        _stage(64, 128),  # 4x4
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(128, NUM_CLASSES),
    )


def make_batch(batch_size: int):
    images = torch.randn(batch_size, 3, 32, 32)
    labels = torch.randint(0, NUM_CLASSES, (batch_size,))
    return images, labels


def configure_optimizer(params) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
