"""How ``history list`` narrows its rows (one workload, rows since a time, the newest ``limit``): shared by the
recommendations' listing (``advisor.history.repository``) and the saved predictions' (``advisor.history.outcomes``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from advisor.errors import ConfigError
from advisor.history.tables import WorkloadTable
from advisor.units import parse_since

SQL_INT_MAX = 2**63 - 1  # the largest LIMIT either database reads


def newest_first_filtered(stmt: Any, created_at: Any, workload: str | None, since: datetime | str | None,
                          limit: int | None) -> Any:
    """``stmt`` (a select joined to the workloads table) narrowed as ``history list`` narrows: to one workload,
    to rows since a time, to the newest ``limit``."""
    if workload is not None:
        if not isinstance(workload, str):
            raise ConfigError(f"workload must be a workload's name, got {workload!r}.",
                              hint="Fix: e.g. workload=\"tabular_mlp\" (--workload tabular_mlp).")
        stmt = stmt.where(WorkloadTable.name == workload)
    if since is not None:
        stmt = stmt.where(created_at >= parse_since(since))
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        # SQL reads LIMIT 0 as "no rows" and a negative one as "no limit" (SQLite): neither is what was meant
        raise ConfigError(f"limit must be a whole number of 1 or more, got {limit!r}.",
                          hint="Fix: e.g. limit=50 (--limit 50), or limit=None for every row.")
    # A limit past the largest SQL integer (2**63 - 1) asks for every row, as that one does.
    return stmt.limit(min(limit, SQL_INT_MAX)) if limit is not None else stmt
