"""The batch-size ladder, fitted to a device's time budget. Pure: no torch, no clock.

The automatic ladder is the user's batch size B and smaller points (B/8, B/4, B/2), so that step time can be
fitted as a line in the batch size. No point starts unless it can finish: a point needs its warm-up and
``MIN_TIMED`` timed steps (``point_cost``), each priced (``step_price``) from the points measured so far
(interpolated between them, in proportion to the batch size beyond them), or before any from one pricing
step at batch size 1, or from the workload check: its one cold step at ``CHECK_BATCH_SIZE``, scaled in
proportion to the batch size. The check is a pessimistic price (model build, lazy imports and first-touch
memory are in it: seconds even for a tiny model), so when it says the first point would not fit,
``pricing_batch_size`` asks the probe for one step at batch size 1 first (``observe``), which prices the
ladder instead. A point whose cost does not fit what is left of the budget is skipped and recorded
(``SkippedPoint``), so a model that is merely big never makes the probe run past its budget: ResNet-50 at
batch 1024 on a 2-core CPU takes minutes a step, GPT-2 124M seconds to tens of seconds a step at batch size 1.
No point past ``MAX_TIMED_BATCH_SIZE`` is timed: it is skipped as one that does not fit is, marked too large.

``Ladder.next`` says which batch size to time next and for how long:

1. the smallest point first (cheap: it prices the rest), within ``FIRST_FRACTION`` of the budget. When even
   B/8 does not fit that, the automatic ladder looks below it (B/16, B/32, ... 1: the largest that fits), so
   that something is timed whenever a point at a small batch size fits (batch size 1 within
   ``LAST_RESORT_FRACTION`` of the budget);
2. then the user's batch size (the point predictions lean on), when it fits; when it does not, the largest
   size below it that does (B/2, B/4, ...), so that the fit extrapolates from as far up as the budget reaches;
3. then the points between, as the budget allows; and when only two points were timed, one between them.

``advisor.probe.measure.DeviceProbe`` walks the ladder with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from advisor.schemas import DeviceProfile, Measurement
from advisor.schemas.base import MAX_COUNT, NUL
from advisor.schemas.profile import SkippedPoint
from advisor.schemas.small_batch import SmallBatchError

MIN_WARMUP = 2  # warm-up steps at a ladder point, at least
MIN_TIMED = 2  # timed steps at a ladder point, at least: a point that cannot finish these is not started
MIN_USEFUL_SAMPLES = MIN_TIMED  # (the name older callers used)
CHECK_BATCH_SIZE = 2  # the workload check's batch size (advisor.workload.check_workload in the probe's child)
PRICING_BATCH_SIZE = 1  # the one step that prices a ladder the check cannot vouch for
FIRST_FRACTION = 1 / 3  # the first point may take up to this share of the budget, so others can follow
# ... and batch size 1, when nothing larger fits that, up to this share: a model whose smallest point needs more
# obviously belongs on another device, and its analysis prices it here well enough to rank it
# (advisor.predictor.cpu_roofline), where timing it would keep the user waiting most of the budget.
LAST_RESORT_FRACTION = 0.5
TOP_FRACTION = 0.7  # the top point's share of what is left while points between are still to come
FIRST_SHARE = 0.5  # of an equal split of the budget: what a cheap first point is given to time its steps
# A pricing step that took at most this share of the remaining budget, and at most this long, is timed again and
# the faster one kept: a first step pays one-time costs (a make_batch derived from make_dataloader builds its
# loader on its first call, lazy initialisation) that priced every point of a 2-s budget out of reach on a slow VM
# (0.2-0.3 s for a step that then runs in 1-2 ms). Such costs are fractions of a second: a slower step is mostly
# the model's own (GPT-2 124M's 11.5 s here), and timing it twice would only spend the budget.
REPEAT_PRICING_SHARE = 0.25
REPEAT_PRICING_SECONDS = 1.0
# ... and a longer one too, where it took this many times what its FLOPs would at any CPU core's matmul rate: one
# second for a 1.2-ms step (the first optimizer step importing torch._dynamo) priced every point of a short
# budget at ~800x its time, where a model's own step is at most tens of times that floor (GPT-2 124M: ~5x).
ONE_OFF_RATIO = 100.0
# Above any CPU core's float32 matmul rate (two AVX-512 FMA units at 3.5 GHz: 224 GFLOP/s): the floor of a step.
GENEROUS_FLOPS_PER_THREAD = 250e9
# Points this far apart (a ratio of batch sizes) give a slope to price a larger batch along: an AdamW step over 8M
# embedding parameters took 93 ms at batch 4 and 111 ms at 32, and in proportion batch 128 was priced at 3-6 s
# (it took 82 ms), out of a 10-s budget's reach. Closer points' slope would be mostly their noise.
LINE_SPAN = 4
# The largest batch the ladder times: a Measurement's bound (the history's 32-bit columns). A job may name a
# batch of up to 10^12 samples (advisor.workload.job.MAX_JOB_COUNT); a point past this one is skipped whatever
# its price, recorded as ``too_large``, and the job's time extrapolated from the sizes timed (no device holds
# 2^31 samples of any real model in one batch: at 4 bytes a sample that is 8 GiB of input alone).
MAX_TIMED_BATCH_SIZE = MAX_COUNT


def auto_ladder(batch_size: int) -> list[int]:
    """B/8, B/4, B/2, B (at least 1, no repeats, ascending): always ends at B itself."""
    return sorted({max(1, batch_size // d) for d in (8, 4, 2, 1)})


def halvings(batch_size: int) -> list[int]:
    """B, B/2, B/4, ... 1 (no repeats, descending): the sizes the automatic ladder may fall back to."""
    sizes = [batch_size]
    while sizes[-1] > 1:
        sizes.append(sizes[-1] // 2)
    return sizes


def measuring_order(sizes: list[int]) -> list[int]:
    """The smallest size first (cheap: it warms up and prices a step), then the largest (the user's batch
    size, the point predictions lean on), then the ones between, ascending, as the budget allows."""
    sizes = sorted(set(sizes))
    return sizes[:1] + sizes[-1:] * (len(sizes) > 1) + sizes[1:-1]


def repeat_pricing(step_seconds: float, remaining_seconds: float, step_flops: float = 0.0, threads: int = 1) -> bool:
    """Whether a pricing step this long is timed again: within ``REPEAT_PRICING_SHARE`` of what is left, and at
    most ``REPEAT_PRICING_SECONDS`` or over ``ONE_OFF_RATIO`` times the least its ``step_flops`` (on the CPU, from
    the analysis; 0: not known) take on ``threads`` (``least_step_seconds``)."""
    if step_seconds > REPEAT_PRICING_SHARE * remaining_seconds:
        return False
    return step_seconds <= REPEAT_PRICING_SECONDS or (
        step_flops > 0 and step_seconds > ONE_OFF_RATIO * least_step_seconds(step_flops, 1, threads))


def least_step_seconds(flops_per_sample: float, batch_size: int, threads: int,
                       flops_per_second_per_thread: float = GENEROUS_FLOPS_PER_THREAD) -> float:
    """The least one CPU training step at ``batch_size`` can take: its FLOPs at the matmul rate on every thread
    (a step runs slower: its other operators, and fewer FLOP/s than a large matmul reaches)."""
    return flops_per_sample * batch_size / (flops_per_second_per_thread * max(1, threads))


def point_cost(step_seconds: float) -> float:
    """Seconds a ladder point takes at least: its warm-up and its timed steps."""
    return (MIN_WARMUP + MIN_TIMED) * step_seconds


def step_price(batch_size: int, fits: list[Measurement], check: tuple[int, float] | None,
               first_step: tuple[int, float] | None = None) -> tuple[float, str] | None:
    """(seconds one step at ``batch_size`` is expected to take, what priced it: "measured", "first step" or
    "check"), or None when there is nothing to price it from (no point measured, no step or check timed).
    A single step, ``first_step`` or the check's (batch size, seconds), prices larger sizes in proportion to
    the batch size and smaller ones at its own time."""
    if fits:
        return projected_cost(fits, batch_size, 1), "measured"
    if first_step is not None:
        step_batch, step_seconds = first_step
        return step_seconds * max(batch_size, step_batch) / step_batch, "first step"
    if check is not None and check[1] > 0:
        check_batch, check_seconds = check
        return check_seconds * batch_size / check_batch, "check"
    return None


def projected_cost(fits: list[Measurement], batch_size: int, steps: int) -> float:
    """Seconds for ``steps`` steps at ``batch_size``, interpolated between the measured points around it
    (step time is a fixed cost plus a cost per sample); beyond them along the line through the two largest where
    they are ``LINE_SPAN`` apart and rise, else in proportion to the batch size (the fixed cost unknown)."""
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
        (s0, t0), (s1, t1) = points[-2] if len(points) > 1 else points[-1], points[-1]
        line = s1 >= LINE_SPAN * s0 and t1 > t0
        per_step = t1 + (t1 - t0) * (batch_size - s1) / (s1 - s0) if line else t1 * batch_size / s1
    return steps * per_step


@dataclass(frozen=True)
class Planned:
    """The next point to time: its batch size, the seconds it may take, and whether it is the ladder's top so
    far (the user's batch size, or the largest the budget reaches: timed with more samples)."""

    batch_size: int
    share_seconds: float
    is_top: bool


@dataclass
class Ladder:
    """The points still to time on one device, and those skipped because they would not fit the budget."""

    batch_size: int  # the user's: the top of the automatic ladder
    batch_sizes: list[int] | None = None  # an explicit ladder instead (never extended, only priced)
    check: tuple[int, float] | None = None  # (batch size, seconds) of the workload check's cold step
    first_step: tuple[int, float] | None = None  # (batch size, wall seconds) of the pricing step, once timed
    # Wall seconds per timed second of the last point: a step timed by its CPU time on a busy machine (see
    # advisor.probe.contention) also waits for a core, and the budget counts wall seconds.
    wall_factor: float = 1.0
    skipped: list[SkippedPoint] = field(default_factory=list)
    oom_limit: int | None = None  # the smallest batch size that ran out of memory
    floor: int = 1  # the smallest batch size the automatic ladder may time (see ``below_check_failed``)
    small_batch_error: SmallBatchError | None = None  # why the floor rose: the profile's note says so
    queue: list[int] = field(init=False)
    _between_added: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.queue = measuring_order(self.batch_sizes or auto_ladder(self.batch_size))

    @property
    def explicit(self) -> bool:
        return bool(self.batch_sizes)

    def pricing_batch_size(self, remaining: float) -> int | None:
        """The batch size to time one pricing step at before the first point (see ``observe``), or None when
        none is needed: a step was priced already, there is no check to doubt, or the check says the first
        point fits. Always affordable: the check itself ran a step at a larger batch size in this process."""
        if self.first_step is not None or self.check is None or not self.queue:
            return None
        allowance = FIRST_FRACTION * remaining if len(self.queue) > 1 else remaining
        return None if self._fits(self.queue[0], [], allowance) else PRICING_BATCH_SIZE

    def observe(self, batch_size: int, seconds: float) -> None:
        """The pricing step's time (batch creation and compute): it prices the ladder until a point is timed."""
        self.first_step = (batch_size, seconds)

    def out_of_memory(self, batch_size: int, fits: list[Measurement]) -> None:
        """``batch_size`` ran out of memory: nothing at or above it is tried; when nothing fitted yet, the
        automatic ladder looks at half of it next."""
        self.oom_limit = batch_size if self.oom_limit is None else min(self.oom_limit, batch_size)
        if not fits and not self.explicit and batch_size // 2 >= self.floor:
            self.queue.insert(0, batch_size // 2)

    def below_check_failed(self, batch_size: int, check_batch_size: int, error: str) -> bool:
        """A step at ``batch_size`` raised: True where the automatic ladder chose that size below the workload
        check's (which ran) and the user's, as a BatchNorm over (N, C) features raises at batch size 1 ("Expected
        more than 1 value per channel") though the job never trains at 1: the ladder then times nothing below the
        check's size (its 1 becomes 2: B = 8 is timed at 2, 4, 8), and keeps ``error`` (its one line) for the
        profile's note: a last batch of that size raises too, and a bug at that size alone is not hidden. False
        where the error is the workload's."""
        if self.explicit or not batch_size < check_batch_size < self.batch_size:
            return False
        self.floor = check_batch_size
        # its first line, a NUL shown as \x00: the child's frame refuses one (as frames.child_text does)
        first_line = error.strip().partition("\n")[0].replace(NUL, "\\x00")
        self.small_batch_error = SmallBatchError(batch_size=batch_size, timed_from=check_batch_size,
                                                 error=first_line[:1000])
        self.queue = measuring_order([max(s, self.floor) for s in self.queue])
        return True

    def take_premeasured(self, profile: DeviceProfile, given: DeviceProfile, fits: list[Measurement]) -> bool:
        """Add points measured elsewhere (the twin's) to ``profile`` and this ladder; True when any was timed
        (then its start-up stands: a fresh process's build and first step are what a real job pays, and the
        twin is one)."""
        timed = False
        for m in given.measurements:
            profile.measurements.append(m)
            if m.oom:
                self.out_of_memory(m.batch_size, fits)
            else:
                fits.append(m)
                timed = True
        if timed:
            profile.startup_seconds, profile.startup_clock = given.startup_seconds, given.startup_clock
        return timed

    def next(self, fits: list[Measurement], remaining: float) -> Planned | None:
        """The next point to time with ``remaining`` seconds of the budget left, or None when the ladder is
        done (everything measured, skipped, or out of memory)."""
        remaining = max(remaining, 0.0)
        timed = {m.batch_size for m in fits}
        while self.queue:
            b = self.queue.pop(0)
            if (self.oom_limit is not None and b >= self.oom_limit) or b in timed:
                continue
            planned = self._first(b, remaining) if not fits else self._later(b, fits, remaining)
            if planned is not None:
                return planned
        return self._between(fits, remaining)

    def _price(self, b: int, fits: list[Measurement]) -> tuple[float, str] | None:
        price = step_price(b, fits, self.check, self.first_step)
        if price is not None and price[1] == "measured":
            return price[0] * self.wall_factor, price[1]
        return price

    # A point past MAX_TIMED_BATCH_SIZE costs more than any budget: skipped as one that does not fit would be
    # (the automatic ladder then times the largest size below it that fits), and recorded as too large.
    def _fits(self, b: int, fits: list[Measurement], allowance: float) -> bool:
        price = self._price(b, fits)
        return b <= MAX_TIMED_BATCH_SIZE and (price is None or point_cost(price[0]) <= allowance)

    def _cost(self, b: int, fits: list[Measurement]) -> float:
        if b > MAX_TIMED_BATCH_SIZE:
            return math.inf
        price = self._price(b, fits)
        return point_cost(price[0]) if price is not None else 0.0

    def _skip(self, b: int, fits: list[Measurement]) -> None:
        price = self._price(b, fits)
        if price is not None:  # a size skipped again keeps its latest price (from more points)
            self.skipped = [s for s in self.skipped if s.batch_size != b]
            self.skipped.append(SkippedPoint(batch_size=b, step_seconds=price[0], priced_from=price[1],
                                             too_large=b > MAX_TIMED_BATCH_SIZE))

    def _first(self, b: int, remaining: float) -> Planned | None:
        """The first point: ``b`` if it fits ``FIRST_FRACTION`` of the budget (all of it for a one-point
        ladder), else on the automatic ladder the largest smaller size that does."""
        allowance = FIRST_FRACTION * remaining if self.queue else remaining
        cheap_share = FIRST_SHARE * remaining / len(self.queue) if self.queue else remaining
        if self._fits(b, [], allowance):
            return Planned(b, max(cheap_share, self._cost(b, [])), not self.queue)
        if self.explicit:
            self._skip(b, [])
            return None  # the explicit sizes are tried in turn; larger ones cost more
        lower = [s for s in halvings(b)[1:] if s >= self.floor and self._fits(s, [], allowance)]
        if not lower and self._fits(self.floor, [], LAST_RESORT_FRACTION * remaining if self.queue else remaining):
            lower = [self.floor]
        if not lower:
            for later in [b, *self.queue]:  # nothing fits: the notes say what each point would have cost
                self._skip(later, [])
            self.queue.clear()
            return None
        if lower[0] != b:
            self.queue.insert(1 if self.queue else 0, b)  # priced again once the smaller point is timed
        return Planned(lower[0], max(cheap_share, self._cost(lower[0], [])), not self.queue)

    def _later(self, b: int, fits: list[Measurement], remaining: float) -> Planned | None:
        top = max(m.batch_size for m in fits)
        cost = self._cost(b, fits)
        if b > top:  # the top so far: the user's batch size, or the largest that fits below it
            if cost <= remaining:
                return Planned(b, min(remaining, max(cost, TOP_FRACTION * remaining if self.queue else remaining)),
                               True)
            self._skip(b, fits)
            below = self._largest_below(b, fits, remaining)
            if below is not None:
                self.queue.insert(0, b)  # priced again once the point below it is timed (a line then)
            return below
        if cost > remaining:
            self._skip(b, fits)
            return None
        return Planned(b, min(remaining, max(cost, remaining / (1 + len(self.queue)))), False)

    def _largest_below(self, b: int, fits: list[Measurement], remaining: float) -> Planned | None:
        """Instead of a top that does not fit: the largest halving of the user's batch size between the
        points measured and ``b`` that fits (``TOP_FRACTION`` of what is left, else all of it)."""
        if self.explicit:
            return None
        top = max(m.batch_size for m in fits)
        sizes = [s for s in halvings(self.batch_size) if top < s < b]
        for allowance in (TOP_FRACTION * remaining, remaining):
            for s in sizes:
                if self._cost(s, fits) <= allowance:
                    self.queue = [q for q in self.queue if q != s]
                    return Planned(s, min(remaining, max(self._cost(s, fits), allowance)), True)
        return None

    def _between(self, fits: list[Measurement], remaining: float) -> Planned | None:
        """Once the queue is done with only two points timed on the automatic ladder: a halving between them
        (a third point shows whether step time is a line in the batch size), if it fits."""
        if self.explicit or self._between_added or len(fits) != 2:
            return None
        self._between_added = True
        low, high = sorted(m.batch_size for m in fits)
        inside = [s for s in halvings(self.batch_size) if low < s < high]
        for s in inside[len(inside) // 2:] + inside[:len(inside) // 2]:  # the middle one first
            if self._cost(s, fits) <= remaining and (self.oom_limit is None or s < self.oom_limit):
                return Planned(s, remaining, False)
        return None
