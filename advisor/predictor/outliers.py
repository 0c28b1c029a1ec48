"""The 20x rule: a run this many times away from its uncorrected prediction is taken for a mistake. One rule for
``history record``'s guard (``advisor.history.outcome_checks``), the learned correction's fit and calibration
(``advisor.predictor.learned.kept_runs``) and ``history compare``'s aggregates (``advisor.history.comparison``),
so the three agree on which runs are outliers."""

from __future__ import annotations

# An outcome this many times away from its prediction is a mistake (``history record`` refuses it without --force):
# compared, never learned from (one forced 1e9 s outcome bent the fit for every CPU size: x0.2 to x5).
OUTLIER_RATIO = 20.0


def times_off(actual_seconds: float, predicted_seconds: float) -> float:
    """How many times ``actual_seconds`` is from ``predicted_seconds``, either way (>= 1; both positive)."""
    return max(actual_seconds / predicted_seconds, predicted_seconds / actual_seconds)


def is_outlier(actual_seconds: float, predicted_seconds: float) -> bool:
    """Whether a run is more than ``OUTLIER_RATIO`` times from its uncorrected prediction (both positive)."""
    return times_off(actual_seconds, predicted_seconds) > OUTLIER_RATIO
