"""Reading one rates file as CSV: bounded in size, header and data rows with their file line numbers.

``rows.py`` checks what this reads; the format is in ``pricing/README.md`` ('Your own rates').
"""

from __future__ import annotations

import csv
import io
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from advisor.errors import CatalogError
from advisor.pricing.fixes import format_hint

# The built-in catalog is ~70 KB; a rates file is a few hundred rows. The cap keeps a wrong path (a disk
# image, a log) from being read into memory whole.
MAX_RATES_FILE_BYTES = 20 * 1024 * 1024


# Where a loaded rates file's path comes from; `advisor pricing validate` checks its FILE with its own words.
LOADED_FROM = "given to --pricing or ADVISOR_PRICING"


def _too_big(path: Path, given: str) -> CatalogError:
    """The refusal of a file over ``MAX_RATES_FILE_BYTES``, naming where its path was ``given``."""
    limit_mb = MAX_RATES_FILE_BYTES // (1024 * 1024)
    return CatalogError(f"{path}: the file is over {limit_mb} MB; a rates file is a few hundred rows.",
                        hint=f"Fix: check the path {given}, or keep only the rows you need in the file.")


def check_rates_path(path: Path, given: str = LOADED_FROM) -> None:
    """Refuse a path that is missing, not a regular file or over ``MAX_RATES_FILE_BYTES``; the hints name
    ``given``, where the user typed the path (so validate's FILE is not told to be given to --pricing)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise CatalogError(f"{path}: no such pricing file.", hint=f"Fix: check the path {given}.") from None
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read it ({exc}).",
                           hint="Fix: the rates file must be a UTF-8 CSV file.") from None
    # Checked before opening: opening a FIFO blocks, and /dev/zero never ends.
    if not stat.S_ISREG(info.st_mode):
        raise CatalogError(f"{path}: not a regular file (a directory, device or pipe).",
                           hint=f"Fix: name a rates CSV file, not a folder, device or pipe ({given}).")
    if info.st_size > MAX_RATES_FILE_BYTES:
        raise _too_big(path, given)


def _read_text(path: Path) -> str:
    """The file's text, refusing what is not a regular file or is over ``MAX_RATES_FILE_BYTES``."""
    check_rates_path(path)
    try:
        # newline="": the text as written, a lone \r included (read_csv decides what ends a record).
        with path.open(encoding="utf-8-sig", newline="") as fh:
            text = fh.read(MAX_RATES_FILE_BYTES + 1)  # bounded: the file may grow after the stat
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read it ({exc}).",
                           hint="Fix: the rates file must be a UTF-8 CSV file.") from None
    if len(text) > MAX_RATES_FILE_BYTES:
        raise _too_big(path, LOADED_FROM)
    return text


def _records(reader: Any, path: Path) -> Iterator[list[str]]:
    """``reader``'s rows; a row it cannot read (a field over csv's 128 KiB limit, a lone \\r outside quotes) is one
    ``CatalogError``."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "new-line character seen in unquoted field" in str(exc):  # csv's words suggest another open mode
                raise CatalogError(f"{path}:{reader.line_num}: a carriage return (\\r) inside a row, outside quotes.",
                                   hint="Fix: quote the cell that holds it, or remove it; only \\n or \\r\\n "
                                        "end a row.") from None
            raise CatalogError(f"{path}:{reader.line_num}: not a CSV row advisor reads ({exc}).",
                               hint=format_hint()) from None


def _numbered(reader: Any, path: Path) -> Iterator[tuple[int, list[str]]]:
    """(the physical line a record starts on, the record) per record of ``reader``; blank and '#' lines skipped."""
    start = 1
    for record in _records(reader, path):
        line, start = start, reader.line_num + 1
        if any(cell.strip() for cell in record) and not record[0].lstrip().startswith("#"):
            yield line, record


def read_csv(path: Path) -> tuple[int, list[str], list[tuple[int, dict[str, str]]]]:
    """The header's line, the lower-cased header, and (line, {column: value}) per data row.

    Blank lines and lines starting with '#' are skipped, before the header too. Only \\n and \\r\\n end a
    record, so line numbers count the file's physical lines: a form feed, a vertical tab or a lone \\r in a
    quoted cell is part of the cell (``str.splitlines`` broke a line at each), and a lone \\r outside quotes is
    an error at its line rather than a row cut in two. A row with more fields than the header becomes
    ``{"__error__": why}`` for the caller to report.
    """
    # newline="\n": lines end at \n only (each keeps its \r\n or \n, which the csv reader takes as the end).
    reader = csv.reader(io.StringIO(_read_text(path), newline="\n"))
    records = _numbered(reader, path)
    first = next(records, None)
    if first is None:
        raise CatalogError(f"{path}: the file has no header row (it is empty, or only blank and '#' lines).",
                           hint=format_hint())
    header_line, header = first[0], [h.strip().lower() for h in first[1]]
    rows: list[tuple[int, dict[str, str]]] = []
    for line, record in records:
        if len(record) > len(header):
            rows.append((line, {"__error__": f"{len(record)} fields but the header has {len(header)}"}))
            continue
        rows.append((line, {h: (record[i].strip() if i < len(record) else "") for i, h in enumerate(header)}))
    return header_line, header, rows
