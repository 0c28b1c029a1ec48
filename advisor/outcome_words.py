"""How a recorded run reads beside its prediction.

A listed recommendation's latest run, where it ran on another machine than the chosen one: that machine and its own
prediction, as ``advisor history compare`` pairs them. The CLI's ``history list`` and the service's page both say it
(each escapes it for its own output), so neither shows the chosen machine's prediction beside a run it did not make.

A run just recorded (``history record``): its prediction and 80% interval, and how far it is from them. Before, it
said only "Recorded 39m00s (2340 s) for history id 6", at 19x the prediction: a typo went unnoticed.
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


# A recorded run this many times from its prediction, and outside its interval, gets a hint to take it back: no
# base interval is that wide, and a slip of the unit (39m for 3m09s) lands there.
MISTYPED_RATIO = 3.0


def _times(actual: float, predicted: float) -> float:
    return actual / predicted if actual >= predicted else predicted / actual


def recorded_words(outcome: Any) -> str:
    """" (predicted 2m03s, 80% interval 1m50s–2m20s: 19.0x longer, outside it)" for a completed ``Outcome`` with
    a prediction (" (predicted 2m03s, 80% interval 1m50s–2m20s: inside it)"; without an interval, the ratio alone);
    "" where it has none (a failed run, a server that does not send it). ``history record`` says it beside the
    recorded time, so that a mistyped one shows at once."""
    predicted, actual = outcome.predicted_seconds, outcome.actual_seconds
    if outcome.status != "completed" or not predicted or predicted <= 0 or actual <= 0:
        return ""
    low, high = outcome.low, outcome.high
    interval = low is not None and high is not None
    said = f" (predicted {format_duration(predicted)}"
    if interval:
        said += f", 80% interval {format_duration(low)}–{format_duration(high)}"
        if low <= actual <= high:
            return said + ": inside it)"
    side = "longer" if actual > predicted else "shorter"
    return said + f": {_times(actual, predicted):.1f}x {side}" + (", outside it)" if interval else ")")


def looks_mistyped(outcome: Any) -> bool:
    """Whether a recorded ``Outcome`` is ``MISTYPED_RATIO`` times or more from its prediction and outside its
    interval (where it has one): ``history record`` then says how to take it back."""
    predicted, actual = outcome.predicted_seconds, outcome.actual_seconds
    if outcome.status != "completed" or not predicted or predicted <= 0 or actual <= 0:
        return False
    inside = outcome.low is not None and outcome.high is not None and outcome.low <= actual <= outcome.high
    return not inside and _times(actual, predicted) >= MISTYPED_RATIO
