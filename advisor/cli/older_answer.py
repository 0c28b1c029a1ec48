"""Lines ``advisor history show`` adds to a recommendation stored by an advisor whose answer had no verdict block
(before 538eaf9), which today's answer (``advisor.cli.answer``) does not print.

That answer printed "Best per tier: CPU: aws m7a.large 17h05m $1.99; 1 GPU: ...", the cheapest machine of each
tier, most often none of them in its table but for the chosen one. Today's verdict names the best CPU and GPU in
its "CPU vs GPU" line; a row stored without a verdict has none, so ``history show`` dropped those machines without
a word while ``history record --instance`` takes them (``advisor.history.named_run``).
"""

from __future__ import annotations

from typing import Any

from advisor.units import format_duration, format_usd

_TIER_LABEL = {"cpu": "CPU", "single_gpu": "1 GPU", "multi_gpu": "multi-GPU"}


def best_per_tier_line(rec: Any) -> str | None:
    """"Best per tier: CPU: aws m7a.large (us-east-1): 17h07m total, $1.99; ..." for ``rec`` stored without a
    verdict, in the words of that answer's "Recommendation:" line as ``history show`` prints it today (total time:
    start-up + job, and the cost ranked); None for one with a verdict, or with no best per tier."""
    if rec.verdict is not None or not rec.best_per_tier:
        return None
    return "Best per tier: " + "; ".join(
        f"{_TIER_LABEL.get(tier, tier)}: {c.provider} {c.instance_type} ({c.region}): "
        f"{format_duration(c.total_seconds)} total, {format_usd(c.ranked_cost_usd)}"
        for tier, c in rec.best_per_tier.items())
