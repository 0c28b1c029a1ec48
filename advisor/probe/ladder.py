"""The batch-size ladder and how a device's time budget is shared between its points. Pure: no torch, no clock.

The ladder is the user's batch size B and 2-3 smaller points (B/8, B/4, B/2), so that step time can be fitted as
a line in the batch size. ``measuring_order`` puts the smallest first (cheap: it prices a step), then B (the
point a prediction leans on), then the ones between; ``plan_point`` gives each point its share of what is left
of the budget, or skips it when its steps, priced by ``projected_cost`` from the points measured so far, would
not fit. ``advisor.probe.measure.DeviceProbe`` walks the ladder with them.
"""

from __future__ import annotations

from advisor.schemas import Measurement

MIN_WARMUP = 2  # warm-up steps at a ladder point, at least
MIN_USEFUL_SAMPLES = 3  # a point between is skipped when not even this many would fit the budget
TOP_OVERRUN = 2.0  # the user's batch size is skipped when 3 of its steps would take longer than this x the budget left


def auto_ladder(batch_size: int) -> list[int]:
    """B/8, B/4, B/2, B (at least 1, no repeats, ascending): always ends at B itself."""
    return sorted({max(1, batch_size // d) for d in (8, 4, 2, 1)})


def measuring_order(sizes: list[int]) -> list[int]:
    """The smallest size first (cheap: it warms up and prices a step), then the largest (the user's batch
    size, the point predictions lean on), then the ones between, ascending, as the budget allows."""
    sizes = sorted(set(sizes))
    return sizes[:1] + sizes[-1:] * (len(sizes) > 1) + sizes[1:-1]


def plan_point(b: int, fits: list[Measurement], queue: list[int], remaining: float) -> tuple[float, bool] | None:
    """(seconds batch size ``b`` may take, whether it is the top of the ladder so far), or None to skip it.

    ``queue`` holds the sizes still to come after ``b``. The first point takes a small share; the top one
    up to 70% of what is left while points between are still to come (all of it otherwise), unless even
    its warm-up and one timed step, priced from the points below in proportion to the batch size, would take
    more than ``TOP_OVERRUN`` times what is left (ResNet-50 at 256 on a 2-core CPU: minutes a step, and
    close to the machine's memory); a point between is skipped when its steps, priced from the measured
    points around it, would not fit what is left.
    """
    remaining = max(remaining, 0.0)
    if not fits:  # the first point
        return (0.5 * remaining / len(queue) if queue else remaining), not queue
    if b > max(m.batch_size for m in fits):  # the top
        if projected_cost(fits, b, MIN_WARMUP + 1) > TOP_OVERRUN * remaining:
            return None  # a model far too slow here for its batch size: the fit extrapolates to it
        return (0.7 * remaining if queue else remaining), True
    if projected_cost(fits, b, MIN_WARMUP + MIN_USEFUL_SAMPLES) > remaining:
        return None
    return remaining / (1 + len(queue)), False


def projected_cost(fits: list[Measurement], batch_size: int, steps: int) -> float:
    """Seconds for ``steps`` steps at ``batch_size``, interpolated between the measured points around it
    (step time is a fixed cost plus a cost per sample), or proportionally beyond them."""
    points = sorted((m.batch_size, (m.batch_seconds or 0.0) + (m.compute_seconds or 0.0)) for m in fits)
    if not points:
        return 0.0
    below = [p for p in points if p[0] <= batch_size]
    above = [p for p in points if p[0] >= batch_size]
    if below and above:
        (s0, t0), (s1, t1) = below[-1], above[0]
        per_step = t0 if s1 == s0 else t0 + (t1 - t0) * (batch_size - s0) / (s1 - s0)
    elif above:
        per_step = above[0][1]
    else:
        per_step = below[-1][1] * batch_size / below[-1][0]
    return steps * per_step
