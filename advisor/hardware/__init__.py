"""Local hardware detection and device specs.

``detect_host()`` describes this machine (CPU, NVIDIA GPUs via NVML, torch and Python versions); spec sheets
for devices that are not here live in ``advisor.hardware.specs``, and ``advisor.hardware.devices`` checks device
names ("cpu", "cuda:0") against the GPUs detected here. ``advisor.hardware.nvml`` is the only module that imports
pynvml. Importing this package does not import torch.
"""

from __future__ import annotations

import platform
import socket

from advisor.hardware.cpu import detect_cpu
from advisor.hardware.gpu import detect_gpus
from advisor.schemas import HostInfo
from advisor.torch_import import import_torch

__all__ = ["detect_cpu", "detect_gpus", "detect_host"]


def _torch_facts() -> tuple[str | None, bool]:
    """(torch version, whether this torch build has CUDA). Does not initialise CUDA; HardwareError when torch
    cannot be imported (``import_torch``)."""
    torch = import_torch()
    return str(torch.__version__), bool(getattr(torch.version, "cuda", None))


def detect_host(torch_child: bool = True) -> HostInfo:
    """This machine: CPU, visible GPUs, torch version, whether torch can use them, Python version, hostname, OS.
    HardwareError when torch cannot be imported here (a broken or missing install: the message says why).

    ``cuda_available`` is "this torch build has CUDA and a GPU was found": asking torch directly would
    initialise the CUDA driver in this (parent) process, which probes fork from. ``torch_child`` False: no
    child process asks torch for the GPUs NVML does not list (``detect_gpus``), as in a probe's own child.
    """
    cpu = detect_cpu()
    gpus = detect_gpus(torch_child=torch_child)
    torch_version, torch_has_cuda = _torch_facts()
    try:
        hostname = socket.gethostname() or None
    except OSError:
        hostname = None
    return HostInfo(cpu=cpu, gpus=gpus, torch_version=torch_version, cuda_available=torch_has_cuda and bool(gpus),
                    python_version=platform.python_version(), hostname=hostname, os_name=platform.system() or None)
