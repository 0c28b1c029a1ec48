"""The recommendation table's columns, in text and markdown alike. Under ``--spot`` the ranking, the verdict and
"vs the choice" use each row's spot cost where it has one: its two price columns are then headed "on-demand" and
"spot (ranked)", as a reader who scanned a column headed "cost" read the on-demand figure the ranking did not use
(a row below the chosen one's cost there was "1.5x the cost"), and on a narrow terminal the on-demand column is
left out before the ranked one."""

from __future__ import annotations

from dataclasses import replace

from advisor.cli.fit import Column

# Numbers and short names are never broken; on a terminal too narrow for all, "similar" goes first. The hardware
# ("1 x RTX-3060-Ti", "8 vCPU") wraps at its spaces only: folded, "V100-16G" over "B" read as another GPU.
CANDIDATE_COLUMNS = (
    Column("#", whole=True), Column("provider", whole=True), Column("instance", fold_min=10),
    Column("hardware", whole=True), Column("total time (80%)", whole=True), Column("job", "right", whole=True, drop=5),
    Column("cost", "right", whole=True), Column("spot", "right", whole=True, drop=2),
    Column("similar", whole=True, drop=1))
BOUND_COLUMN = Column("bound (GPU busy)", drop=3)
VERSUS_COLUMN = Column("vs the choice", drop=4, fold_min=12)


def price_headers(spot: bool) -> tuple[str, str]:
    """The headers of the on-demand and the spot cost columns: ("cost", "spot"), or under ``--spot``
    ("on-demand", "spot (ranked)")."""
    return ("on-demand", "spot (ranked)") if spot else ("cost", "spot")


def candidate_columns(spot: bool, bound: bool) -> tuple[Column, ...]:
    """The table's columns: with the "bound" column where ``bound``; under ``--spot`` (``spot``) the price columns
    headed by ``price_headers``, the on-demand one left out first on a narrow terminal."""
    cols = list(CANDIDATE_COLUMNS)
    if spot:
        demand, ranked = price_headers(True)
        cols[6], cols[7] = replace(cols[6], header=demand, drop=2), replace(cols[7], header=ranked, drop=None)
    return (*cols, *((BOUND_COLUMN,) if bound else ()), VERSUS_COLUMN)
