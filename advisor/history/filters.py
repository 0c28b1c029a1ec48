"""How ``history list`` narrows its rows (one workload, rows since a time, the newest ``limit`` after skipping
``offset``): shared by the recommendations' listing (``advisor.history.repository``), the saved predictions'
(``advisor.history.outcomes``) and the count of what matches (``matching``; ``outcomes.totals``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from advisor.errors import ConfigError
from advisor.history.tables import WorkloadTable
from advisor.since import parse_since

SQL_INT_MAX = 2**63 - 1  # the largest LIMIT either database reads


def newest_first_filtered(stmt: Any, created_at: Any, workload: str | None, since: datetime | str | None,
                          limit: int | None, offset: int = 0) -> Any:
    """``stmt`` (a select joined to the workloads table) narrowed as ``history list`` narrows: to one workload,
    to rows since a time, to the newest ``limit`` after the newest ``offset`` (a page further back)."""
    stmt = matching(stmt, created_at, workload, since)
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ConfigError(f"offset must be a whole number of 0 or more, got {offset!r:.80}.",
                          hint="Fix: e.g. offset=50 (--offset 50) for the rows after the newest 50.")
    if offset:
        stmt = stmt.offset(min(offset, SQL_INT_MAX))
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        # SQL reads LIMIT 0 as "no rows" and a negative one as "no limit" (SQLite): neither is what was meant
        raise ConfigError(f"limit must be a whole number of 1 or more, got {limit!r}.",
                          hint="Fix: e.g. limit=50 (--limit 50), or limit=None for every row.")
    # A limit past the largest SQL integer (2**63 - 1) asks for every row, as that one does.
    return stmt.limit(min(limit, SQL_INT_MAX)) if limit is not None else stmt


def matching(stmt: Any, created_at: Any, workload: str | None, since: datetime | str | None) -> Any:
    """``stmt`` narrowed to one workload and to rows since a time (both checked: a bad one is a ConfigError)."""
    if workload is not None:
        if not isinstance(workload, str):
            raise ConfigError(f"workload must be a workload's name, got {workload!r}.",
                              hint="Fix: e.g. workload=\"tabular_mlp\" (--workload tabular_mlp).")
        stmt = stmt.where(WorkloadTable.name == workload)
    if since is not None:
        stmt = stmt.where(created_at >= parse_since(since))
    return stmt
