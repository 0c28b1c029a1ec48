"""Reading a rates file: '#' and blank lines are skipped wherever they are (before the header too), and file:line
numbers count the file's physical lines, whatever characters a quoted cell holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.errors import CatalogError
from advisor.pricing import load_catalog
from advisor.pricing.csvfile import read_csv

HEADER = "provider,instance_type,region,gpu_model,gpu_count,price_hour_usd,notes"


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "rates.csv"
    path.write_bytes(data)
    return path


def problem(path: Path) -> str:
    with pytest.raises(CatalogError) as info:
        load_catalog([path])
    return info.value.message


def test_comment_and_blank_lines_before_the_header_are_skipped_and_lines_still_count(tmp_path):
    path = write(tmp_path, f"# our negotiated rates\n\n{HEADER}\nonprem,box,lab,T4,1,1,\nonprem,b2,lab,T4,x,1,\n"
                 .encode())
    assert problem(path) == f"{path}:5: gpu_count 'x' is not a number."
    header_line, header, rows = read_csv(path)
    assert (header_line, header[0], [line for line, _ in rows]) == (3, "provider", [4, 5])
    # a bad header is named at its own line
    path.write_text(f"# rates\n{HEADER.replace('notes', 'notez')}\n")
    assert problem(path).startswith(f"{path}:2: unknown column 'notez'.")
    path.write_text("# only a comment\n\n")
    assert "no header row" in problem(path)
