"""A server's export page read by a client of another version: columns are only added within schema version 1, so a
page from an older server (without ``base_seconds`` / ``base_method``) or a newer one (with a column this client
lacks) is read by column name, not refused as "not an advisor server of this version"."""

from __future__ import annotations

from advisor.history.export import EXPORT_COLUMNS, rows_from_wire


def _row(columns: list[str], rec_id: int, outcome_id: int | None) -> list:
    values = {"outcome_id": outcome_id, EXPORT_COLUMNS[0]: rec_id, "base_seconds": 12.5, "base_method": "measured",
              "workload": "tiny"}
    return [values.get(c) for c in columns]


def test_a_page_of_this_version_is_read_as_sent():
    columns = list(EXPORT_COLUMNS)
    rows = [_row(columns, 1, 1), _row(columns, 2, None)]
    assert rows_from_wire({"columns": columns, "rows": rows}) == rows


def test_an_older_servers_page_gets_empty_new_columns():
    older = [c for c in EXPORT_COLUMNS if c not in ("base_seconds", "base_method")]
    assert len(older) == len(EXPORT_COLUMNS) - 2
    [row] = rows_from_wire({"columns": older, "rows": [_row(older, 3, 4)]})
    named = dict(zip(EXPORT_COLUMNS, row, strict=True))
    assert named["base_seconds"] is None and named["base_method"] is None
    assert named[EXPORT_COLUMNS[0]] == 3 and named["outcome_id"] == 4 and named["workload"] == "tiny"


def test_a_newer_servers_extra_column_is_dropped():
    newer = [*EXPORT_COLUMNS[:3], "gpu_hours_someday", *EXPORT_COLUMNS[3:]]
    sent = [_row(newer, 5, 6)]
    sent[0][3] = 7.0
    [row] = rows_from_wire({"columns": newer, "rows": sent})
    assert len(row) == len(EXPORT_COLUMNS) and 7.0 not in row
    assert dict(zip(EXPORT_COLUMNS, row, strict=True))["base_seconds"] == 12.5


def test_a_page_without_its_key_columns_or_with_a_short_row_is_refused():
    without_key = [c for c in EXPORT_COLUMNS if c != "outcome_id"]
    assert rows_from_wire({"columns": without_key, "rows": []}) is None
    columns = list(EXPORT_COLUMNS)
    assert rows_from_wire({"columns": columns, "rows": [_row(columns, 1, 1)[:-1]]}) is None
    assert rows_from_wire({"columns": [*columns, columns[0]], "rows": []}) is None  # a column named twice
    assert rows_from_wire({"columns": columns, "rows": [_row(columns, "1", 1)]}) is None  # a key that is no int
