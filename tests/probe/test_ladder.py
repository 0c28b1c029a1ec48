"""The ladder of batch sizes and how the time budget is shared between its points (no torch needed)."""

from __future__ import annotations

import pytest

from advisor.probe.ladder import (
    MIN_USEFUL_SAMPLES,
    MIN_WARMUP,
    TOP_OVERRUN,
    auto_ladder,
    measuring_order,
    plan_point,
    projected_cost,
)
from advisor.schemas import Measurement


def m(batch_size: int, compute: float, batch: float = 0.0) -> Measurement:
    return Measurement(device="cpu", batch_size=batch_size, compute_seconds=compute, batch_seconds=batch)


@pytest.mark.parametrize("b, ladder", [
    (512, [64, 128, 256, 512]),
    (32, [4, 8, 16, 32]),
    (100, [12, 25, 50, 100]),
    (6, [1, 3, 6]),
    (3, [1, 3]),
    (1, [1]),
])
def test_auto_ladder_ends_at_the_users_batch_size(b, ladder):
    assert auto_ladder(b) == ladder


def test_measuring_order_is_smallest_then_largest_then_between():
    assert measuring_order([64, 128, 256, 512]) == [64, 512, 128, 256]
    assert measuring_order([8, 2]) == [2, 8]
    assert measuring_order([5]) == [5]


def testprojected_cost_interpolates_between_measured_points():
    fits = [m(8, 0.10, 0.02), m(64, 0.50, 0.06)]  # steps of 0.12 s and 0.56 s
    assert projected_cost(fits, 8, 1) == pytest.approx(0.12)
    assert projected_cost(fits, 36, 10) == pytest.approx(10 * (0.12 + 0.44 * 28 / 56))
    assert projected_cost(fits, 4, 1) == pytest.approx(0.12)  # below: no cheaper than the smallest
    assert projected_cost(fits, 128, 1) == pytest.approx(0.56 * 2)  # beyond: proportional
    assert projected_cost([], 128, 5) == 0.0


def test_plan_gives_the_first_point_a_small_share_and_the_top_most_of_the_rest():
    share, top = plan_point(64, [], [512, 128, 256], remaining=60.0)
    assert share == pytest.approx(10.0) and not top
    fits = [m(64, 0.1)]
    share, top = plan_point(512, fits, [128, 256], remaining=50.0)
    assert share == pytest.approx(35.0) and top
    share, top = plan_point(512, fits, [], remaining=50.0)
    assert share == pytest.approx(50.0) and top
    assert plan_point(8, [], [], remaining=5.0) == (5.0, True)  # a one-point ladder: all of it


def test_plan_skips_the_top_only_when_three_of_its_steps_would_overrun_the_budget_twice():
    fits = [m(32, 8.0)]  # ResNet-50 at 32 on a 2-core CPU: 8 s a step, so ~64 s a step at 256
    cost_256 = (MIN_WARMUP + 1) * 8.0 * 256 / 32  # priced in proportion to the batch size: 192 s
    assert plan_point(256, fits, [64, 128], remaining=cost_256 / TOP_OVERRUN * 1.01) is not None
    assert plan_point(256, fits, [64, 128], remaining=cost_256 / TOP_OVERRUN * 0.99) is None
    assert plan_point(512, [m(64, 0.01)], [128, 256], remaining=1.0) == (0.7, True)  # a fast model: measured


def test_plan_skips_a_point_between_only_when_it_would_not_fit():
    fits = [m(64, 0.5), m(512, 4.0)]
    steps = MIN_WARMUP + MIN_USEFUL_SAMPLES
    cost_256 = steps * (0.5 + 3.5 * 192 / 448)
    assert plan_point(256, fits, [], remaining=cost_256 * 1.01) is not None
    assert plan_point(256, fits, [], remaining=cost_256 * 0.99) is None
    share, top = plan_point(128, fits, [256], remaining=20.0)
    assert share == pytest.approx(10.0) and not top
