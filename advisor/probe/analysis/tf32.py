"""The TF32 switches a workload leaves set: whether its fp32 matmuls and convolutions may run in TF32.

PyTorch has two ways to set them, and reading one after a file used the other raises: the legacy flags
(``torch.backends.cuda.matmul.allow_tf32``, ``torch.backends.cudnn.allow_tf32``,
``torch.set_float32_matmul_precision("high")``) and, since torch 2.9, ``fp32_precision`` ("tf32", "ieee" or
"none": inherit) on ``torch.backends``, ``torch.backends.cuda.matmul`` and ``torch.backends.cudnn[.conv]``
(PyTorch docs, "TensorFloat-32 (TF32) on Ampere (and later) devices", notes/cuda.html). ``read_tf32_switches``
reads the new API first, falls back to the legacy flags, and answers None where neither can be read: the
predictor then assumes PyTorch's defaults (matmuls in full FP32, convolutions in TF32).
"""

from __future__ import annotations


def _precision(*holders) -> bool | None:
    """True/False from the first holder whose ``fp32_precision`` is "tf32"/"ieee"; None when all say "none"."""
    for holder in holders:
        value = getattr(holder, "fp32_precision", None) if holder is not None else None
        if value == "tf32":
            return True
        if value == "ieee":
            return False
    return None


def _legacy(read) -> bool | None:
    try:
        return bool(read())
    except (AttributeError, RuntimeError):  # the file mixed the two APIs: PyTorch refuses the legacy read
        return None


def read_tf32_switches() -> tuple[bool | None, bool | None]:
    """(matmuls may run in TF32, convolutions may run in TF32) as this process's torch is now set."""
    import torch

    backends = torch.backends
    cudnn = getattr(backends, "cudnn", None)
    try:
        matmul = _precision(getattr(getattr(backends, "cuda", None), "matmul", None), backends)
        conv = _precision(getattr(cudnn, "conv", None), cudnn, backends)
    except RuntimeError:
        matmul = conv = None
    if matmul is None:
        matmul = _legacy(lambda: backends.cuda.matmul.allow_tf32)
    if conv is None:
        conv = _legacy(lambda: cudnn.allow_tf32)
    return matmul, conv
