"""The ladder of batch sizes fitted to the time budget: which point next, for how long, and which are skipped
because their warm-up and two timed steps would not fit (pure: no torch, no clock)."""

from __future__ import annotations

import pytest

from advisor.probe.ladder import (
    MAX_TIMED_BATCH_SIZE,
    MIN_TIMED,
    MIN_WARMUP,
    Ladder,
    Planned,
    auto_ladder,
    halvings,
    measuring_order,
    point_cost,
    projected_cost,
    repeat_pricing,
    step_price,
)
from advisor.schemas import Measurement
from advisor.schemas.profile import SkippedPoint


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


def test_halvings_go_down_to_one():
    assert halvings(1024)[:4] == [1024, 512, 256, 128] and halvings(1024)[-1] == 1 and len(halvings(1024)) == 11
    assert halvings(12) == [12, 6, 3, 1]
    assert halvings(1) == [1]


def test_measuring_order_is_smallest_then_largest_then_between():
    assert measuring_order([64, 128, 256, 512]) == [64, 512, 128, 256]
    assert measuring_order([8, 2]) == [2, 8]
    assert measuring_order([5]) == [5]


def test_projected_cost_interpolates_between_measured_points():
    fits = [m(8, 0.10, 0.02), m(64, 0.50, 0.06)]  # steps of 0.12 s and 0.56 s
    assert projected_cost(fits, 8, 1) == pytest.approx(0.12)
    assert projected_cost(fits, 36, 10) == pytest.approx(10 * (0.12 + 0.44 * 28 / 56))
    assert projected_cost(fits, 4, 1) == pytest.approx(0.12)  # below: no cheaper than the smallest
    # beyond, from two points 8x apart: along their line (0.44 s over 56 samples)
    assert projected_cost(fits, 128, 1) == pytest.approx(0.56 + 0.44 * 64 / 56)
    assert projected_cost([m(32, 0.12), m(64, 0.56)], 128, 1) == pytest.approx(0.56 * 2)  # 2x apart: proportional
    assert projected_cost([m(8, 0.56), m(64, 0.5)], 128, 1) == pytest.approx(0.5 * 2)  # falling (noise): proportional
    assert projected_cost([m(64, 0.56)], 128, 1) == pytest.approx(0.56 * 2)  # one point: proportional
    assert projected_cost([], 128, 5) == 0.0


def test_a_step_is_priced_from_the_points_then_a_pricing_step_then_the_check():
    assert point_cost(1.5) == (MIN_WARMUP + MIN_TIMED) * 1.5 == 6.0
    assert step_price(16, [m(8, 0.5)], check=(2, 9.0), first_step=(1, 0.2)) == (1.0, "measured")
    assert step_price(16, [], check=(2, 9.0), first_step=(1, 0.2)) == pytest.approx((3.2, "first step"))
    assert step_price(16, [], check=(2, 9.0)) == (72.0, "check")
    assert step_price(1, [], check=(2, 9.0)) == (4.5, "check")
    assert step_price(16, [], check=None) is None  # nothing to price from: the point runs on its share


def test_without_a_price_the_first_point_gets_a_small_share_and_the_top_most_of_the_rest():
    ladder = Ladder(512)
    assert ladder.next([], 60.0) == Planned(64, 10.0, False)  # half of an equal split of the budget
    assert ladder.next([m(64, 0.1)], 50.0) == Planned(512, 35.0, True)  # 70% while points between remain
    ladder.queue = []
    one = Ladder(8, [8])
    assert one.next([], 5.0) == Planned(8, 5.0, True)  # a one-point ladder: all of it


def test_a_point_is_skipped_when_its_warm_up_and_two_timed_steps_would_not_fit():
    fits = [m(32, 0.3), m(64, 0.5), m(512, 4.0)]
    cost_256 = (MIN_WARMUP + MIN_TIMED) * (0.5 + 3.5 * 192 / 448)  # 4 steps of 2.0 s
    assert cost_256 == pytest.approx(8.0)
    fits_here = Ladder(512)
    fits_here.queue = [256]
    assert fits_here.next(fits, 8.0) == Planned(256, 8.0, False)
    no_room = Ladder(512)
    no_room.queue = [256]
    assert no_room.next(fits, 7.99) is None
    assert no_room.skipped == [SkippedPoint(batch_size=256, step_seconds=2.0, priced_from="measured")]


def test_a_top_that_does_not_fit_gives_way_to_the_largest_size_below_it_that_does():
    ladder = Ladder(1024)
    ladder.queue = [1024, 128, 256, 512]
    fits = [m(1, 0.75)]  # ResNet-50 on one busy core: 0.75 s a sample
    # 1024: 768 s a step. The largest halving whose 4 steps fit 70% of 52 s (36.4 s) is 8 (24 s; 16 needs 48 s).
    assert ladder.next(fits, 52.0) == Planned(8, pytest.approx(36.4), True)
    assert ladder.skipped == [SkippedPoint(batch_size=1024, step_seconds=768.0, priced_from="measured")]
    fits.append(m(8, 6.0))
    assert ladder.next(fits, 15.0) == Planned(2, 15.0, False)  # 128-512 skipped; then one point between 1 and 8
    assert [p.batch_size for p in ladder.skipped] == [1024, 128, 256, 512]
    assert ladder.next(fits + [m(2, 1.5)], 10.0) is None


