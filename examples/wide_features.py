"""A small model on very wide rows: a GPU whose step is the copy to it, and a CPU that wins a short job.

Each sample is 65,536 float32 features (256 KiB: a hyperspectral pixel stack, a genomics row, a long sensor
window) and the model is small: 65,536 -> 16 -> 1 with a ReLU (1 M parameters, about 6 MFLOP of training work
per sample). A CPU streams such rows from memory at its memory bandwidth and does the little arithmetic on the
way. A GPU would compute a batch in microseconds, but every sample must first cross the host link: at PCIe
speeds from pageable memory (about 5.5 GB/s on a T4's Gen3 x16, `profiles/README.md`) that is ~47 us a sample,
so the GPU candidates say "transfer-bound" with a low GPU utilisation. The GPU is still faster per sample than
a CPU instance (advisor's predictions from a probe on a 2-core host: ~200 us a sample on a 2-vCPU e2-standard-2,
~65 us on 8 vCPUs), so the copy shrinks its lead but does not erase it.

What makes a CPU win the default job (3 epochs of 200,000 rows, a couple of minutes of training) is the GPU's
start-up, several minutes per rental, which a job this short cannot pay back:
`advisor recommend examples/wide_features.py` picks a CPU instance, and its CPU-vs-GPU line says the GPU runs
the job several times faster and is cheaper on the job alone. With a longer job (`--epochs 30`) the start-up is
paid back and advisor recommends a transfer-bound GPU (a single RTX 3060 Ti, 19% busy, in that audit's run).

The rows are already in memory, as a dataset loaded or memory-mapped once would be: ``make_batch`` returns
slices of one buffer made on first use, so batch creation costs next to nothing and the host side is the copy
alone. The target is a regression value (float), so the default loss is mean squared error.

    advisor recommend examples/wide_features.py
"""

import torch
from torch import nn

DATASET_SIZE = 200_000
EPOCHS = 3
BATCH_SIZE = 256
NUM_FEATURES = 65_536
HIDDEN = 16
_ROWS: dict[str, torch.Tensor] = {}  # the in-memory rows, made once per process


def build_model() -> nn.Module:
    return nn.Sequential(nn.Linear(NUM_FEATURES, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 1))


def _rows(batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    have = _ROWS.get("x")
    if have is None or have.shape[0] < batch_size:
        generator = torch.Generator().manual_seed(0)
        _ROWS["x"] = torch.randn(batch_size, NUM_FEATURES, generator=generator)
        _ROWS["y"] = torch.randn(batch_size, 1, generator=generator)
    return _ROWS["x"], _ROWS["y"]


def make_batch(batch_size: int):
    features, targets = _rows(batch_size)
    return features[:batch_size], targets[:batch_size]
