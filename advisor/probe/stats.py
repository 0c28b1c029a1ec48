"""Robust summaries of timed samples: median, spread, and how precisely the median is known.

Pure Python (no torch, no numpy) so the stopping rule of the probe is cheap and unit-testable.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

# SE(median) ~= sqrt(pi / 2) * sigma / sqrt(n) for a normal sample, and sigma ~= 1.4826 * MAD (robust to the
# occasional preempted step that a plain standard deviation would let dominate).
_SE_MEDIAN = math.sqrt(math.pi / 2) * 1.4826


def median(values: Sequence[float]) -> float:
    """The median, as a float."""
    return float(statistics.median(values))


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation between order statistics (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def spread(values: Sequence[float]) -> float | None:
    """(p90 - p10) / median: the relative width of the middle 80% of the samples; None below 2 samples."""
    if len(values) < 2:
        return None
    mid = median(values)
    if mid <= 0:
        return None
    return (percentile(values, 90) - percentile(values, 10)) / mid


def rse_of_median(values: Sequence[float]) -> float:
    """Relative standard error of the median (MAD-based); ``inf`` when fewer than 3 samples."""
    n = len(values)
    if n < 3:
        return math.inf
    mid = median(values)
    if mid <= 0:
        return math.inf
    mad = median([abs(v - mid) for v in values])
    return _SE_MEDIAN * mad / math.sqrt(n) / mid


def known(compute_seconds: Sequence[float], batch_seconds: Sequence[float], rse: float) -> bool:
    """Whether the median compute time, and the median whole step (batch creation + compute), are known to
    ``rse`` (relative standard error): the probe's rule for having timed a batch size enough."""
    steps = [b + c for b, c in zip(batch_seconds, compute_seconds, strict=True)]
    return rse_of_median(compute_seconds) <= rse and rse_of_median(steps) <= rse