def test_when_even_b_over_8_does_not_fit_a_smaller_first_point_is_timed():
    # The workload check's cold step took 8.8 s at batch size 2: B/8 = 128 is priced at 563 s a step.
    ladder = Ladder(1024, check=(2, 8.8))
    assert ladder.pricing_batch_size(58.5) == 1  # the check cannot vouch for 128: one step at 1 prices it
    # Without that step, the largest halving whose 4 steps fit a third of the budget (19.5 s) is 1 (17.6 s).
    assert ladder.next([], 58.5) == Planned(1, pytest.approx(17.6), False)
    assert ladder.queue == [1024, 128, 256, 512] and ladder.skipped == []  # 128 is priced again later

    priced = Ladder(1024, check=(2, 8.8))
    priced.observe(1, 0.9)  # the pricing step: 0.9 s at batch size 1
    # 128 costs 4 x 115 s; 4 x 0.9 x 4 = 14.4 s fits 19.5 s, 8 would not.
    assert priced.next([], 58.5) == Planned(4, pytest.approx(14.4), False)


def test_a_cheap_first_point_needs_no_pricing_step():
    ladder = Ladder(32, check=(2, 0.01))
    assert ladder.pricing_batch_size(60.0) is None
    assert ladder.next([], 60.0) == Planned(4, 10.0, False)
    assert Ladder(32).pricing_batch_size(60.0) is None  # no check (a twin, an in-process probe): nothing to doubt


def test_when_not_even_one_step_fits_nothing_is_timed_and_every_point_is_recorded():
    # GPT-2 124M: the check's cold step at 2 took 43 s, and the pricing step at 1 took 13 s.
    ladder = Ladder(12, check=(2, 43.0))
    ladder.observe(1, 13.0)
    assert ladder.next([], 50.0) is None
    assert ladder.skipped == [SkippedPoint(batch_size=b, step_seconds=13.0 * b, priced_from="first step")
                              for b in (1, 12, 3, 6)]
    assert ladder.queue == []


def test_an_explicit_ladder_is_priced_but_never_extended():
    ladder = Ladder(100, [8, 64], check=(2, 10.0))
    assert ladder.next([], 30.0) is None  # 8: 40 s a step, 64: 320 s
    assert [(p.batch_size, p.step_seconds) for p in ladder.skipped] == [(8, 40.0), (64, 320.0)]


def test_out_of_memory_looks_lower_first_and_caps_the_rest():
    ladder = Ladder(256)
    assert ladder.next([], 60.0).batch_size == 32
    ladder.out_of_memory(32, [])
    assert ladder.oom_limit == 32 and ladder.next([], 60.0).batch_size == 16
    fits = [m(16, 0.01)]
    assert ladder.next(fits, 50.0) is None  # 256, 64 and 128 are at or above the limit


def test_batch_size_1_may_take_up_to_half_the_budget_and_is_timed_once():
    ladder = Ladder(12, check=(2, 30.0))
    ladder.observe(1, 6.3)  # 4 steps at 1 (25.2 s) exceed a third of 52 s, but fit half of it
    assert ladder.next([], 52.0) == Planned(1, pytest.approx(25.2), False)
    assert ladder.queue == [12, 3, 6] and ladder.skipped == []
    assert ladder.next([m(1, 5.7)], 20.0) is None  # 1 is not timed again; 3, 6 and 12 would not fit
    assert [p.batch_size for p in ladder.skipped] == [12, 3, 6]
    # GPT-2 124M beside a busy loop: 11.5 s a step at 1 (46 s for a point) is more than half of 47 s.
    busy = Ladder(12, check=(2, 31.0))
    busy.observe(1, 11.5)
    assert busy.next([], 47.0) is None and [p.batch_size for p in busy.skipped] == [1, 12, 3, 6]


def test_prices_from_steps_timed_by_their_cpu_time_count_the_wait_for_a_core():
    ladder = Ladder(512)
    ladder.queue = [256]
    fits = [m(32, 0.3), m(64, 0.5), m(512, 4.0)]  # 256: 2.0 s a step by CPU time
    ladder.wall_factor = 1.5  # the last window took 1.5 wall seconds per timed second (a busy machine)
    assert ladder.next(fits, 11.9) is None  # 4 steps of 3.0 wall seconds
    assert ladder.skipped == [SkippedPoint(batch_size=256, step_seconds=3.0, priced_from="measured")]


