"""The probe child's CUDA set-up for one device: whether torch can use it, the precision it is probed at, and
fp16's loss scaler on it.

Runs inside the probe's child process (``advisor.probe.measure``); it imports nothing of torch itself: the
caller passes its ``torch`` module (a fake in tests).
"""

from __future__ import annotations

from typing import Any

from advisor.errors import HardwareError


def check_cuda_device(torch: Any, device: Any, device_name: str) -> Any:
    """``device`` (a ``torch.device`` of type cuda) as torch will use it, made current; HardwareError when
    torch cannot use it (no CUDA build, no working driver, fewer devices)."""
    if not torch.cuda.is_available():
        raise HardwareError(f"cannot probe on {device_name}: torch sees no CUDA GPU here "
                            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}).",
                            hint="Fix: use --device cpu, or install a CUDA build of torch on a GPU machine.")
    index = device.index or 0
    count = torch.cuda.device_count()
    if index >= count:
        raise HardwareError(f"cannot probe on {device_name}: only {count} CUDA device(s) are visible.",
                            hint="Fix: use one of " + ", ".join(f"cuda:{i}" for i in range(count)) + ".")
    device = torch.device("cuda", index)
    torch.cuda.set_device(device)
    return device


def check_fp16_scaler(torch: Any, device_type: str) -> None:
    """HardwareError for fp16 on the CPU with a torch older than 2.3, which has no CPU loss scaler."""
    if device_type == "cpu" and not hasattr(torch.amp, "GradScaler"):
        raise HardwareError(f"cannot probe fp16 on the CPU with torch {torch.__version__}: fp16 training needs "
                            "torch.amp.GradScaler, which torch has from 2.3.",
                            hint="Fix: use --precision bf16 (or fp32) on the CPU, or upgrade torch to 2.3 or later.")


def grad_scaler(torch: Any, device_type: str) -> Any:
    """fp16's loss scaler: ``torch.amp.GradScaler`` (torch 2.3+), else on CUDA the ``torch.cuda.amp`` one that
    torch 2.1-2.2 have (the CPU there is refused by ``check_fp16_scaler``)."""
    amp_scaler = getattr(torch.amp, "GradScaler", None)
    if amp_scaler is not None:
        return amp_scaler(device_type)
    return torch.cuda.amp.GradScaler()


def cuda_precision(torch: Any, device: Any, precision: str) -> str:
    """The precision a job at ``precision`` runs at on GPU ``device``: bf16 on a GPU without bfloat16 (compute
    capability below 8.0: V100, T4) is fp16, as ``predictor.estimate`` prices it there. torch emulates bf16
    autocast on such a GPU, but a probe recorded at bf16 there could not be carried to any other GPU."""
    if precision == "bf16" and torch.cuda.get_device_capability(device)[0] < 8:
        return "fp16"
    return precision
