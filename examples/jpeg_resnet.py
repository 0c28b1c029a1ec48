"""A compact ResNet-18 fed by a real JPEG pipeline: decode, random resized crop, flip, normalise, collate.

``make_dataloader(batch_size, num_workers)`` is the training script's own input pipeline, as the advisor times
it: a ``torch.utils.data.DataLoader`` (shuffled, ``pin_memory=True``) over a Dataset that decodes JPEG files with
PIL and augments them the way ImageNet recipes do (torchvision's RandomResizedCrop(scale 0.08-1, ratio 3/4-4/3),
RandomHorizontalFlip, ToTensor, Normalize), written with PIL + torch because torchvision cannot be installed
beside a CPU-only torch wheel of this version. The JPEG files are made here, once per process, in a temporary
folder removed at exit: ``N_FILES`` random images of ImageNet-like sizes (about 400 x 350, quality 90, smooth
colour fields with noise, so they compress and decode like photographs rather than like pure noise). An epoch
reads ``DATASET_SIZE`` samples, cycling over the files, which the page cache soon holds: the loader is bound by
decoding and augmenting on the CPU, as a training job on local SSD or a warm cache is.

``make_batch`` gives random tensors of the loader's shapes, for the step's timing and shape analysis.

Sizes: IMAGE_SIZE 112 (not ImageNet's 224) and a ResNet-18 of half width (32-64-128-256 channels, 2.8 M
parameters), so that a CPU job of the defaults runs in about a minute on a 2-core machine and the loader is a
visible share of each step: on such a machine the step and the loader compete for the same two cores. At 224
and full width the step would take ~10x as long and hide the loader entirely.

    advisor profile examples/jpeg_resnet.py --device cpu
    advisor recommend examples/jpeg_resnet.py --deadline 1h
"""

import atexit
import os
import random
import shutil
import tempfile
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

DATASET_SIZE = 2560  # 10 passes over the N_FILES files
EPOCHS = 2
BATCH_SIZE = 64
# No NUM_WORKERS: the advisor gives each candidate the loader workers it can afford (its vCPUs less one per
# GPU; on a CPU instance its cores less one) and says where more would help. Set NUM_WORKERS = k to model a
# script that always starts k workers per training process.
NUM_CLASSES = 100
IMAGE_SIZE = 112
N_FILES = 256  # synthetic JPEG files, cycled over by the dataset
WIDTHS = (32, 64, 128, 256)  # ResNet-18's (64, 128, 256, 512), halved
MEAN = (0.485, 0.456, 0.406)  # ImageNet's per-channel mean and standard deviation
STD = (0.229, 0.224, 0.225)
_PREFIX = "advisor-jpeg-resnet-"
_FILES: dict[str, list[Path]] = {}  # this process's JPEG files, made once


# -------------------------------------------------------------------------------------------- the files


def jpeg_files() -> list[Path]:
    """This process's synthetic JPEG files, made on first use in a temporary folder that is removed at exit."""
    if "files" not in _FILES:
        _remove_stale_folders()
        folder = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))
        atexit.register(_remove, folder, os.getpid())
        _FILES["files"] = _write_jpegs(folder, N_FILES)
    return _FILES["files"]


def _write_jpegs(folder: Path, count: int) -> list[Path]:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    noise = rng.normal(0, 12, (420, 500, 3)).astype(np.int16)  # one field, cropped per image: 4x faster
    paths = []
    for i in range(count):
        width, height = int(rng.integers(320, 500)), int(rng.integers(280, 420))  # ImageNet's ~400 x 350
        coarse = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
        smooth = np.asarray(coarse.resize((width, height), Image.BICUBIC), dtype=np.int16)
        top, left = int(rng.integers(0, 420 - height + 1)), int(rng.integers(0, 500 - width + 1))
        pixels = np.clip(smooth + noise[top:top + height, left:left + width], 0, 255).astype(np.uint8)
        path = folder / f"{i:05d}.jpg"
        Image.fromarray(pixels).save(path, quality=90)
        paths.append(path)
    return paths


def _remove(folder: Path, owner_pid: int) -> None:
    if os.getpid() == owner_pid:  # not from a forked copy of the process that made it
        shutil.rmtree(folder, ignore_errors=True)


def _remove_stale_folders() -> None:
    """Folders left by processes that ended without running their exit hooks (the probe's child ends so)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        pid = folder.name[len(_PREFIX):].partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ------------------------------------------------------------------------------------ the input pipeline


class JpegDataset(Dataset):
    """Decoded, augmented samples: (float tensor 3 x IMAGE_SIZE x IMAGE_SIZE, class index)."""

    def __init__(self, files: list[Path], length: int, image_size: int = IMAGE_SIZE) -> None:
        self.files = files
        self.labels = [i % NUM_CLASSES for i in range(len(files))]
        self.length = length
        self.image_size = image_size
        self.mean = torch.tensor(MEAN).view(3, 1, 1)
        self.std = torch.tensor(STD).view(3, 1, 1)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        k = index % len(self.files)
        with Image.open(self.files[k]) as img:
            img = img.convert("RGB")
        box = _random_resized_crop_box(*img.size)
        size = self.image_size
        img = img.resize((size, size), Image.BILINEAR, box=box)
        if random.random() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        pixels = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).view(size, size, 3)
        x = pixels.permute(2, 0, 1).float().div_(255.0)
        return (x - self.mean) / self.std, self.labels[k]


def _random_resized_crop_box(width: int, height: int, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
    """torchvision's RandomResizedCrop.get_params: a random area and aspect ratio, else the central crop."""
    import math

    area = width * height
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * random.uniform(*scale)
        aspect = math.exp(random.uniform(*log_ratio))
        w, h = int(round(math.sqrt(target * aspect))), int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            left, top = random.randint(0, width - w), random.randint(0, height - h)
            return (left, top, left + w, top + h)
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return (left, top, left + side, top + side)


def make_dataloader(batch_size: int, num_workers: int) -> DataLoader:
    dataset = JpegDataset(jpeg_files(), length=DATASET_SIZE)
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=num_workers, pin_memory=True,
                      drop_last=False, persistent_workers=False)


def make_batch(batch_size: int):
    return (torch.randn(batch_size, 3, IMAGE_SIZE, IMAGE_SIZE),
            torch.randint(0, NUM_CLASSES, (batch_size,)))


# ------------------------------------------------------------------------------------------- the model


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


def build_model() -> nn.Module:
    layers = [nn.Conv2d(3, WIDTHS[0], 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(WIDTHS[0]),
              nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2, padding=1)]
    cin = WIDTHS[0]
    for i, width in enumerate(WIDTHS):
        layers += [BasicBlock(cin, width, stride=1 if i == 0 else 2), BasicBlock(width, width)]
        cin = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, NUM_CLASSES)]
    return nn.Sequential(*layers)


def configure_optimizer(params):
    return torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-4)