def test_a_pricing_step_is_timed_again_only_when_cheap_in_the_budget_and_in_seconds():
    assert repeat_pricing(0.3, 2.0)  # a loader built on the first call: 0.3 s of a 2-s budget
    assert not repeat_pricing(0.6, 2.0)  # more than a quarter of what is left
    assert repeat_pricing(1.0, 60.0) and not repeat_pricing(1.2, 60.0)  # at most 1 s, whatever the budget
    assert not repeat_pricing(11.5, 60.0)  # GPT-2 124M's step on a CPU: the model's own time, not set-up
    # ... as its FLOPs say (2.5 TFLOP at batch 8 on 2 threads: at least 5 s at any core's matmul rate) ...
    assert not repeat_pricing(11.5, 60.0, step_flops=2.5e12, threads=2)
    # ... where a 1-s first step of a model whose FLOPs take microseconds is one-time costs: timed again
    assert repeat_pricing(1.0047, 4.5, step_flops=8 * 2.6e5, threads=2)
    assert not repeat_pricing(1.0047, 3.9, step_flops=8 * 2.6e5, threads=2)  # but only within a quarter of what is left


def _walk(ladder: Ladder, seconds_per_sample: float, budget: float) -> list[int]:
    """Time every point the ladder plans (a step costs ``seconds_per_sample`` a sample, nothing else), with
    ``budget`` seconds left each time; the batch sizes timed."""
    fits: list[Measurement] = []
    while (point := ladder.next(fits, budget)) is not None:
        fits.append(m(point.batch_size, seconds_per_sample * point.batch_size))
    return [f.batch_size for f in fits]


@pytest.mark.parametrize("ladder", [Ladder(5_000_000_000, check=(2, 1e-9)), Ladder(10**12, check=(2, 1e-9)),
                                    Ladder(32, [8, 5_000_000_000], check=(2, 1e-9))])
def test_a_batch_past_the_largest_timed_one_is_skipped_as_too_large_whatever_its_price(ladder):
    # The flags take batch sizes up to 10^12, a Measurement up to 2^31: a point past it was recorded as a
    # SkippedPoint the schema refused (a ValidationError in the probe child: "probably a bug in advisor"). Here
    # steps are so cheap that the budget would time it: it is skipped all the same, and said to be too large.
    timed = _walk(ladder, 1e-9, 1e6)  # 1 ns a sample: a step of batch 8 is over the schema's 1 ns floor
    assert timed and max(timed) <= MAX_TIMED_BATCH_SIZE
    too_large = [p for p in ladder.skipped if p.too_large]
    assert too_large and all(p.batch_size > MAX_TIMED_BATCH_SIZE for p in too_large)
    assert not [p for p in ladder.skipped if not p.too_large and p.batch_size > MAX_TIMED_BATCH_SIZE]
    if not ladder.explicit:  # the automatic ladder times the largest halving that is not too large
        assert max(timed) == max(s for s in halvings(ladder.batch_size) if s <= MAX_TIMED_BATCH_SIZE)


def test_a_batch_past_the_largest_timed_one_on_a_slow_device_is_priced_and_skipped():
    # On a CPU (the audit's case: --batch-size 5000000000 on a tiny MLP) the price alone skips it; the record
    # holds a price of thousands of years a step without a validation error.
    ladder = Ladder(10**12, check=(2, 2.0))  # 1 s a sample
    timed = _walk(ladder, 1.0, 60.0)
    assert timed and max(timed) <= 16
    top = max(ladder.skipped, key=lambda p: p.batch_size)
    assert top.batch_size == 10**12 and top.too_large and top.step_seconds == pytest.approx(1.0 * 10**12)


def test_a_top_priced_out_from_one_point_is_priced_again_along_the_line_once_a_point_below_it_is_timed():
    """A step with a large fixed cost (AdamW over 8M embedding parameters: 93 ms at batch 4, 111 ms at 32) is
    priced in proportion from batch 4 alone at 3 s at 128, out of reach; once 32 is timed, along the line
    through 4 and 32 (0.17 s), and the user's batch size is timed after all."""
    ladder = Ladder(128)
    ladder.queue = [128, 16, 32, 64]
    fits = [m(4, 0.093)]
    assert ladder.next(fits, 6.0) == Planned(32, pytest.approx(4.2), True)  # 128: 4 x 2.98 s > 6 s
    assert ladder.queue[0] == 128
    fits.append(m(32, 0.111))
    plan = ladder.next(fits, 4.0)
    assert plan is not None and plan.batch_size == 128 and plan.is_top


def test_a_size_skipped_again_keeps_its_latest_price():
    ladder = Ladder(128)
    ladder.queue = [128, 16, 32, 64]
    fits = [m(4, 0.093)]
    assert ladder.next(fits, 6.0).batch_size == 32
    fits.append(m(32, 0.111))
    assert ladder.next(fits, 0.5).batch_size == 16  # too little left for 128 (0.69 s) or 64 (0.53 s) now
    [p128] = [p for p in ladder.skipped if p.batch_size == 128]
    assert p128.step_seconds == pytest.approx(0.111 + 0.018 * 96 / 28)  # the line's, not 32 x 93 ms
