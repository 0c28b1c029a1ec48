"""A tabular classifier: an MLP over 64 numeric features predicting one of 10 classes.

64 -> 512 -> 512 -> 10 with ReLUs, 301,066 parameters. The smallest example, sized to train on a laptop
or a 2-core CPU in under a minute (about 7 ms a step at batch 512); start here. Batches are synthetic
(standard-normal features, uniform integer labels), so the advisor times exactly the step a real table
of this width would cost. Integer targets mean the default loss (cross-entropy) and the default
optimizer (AdamW, lr 1e-3) apply: this file defines neither.

    advisor recommend examples/tabular_mlp.py
"""

import torch
from torch import nn

DATASET_SIZE = 300_000  # rows
EPOCHS = 10
BATCH_SIZE = 512
NUM_FEATURES = 64
NUM_CLASSES = 10
HIDDEN = 512


def build_model() -> nn.Module:
    return nn.Sequential(
        nn.Linear(NUM_FEATURES, HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, NUM_CLASSES),
    )


def make_batch(batch_size: int):
    features = torch.randn(batch_size, NUM_FEATURES)
    labels = torch.randint(0, NUM_CLASSES, (batch_size,))
    return features, labels
