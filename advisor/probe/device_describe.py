"""What a probe records of the device it probes before timing anything: its name, memory and threads.

Runs inside the probe's child process (``advisor.probe.measure``); the caller passes its ``torch`` module.
"""

from __future__ import annotations

from typing import Any

from advisor.hardware.cpu import detect_cpu
from advisor.hardware.specs import match_reported_gpu
from advisor.probe import cuda_device
from advisor.schemas import DeviceProfile
from advisor.units import BYTES_PER_GIB


def describe_device(torch: Any, device: Any, precision: str, budget_seconds: float) -> DeviceProfile:
    """The ``DeviceProfile`` of ``device`` (a ``torch.device``) with no points yet.

    Args:
        torch: the torch module.
        device: the probed device.
        precision: the precision it is probed at.
        budget_seconds: its probe budget.
    """
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        memory = props.total_memory / BYTES_PER_GIB
        return DeviceProfile(device=f"cuda:{device.index}", kind="gpu", name=props.name,
                             spec_name=match_reported_gpu(props.name, memory), memory_gib=memory,
                             precision=precision, budget_seconds=budget_seconds,
                             free_memory_gib=cuda_device.free_memory_gib(torch, device))
    cpu = detect_cpu()
    return DeviceProfile(device="cpu", kind="cpu", name=cpu.model_name, memory_gib=cpu.memory_gib,
                         memory_limit=cpu.memory_limit, threads=torch.get_num_threads(),
                         precision=precision, budget_seconds=budget_seconds)
