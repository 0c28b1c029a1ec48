"""Reading the cells of a ``profiles/*.csv`` spec file: numbers, booleans, alias lists, texts and dates, each
empty cell ``None`` (a figure nobody published is never guessed) and each bad one a ``HardwareError`` naming
the file, line and column."""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from pathlib import Path

from advisor.errors import HardwareError

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def read_rows(path: Path) -> list[dict[str, str]]:
    """Every row of the CSV at ``path`` as a dict; a missing file is a ``HardwareError``."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    except FileNotFoundError:
        raise HardwareError(f"Spec file {path} is missing.",
                            hint="Fix: reinstall advisor, or pass the path of a spec CSV that exists.") from None


def number(value: str | None, *, where: str) -> float | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise HardwareError(f"{where}: {value!r} is not a number.",
                            hint="Fix: write a plain number (no units) or leave the cell empty.") from None


def boolean(value: str | None, *, default: bool, where: str) -> bool:
    value = (value or "").strip().lower()
    if not value:
        return default
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise HardwareError(f"{where}: {value!r} is not true/false.", hint="Fix: write true or false.")


def aliases(value: str | None) -> list[str]:
    return [a.strip() for a in (value or "").split(";") if a.strip()]


def text(row: Mapping[str, str | None], column: str) -> str | None:
    """The cell stripped, or None when empty or absent."""
    return (row.get(column) or "").strip() or None


def date(value: str | None, *, where: str) -> str | None:
    """A ``retrieved`` cell: YYYY-MM-DD, or None when empty."""
    value = (value or "").strip()
    if value and not _DATE_RE.match(value):
        raise HardwareError(f"{where}: {value!r} is not a date.",
                            hint="Fix: write the date the figures were retrieved as YYYY-MM-DD, or leave it empty.")
    return value or None
