"""``advisor history export``: the history as one flat table, written as CSV or JSON.

    EXPORT_COLUMNS   the table's columns, in order (CSV header, JSON keys)
    export_rows      the rows, streamed from an open connection
    wire_row         a row as JSON values, as a server sends it (``GET /v1/history/export``, by pages)
    page_key         where a row stands in the order: the page after it starts past it
    rows_from_wire   the rows of a server's answer, checked, for ``write_export`` here
    write_export     CSV or JSON of those rows onto a text stream

CSV cells that hold text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a leading
single quote (OWASP's advice against formula injection): a workload name is the user's text, and a spreadsheet
would run it. A carriage return inside a cell is quoted, so it cannot start a row of its own. Numbers are
written as they are; JSON is never changed.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any, Literal, TextIO

from sqlalchemy import Connection, Select, case, func, or_, select

from advisor.errors import ConfigError, did_you_mean
from advisor.history.rows import recommended_model
from advisor.history.tables import OutcomeTable, RecommendationTable, WorkloadTable
from advisor.predictor.outliers import is_outlier
from advisor.since import parse_since
from advisor.units import is_finite

EXPORT_COLUMNS = (
    "recommendation_id", "created_at", "workload", "file_sha256", "param_count", "flops_per_sample",
    "dataset_size", "epochs", "batch_size", "objective", "deadline_seconds", "budget_usd",
    "provider", "instance_type", "region", "tier", "gpu", "gpu_count", "vcpus", "method",
    "predicted_seconds", "low", "high", "base_seconds", "base_method", "cost_usd", "chosen",
    "outcome_id", "recorded_at", "status", "actual_seconds", "error_pct", "outlier",
)
FORMATS = ("csv", "json")
_PREDICTED = EXPORT_COLUMNS.index("predicted_seconds")
_PARAMS, _FLOPS = EXPORT_COLUMNS.index("param_count"), EXPORT_COLUMNS.index("flops_per_sample")
_OUTCOME_ID = EXPORT_COLUMNS.index("outcome_id")
_ACTUAL, _STATUS, _METHOD, _BASE = (EXPORT_COLUMNS.index(k) for k in ("actual_seconds", "status", "method",
                                                                      "base_seconds"))
EXPORT_PAGE_ROWS = 5000  # the most rows a server sends in one answer: its memory stays flat, as a local export's
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The columns that hold text from the user or the database (the others are numbers, booleans and the ISO
# timestamps written here).
_TEXT_COLUMNS = tuple(EXPORT_COLUMNS.index(k) for k in ("workload", "file_sha256", "objective", "provider",
                                                         "instance_type", "region", "tier", "gpu", "method",
                                                         "base_method", "status"))
_BATCH_ROWS = 5000


def check_format(fmt: str) -> None:
    """ConfigError unless ``fmt`` is "csv" or "json"."""
    if fmt not in FORMATS:
        raise ConfigError(f"Unknown export format {fmt!r}.{did_you_mean(str(fmt), FORMATS)}",
                          hint="Fix: --format csv or --format json.")


def _statement(workload: str | None, since: datetime | date | str | None, after: tuple[int, int] | None,
               limit: int | None) -> Select:
    o = OutcomeTable
    r = RecommendationTable
    w = WorkloadTable
    ran = o.id.is_not(None)

    def pick(outcome_col: str, chosen_col: str):
        # The candidate that was run (copied on the outcome), else the chosen one.
        return case((ran, getattr(o, outcome_col)), else_=getattr(r, chosen_col)).label(outcome_col)

    stmt = (
        select(r.id, r.created_at, w.name, w.file_sha256, w.param_count, w.flops_per_sample, r.dataset_size,
               r.epochs, r.batch_size, r.objective, r.deadline_seconds, r.budget_usd,
               pick("provider", "chosen_provider"), pick("instance_type", "chosen_instance_type"),
               pick("region", "chosen_region"), pick("tier", "chosen_tier"), pick("gpu", "chosen_gpu"),
               pick("gpu_count", "chosen_gpu_count"), pick("vcpus", "chosen_vcpus"),
               pick("method", "chosen_method"), pick("predicted_seconds", "chosen_seconds"),
               pick("low", "chosen_low"), pick("high", "chosen_high"),
               # the uncorrected prediction of a run whose candidate the history corrected (what calibration and
               # the fit read): kept on the outcome; a recommendation without one has none to export
               case((ran, o.base_seconds), else_=None).label("base_seconds"),
               case((ran, o.base_method), else_=None).label("base_method"), pick("cost_usd", "chosen_cost_usd"),
               case((ran, func.coalesce(o.instance_type, "") == func.coalesce(r.chosen_instance_type, "")),
                    else_=r.chosen_instance_type.is_not(None)).label("chosen"),
               o.id.label("outcome_id"), o.recorded_at, o.status, o.actual_seconds,
               # last, popped by export_rows: the model's figures are the recommendation's own (recommended_model)
               r.workload_info)
        .join(w, w.id == r.workload_id)
        .outerjoin(o, o.recommendation_id == r.id)
        .order_by(r.id, o.id)
    )
    if workload is not None:
        stmt = stmt.where(w.name == workload)
    if since is not None:
        stmt = stmt.where(r.created_at >= parse_since(since))
    if after is not None:  # a page after the row with this (recommendation id, outcome id or 0)
        # r.id >= first, on its own, is a range the planner can start the scan at
        stmt = stmt.where(r.id >= after[0], or_(r.id > after[0], func.coalesce(o.id, 0) > after[1]))
    return stmt if limit is None else stmt.limit(limit)


def export_rows(conn: Connection, workload: str | None = None, since: datetime | date | str | None = None, *,
                after: tuple[int, int] | None = None, limit: int | None = None) -> Iterator[list[Any]]:
    """The export table (``EXPORT_COLUMNS``), one row per recommendation and outcome (a recommendation
    without an outcome gives one row with empty outcome columns); the predicted columns are those of the
    candidate that was run (the chosen one unless the outcome names another); ``param_count`` and
    ``flops_per_sample`` are the recommendation's own model (``recommended_model``). Timestamps are ISO 8601
    strings. Streams from ``conn``, which must stay open while the rows are read. ``after`` / ``limit``: a page
    of at most ``limit`` rows after the row of ``page_key`` ``after`` (a server's, ``GET /v1/history/export``)."""
    created, recorded, chosen = (EXPORT_COLUMNS.index(k) for k in ("created_at", "recorded_at", "chosen"))
    result = conn.execution_options(yield_per=_BATCH_ROWS).execute(_statement(workload, since, after, limit))
    for row in result:
        values = list(row)
        values[_PARAMS], values[_FLOPS] = recommended_model(values.pop(), values[_PARAMS], values[_FLOPS])
        actual, predicted = values[-1], values[_PREDICTED]
        values.append((predicted - actual) / actual * 100.0
                      if is_finite(actual) and actual and is_finite(predicted) else None)
        values.append(_outlier(values))
        values[created] = values[created].isoformat()
        if values[recorded] is not None:
            values[recorded] = values[recorded].isoformat()
        if values[chosen] is not None:
            values[chosen] = bool(values[chosen])
        yield values


def _outlier(values: list[Any]) -> bool | None:
    """Whether a completed run is over ``OUTLIER_RATIO`` from its uncorrected prediction (the base time of a run
    the history corrected): compare marks it and leaves it out of its figures, as calibration does; None where
    there is no completed run with a usable time to judge."""
    actual, status = values[_ACTUAL], values[_STATUS]
    judged = values[_PREDICTED]
    if values[_METHOD] == "history" and is_finite(values[_BASE]) and values[_BASE] > 0:
        judged = values[_BASE]
    if status != "completed" or not (is_finite(actual) and actual > 0 and is_finite(judged) and judged > 0):
        return None
    return is_outlier(actual, judged)


def page_key(row: list[Any]) -> tuple[int, int]:
    """Where a row stands in the export's order: (its recommendation id, its outcome id or 0)."""
    return row[0], row[_OUTCOME_ID] or 0


def wire_row(row: list[Any]) -> list[Any]:
    """A row of ``export_rows`` as JSON values: NaN and infinity as null, as the JSON export writes them."""
    return [_json_value(v) for v in row]


def rows_from_wire(data: Any) -> list[list[Any]] | None:
    """The rows of a server's export answer (``{"columns": EXPORT_COLUMNS, "rows": [[...], ...]}``), each a list
    of plain values (text, numbers, booleans, null) in ``EXPORT_COLUMNS``' order; None for anything else (not an
    advisor server). A server of another version may send columns this one lacks (dropped) or lack some this one
    has (empty), as long as the page key's columns are there: columns are only added. Formatting, and the CSV
    cells' formula guard, happen here, on the rows, as for the local history."""
    columns = data.get("columns") if isinstance(data, dict) else None
    if (not isinstance(columns, list) or not all(isinstance(c, str) for c in columns) or len(set(columns)) !=
            len(columns) or not {EXPORT_COLUMNS[0], "outcome_id"} <= set(columns)):
        return None
    rows = data.get("rows")
    if not isinstance(rows, list):
        return None
    plain = (str, int, float, bool, type(None))
    where = [columns.index(c) if c in columns else None for c in EXPORT_COLUMNS]
    ours = []
    for row in rows:
        if not isinstance(row, list) or len(row) != len(columns) or not all(isinstance(v, plain) for v in row):
            return None
        row = [None if i is None else row[i] for i in where]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in page_key(row)):
            return None
        ours.append(row)
    return ours


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: text a spreadsheet would read as a formula gets a leading single quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _json_value(value: Any) -> Any:
    """A value as JSON export writes it when a row has NaN or infinity: ISO timestamps, None for those."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_csv(rows: Iterable[list[Any]], target: TextIO) -> None:
    w = csv.writer(target, lineterminator="\n")
    # A writer whose lines end in LF alone does not quote a CR inside a cell, and readers end the row there
    # (the rest of the cell would start a row of its own, unquoted). Such rows go through a writer whose lines
    # end in CRLF, which quotes the cell, and then get the LF ending of the others.
    buffer = io.StringIO()
    w_cr = csv.writer(buffer, lineterminator="\r\n")
    w.writerow(EXPORT_COLUMNS)
    batch: list[list[Any]] = []
    for row in rows:
        has_cr = False
        for i in _TEXT_COLUMNS:
            value = row[i]
            if isinstance(value, str):
                row[i] = csv_cell(value)
                has_cr = has_cr or "\r" in value
        if has_cr:
            w.writerows(batch)
            batch.clear()
            buffer.seek(0)
            buffer.truncate()
            w_cr.writerow(row)
            target.write(buffer.getvalue()[:-2] + "\n")
            continue
        batch.append(row)
        if len(batch) >= _BATCH_ROWS:
            w.writerows(batch)
            batch.clear()
    w.writerows(batch)


def _write_json(rows: Iterable[list[Any]], target: TextIO) -> None:
    target.write("[")
    sep = "\n"
    for row in rows:
        item = dict(zip(EXPORT_COLUMNS, row, strict=True))
        try:
            text = json.dumps(item, allow_nan=False)
        except ValueError:  # NaN or infinity somewhere: JSON has no such numbers
            text = json.dumps({k: _json_value(v) for k, v in item.items()})
        target.write(sep + text)
        sep = ",\n"
    target.write("]\n" if sep == "\n" else "\n]\n")


def write_export(fmt: Literal["csv", "json"], rows: Iterable[list[Any]], out: TextIO | None = None) -> str:
    """CSV (header + rows) or JSON (an array of objects keyed by ``EXPORT_COLUMNS``) of ``rows``. Written to
    ``out`` as it streams (then "" is returned), or returned as a string when ``out`` is None."""
    check_format(fmt)
    # The first row before the first character: a database that cannot be opened or read fails with nothing
    # written (a half document on stdout, "[" or the header, would read as an empty export).
    rows = iter(rows)
    first = next(rows, None)
    if first is not None:
        rows = itertools.chain([first], rows)
    target = io.StringIO() if out is None else out
    (_write_csv if fmt == "csv" else _write_json)(rows, target)
    return target.getvalue() if out is None else ""
