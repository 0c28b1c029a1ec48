"""Device names of this machine ("cpu", "cuda:0"): the one place they are normalised and checked; and of the
machine a saved profile was taken on (``profile_gpu_target``), which ``--profile FILE --device cuda:N`` means.

The functions of this machine take the detected GPUs (``detect_gpus()``'s ``GpuInfo`` list) as an argument and
never call NVML themselves: the caller detects once and passes the result around (DESIGN: hardware facts are
passed in).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from advisor.errors import HardwareError, did_you_mean
from advisor.schemas import DeviceProfile, GpuInfo, Target


def gpu_devices(gpus: Sequence[GpuInfo]) -> list[str]:
    """["cuda:0", ...] for the detected GPUs."""
    return [f"cuda:{g.index}" for g in gpus]


def resolve_devices(spec: str | Sequence[str] | None, gpus: Sequence[GpuInfo],
                    why_none: Callable[[], str] | None = None) -> list[str]:
    """The devices ``spec`` names: 'auto'/'all' (or None) -> cpu + every GPU in ``gpus``; 'cpu'; 'cuda' ->
    'cuda:0'; 'cuda:N'; or a comma-separated string or a list of those. HardwareError for an unknown name or
    a GPU that is not in ``gpus`` (``why_none``: why there is none, asked only then)."""
    local = ["cpu", *gpu_devices(gpus)]
    if spec is None or spec in ("auto", "all"):
        return local
    if not isinstance(spec, (str, list, tuple)):
        raise HardwareError(f"devices must be a device name or a list of them, got {spec!r:.80} "
                            f"({type(spec).__name__}).", hint='Fix: e.g. devices="cpu" or devices=["cpu", "cuda:0"].')
    items = [spec] if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for item in items:
        for name in str(item).split(","):
            name = name.strip().lower()
            if name in ("auto", "all"):
                out.extend(d for d in local if d not in out)
            elif name == "cuda":
                out.append("cuda:0")
            elif name == "cpu" or name.startswith("cuda:"):
                out.append(name)
            elif name:
                raise HardwareError(f"Unknown device {name!r}.{did_you_mean(name, ['cpu', 'cuda:0', 'all'])}",
                                    hint="Fix: use cpu, cuda:N or all.")
    present = set(gpu_devices(gpus))
    for name in out:
        if name.startswith("cuda:") and name not in present:
            none = "no visible GPU" + (f" ({why_none()})" if why_none is not None else "")
            raise HardwareError(f"No GPU {name} here: this machine has {', '.join(sorted(present)) or none}.",
                                hint="Fix: use --device cpu, or predict a GPU you don't have with --gpu NAME.")
    return out


def one_device(device: str) -> str:
    """``predict --device``'s one device of this machine, checked: 'cpu', 'cuda' or 'cuda:N' (lower case);
    HardwareError for anything else (a TPU, 'all', 'cuda:abc'): never a silent CPU prediction."""
    name = device.strip().lower()
    if name == "cpu" or name == "cuda" or re.fullmatch(r"cuda:\d{1,4}", name):
        return name
    raise HardwareError(f"Unknown device {device!r} for one prediction.{did_you_mean(name, ['cpu', 'cuda:0'])}",
                        hint="Fix: use --device cpu or --device cuda:N (a GPU here), or --gpu NAME for any GPU.")


def one_gpu_per_model(gpus: Sequence[GpuInfo]) -> list[str]:
    """The first GPU ("cuda:N") of each model and memory size among ``gpus``: GPUs alike time alike, and a probe
    of each would split the budget among them."""
    models: set[tuple[str, int]] = set()
    out = []
    for gpu in gpus:
        if (gpu.name, round(gpu.memory_gib)) not in models:
            models.add((gpu.name, round(gpu.memory_gib)))
            out.append(f"cuda:{gpu.index}")
    return out


def local_gpu_target(device: str, gpus: Sequence[GpuInfo]) -> Target:
    """The ``Target`` of GPU ``device`` ("cuda:0"; "cuda" is cuda:0) among ``gpus``, by its recognised spec name
    (a GPU without one: by the name the driver reports). HardwareError when ``gpus`` has no such GPU."""
    index = int(device.split(":", 1)[1]) if ":" in device else 0
    for gpu in gpus:
        if gpu.index == index:
            return _spec_target(gpu.name, gpu.spec_name)
    raise HardwareError(f"No GPU {device} here.",
                        hint="Fix: run `advisor hardware` to see this machine's devices, or use --gpu NAME.")


def profile_gpu_target(device: str, probed: Sequence[DeviceProfile], label: str) -> Target:
    """The ``Target`` of GPU ``device`` ("cuda:0"; "cuda" is cuda:0) among the devices a profile (``label``: its
    file, or "") ``probed``, by its recognised spec name (else its reported name): the same figure as recommend's
    "Here" for it. HardwareError when the profile probed no such GPU."""
    name = "cuda:0" if device == "cuda" else device
    label = f"the profile {label}" if label else "the profile"
    gpus = [d for d in probed if d.kind == "gpu"]
    for dev in gpus:
        if dev.device == name:
            return _spec_target(dev.name, dev.spec_name)
    had = ", ".join(f"{d.device} ({d.name})" for d in gpus) or "none: it was taken on a machine without a GPU"
    raise HardwareError(f"{label[0].upper()}{label[1:]} has no GPU {name}; its GPUs: {had}.",
                        hint="Fix: use --device with one of its devices (or cpu), or --gpu NAME to price a GPU "
                             "it did not probe.")


def _spec_target(name: str, spec_name: str | None) -> Target:
    """One GPU of ``spec_name``; a GPU advisor has no spec sheet for is named as the driver reports it (``name``):
    its own probe is its estimate (``advisor.predictor.unspecced``), though nothing can be scaled to it."""
    return Target.gpu(spec_name or name, 1)
