"""Step time as a function of batch size, fitted from the probe's measurements on one device.

The model has a physical meaning: one training step costs a fixed overhead (Python dispatch, kernel
launches, the optimizer's pass over the parameters, all independent of the batch) plus a per-sample cost::

    t(B) = overhead_seconds + per_sample_seconds * B

It is fitted with Huber's loss (scikit-learn's ``HuberRegressor`` fit, ``advisor.predictor.huber``) on all the
per-step samples of the ladder (not on the medians; each size's initial transient cut off, see below), on a
*relative* scale (each equation divided by that batch size's level), so that a 5 ms step at batch 8 weighs as
much as a 500 ms step at batch 512, and each batch size weighs the same however many samples it has. Huber's
loss makes the fit robust to the odd slow step (a page fault, a context switch).

The line alone would bias the prediction at a measured batch size whenever the true curve bends (small
batches are often less efficient per sample than the line says). The probe always measures the user's
batch size exactly, so the fit keeps a *local correction*: the relative gap between each measured level
and the line, interpolated (in log batch size) between measured sizes and held constant beyond the ends.
At a measured batch size the prediction is that batch size's measured level, exactly; between measured
sizes (the epoch's smaller last batch) it follows the line's shape through the neighbouring measurements;
beyond the measured range it extrapolates along the line (``in_range`` says so, and the uncertainty grows
with the distance, see ``relative_uncertainty``), or, where the caller knows the curve's shape
(``with_shape_outside``: a GPU's roofline over batch size, whose launch-bound floor a line mistakes for a
shallow slope and a low intercept), along that shape from the nearest measured level, on either side.

The *level* of a batch size is the mean of its steady-state step samples after dropping gross outliers
(beyond the median + 5 robust standard deviations). Steady state: the probe's first timed steps may still be
settling (page faults while the heap grows to its working size, caches), so an initial transient is cut off
by the MSER rule (``steady_state``); a job of thousands of steps spends almost all its time past it. A whole
job is a *sum* of steps, so the mean, not the median, is the unbiased per-step figure: the ordinary right-skew
of CPU step times (a few percent) belongs in the total; a single 100x hiccup in a 20-sample probe does not.

Fallbacks (all noted in ``notes``):

* one batch size measured: overhead and per-sample cost cannot be told apart; the fit assumes
  ``SINGLE_POINT_OVERHEAD_FRACTION`` of the step is fixed overhead, and widens the interval off that size;
* the robust line has a negative slope (noise on a flat curve): a constant fit (per-sample cost 0);
* the robust line has a negative intercept (a curve steeper than linear): a line through the origin,
  ``per_sample = robust ratio of level / B``.

Batch creation (``make_batch``) is fitted the same way from the measurements' ``batch_seconds`` (one median
per batch size, no samples), with the same local correction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from advisor.errors import PredictionError
from advisor.predictor.huber import huber_fit
from advisor.schemas import Measurement
from advisor.schemas.profile import MAX_STEP_SAMPLES

# With a single batch size, the share of its step time assumed to be fixed per-step overhead.
SINGLE_POINT_OVERHEAD_FRACTION = 0.3
# Relative uncertainty added per doubling of the batch size beyond the measured range (extrapolation).
EXTRAPOLATION_REL_PER_DOUBLING = 0.10
# Relative uncertainty of an unmeasured size inside the range with only one measured size (the assumed split).
SINGLE_POINT_OFF_SIZE_REL = 0.15
# Samples beyond median + this many robust standard deviations are dropped from a batch size's level.
OUTLIER_ROBUST_SIGMAS = 5.0
# Jobs whose fit uncertainty a fit keeps (``StepTimeFit.job_uncertainty``) before it forgets them all.
JOB_MEMO_ENTRIES = 64


def _robust_sigma(values: np.ndarray) -> float:
    """1.4826 x median absolute deviation: the standard deviation for normal data, robust to outliers."""
    if values.size < 2:
        return 0.0
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def steady_state(samples: Sequence[float]) -> np.ndarray:
    """The samples after the initial transient, by the MSER rule (White 1997, used to truncate simulation
    warm-up): drop the first ``d`` samples, ``d <= n/2``, that minimise the squared standard error of the
    mean of the rest, ``var(x[d:]) / (n - d)``. Samples must be in the order they were taken.

    A probe's first timed steps are often still settling (the heap growing to its steady size: page faults,
    caches) although its warm-up rule saw them stop falling; a job of thousands of steps spends almost all
    its time in the steady state. Gross outliers are capped for the rule's sake (not removed here), so that
    one late hiccup does not decide the truncation.
    """
    arr = np.asarray([x for x in samples if x is not None and math.isfinite(x) and x > 0], dtype=float)
    n = arr.size
    if n < 6:
        return arr
    med, sig = float(np.median(arr)), _robust_sigma(arr)
    capped = np.minimum(arr, med + OUTLIER_ROBUST_SIGMAS * sig) if sig > 0 else arr
    # Every candidate's variance from suffix sums (about the median, against cancellation): one pass, where a
    # variance per d was n^2 / 2 steps (a profile of 6,400 samples a measurement took seconds to price).
    x = capped - med
    suffix_sum, suffix_sq = np.cumsum(x[::-1])[::-1], np.cumsum((x * x)[::-1])[::-1]
    d = np.arange(n // 2 + 1)
    count = n - d
    mean = suffix_sum[d] / count
    scores = np.maximum(suffix_sq[d] / count - mean * mean, 0.0) / count
    best_d, best = 0, math.inf
    for i, score in enumerate(scores.tolist()):
        if score < best - 1e-18:
            best_d, best = i, score
    return arr[best_d:]


def robust_level(samples: Sequence[float]) -> float:
    """Mean of the samples after dropping gross outliers (above median + 5 robust sigmas)."""
    arr = np.asarray([s for s in samples if s is not None and math.isfinite(s) and s > 0], dtype=float)
    if arr.size == 0:
        raise ValueError("no positive samples")
    med = float(np.median(arr))
    sig = _robust_sigma(arr)
    if sig > 0:
        arr = arr[arr <= med + OUTLIER_ROBUST_SIGMAS * sig]
    return float(arr.mean())


@dataclass(frozen=True)
class _Line:
    """A fitted line plus its local relative correction at the measured sizes."""

    overhead: float
    per_sample: float
    points_b: tuple[int, ...] = ()
    points_corr: tuple[float, ...] = ()  # level / line - 1 at each measured size
    # Values by batch size: a recommendation evaluates the same few sizes for hundreds of targets.
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    def raw(self, b: float) -> float:
        return self.overhead + self.per_sample * b

    def correction(self, b: float) -> float:
        if not self.points_b:
            return 0.0
        if len(self.points_b) == 1:
            return self.points_corr[0]
        xs = np.log(np.asarray(self.points_b, dtype=float))
        return float(np.interp(math.log(b), xs, np.asarray(self.points_corr, dtype=float)))

    def __call__(self, b: float) -> float:
        value = self._memo.get(b)
        if value is None:
            value = self._memo[b] = max(self.raw(b) * (1.0 + self.correction(b)), 0.0)
        return value


@dataclass(frozen=True)
class StepTimeFit:
    """Step time vs batch size on one device: ``t(B) = overhead + per_sample * B``, locally corrected.

    Attributes:
        overhead_seconds, per_sample_seconds: the robust line of compute time (forward + loss + backward +
            optimizer step) against batch size; both >= 0.
        batch_overhead_seconds, batch_per_sample_seconds: the same for batch creation (make_batch + copy).
        residual_rel_sigma: robust relative scale of the measured levels around the line: how well the line
            explains the ladder (0 with fewer than three sizes).
        spread_rel: per-step relative noise (robust standard deviation / level), pooled over the ladder.
        spreads: the same per measured batch size (``spread_at``: what an estimate at one size rests on).
        level_rel_sigma: relative standard error of a measured level (spread over sqrt(samples)), pooled.
        min_batch, max_batch: the measured range; n_points: measured batch sizes; n_samples: step samples.
        levels: measured level (seconds) per batch size, the values the fit passes through.
    """

    overhead_seconds: float
    per_sample_seconds: float
    batch_overhead_seconds: float
    batch_per_sample_seconds: float
    residual_rel_sigma: float
    spread_rel: float
    min_batch: int
    max_batch: int
    n_points: int
    n_samples: int = 0
    level_rel_sigma: float = 0.0
    levels: dict[int, float] = field(default_factory=dict)
    spreads: dict[int, float] = field(default_factory=dict)
    batch_levels: dict[int, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    _compute: _Line | None = field(default=None, repr=False, compare=False)
    _batch: _Line | None = field(default=None, repr=False, compare=False)
    # Outside the measured range: the curve's shape (seconds at a batch, any scale), anchored at the nearest
    # measured level; None: the fitted line. ``extrapolation`` names it for the notes.
    _outside: Callable[[int], float] | None = field(default=None, repr=False, compare=False)
    extrapolation: str = "the fitted line"
    # Relative sd the shape adds beyond ``max_batch`` (what the ladder could not measure of it).
    beyond_rel_sigma: float = 0.0
    # ``job_uncertainty`` by (batch, last batch, full steps per epoch): one fit prices ~100 CPU targets a job.
    _job_memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    # ------------------------------------------------------------------ evaluation

    def compute_seconds(self, b: int) -> float:
        """Forward + loss + backward + optimizer step at batch size ``b``."""
        _check_batch(b)
        if self._outside is not None and not self.in_range(b):
            nearest = self.max_batch if b > self.max_batch else self.min_batch
            if (anchor := self._outside(nearest)) > 0:
                return self.compute_seconds(nearest) * self._outside(b) / anchor
        if self._compute is None:
            return self.overhead_seconds + self.per_sample_seconds * b
        return self._compute(b)

    def with_shape_outside(self, shape: Callable[[int], float], described: str, *,
                           beyond_rel_sigma: float = 0.0) -> StepTimeFit:
        """This fit, extrapolated outside its measured range along ``shape`` (seconds at a batch size, any
        scale) from the nearest measured level, not along the line; ``described`` names the shape in notes;
        ``beyond_rel_sigma``: the relative sd the shape adds beyond ``max_batch``."""
        return replace(self, _outside=shape, extrapolation=described, beyond_rel_sigma=beyond_rel_sigma)

    def batch_seconds(self, b: int) -> float:
        """make_batch (+ host-to-device copy) at batch size ``b``; 0 when the probe did not time it."""
        _check_batch(b)
        if self._batch is None:
            return max(self.batch_overhead_seconds + self.batch_per_sample_seconds * b, 0.0)
        return self._batch(b)

    def step_seconds(self, b: int) -> float:
        """One whole step: batch creation + compute."""
        return self.compute_seconds(b) + self.batch_seconds(b)

    def spread_at(self, b: int) -> float:
        """Per-step relative noise behind an estimate at ``b``: the pooled ``spread_rel``, or, where larger, that
        of the measured sizes the estimate is read from (``b`` itself; the nearer end it is extrapolated from;
        the two it is interpolated between). The median over the ladder lets clean small sizes outvote the
        user's batch size, whose level the estimate is, when only that one was timed beside other processes."""
        _check_batch(b)
        measured = sorted(self.spreads)
        if not measured:
            return self.spread_rel
        below = [x for x in measured if x <= b]
        above = [x for x in measured if x >= b]
        sources = {below[-1] if below else above[0], above[0] if above else below[-1]}
        return max(self.spread_rel, *(self.spreads[x] for x in sources))

    def in_range(self, b: int) -> bool:
        return self.min_batch <= b <= self.max_batch

    def is_measured(self, b: int) -> bool:
        return b in self.levels

    def relative_uncertainty(self, b: int) -> float:
        """Systematic relative standard deviation of ``step_seconds(b)`` from the fit alone.

        At a measured size: the standard error of its level. Between measured sizes: plus the line's
        residual scale (how far the ladder strays from a line). Beyond the range: plus
        ``EXTRAPOLATION_REL_PER_DOUBLING`` per doubling of distance from the nearest measured size.
        Run-to-run variation between processes is not in here (see ``advisor.predictor.measured``).
        """
        _check_batch(b)
        sigma2 = self.level_rel_sigma ** 2
        if not self.is_measured(b):
            sigma2 += self.residual_rel_sigma ** 2
            if self.n_points == 1:
                sigma2 += SINGLE_POINT_OFF_SIZE_REL ** 2
        return math.sqrt(sigma2 + self.extrapolation_rel_sigma(b) ** 2)

    def extrapolation_rel_sigma(self, b: int) -> float:
        """The relative uncertainty that being outside the measured range adds at ``b`` (0 inside it)."""
        if b > self.max_batch:
            return math.hypot(EXTRAPOLATION_REL_PER_DOUBLING * math.log2(b / self.max_batch), self.beyond_rel_sigma)
        if b < self.min_batch:
            return EXTRAPOLATION_REL_PER_DOUBLING * math.log2(self.min_batch / b)
        return 0.0

    def job_uncertainty(self, batch_size: int, last_batch_size: int, full_steps: int) -> float:
        """``relative_uncertainty`` of an epoch's step total: ``full_steps`` steps at ``batch_size`` and one at
        ``last_batch_size``, weighted by their time (memoised: the same for every target this fit prices)."""
        key = (batch_size, last_batch_size, full_steps)
        found = self._job_memo.get(key)
        if found is None:
            if len(self._job_memo) > JOB_MEMO_ENTRIES:
                self._job_memo.clear()
            t_full, t_last = self.step_seconds(batch_size), self.step_seconds(last_batch_size)
            u_full = self.relative_uncertainty(batch_size)
            u_last = self.relative_uncertainty(last_batch_size)
            total = full_steps * t_full + t_last
            found = self._job_memo[key] = (
                (full_steps * t_full * u_full + t_last * u_last) / total if total > 0 else u_full)
        return found

    def to_dict(self) -> dict:
        return {
            "overhead_seconds": self.overhead_seconds,
            "per_sample_seconds": self.per_sample_seconds,
            "batch_overhead_seconds": self.batch_overhead_seconds,
            "batch_per_sample_seconds": self.batch_per_sample_seconds,
            "residual_rel_sigma": self.residual_rel_sigma,
            "spread_rel": self.spread_rel,
            "level_rel_sigma": self.level_rel_sigma,
            "min_batch": self.min_batch,
            "max_batch": self.max_batch,
            "n_points": self.n_points,
            "n_samples": self.n_samples,
            "levels": {str(k): v for k, v in self.levels.items()},
            "notes": list(self.notes),
        }


