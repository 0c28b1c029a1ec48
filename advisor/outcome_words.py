"""How a listed recommendation's latest run reads where it ran on another machine than the chosen one: that machine
and its own prediction, as ``advisor history compare`` pairs them. The CLI's ``history list`` and the service's page
both say it (each escapes it for its own output), so neither shows the chosen machine's prediction beside a run it
did not make.
"""

from __future__ import annotations

from typing import Any

from advisor.units import format_duration


def elsewhere_words(entry: Any) -> str:
    """" on e2-standard-4 (predicted 9m10s there, -45.0%)" for a ``HistoryEntry`` whose latest outcome ran on a
    machine other than the chosen one (its own prediction only where the run completed and it is known); "" where
    it ran on the chosen one, or nothing ran."""
    where = entry.outcome_instance_type
    if not entry.actual_seconds or not where or where == entry.instance_type:
        return ""
    own, actual = entry.outcome_predicted_seconds, entry.actual_seconds
    if own is None or entry.status != "completed":
        return f" on {where}"
    return f" on {where} (predicted {format_duration(own)} there, {(own - actual) / actual * 100.0:+.1f}%)"
