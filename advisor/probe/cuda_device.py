"""The probe child's CUDA set-up for one device: whether torch can use it, the precision it is probed at, and
fp16's loss scaler on it.

Runs inside the probe's child process (``advisor.probe.measure``); it imports nothing of torch itself: the
caller passes its ``torch`` module (a fake in tests).
"""

from __future__ import annotations

from typing import Any

from advisor.errors import HardwareError, ProbeError
from advisor.units import BYTES_PER_GIB


def fork_refusal() -> ProbeError:
    """The refusal of a GPU probe in a fork of a process whose CUDA a forked copy cannot use (raised by the
    parent where it can tell before forking, ``advisor.probe.runner``, else by the forked child)."""
    return ProbeError(
        "cannot probe this in-memory workload on a GPU: it does not pickle (a lambda, a closure or a "
        "function defined in __main__), so the probe would have to fork this process, and CUDA is already "
        "initialised here (any torch.cuda call does it, torch.cuda.is_available() included), which a forked "
        "process cannot use.",
        hint="Fix: pass the workload as a file path (advisor.profile('model.py')), define its functions in "
        "an importable module, or profile before this process first uses the GPU.")


def in_bad_fork(torch: Any) -> bool:
    """Whether this process is a fork of one that had started CUDA, which it then cannot use. Torch marks it
    for any CUDA call before the fork, ``torch.cuda.is_available()`` included, which leaves
    ``torch.cuda.is_initialized()`` False; without this, the first CUDA call raises torch's own "Cannot
    re-initialize CUDA in forked subprocess"."""
    check = getattr(torch.cuda, "_is_in_bad_fork", None)
    return bool(check()) if callable(check) else False


def refuse_bad_fork(torch: Any, devices: list[str]) -> None:
    """``fork_refusal()`` where ``devices`` name a GPU and this process is a fork that cannot use CUDA."""
    if any(d.startswith("cuda") for d in devices) and in_bad_fork(torch):
        raise fork_refusal()


def check_cuda_device(torch: Any, device: Any, device_name: str) -> Any:
    """``device`` (a ``torch.device`` of type cuda) as torch will use it, made current; HardwareError when
    torch cannot use it (no CUDA build, no working driver, fewer devices)."""
    problem = cuda_problem(torch, device.index or 0, device_name)
    if problem is not None:
        raise problem
    device = torch.device("cuda", device.index or 0)
    torch.cuda.set_device(device)
    return device


def cuda_problem(torch: Any, index: int, device_name: str) -> HardwareError | None:
    """Why torch cannot use CUDA device ``index`` (None: it can); ProbeError in a fork that cannot use CUDA."""
    refuse_bad_fork(torch, [device_name])  # before any CUDA call: each would fail with torch's own error
    if not torch.cuda.is_available():
        return HardwareError(f"cannot probe on {device_name}: torch sees no CUDA GPU here "
                             f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}).",
                             hint="Fix: use --device cpu, or install a CUDA build of torch on a GPU machine.")
    count = torch.cuda.device_count()
    if index >= count:
        return HardwareError(f"cannot probe on {device_name}: only {count} CUDA device(s) are visible.",
                             hint="Fix: use one of " + ", ".join(f"cuda:{i}" for i in range(count)) + ".")
    return None


def left_out_gpus(torch: Any, devices: list[str]) -> dict[str, str]:
    """The GPUs among ``devices`` (NVML's list: "auto") that torch here cannot use, each with why: a CPU-only
    torch build, or a driver that torch's CUDA cannot use. Checked before any probe, so that the others share
    the budget."""
    out = {}
    for name in (d for d in devices if d.startswith("cuda")):
        problem = cuda_problem(torch, int(name.partition(":")[2] or 0), name)
        if problem is not None:
            out[name] = (f"{problem.cli_message.removeprefix(f'cannot probe on {name}: ')} The driver lists it, "
                         "but torch cannot run on it, so it was left out "
                         "(install a CUDA build of torch that this driver supports to probe it).")
    return out


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


def free_memory_gib(torch: Any, device: Any) -> float | None:
    """GiB free on GPU ``device`` now (None where the driver does not say): what other processes leave."""
    try:
        return torch.cuda.mem_get_info(device)[0] / BYTES_PER_GIB
    except (RuntimeError, AttributeError):  # a driver error, or a torch without mem_get_info
        return None


def cuda_precision(torch: Any, device: Any, precision: str) -> str:
    """The precision a job at ``precision`` runs at on GPU ``device``: bf16 on a GPU without bfloat16 (compute
    capability below 8.0: V100, T4) is fp16, as ``predictor.estimate`` prices it there. torch emulates bf16
    autocast on such a GPU, but a probe recorded at bf16 there could not be carried to any other GPU."""
    if precision == "bf16" and torch.cuda.get_device_capability(device)[0] < 8:
        return "fp16"
    return precision
