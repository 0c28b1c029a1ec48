"""MIG slices: a Multi-Instance GPU partition ("NVIDIA A100-SXM4-40GB MIG 1g.5gb") as its parent GPU's spec row
scaled to the slice.

A MIG profile ``Ng.Mgb`` (or ``Cc.Ng.Mgb``, a compute instance of C slices within an N-slice GPU instance) gets
N (C) of the parent's 7 compute slices (GPCs on A100, H100, H200, B200) and M GB of its memory, with the L2
cache and memory controllers of that memory's share (NVIDIA's MIG user guide: a memory slice is 1/8 of the
memory "including L2 cache slices and memory controllers"). So the compute figures (FP32, TF32, FP16/BF16
tensor, TDP) are scaled by the compute share, the memory bandwidth by the memory share, and the memory is the
slice's. A slice has no NVLink and no peer-to-peer with other slices: its intra-node link figures are left
empty. The host link (PCIe) is the parent's, shared with the other slices.

Pure functions of a name and a ``GpuSpec``: ``advisor.hardware.specs`` finds the parent row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from advisor.schemas import GpuSpec

# Compute slices of a full GPU: 7 GPCs on every MIG-capable GPU profiles/gpus.csv lists; the A30 has 4.
_COMPUTE_SLICES = {"A30": 4}
DEFAULT_COMPUTE_SLICES = 7
# Die families that have MIG (the GA100 Ampere, Hopper, Blackwell data-centre dies).
_MIG_ARCHITECTURES = ("Ampere-GA100", "Hopper", "Blackwell-GB")
# "<parent> MIG 1g.5gb", "<parent> MIG 4c.7g.40gb", "... MIG 1g.10gb+me" (media extensions).
_MIG_NAME = re.compile(r"^(?P<parent>.*?)\s*\bMIG\s+(?:(?P<ci>\d+)c\.)?(?P<g>\d+)g\.(?P<gb>\d+)gb(?:\+me)?\s*$",
                       re.IGNORECASE)
MIG_MARK = " MIG "  # in a slice spec's name: "A100-40GB MIG 1g.5gb"


@dataclass(frozen=True)
class MigSlice:
    """A MIG profile as a name gives it: the parent GPU's name, the compute slices it runs on (a compute
    instance's C, else the GPU instance's N) and its memory in GB (the profile's nominal figure)."""

    parent: str
    profile: str  # "1g.5gb", "4c.7g.40gb"
    compute_slices: int
    memory_gb: int


def parse_mig(name: str) -> MigSlice | None:
    """The MIG slice a GPU name is ("NVIDIA H100 80GB HBM3 MIG 3g.40gb"), or None for a whole GPU."""
    m = _MIG_NAME.match(name.strip()) if name else None
    if m is None or not m.group("parent").strip():
        return None
    ci, g, gb = m.group("ci"), int(m.group("g")), int(m.group("gb"))
    profile = f"{ci}c.{g}g.{gb}gb" if ci else f"{g}g.{gb}gb"
    return MigSlice(m.group("parent").strip(), profile, int(ci) if ci else g, gb)


def is_mig_spec(spec: GpuSpec) -> bool:
    """Whether ``spec`` is a MIG slice made by ``slice_spec`` (not a row of profiles/gpus.csv)."""
    return MIG_MARK in spec.name


def slice_spec(parent: GpuSpec, mig: MigSlice) -> GpuSpec | None:
    """``parent``'s row scaled to the slice ``mig`` (see the module docstring); None where ``parent`` has no MIG
    (not a MIG-capable die) or the slice is larger than the GPU."""
    if not (parent.architecture or "").startswith(_MIG_ARCHITECTURES):
        return None
    slices = _COMPUTE_SLICES.get(parent.name, DEFAULT_COMPUTE_SLICES)
    if not 1 <= mig.compute_slices <= slices or mig.memory_gb <= 0 or not parent.memory_gib \
            or mig.memory_gb > parent.memory_gib * 1.05:
        return None
    compute = mig.compute_slices / slices
    memory = min(mig.memory_gb / parent.memory_gib, 1.0)

    def scaled(value: float | None, share: float) -> float | None:
        return None if value is None else value * share

    note = (f"{parent.name} MIG {mig.profile} is a MIG slice: the {parent.name} row of profiles/gpus.csv scaled "
            f"to it, compute (FP32, TF32, FP16/BF16 tensor, FP64) x {compute:.3f} "
            f"({mig.compute_slices} of {slices} compute slices), memory bandwidth x {memory:.3f} (its "
            f"{mig.memory_gb} GB of {parent.memory_gib:g} GB), memory {mig.memory_gb} GB; no NVLink or "
            "peer-to-peer between slices, and the host link is shared with the other slices.")
    return parent.model_copy(update={
        "name": f"{parent.name}{MIG_MARK}{mig.profile}", "aliases": [], "memory_gib": float(mig.memory_gb),
        "memory_bandwidth_gbs": scaled(parent.memory_bandwidth_gbs, memory),
        "fp32_tflops": scaled(parent.fp32_tflops, compute), "tf32_tflops": scaled(parent.tf32_tflops, compute),
        "fp16_bf16_tflops": scaled(parent.fp16_bf16_tflops, compute), "tdp_watts": scaled(parent.tdp_watts, compute),
        "fp64_tflops": scaled(parent.fp64_tflops, compute),
        "fp64_tensor_tflops": scaled(parent.fp64_tensor_tflops, compute),
        "intra_node_link": None, "intra_node_bandwidth_gbs": None, "notes": note})


def slice_notes(spec: GpuSpec) -> list[str]:
    """The note an estimate on a MIG slice carries (what it is, how it was scaled); [] for a whole GPU."""
    return [spec.notes] if is_mig_spec(spec) and spec.notes else []


def mig_spec(name: str, parent_of: Callable[[str], GpuSpec | None]) -> GpuSpec | None:
    """The slice spec a MIG name means, its parent found by ``parent_of`` (a name -> its spec row, or None);
    None where ``name`` is no MIG slice or its parent has no row (or no MIG)."""
    mig = parse_mig(name)
    parent = parent_of(mig.parent) if mig is not None else None
    return slice_spec(parent, mig) if parent is not None and mig is not None else None
