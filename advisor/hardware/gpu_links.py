"""Instance families whose GPUs' link is not their card's own (``profiles/gpu_links.csv``): PCIe without
peer-to-peer (AWS g5, g6), or an NVLink bridge that the card's row in ``gpus.csv`` (PCIe) does not assume (Azure's
NC80adis_H100_v5 pair). Each row cites where it was published; ``profiles/README.md`` lists them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from advisor.data_files import data_dir
from advisor.errors import HardwareError
from advisor.hardware.cells import boolean, number, read_rows
from advisor.hardware.specs import instance_row

GPU_LINKS_FILE = "gpu_links.csv"


@dataclass(frozen=True)
class GpuLinkRow:
    """One line of ``gpu_links.csv``."""

    provider: str
    instance_family: str
    peer_to_peer: bool | None  # PCIe peer-to-peer; None: not said (a row that gives the family's NVLink)
    source: str
    nvlink_gbs: float | None = None  # the family's NVLink, GB/s one way per GPU; None: the card's own link


@lru_cache(maxsize=8)
def _gpu_links_cached(path: str) -> tuple[GpuLinkRow, ...]:
    rows = []
    for line, row in enumerate(read_rows(Path(path)), start=2):
        provider, family = (row.get("provider") or "").strip().lower(), (row.get("instance_family") or "").strip()
        if not provider or not family:
            continue
        source, where = (row.get("source") or "").strip(), f"{path} line {line}"
        link, p2p = (row.get("intra_node_link") or "").strip().lower(), (row.get("peer_to_peer") or "").strip()
        # A link fact changes a price's time: never one without where it was seen, nor a blank read as "has P2P".
        if not source or not (p2p or link):
            raise HardwareError(f"{where}: {provider} {family} has no "
                                + ("source." if not source else "peer_to_peer value or intra_node_link."),
                                hint="Fix: write peer_to_peer true or false (or intra_node_link nvlink with its "
                                     "intra_node_bandwidth_gbs) and cite where it was published, or drop the row.")
        gbs = number(row.get("intra_node_bandwidth_gbs"), where=f"{where} column intra_node_bandwidth_gbs")
        if link not in ("", "nvlink") or (link and not (gbs is not None and 0 < gbs and math.isfinite(gbs))):
            raise HardwareError(f"{where}: {provider} {family}'s intra_node_link {link!r} at {gbs} GB/s is not one "
                                "to price: only an NVLink of a positive bandwidth replaces the card's link.",
                                hint="Fix: write intra_node_link nvlink and intra_node_bandwidth_gbs (GB/s one way, "
                                     "per GPU), or leave both empty for the card's own link (gpus.csv).")
        rows.append(GpuLinkRow(provider, family, boolean(p2p, default=False, where=f"{where} column peer_to_peer")
                               if p2p else None, source, gbs if link else None))
    return tuple(rows)


def load_gpu_links(path: str | Path | None = None) -> list[GpuLinkRow]:
    """The instance-family rows of ``profiles/gpu_links.csv`` (or ``path``)."""
    csv_path = Path(path) if path is not None else data_dir("profiles") / GPU_LINKS_FILE
    return list(_gpu_links_cached(str(csv_path.resolve())))


def peer_to_peer_for_instance(provider: str, instance_type: str,
                              links: list[GpuLinkRow] | None = None) -> bool | None:
    """Whether an instance type's GPUs have PCIe peer-to-peer, where its family's row says; None: not known
    (the card's own guess, ``advisor.predictor.multigpu.has_pcie_p2p``, stands)."""
    row = instance_row(provider, instance_type, load_gpu_links() if links is None else links)
    return row.peer_to_peer if row else None


def nvlink_gbs_for_instance(provider: str, instance_type: str,
                            links: list[GpuLinkRow] | None = None) -> float | None:
    """The NVLink (GB/s one way per GPU) that joins an instance type's GPUs where its family's row gives one
    the card's spec row does not; None: the card's own link (``gpus.csv``)."""
    row = instance_row(provider, instance_type, load_gpu_links() if links is None else links)
    return row.nvlink_gbs if row else None
