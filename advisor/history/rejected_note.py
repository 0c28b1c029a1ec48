"""The note predict and recommend give where the history holds enough runs for a learned correction but the one
fitted from them is not applied (``advisor.predictor.learned.evaluate``'s decision), and the times shown are the
base predictor's.

Without it, a history of 10 runs, 8 of them at 2x their prediction, flipped from "corrected x1.98" to silence on one
more outcome (its paired test went from p = 0.047 to p = 0.092): every CPU time halved with no word of the stored
runs, and the 80% intervals shown held none of the 8 runs at 2x.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advisor.predictor.learned import Correction
    from advisor.schemas.history import TrainingRow

# An 80% interval should hold about 8 in 10 of the runs it predicts; where fewer than half of the stored runs fell in
# their own prediction's interval, the base predictor's intervals are far narrower than its error on these runs.
MIN_COVERED = 0.5


def rejected_note(correction: Correction, kept: Sequence[TrainingRow]) -> str | None:
    """"history: a correction from 10 stored runs (held-out median error 49% -> 6%) is not applied: not consistently
    enough to trust (paired test p = 0.092 >= 0.05); times are uncorrected (...)", with the stored runs' coverage of
    their own 80% interval where it is far below 80% (``interval_clause``); None where the correction was used or
    never fitted (below the minimum: ``session._fit``'s own note)."""
    before, after = correction.cv_error_before_pct, correction.cv_error_after_pct
    if correction.used or correction.folds == 0 or before is None or after is None:
        return None
    from advisor.predictor.learned import MIN_GAIN

    said = re.search(r", but (.*?\))\.", correction.reason)
    why = said.group(1) if said else f"it does not lower that error by {MIN_GAIN:.0%} or more"
    return (f"history: a correction from {correction.n_runs} stored runs (held-out median error {before:.0f}% -> "
            f"{after:.0f}%) is not applied: {why}; times are uncorrected" + interval_clause(kept, correction.min_runs)
            + " (`advisor history calibration` says more)")


def interval_clause(kept: Sequence[TrainingRow], min_runs: int) -> str:
    """"; 8 of the 10 stored runs took a time outside their uncorrected prediction's 80% interval (median x1.97 the
    prediction), so the intervals here are likely too narrow" where fewer than ``MIN_COVERED`` of the runs that stored
    an interval (at least ``min_runs`` of them) fell inside it; else ""."""
    with_interval = [r for r in kept if r.low_seconds is not None and r.high_seconds is not None]
    if len(with_interval) < min_runs:
        return ""
    outside = [r for r in with_interval if not r.low_seconds <= r.actual_seconds <= r.high_seconds]
    if len(with_interval) - len(outside) >= MIN_COVERED * len(with_interval):
        return ""
    ratio = statistics.median(r.actual_seconds / r.predicted_seconds for r in with_interval)
    return (f"; {len(outside)} of the {len(with_interval)} stored runs took a time outside their uncorrected "
            f"prediction's 80% interval (median x{ratio:.2f} the prediction), so the intervals here are likely too "
            "narrow")
