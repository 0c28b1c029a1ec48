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


@pytest.mark.parametrize("char", ["\x0c", "\x0b", "\r", "\x1c", "\u2028"])
def test_a_line_break_of_str_splitlines_inside_a_quoted_cell_is_part_of_the_cell(tmp_path, char):
    path = write(tmp_path, f'{HEADER}\r\nonprem,box,lab,T4,1,1,"a{char}b"\r\nonprem,b2,lab,T4,x,1,\r\n'.encode())
    assert problem(path) == f"{path}:3: gpu_count 'x' is not a number."
    path.write_text(f'{HEADER}\nonprem,box,lab,T4,1,1,"a{char}b"\n', newline="")
    (offer,) = [o for o in load_catalog([path]).offers if o.provider == "onprem"]
    assert offer.notes == f"a{char}b"


def test_an_unquoted_form_feed_stays_in_its_row_and_a_lone_cr_is_one_error_at_its_line(tmp_path):
    path = write(tmp_path, f"{HEADER}\nonprem,box,lab,T4,1,1,a\x0cb\nonprem,b2,lab,T4,x,1,\n".encode())
    assert problem(path) == f"{path}:3: gpu_count 'x' is not a number."  # not a bogus row at line 3
    path = write(tmp_path, f"{HEADER}\r\n\r\nonprem,box,lab,T4,1,1,a\rb\r\n".encode())
    with pytest.raises(CatalogError) as info:
        load_catalog([path])
    assert info.value.message == f"{path}:3: a carriage return (\\r) inside a row, outside quotes."
    assert info.value.hint.startswith("Fix: quote the cell that holds it")
