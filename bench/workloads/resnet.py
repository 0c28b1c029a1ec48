"""ResNet-18/34/50/101/152 (He et al. 2015) on ImageNet shapes, as timm and torchvision build them, in plain
torch, so the advisor can be checked against timm's published train-step benchmarks
(profiles/published_throughput.csv, source ``timm``).

``ADVISOR_RESNET_DEPTH`` picks the depth (default 50). 18 and 34 use basic blocks (two 3x3 convolutions),
50/101/152 bottleneck blocks (1x1, 3x3, 1x1, 4x expansion) with the stride on the 3x3 convolution
("v1.5", what timm's ``resnet50`` and torchvision train). Every convolution is followed by batch norm; a
projection (1x1 convolution + batch norm) joins a block whose shape changes. Parameters:

    18  11,689,512     34  21,797,672     50  25,557,032     101  44,549,160     152  60,192,808

Batches are random 224x224 images and labels of the real shapes; the optimizer is timm's benchmark default
(SGD with Nesterov momentum 0.9, weight decay 1e-4). examples/resnet50.py is the same ResNet-50 with the
classic training recipe. ``ADVISOR_CHANNELS_LAST=1`` puts the model and the images in channels-last memory.
"""

import os

import torch
from torch import nn

DEPTHS = {  # depth: (bottleneck blocks?, blocks per stage)
    18: (False, (2, 2, 2, 2)),
    34: (False, (3, 4, 6, 3)),
    50: (True, (3, 4, 6, 3)),
    101: (True, (3, 4, 23, 3)),
    152: (True, (3, 8, 36, 3)),
}
NUM_CLASSES = 1000
IMAGE_SIZE = 224
DATASET_SIZE = 1_281_167  # ImageNet-1k train split
EPOCHS = 1
BATCH_SIZE = 256


def resnet_depth() -> int:
    depth = int(os.environ.get("ADVISOR_RESNET_DEPTH", "50") or 50)
    if depth not in DEPTHS:
        raise ValueError(f"ADVISOR_RESNET_DEPTH={depth} is not one of {', '.join(map(str, DEPTHS))}")
    return depth


def conv_bn(in_channels: int, out_channels: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2,
                                   bias=False), nn.BatchNorm2d(out_channels))


class Block(nn.Module):
    def __init__(self, in_channels: int, width: int, stride: int, bottleneck: bool) -> None:
        super().__init__()
        out_channels = width * (4 if bottleneck else 1)
        if bottleneck:
            self.body = nn.Sequential(conv_bn(in_channels, width, 1), nn.ReLU(inplace=True),
                                      conv_bn(width, width, 3, stride), nn.ReLU(inplace=True),
                                      conv_bn(width, out_channels, 1))
        else:
            self.body = nn.Sequential(conv_bn(in_channels, width, 3, stride), nn.ReLU(inplace=True),
                                      conv_bn(width, width, 3))
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = conv_bn(in_channels, out_channels, 1, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self.body(x) + identity)


class ResNet(nn.Module):
    def __init__(self, depth: int) -> None:
        super().__init__()
        bottleneck, layers = DEPTHS[depth]
        self.stem = nn.Sequential(conv_bn(3, 64, 7, 2), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, stride=2, padding=1))
        stages, in_channels = [], 64
        for i, blocks in enumerate(layers):
            width = 64 * 2**i
            for b in range(blocks):
                stages.append(Block(in_channels, width, 2 if (b == 0 and i > 0) else 1, bottleneck))
                in_channels = width * (4 if bottleneck else 1)
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_channels, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.stages(self.stem(x))), 1))


def channels_last() -> bool:
    """``ADVISOR_CHANNELS_LAST=1``: the model and its images in channels-last (NHWC) memory, as NVIDIA's and
    timm's NHWC runs train it (``model.to(memory_format=torch.channels_last)``)."""
    return os.environ.get("ADVISOR_CHANNELS_LAST", "0").strip().lower() in {"1", "true", "yes"}


def build_model() -> nn.Module:
    model = ResNet(resnet_depth())
    return model.to(memory_format=torch.channels_last) if channels_last() else model


def make_batch(batch_size: int):
    images = torch.randn(batch_size, 3, IMAGE_SIZE, IMAGE_SIZE)
    if channels_last():
        images = images.contiguous(memory_format=torch.channels_last)
    return images, torch.randint(0, NUM_CLASSES, (batch_size,))  # the default cross-entropy loss applies


def configure_optimizer(params) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=1e-4, momentum=0.9, nesterov=True, weight_decay=1e-4)
