"""``advisor history calibration``'s per-method figures: the uncorrected predictions' error over the runs the
learned correction's fit keeps (the report's ``n_runs``), and how many of them fell within the uncorrected 80%
interval.

Before, the groups counted the runs the fit leaves out too (n 17 beside n_runs 15, a mean error of +502% from one
1 s run), and the interval coverage was always null. The coverage reads the interval stored with each run where it
is the uncorrected one (``TrainingRow.low_seconds``): a candidate the correction changed stored its corrected
interval, which says nothing of the base predictor's, so its runs are not counted in it; a group none of whose
runs has one keeps ``within_interval_pct`` null.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from advisor.schemas import ComparisonGroup, TrainingRow


def method_groups(rows: Sequence[TrainingRow]) -> list[ComparisonGroup]:
    """One group per base method over ``rows`` (the runs the fit keeps): the uncorrected predictions' median
    |error| and signed mean error (positive: predicted longer), and the share of the runs with a stored uncorrected
    interval whose actual time lay inside it."""
    by_method: dict[str, list[TrainingRow]] = {}
    for r in rows:
        by_method.setdefault(r.method, []).append(r)
    groups = []
    for method, runs in sorted(by_method.items()):
        errors = [(r.predicted_seconds - r.actual_seconds) / r.actual_seconds * 100.0 for r in runs]
        bounded = [r for r in runs if r.low_seconds is not None and r.high_seconds is not None]
        inside = sum(r.low_seconds <= r.actual_seconds <= r.high_seconds for r in bounded)
        groups.append(ComparisonGroup(
            key=method, n=len(runs), median_abs_error_pct=statistics.median(abs(e) for e in errors),
            mean_error_pct=statistics.fmean(errors),
            within_interval_pct=100.0 * inside / len(bounded) if bounded else None))
    return groups
