"""How much of a probed GPU's memory other processes held when its probe began, where it is worth counting.

Owns the one judgement both the probe's notes (``advisor.probe.device_notes``) and the memory fit
(``advisor.predictor.memory``) make from ``DeviceProfile.free_memory_gib``: a probe on a shared GPU that ran out
of memory did so within the memory that was free, so its batch limit bounds only GPUs with no more memory than
that. Neither layer may import the other, so the judgement lives with the model it reads.
"""

from __future__ import annotations

from advisor.schemas.profile import DeviceProfile

# Beyond the probe's own CUDA context (0.3-0.65 GiB) and the driver's reserve: memory other processes held.
HELD_GIB = 1.5
HELD_FRACTION = 0.05


def held_by_others_gib(device: DeviceProfile) -> float:
    """GiB other processes held on ``device`` (a GPU) as its probe began; 0 where it was free, not known, or a
    CPU."""
    if device.kind != "gpu" or device.free_memory_gib is None or not device.memory_gib:
        return 0.0
    held = device.memory_gib - device.free_memory_gib
    return held if held > max(HELD_GIB, HELD_FRACTION * device.memory_gib) else 0.0
