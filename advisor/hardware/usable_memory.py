"""The memory a driver gives a process on each GPU, from ``profiles/gpu_usable_memory.csv``.

``gpus.csv``'s ``memory_gib`` is the datasheet's figure (GB, as the vendor rounds it). A card with ECC on GDDR
memory (T4, A10, A10G, L4, L40, L40S, A40, RTX A6000) keeps 6-7% of it for the check bits, so nvidia-smi shows an L4
with 23034 MiB (22.49 GiB), not 24. HBM cards lose about 1% (an A100-40GB shows 40960 MiB), which the memory fit's
workspace margin covers, so they have no row. This module owns that file: the memory fit
(``advisor.predictor.memory.gpu_memory``) and the catalog's check (``advisor.ranking.scoring``) judge a GPU
against its usable memory where a row gives it, else against the datasheet.

A row without a figure records a card for which no public driver figure was found (its notes say so): the fit
stays on the datasheet's figure and says that the card may expose less. Every figure keeps its source and the
date it was retrieved (profiles/README.md).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from advisor.data_files import data_dir, data_file
from advisor.errors import HardwareError
from advisor.units import BYTES_PER_GIB

USABLE_MEMORY_FILE = "gpu_usable_memory.csv"
_GIB_PER_UNIT = {"mib": 1.0 / 1024, "gib": 1.0, "bytes": 1.0 / BYTES_PER_GIB}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class UsableMemory:
    """One row: a GPU (its ``gpus.csv`` name) and the memory a driver reports to a process, or None."""

    gpu: str
    usable_memory_gib: float | None  # None: no public figure found (notes say so)
    source: str | None
    retrieved: str
    notes: str | None = None


def _hint(where: str) -> str:
    """The fix for a bad row, naming the README this installation reads: made only for an error, as it resolves
    paths on disk."""
    return f"Fix: correct {where} (see {data_file('profiles', 'README.md')}, 'gpu_usable_memory.csv')."


def _row(line: int, row: dict[str, str], where: str) -> UsableMemory:
    gpu = (row.get("gpu_model") or "").strip()
    at = f"{where} line {line} ({gpu or 'no gpu_model'})"
    if not gpu:
        raise HardwareError(f"{at}: gpu_model is empty.", hint=_hint(where))
    retrieved = (row.get("retrieved") or "").strip()
    if not _DATE.fullmatch(retrieved):
        raise HardwareError(f"{at}: retrieved {retrieved!r} is not a YYYY-MM-DD date.", hint=_hint(where))
    value, unit = (row.get("usable_memory") or "").strip(), (row.get("unit") or "").strip().lower()
    source = (row.get("source") or "").strip() or None
    if not value:
        return UsableMemory(gpu, None, source, retrieved, (row.get("notes") or "").strip() or None)
    if unit not in _GIB_PER_UNIT:
        raise HardwareError(f"{at}: unit {unit!r} is not MiB, GiB or bytes.", hint=_hint(where))
    try:
        gib = float(value) * _GIB_PER_UNIT[unit]
    except ValueError:
        raise HardwareError(f"{at}: usable_memory {value!r} is not a number.", hint=_hint(where)) from None
    if not gib > 0:
        raise HardwareError(f"{at}: usable_memory must be positive, got {value}.", hint=_hint(where))
    if source is None:
        raise HardwareError(f"{at}: a figure without a source.", hint=_hint(where))
    return UsableMemory(gpu, gib, source, retrieved, (row.get("notes") or "").strip() or None)


@lru_cache(maxsize=8)
def _cached(path: str) -> MappingProxyType:
    try:
        with Path(path).open(newline="", encoding="utf-8") as fh:
            rows = [_row(line, row, path) for line, row in enumerate(csv.DictReader(fh), start=2)]
    except FileNotFoundError:
        raise HardwareError(f"Usable-memory file {path} is missing.",
                            hint="Fix: reinstall advisor, or pass the path of a file that exists.") from None
    return MappingProxyType({r.gpu: r for r in rows})


def load_usable_memory(path: str | Path | None = None) -> MappingProxyType:
    """{GPU spec name: UsableMemory} from ``profiles/gpu_usable_memory.csv`` (or ``path``), read once per path
    (read-only: callers share it)."""
    file = Path(path) if path is not None else data_dir("profiles") / USABLE_MEMORY_FILE
    return _cached(str(file.resolve()))


def usable_memory_gib(gpu: str | None, datasheet_gib: float | None = None,
                      rows: MappingProxyType | None = None) -> float | None:
    """The memory a process gets on one ``gpu`` (its spec name): the file's figure where it has one (never above
    ``datasheet_gib``), else ``datasheet_gib``."""
    row = (load_usable_memory() if rows is None else rows).get(gpu) if gpu else None
    if row is None or row.usable_memory_gib is None:
        return datasheet_gib
    return row.usable_memory_gib if datasheet_gib is None else min(row.usable_memory_gib, datasheet_gib)


def unmeasured_note(gpu: str, datasheet_gib: float, rows: MappingProxyType | None = None) -> str | None:
    """For a card the file lists without a figure (ECC GDDR, no public driver figure): the note that its fit is
    judged against the datasheet, which may be 6-7% more than a process gets. None otherwise."""
    row = (load_usable_memory() if rows is None else rows).get(gpu)
    if row is None or row.usable_memory_gib is not None:
        return None
    return (f"{gpu}'s memory is judged against the datasheet's {datasheet_gib:g} GB: no driver figure is on file "
            "(profiles/gpu_usable_memory.csv), and a card with ECC on GDDR memory gives a process 6-7% less "
            "(an L40S 45.0 GiB of 48), so a fit within that much may still run out of memory.")
