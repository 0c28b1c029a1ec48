"""The machine that stays within the constraints even at the slow end of its estimate, and the words that name it
beside an at-risk choice (the verdict's warnings, the Best value line); split from ``advisor.ranking.verdict``.

Pure: no I/O.
"""

from __future__ import annotations

from advisor.ranking.reasons import sharded_clause
from advisor.ranking.scoring import Scored
from advisor.schemas import Candidate, Constraints
from advisor.units import format_duration, format_usd


def is_safe(s: Scored, constraints: Constraints) -> bool:
    """Within the deadline and the budget even at the slow end of its estimate (``elapsed_high``, ``cost_high``),
    with room in memory (not ``memory_tight``)."""
    d, b = constraints.deadline_seconds, constraints.budget_usd
    return not (d and s.elapsed_high > d) and not (b and s.cost_high > b) and not s.cand.memory_tight


def safe_figures(safe: Scored, constraints: Constraints, chosen: Candidate) -> str:
    """"1 x A100-40GB (lambda gpu_1x_a100), 55m00s total (at most 1h05m), $1.82": the slow end's time, its cost
    where there is a budget, and that it is priced sharded where ``chosen`` is not (``sharded_clause``)."""
    high = f" (at most {format_usd(safe.cost_high)})" if constraints.budget_usd else ""
    price = " at its spot price" if safe.cand.interruptible else ""
    sharded = sharded_clause(safe.cand, chosen)
    return (f"{safe.label}, {format_duration(safe.elapsed)} total (at most {format_duration(safe.elapsed_high)}), "
            f"{format_usd(safe.cost)}{high}{price}" + (f"; {sharded}" if sharded else ""))


def safe_text(safe: Scored | None, constraints: Constraints, chosen: Candidate) -> str:
    """"the cheapest candidate that meets the constraints even at the slow end of its estimate: ..." (where the
    ``chosen`` one's memory is tight, the text says the one named has room)."""
    room = " with room in memory" if chosen.memory_tight else ""
    if safe is None:
        return f"no candidate meets the constraints at the slow end of its estimate{room}"
    what = "cheapest" if constraints.objective == "cost" else "fastest"
    return (f"the {what} candidate{room} that meets the constraints even at the slow end of its estimate: "
            f"{safe_figures(safe, constraints, chosen)}")
