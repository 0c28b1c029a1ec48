"""The probe's robust statistics: percentiles, spread and the stopping rule's standard error."""

from __future__ import annotations

import math
import random

import pytest

from advisor.probe import stats


def test_percentile_interpolates_like_numpy():
    values = [4.0, 1.0, 3.0, 2.0]
    assert stats.percentile(values, 0) == 1.0
    assert stats.percentile(values, 100) == 4.0
    assert stats.percentile(values, 50) == pytest.approx(2.5)
    assert stats.percentile(values, 10) == pytest.approx(1.3)


def test_spread_is_p90_minus_p10_over_median():
    values = [float(v) for v in range(1, 12)]  # 1..11, median 6, p10 2, p90 10
    assert stats.spread(values) == pytest.approx((10 - 2) / 6)
    assert stats.spread([1.0]) is None


def test_rse_of_median_needs_three_samples_and_shrinks_with_n():
    assert stats.rse_of_median([1.0, 1.1]) == math.inf
    rng = random.Random(0)
    few = [1.0 + rng.gauss(0, 0.05) for _ in range(10)]
    many = [1.0 + rng.gauss(0, 0.05) for _ in range(1000)]
    assert stats.rse_of_median(many) < stats.rse_of_median(few)
    # Normal noise of 5%: SE(median) = 1.2533 * 0.05 / sqrt(1000) ~= 0.2%.
    assert stats.rse_of_median(many) == pytest.approx(1.2533 * 0.05 / math.sqrt(1000), rel=0.2)


def test_rse_ignores_a_rare_outlier():
    clean = [1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0, 1.01, 0.99, 1.0]
    assert stats.rse_of_median(clean + [50.0]) < 0.02


def test_known_asks_the_compute_time_and_the_whole_step_to_be_precise():
    steady = [0.010, 0.0101, 0.0099, 0.0100, 0.0102, 0.0098, 0.0100, 0.0101]
    assert stats.known(steady, [0.001] * 8, 0.015)
    # Batch creation that swings by as much as the step: the whole step's median is not known yet.
    assert not stats.known(steady, [0.001, 0.02, 0.001, 0.02, 0.001, 0.02, 0.001, 0.02], 0.015)
    # A looser target (a twin timing half of the point: 1.5% x sqrt 2) is met by steps the usual one is not.
    spread = [0.010, 0.0103, 0.0097, 0.0102, 0.0098, 0.0100, 0.0103, 0.0097]
    assert not stats.known(spread, [0.0] * 8, 0.015) and stats.known(spread, [0.0] * 8, 0.015 * 2 ** 0.5)