def _check_batch(b: int) -> None:
    if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b <= 0:
        raise ValueError(f"batch size must be a positive integer, got {b!r}")


# ------------------------------------------------------------------------------------------- fitting


def _huber_line(bs: np.ndarray, ts: np.ndarray, levels: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Robust fit of t = a + c*B on a relative scale: (t / L) = a * (1/L) + c * (B/L), no free intercept.

    ``levels`` is the level of each sample's batch size; ``weights`` gives each batch size equal weight.
    Columns are scaled to unit size for the optimiser and the coefficients scaled back.
    """
    x = np.column_stack([1.0 / levels, bs / levels])
    y = ts / levels
    scale = np.abs(x).max(axis=0)
    scale[scale == 0] = 1.0
    # Not scikit-learn's HuberRegressor, whose non-convergence warning could only be silenced by swapping the
    # caller's process-wide warning filters (see advisor.predictor.huber): the same fit, done without warning.
    coef = huber_fit(x / scale, y, weights, epsilon=1.35, max_iter=2000) / scale
    return float(coef[0]), float(coef[1])


def _thinned(samples: np.ndarray) -> np.ndarray:
    """At most ``MAX_STEP_SAMPLES`` of a batch size's samples, spread evenly over their sorted values: each batch
    size weighs the same in the fit however many it has, and 6,400 a level (a profile from anyone) cost a server
    worker seconds in the Huber fit. A probe keeps fewer at a ladder point."""
    if samples.size <= MAX_STEP_SAMPLES:
        return samples
    return np.sort(samples)[np.linspace(0, samples.size - 1, MAX_STEP_SAMPLES).round().astype(int)]


def _line_from_levels(bs: list[int], levels: list[float], samples: list[np.ndarray],
                      what: str, notes: list[str]) -> _Line:
    """Fit the robust non-negative line through the samples, then attach the local correction."""
    if len(bs) == 1:
        level = levels[0]
        overhead = SINGLE_POINT_OVERHEAD_FRACTION * level
        per_sample = (1.0 - SINGLE_POINT_OVERHEAD_FRACTION) * level / bs[0]
        notes.append(
            f"{what}: one batch size measured ({bs[0]}); assumed {SINGLE_POINT_OVERHEAD_FRACTION:.0%} of its "
            "step is fixed overhead for other sizes (probe a ladder of batch sizes to measure the split)."
        )
        line = _Line(overhead, per_sample)
    else:
        samples = [_thinned(s) for s in samples]
        all_b = np.concatenate([np.full(len(s), b, dtype=float) for b, s in zip(bs, samples, strict=True)])
        all_t = np.concatenate(samples)
        all_l = np.concatenate([np.full(len(s), lv) for lv, s in zip(levels, samples, strict=True)])
        all_w = np.concatenate([np.full(len(s), 1.0 / len(s)) for s in samples])
        all_w = all_w * (len(all_w) / all_w.sum())
        overhead, per_sample = _huber_line(all_b, all_t, all_l, all_w)
        if per_sample < 0:
            # A flat curve with noise: no measurable per-sample cost.
            overhead, per_sample = float(np.median(levels)), 0.0
            notes.append(f"{what}: the fitted per-sample cost was negative (flat curve); fitted a constant.")
        elif overhead < 0:
            # Steeper than linear (per-sample cost grows with batch): a line through the origin.
            ratios = np.asarray(levels) / np.asarray(bs, dtype=float)
            overhead, per_sample = 0.0, float(np.median(ratios))
            notes.append(f"{what}: the fitted fixed overhead was negative; fitted a line through the origin.")
        line = _Line(overhead, per_sample)
    corr = tuple(float(lv / line.raw(b) - 1.0) if line.raw(b) > 0 else 0.0 for b, lv in zip(bs, levels, strict=True))
    return _Line(line.overhead, line.per_sample, tuple(bs), corr)


def _samples_by_batch(measurements: Sequence[Measurement]) -> tuple[dict[int, list[float]], dict[int, list[float]]]:
    """({batch: steady-state compute-time samples}, {batch: batch-creation times}); OOMs and measurements
    without a time are skipped, several at one batch size pooled. Each process's samples (a measurement's, or
    each part ``Measurement.process_samples`` names) lose their own initial transient (``steady_state``) before
    they are pooled: cut from the pooled sequence, a slower first process would read as one long transient."""
    by_batch: dict[int, list[float]] = {}
    batch_times: dict[int, list[float]] = {}
    for m in measurements:
        if m.oom:
            continue
        samples = [float(x) for part in m.process_parts() for x in steady_state(part)]
        if not samples and m.compute_seconds is not None and m.compute_seconds > 0:
            samples = [float(m.compute_seconds)]
        if not samples:
            continue
        by_batch.setdefault(int(m.batch_size), []).extend(samples)
        if m.batch_seconds is not None and m.batch_seconds >= 0:
            batch_times.setdefault(int(m.batch_size), []).append(float(m.batch_seconds))
    return by_batch, batch_times


def _noise(bs: list[int], samples: list[np.ndarray], levels: list[float], compute: _Line) -> tuple[float, ...]:
    """(residual_rel_sigma, spread_rel, level_rel_sigma) of a fit: see ``StepTimeFit``."""
    # Residual scale of the measured levels around the (uncorrected) line, relative.
    if len(bs) >= 3:
        rel_res = np.asarray([lv / compute.raw(b) - 1.0 for b, lv in zip(bs, levels, strict=True)])
        # Median absolute residual, as a standard deviation; small-sample: never below the mean |res| / 2.
        residual_rel_sigma = float(max(1.4826 * np.median(np.abs(rel_res)), 0.5 * np.mean(np.abs(rel_res))))
    else:
        residual_rel_sigma = 0.0

    # Per-step noise: robust relative sd within each batch size, pooled by the median over sizes.
    spreads = [(_robust_sigma(s) / lv) for s, lv in zip(samples, levels, strict=True) if s.size >= 3]
    spread_rel = float(np.median(spreads)) if spreads else 0.0
    ses = [(_robust_sigma(s) / lv) / math.sqrt(s.size) for s, lv in zip(samples, levels, strict=True) if s.size >= 3]
    level_rel_sigma = float(np.median(ses)) if ses else 0.0
    return residual_rel_sigma, spread_rel, level_rel_sigma


def _batch_creation_line(batch_times: dict[int, list[float]],
                         notes: list[str]) -> tuple[_Line | None, dict[int, float]]:
    """The line of batch-creation time (one median per batch size) and those medians; None when untimed."""
    if not batch_times:
        notes.append("the probe did not time batch creation; predicted steps exclude make_batch.")
        return None, {}
    bbs = sorted(batch_times)
    blevels = [float(np.median(batch_times[b])) for b in bbs]
    batch_levels = dict(zip(bbs, blevels, strict=True))
    if max(blevels) <= 0:
        return _Line(0.0, 0.0), batch_levels
    bsamples = [np.asarray(batch_times[b], dtype=float) for b in bbs]
    # Levels of zero cannot be a relative scale; floor them at a microsecond.
    safe = [max(lv, 1e-6) for lv in blevels]
    bsamples = [np.maximum(s, 1e-6) for s in bsamples]
    return _line_from_levels(bbs, safe, bsamples, "batch creation", notes), batch_levels


def fit_step_time(measurements: Sequence[Measurement]) -> StepTimeFit:
    """Fit step time (and batch-creation time) against batch size from one device's probe measurements.

    Uses the per-step samples (``compute_seconds_samples``, in the order taken; the median
    ``compute_seconds`` when a measurement carries no samples), each size's initial transient cut off
    (``steady_state``). Measurements that ran out of memory or carry no time are skipped.
    Raises ``PredictionError`` when nothing usable is left. Several measurements at one batch size are pooled.
    """
    by_batch, batch_times = _samples_by_batch(measurements)
    if not by_batch:
        raise PredictionError(
            "no usable probe measurements: every batch size ran out of memory or recorded no step time.",
            hint="Fix: re-run `advisor profile` with smaller --batch-sizes.",
        )

    notes: list[str] = []
    bs = sorted(by_batch)
    samples = [np.asarray(by_batch[b], dtype=float) for b in bs]
    levels = [robust_level(s) for s in samples]
    compute = _line_from_levels(bs, levels, samples, "compute", notes)
    residual_rel_sigma, spread_rel, level_rel_sigma = _noise(bs, samples, levels, compute)
    spreads = {b: _robust_sigma(s) / lv for b, s, lv in zip(bs, samples, levels, strict=True) if s.size >= 3}
    batch_line, batch_levels = _batch_creation_line(batch_times, notes)

    return StepTimeFit(
        overhead_seconds=compute.overhead,
        per_sample_seconds=compute.per_sample,
        batch_overhead_seconds=batch_line.overhead if batch_line else 0.0,
        batch_per_sample_seconds=batch_line.per_sample if batch_line else 0.0,
        residual_rel_sigma=residual_rel_sigma,
        spread_rel=spread_rel,
        min_batch=bs[0],
        max_batch=bs[-1],
        n_points=len(bs),
        n_samples=int(sum(s.size for s in samples)),
        level_rel_sigma=level_rel_sigma,
        levels=dict(zip(bs, levels, strict=True)),
        spreads=spreads,
        batch_levels=batch_levels,
        notes=tuple(notes),
        _compute=compute,
        _batch=batch_line,
    )


def fit_memory(measurements: Sequence[Measurement]) -> tuple[float, float] | None:
    """Peak memory (GiB) vs batch size as ``(fixed_gib, per_sample_gib)``, both >= 0; None without data.

    A least-squares line through the measured peaks (one point: all of it counted as per-sample, an upper
    bound for larger batches). Negative parts are clipped: memory does not shrink with a larger batch.
    """
    pts = [(m.batch_size, m.peak_memory_gib) for m in measurements
           if not m.oom and m.peak_memory_gib is not None and m.peak_memory_gib >= 0]
    if not pts:
        return None
    bs = np.asarray([p[0] for p in pts], dtype=float)
    mem = np.asarray([p[1] for p in pts], dtype=float)
    if np.unique(bs).size == 1:
        return 0.0, float(mem.max() / bs[0])
    slope, intercept = np.polyfit(bs, mem, 1)
    if slope < 0:
        return float(mem.max()), 0.0
    if intercept < 0:
        return 0.0, float(np.max(mem / bs))
    return float(intercept), float(slope)
