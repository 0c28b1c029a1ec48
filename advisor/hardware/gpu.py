"""Local GPU detection through NVML (``advisor.hardware.nvml``), without initialising CUDA.

No driver, no GPU or no pynvml is a normal state: ``detect_gpus()`` returns ``[]``. The parent process never
initialises CUDA here (probes run in child processes, and a CUDA context does not survive ``fork``), so torch is
consulted in this process only when CUDA is already initialised in it, or when the caller asks for it; where
NVML lists no GPU that CUDA will use, torch is asked in a child process (``advisor.hardware.torch_gpus``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from advisor.errors import HardwareError
from advisor.hardware.nvml import Nvml, NvmlLike
from advisor.hardware.specs import load_gpu_specs, match_reported_gpu
from advisor.schemas import GpuInfo, GpuSpec
from advisor.units import BYTES_PER_GIB as _GIB


def visible_nvml_indices(nvml: NvmlLike, count: int) -> list[int]:
    """NVML indices of the devices CUDA will see, in CUDA ordinal order.

    ``CUDA_VISIBLE_DEVICES`` unset: all of them. Entries are integer indices or ``GPU-<uuid>`` prefixes; like
    CUDA, parsing stops at the first entry that names no device (MIG instances are not mapped). Integer
    indices are NVML's PCI order, which is CUDA's order under ``CUDA_DEVICE_ORDER=PCI_BUS_ID``; CUDA's default
    "fastest first" order can differ on a machine with mixed GPUs.
    """
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is None:
        return list(range(count))
    uuids: dict[int, str] | None = None
    indices: list[int] = []
    for entry in (e.strip() for e in env.split(",")):
        if entry.lstrip("-").isdigit():
            index = int(entry)
            if not 0 <= index < count:
                break
        elif entry.upper().startswith("GPU-"):
            if uuids is None:
                uuids = {}
                for i in range(count):
                    try:
                        uuids[i] = (nvml.device(i).get("uuid") or "").upper()
                    except HardwareError:  # a GPU NVML cannot reach matches no UUID
                        uuids[i] = ""
            found = [i for i, u in uuids.items() if u and u.startswith(entry.upper())]
            if len(found) != 1:
                break
            index = found[0]
        else:
            break
        if index in indices:
            break
        indices.append(index)
    return indices


# The probe's measure.py still imports the old private name; it goes when that import uses the public one.
_visible_nvml_indices = visible_nvml_indices


def _torch_cuda(use_torch: bool | None):
    """torch.cuda when it may be consulted: always if ``use_torch``; if None, only when CUDA is already
    initialised in this process (querying it then costs nothing and changes nothing)."""
    if use_torch is False:
        return None
    if use_torch is None:
        torch = sys.modules.get("torch")
        if torch is None:
            return None
        try:
            return torch.cuda if torch.cuda.is_initialized() else None
        except AttributeError:  # a torch module still being imported (or a stand-in) has no cuda yet
            return None
    from advisor.torch_import import import_torch

    return import_torch().cuda  # asked to consult torch: one that cannot load is an error, not "no GPU"


def detect_gpus(nvml_factory: Callable[[], NvmlLike] = Nvml, specs: dict[str, GpuSpec] | None = None,
                use_torch: bool | None = None, torch_child: bool = True) -> list[GpuInfo]:
    """The GPUs CUDA will see here, as ``GpuInfo`` with ``index`` = CUDA ordinal ("cuda:{index}").

    Read through NVML; ``spec_name`` is the matching entry of ``profiles/gpus.csv`` (None if none matches).
    Cross-checked with ``torch.cuda`` when it may be consulted (see ``_torch_cuda``): torch's device count
    is then authoritative, and it fills in for NVML when NVML is unavailable. Where it may not, and NVML lists
    no GPU that CUDA will use (or whole GPUs in MIG mode, whose slices CUDA sees), torch is asked in a child
    process (``torch_gpus``; ``torch_child`` False: not, as in a probe's child) on a machine with NVIDIA device
    nodes. A GPU found through torch has a ``note`` saying so and why.
    """
    specs = load_gpu_specs() if specs is None else specs
    gpus: list[GpuInfo] = []
    with nvml_factory() as nvml:
        missed = None if nvml.available else f"NVML is unavailable ({getattr(nvml, 'error', None) or 'no driver'})"
        if nvml.available:
            count = nvml.device_count()
            for ordinal, index in enumerate(visible_nvml_indices(nvml, count)):
                try:
                    info = nvml.device(index)
                except HardwareError:  # a lost or inaccessible GPU: leave it out rather than fail detection
                    continue
                memory = info.get("memory_gib")
                gpus.append(GpuInfo(
                    index=ordinal, name=info["name"], spec_name=match_reported_gpu(info["name"], memory, specs),
                    memory_gib=memory or 0.0, driver_version=info.get("driver_version"),
                    sm_clock_mhz=info.get("sm_clock_mhz"), memory_clock_mhz=info.get("memory_clock_mhz"),
                    power_limit_watts=info.get("power_limit_watts"), uuid=info.get("uuid")))
                if info.get("mig_enabled"):
                    missed = f"NVML lists {info['name']} in MIG mode, whose slices CUDA sees instead"
            if count and not gpus and missed is None:
                env = os.environ.get("CUDA_VISIBLE_DEVICES", "")
                missed = f"NVML lists {count} GPU(s), none of them as CUDA_VISIBLE_DEVICES={env[:60]!r} names it"
    cuda = _torch_cuda(use_torch)
    if cuda is None:
        if missed is not None and torch_child and use_torch is None:
            return _from_torch_child(gpus, missed, specs)
        return gpus
    try:
        count = int(cuda.device_count()) if cuda.is_available() else 0
    except RuntimeError:  # a CUDA driver error (torch raises them as RuntimeError)
        return gpus
    if gpus and (missed is None or not count):
        return gpus[:count] if count else gpus
    driver = next((g.driver_version for g in gpus if g.driver_version), None)
    found = []  # NVML's list misses what CUDA sees (none of it, or slices of a GPU in MIG mode): torch's
    for ordinal in range(count):
        try:
            props = cuda.get_device_properties(ordinal)
        except (RuntimeError, AssertionError):  # torch: a CUDA error / "Invalid device id", no CUDA build
            continue
        memory = props.total_memory / _GIB
        found.append(GpuInfo(index=ordinal, name=props.name, memory_gib=memory, driver_version=driver,
                             note=_torch_note(missed, ""), spec_name=match_reported_gpu(props.name, memory, specs)))
    return found or gpus


def _torch_note(missed: str | None, where: str) -> str:
    return (f"found through torch.cuda{where}, as {missed or 'NVML lists no GPU'}: its name and memory are "
            "torch's; no clocks, power limit or NVML samples")


def _from_torch_child(nvml_gpus: list[GpuInfo], missed: str, specs: dict[str, GpuSpec]) -> list[GpuInfo]:
    """The GPUs torch sees (asked in a child process, on a machine with NVIDIA device nodes) where NVML's list
    ``nvml_gpus`` misses them (``missed``: how); NVML's list where torch cannot say or sees none."""
    from advisor.hardware import torch_gpus

    if not torch_gpus.gpu_device_nodes():
        return nvml_gpus
    found = torch_gpus.torch_gpus(os.environ.get("CUDA_VISIBLE_DEVICES"))
    if isinstance(found, str) or not found:
        return nvml_gpus
    driver = next((g.driver_version for g in nvml_gpus if g.driver_version), None)
    return [GpuInfo(index=ordinal, name=name, memory_gib=memory, driver_version=driver,
                    spec_name=match_reported_gpu(name, memory, specs), note=_torch_note(missed, " (a child process)"))
            for ordinal, (name, memory) in enumerate(found)]


# ``no_gpu_reason`` on macOS: advisor probes NVIDIA GPUs (CUDA) only, not an Apple GPU through torch's MPS backend.
APPLE_GPU_REASON = ("macOS: an Apple GPU (MPS) is not probed by advisor, which measures NVIDIA GPUs (CUDA) only; "
                    "GPU figures are for rented NVIDIA GPUs")


def no_gpu_reason(nvml_factory: Callable[[], NvmlLike] = Nvml) -> str:
    """Why ``detect_gpus()`` found no GPU here, as what was found: NVML unavailable (and its error), a driver
    that lists no GPU, or ``CUDA_VISIBLE_DEVICES`` hiding the GPUs it lists (empty, or naming MIG instances
    that torch, asked in a child process, did not list either). On macOS, that its GPU is not probed: the NVIDIA
    driver's wording told a Mac user with an Apple GPU that there was none."""
    if sys.platform == "darwin":
        return APPLE_GPU_REASON
    with nvml_factory() as nvml:
        if not nvml.available:
            return (f"NVML is unavailable ({getattr(nvml, 'error', None) or 'no NVIDIA driver'}): no NVIDIA driver, "
                    "no GPU, or a container without the driver's NVML library")
        count = nvml.device_count()
    if count == 0:
        return "the NVIDIA driver lists no GPU"
    env = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    first = env.split(",")[0].strip()
    if first.upper().startswith("MIG-"):
        return (f"CUDA_VISIBLE_DEVICES names a MIG instance ({first[:60]}), which NVML does not map to a GPU "
                f"(the driver lists {count} GPU(s)) and torch.cuda did not list either; predict the slice with "
                '--gpu "<its GPU> MIG <profile>", e.g. --gpu "A100-40GB MIG 1g.5gb"')
    return f"CUDA_VISIBLE_DEVICES={env[:60]!r} hides the {count} GPU(s) the NVIDIA driver lists"
