"""Learning from history: a regression, trained on stored runs, that corrects the predictor's estimates.

Each completed outcome in the history database is a training row: what the base predictor said (seconds,
method), what the job looked like, where it ran and what the probes measured (its features:
``advisor.predictor.learned_features``), and what really happened (actual seconds). The model
learns ``log(actual / predicted)`` (one factor per kind of device, or a Huber-robust ridge regression where it
does better on held-out runs: ``advisor.predictor.learned_fit``) and multiplies the estimate by ``exp`` of it.

It earns its use: the error is cross-validated on held-out stored runs (repeated K-fold, runs of one
recommendation held out together), and the correction is applied only when there are at least
``min_runs`` runs and its held-out median absolute error beats the uncorrected predictor's by at least
``min_gain`` (relative). A corrected estimate says so: ``method`` is "history" and a note gives the factor
and the errors before and after. ``advisor history calibration`` prints the same figures.

scikit-learn is imported only when there is enough history to fit on.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from advisor.predictor.busy_here import busy_when_probed
from advisor.predictor.learned_bands import (
    Band,
    BandKey,
    Machines,
    band_interval,
    bands_of,
    covered_of,
    kind_bounds,
    machines_of,
    samples_of,
)
from advisor.predictor.learned_features import (
    FEATURES,
    GpuFigures,
    SpecLookup,
    context_figures,
    feature_vector,
    row_features,
    size_features,
    time_feature,
    workload_name,
)
from advisor.predictor.learned_fit import (
    MODELS,
    LinearForm,
    choose,
    fit,
    form_of,
    gpu_kind_factor,
    spec_missing,
    unspecced_factors,
)
from advisor.predictor.learned_fit import p_better as _p_better
from advisor.predictor.learned_kinds import KindRuns, kind_runs, no_kind_reason, too_few, trusted_kinds, workload_kinds
from advisor.predictor.outliers import OUTLIER_RATIO, is_outlier
from advisor.schemas import CalibrationReport, ComparisonGroup, Estimate, Profile, TrainingRow, WorkloadInfo, updated
from advisor.units import format_duration

MIN_RUNS = 8
MIN_GAIN = 0.05  # the corrected held-out median error must be at least 5% (relative) below the base one
MAX_P = 0.05  # ... and smaller run by run: one-sided paired Wilcoxon test on held-out |log error|
MAX_LOG_FACTOR = math.log(5.0)  # never scale an estimate by more than 5x either way
FOLDS = 5
REPEATS = 3
# The parts a correction scales with the whole.
_JOB_PARTS = ("step_seconds", "last_step_seconds", "batch_seconds", "input_seconds", "transfer_seconds",
              "eval_seconds", "subnormal_seconds", "epoch_restart_seconds", "startup_seconds")
MAX_KEPT_FEATURES = 8192  # targets' fixed features a correction keeps (``Correction.bind``) before starting over

Corrector = Callable[[Estimate], Estimate]  # an estimate -> its corrected copy (``Correction.bind``)


def _pct_errors(predicted: Sequence[float], actual: Sequence[float]) -> list[float]:
    return [(p - a) / a * 100.0 for p, a in zip(predicted, actual, strict=True)]


def _median_abs(errors: Sequence[float]) -> float:
    return statistics.median(abs(e) for e in errors)


# --------------------------------------------------------------------------------------------- model


@dataclass
class Correction:
    """A fitted (or rejected) history correction. ``used`` says whether ``apply`` changes anything."""

    n_runs: int
    used: bool
    reason: str
    folds: int = 0
    cv_error_before_pct: float | None = None
    cv_error_after_pct: float | None = None
    mean_error_before_pct: float | None = None
    mean_error_after_pct: float | None = None
    # On a GPU (True), a CPU -> the 10th and 90th percentile of held-out log(actual / corrected) of the runs of that
    # kind: a corrected estimate's interval. Of its own kind only: one CPU run at 19x and one GPU run at 9.8x (not
    # corrected, so its held-out error was the base's) among 15 widened every CPU interval's top from +89% to +840%.
    residual_bounds: Mapping[bool, tuple[float, float]] = field(default_factory=dict)
    model: Any = None  # the fitted sklearn pipeline (on all rows), None when not fitted
    description: str | None = None
    spec_lookup: SpecLookup | None = None
    spec_table: GpuFigures | None = None  # GPU name -> its figures, as the predictor resolves the name
    min_runs: int = MIN_RUNS
    # Runs on GPUs (True), on CPUs (False): it corrects only those kinds (CPU runs alone gave every GPU their x2).
    kinds: frozenset[bool] = frozenset({False, True})
    # Each stored workload's kinds: it corrects a workload with runs only on those (one workload's CPU-only runs
    # at 2x moved its GPU times 1.59x, and a GPU-only workload's CPU times 0.92x, with GPU runs of others stored).
    workload_kinds: Mapping[str, frozenset[bool]] = field(default_factory=dict)
    kind_runs: KindRuns = field(default_factory=dict)  # kinds (trusted or not: ``learned_kinds``) -> (runs, recs)
    # (workload, on a GPU) -> (runs, 10th and 90th percentile of its held-out log(actual / corrected)), for a
    # workload with ``learned_bands.MIN_BAND_RUNS`` runs on that kind: its corrected interval (``_corrected``). 30
    # runs of a job within 10% of 2x kept the base's 0.8-1.25x interval; what the history measured is tighter.
    bands: Mapping[BandKey, Band] = field(default_factory=dict)
    # The same keys -> the fewest and most samples (dataset x epochs) of those runs: a job outside them gets the band
    # widened, with a note (``learned_bands``); a job 10x bigger than any stored got the band as if measured there.
    band_sizes: Mapping[BandKey, tuple[int, int]] = field(default_factory=dict)
    # ... and the machines they ran on: a target unlike them keeps its base interval where wider (``learned_bands``).
    band_machines: Mapping[BandKey, Machines] = field(default_factory=dict)
    # A GPU target with no datasheet figure (no row in profiles/gpus.csv, nor a MIG slice of one) is not given the
    # ridge, which would read the imputed median GPU's figures (15 runs of such a GPU at 3x got the ridge's x2.27):
    # its own factor where it has ``min_runs`` stored runs (name -> runs, median log ratio), else the GPU kind's
    # median (``gpu_log_factor``, of ``gpu_runs`` runs), with a note saying which (``_unspecced``).
    unspecced: Mapping[str, tuple[int, float]] = field(default_factory=dict)
    gpu_log_factor: float | None = None
    gpu_runs: int = 0

    @property
    def smallest_factor(self) -> float:
        """The smallest factor ``apply`` scales a time by (1 when it changes nothing): what bounds a corrected
        time from below."""
        return math.exp(-MAX_LOG_FACTOR) if self.used and self.model is not None else 1.0

    def factor(self, features: Sequence[float]) -> float:
        """exp(predicted log(actual / predicted)), clipped to [1/5, 5]."""
        return self._clipped(self._linear()(features))

    @staticmethod
    def _clipped(value: float) -> float:
        return math.exp(max(-MAX_LOG_FACTOR, min(MAX_LOG_FACTOR, value)))

    def _linear(self) -> LinearForm:
        # The fitted pipeline as one linear form, made on first use: sklearn's predict of a single row took
        # ~1 ms (input checks, three steps), and a recommendation corrects ~250 estimates.
        form = self.__dict__.get("_form")
        if form is None:
            form = self.__dict__["_form"] = form_of(self.model)
        return form

    def kinds_for(self, workload: str | None) -> tuple[frozenset[bool], bool]:
        """(the kinds of device, GPU True, it corrects ``workload`` on; whether ``workload`` is unseen: named, with
        no stored run, so corrected on none). A stored workload's own kinds. Other workloads' factor is not
        carried to an unseen one: runs of two workloads at 2x and 0.5x gave a third x3.52, and one workload's at 3x
        made another's deadline infeasible."""
        own = self.workload_kinds.get(workload) if workload is not None else None
        if own is not None:
            return own & self.kinds, False
        unseen = workload is not None and bool(self.workload_kinds)
        return (frozenset() if unseen else self.kinds), unseen

    def apply(self, estimate: Estimate,
              context: Profile | WorkloadInfo | Mapping[str, Any] | None = None) -> Estimate:
        """A corrected copy of ``estimate`` (method "history", with a note), or ``estimate`` itself when the
        correction is not used or the estimate is already corrected. ``context`` (the Profile, or the workload's
        info) supplies parameters, FLOPs, probe timings and the workload's name: a workload with stored runs
        only on the other kind of device keeps its estimate, with a note saying why."""
        out = self.bind(context)(estimate)
        name = workload_name(context)
        if out is not estimate or not self.used or self.model is None or estimate.method == "history" or \
                name is None:
            return out
        kinds, unseen = self.kinds_for(name)
        if (estimate.target.kind == "gpu") in kinds:
            return out
        on_gpu = estimate.target.kind == "gpu"
        note = (f"not corrected by history: no stored run of workload '{name}' (the {self.n_runs} stored runs are "
                f"other workloads', whose factor need not be its own)" if unseen else
                f"not corrected by history: {too_few(self.kind_runs, on_gpu, self.min_runs)}; times are uncorrected"
                if on_gpu in self.workload_kinds.get(name, ()) else
                f"not corrected by history: no stored run of workload '{name}' was on {'a GPU' if on_gpu else 'a CPU'}"
                ", and what its runs on the other kind taught is not carried over")
        return updated(estimate, {"notes": [*estimate.notes, note]})

    def bind(self, context: Profile | WorkloadInfo | Mapping[str, Any] | None = None) -> Corrector:
        """``apply`` with ``context`` fixed: what it reads of the context is read once, and each target's
        features that no dataset size, epoch count or predicted time changes are kept, in the correction, for
        later binds too (a recommendation corrects ~250 estimates of one profile; a server is asked about many
        jobs of it). The same figures as ``apply``."""
        params, flops, per_sample = context_figures(context)
        name = workload_name(context)
        kinds, _ = self.kinds_for(name)
        # A probe with a warning of its own (beside other processes, steps that varied widely: ``Profile.notes``
        # holds what makes its timings less trustworthy) has a wider interval for a reason the history's band of
        # other runs does not know: it keeps it.
        disturbed = isinstance(context, Profile) and (
            bool(context.notes) or any(busy_when_probed(d) for d in context.devices))
        bands = {} if disturbed or name is None else {
            kind: (band, self.band_sizes.get((name, kind)), self.band_machines.get((name, kind)))
            for kind in (False, True)
            if (band := self.bands.get((name, kind))) is not None}
        kept: dict[tuple, list[float]] = self.__dict__.setdefault("_kept", {})
        if len(kept) > MAX_KEPT_FEATURES:
            kept.clear()
        sizes: dict[tuple[int, int], tuple[float, ...]] = {}  # a job size's terms, the same for all its estimates

        def corrected(estimate: Estimate) -> Estimate:
            if not self.used or self.model is None or estimate.method == "history" or \
                    (estimate.target.kind == "gpu") not in kinds:
                return estimate
            if not (math.isfinite(estimate.seconds) and estimate.seconds > 0):
                return estimate
            target = estimate.target
            key = (params, flops, per_sample, target, estimate.batch_size, estimate.method)
            found = kept.get(key)
            if found is None:
                is_gpu = target.kind == "gpu"
                features = feature_vector(
                    param_count=params, flops_per_sample=flops, batch_size=estimate.batch_size,
                    dataset_size=estimate.dataset_size, epochs=estimate.epochs,
                    gpu=target.gpu_name if is_gpu else None, gpu_count=target.count if is_gpu else 0,
                    vcpus=None if is_gpu else target.threads, method=estimate.method,
                    predicted_seconds=estimate.seconds, measured_seconds_per_sample=per_sample,
                    spec_lookup=self.spec_lookup, spec_table=self.spec_table)
                found = kept[key] = (self._linear().fixed_terms(features), self._unspecced(target, features))
            terms, unspecced = found
            if unspecced is not None:  # no datasheet figure: a factor that reads none, said in the note
                return self._corrected(estimate, self._clipped(unspecced[0]), bands.get(target.kind == "gpu"),
                                       unspecced[1])
            form = self._linear()
            size = sizes.get((estimate.dataset_size, estimate.epochs))
            if size is None:
                size = sizes[(estimate.dataset_size, estimate.epochs)] = form.terms_of(
                    size_features(estimate.dataset_size, estimate.epochs))
            value = form.sum_of(terms, size, form.terms_of((time_feature(estimate.seconds),)))
            return self._corrected(estimate, self._clipped(value), bands.get(target.kind == "gpu"))

        return corrected

    def _unspecced(self, target: Any, features: Sequence[float]) -> tuple[float, str] | None:
        """(log factor, what the note says of it) for a GPU ``target`` whose ``features`` have no datasheet figure:
        its own stored runs' median, else the GPU kind's; None for any other target (the model's factor)."""
        if not spec_missing(features) or self.gpu_log_factor is None:
            return None
        name = target.gpu_name or "this GPU"
        own = self.unspecced.get(name.strip().lower())
        what = f"; {name} has no datasheet figures in profiles/gpus.csv, so the factor reads none: "
        if own is not None:
            return own[1], what + f"the median of its own {own[0]} stored runs' actual/predicted"
        return self.gpu_log_factor, what + (f"the per-kind factor, the median of all {self.gpu_runs} stored GPU runs' "
                                            "actual/predicted (no other GPU's figures stand in for it)")

    def _corrected(self, estimate: Estimate, f: float,
                   band: tuple[Band, tuple[int, int] | None, Machines | None] | None = None,
                   which: str = "") -> Estimate:
        # The note's middle and the residual factors are the same for every estimate: worked out once (~250).
        fixed = self.__dict__.get("_note_fixed")
        if fixed is None:
            fixed = self.__dict__["_note_fixed"] = (
                f" learned from {self.n_runs} stored runs (held-out median error {self.cv_error_before_pct:.0f}% "
                f"-> {self.cv_error_after_pct:.0f}%); uncorrected ",
                {kind: (math.exp(low), math.exp(high)) for kind, (low, high) in self.residual_bounds.items()})
        middle, factors = fixed
        low_factor, high_factor = factors.get(estimate.target.kind == "gpu", (1.0, 1.0))
        # The whole time is scaled, start-up included: the fit learned (and was cross-validated on) the whole
        # predicted time's factor, so that is the factor a user gets (scaling the job alone gave x1.5 for a
        # "x2.00"); every part is scaled alike, so the parts shown under the job still add up to it.
        seconds, low, high = (t * f for t in (estimate.seconds, estimate.low, estimate.high))
        note = f"history correction x{f:.2f}{middle}{format_duration(estimate.seconds)} ({estimate.method}){which}"
        if band is None:
            low, high = min(low, seconds * low_factor, seconds), max(high, seconds * high_factor, seconds)
        else:  # the workload's own held-out runs on this kind measured its 80% interval (tighter or wider) at the
            # sizes stored: that, widened for a job outside them
            low, high, said = band_interval(seconds, *band[:2], samples_of(estimate.dataset_size, estimate.epochs),
                                            band[2], estimate.target, (low, high))
            note += said
        update: dict[str, Any] = {k: getattr(estimate, k) * f for k in _JOB_PARTS if getattr(estimate, k) is not None}
        update.update(seconds=seconds, low=low, high=high, method="history", notes=[*estimate.notes, note],
                      base_seconds=estimate.seconds, base_method=estimate.method,
                      mfu=estimate.mfu / f if estimate.mfu is not None else None)
        return updated(estimate, update)

    def ranking_note(self, workload: str | None = None) -> str | None:
        """What a recommendation of ``workload`` says when the correction changed its times (None when it is not
        used): which kind of candidate it corrects, or that it corrects none (``workload`` has no stored run)."""
        if not self.used or self.model is None:
            return None
        kinds, unseen = self.kinds_for(workload)
        if unseen:
            return (f"history correction: not used here: no stored run of workload '{workload}' (the {self.n_runs} "
                    "stored runs are other workloads', whose factor need not be its own); times are the base "
                    "prediction's")
        only = {frozenset({False}): "CPU", frozenset({True}): "GPU"}.get(kinds)
        own = workload is not None and workload in self.workload_kinds and kinds != self.kinds
        runs = f"run of workload '{workload}' on a {'GPU' if only == 'CPU' else 'CPU'}" if own else "run"
        few = only and not own and (only == "CPU") in self.kind_runs  # the other kind has runs, too few of them
        other = "GPU" if only == "CPU" else "CPU"
        n = self.kind_runs.get(only == "GPU", (self.n_runs, 0))[0] if only and not own else self.n_runs
        tail = (f"; the {other} candidates are not corrected: {too_few(self.kind_runs, other == 'GPU', self.min_runs)}"
                if few else f"; the {other} candidates, with no {runs} to learn from, are not corrected")
        return (f"history correction: every {only + ' ' if only else ''}time and cost here is the base prediction "
                f"corrected by what {n} stored {'' if own or not only else only + ' '}runs took (held-out "
                f"median error {self.cv_error_before_pct:.0f}% -> {self.cv_error_after_pct:.0f}%; method 'history', "
                f"each candidate's base_seconds is its uncorrected time; `advisor history calibration` shows the fit)"
                + (tail if only else ""))

    def report(self, by_method: list[ComparisonGroup] | None = None) -> CalibrationReport:
        # With no folds nothing was held out: the base errors are in-sample, not under the cv_* / mean_* names.
        held = self.folds > 0
        return CalibrationReport(
            n_runs=self.n_runs, min_runs=self.min_runs, folds=self.folds,
            cv_error_before_pct=self.cv_error_before_pct if held else None, cv_error_after_pct=self.cv_error_after_pct,
            mean_error_before_pct=self.mean_error_before_pct if held else None,
            mean_error_after_pct=self.mean_error_after_pct,
            in_sample_error_pct=None if held else self.cv_error_before_pct,
            in_sample_mean_error_pct=None if held else self.mean_error_before_pct,
            used=self.used, reason=self.reason, model=self.description, by_method=by_method or [],
        )


def kept_runs(rows: Sequence[TrainingRow]) -> tuple[list[TrainingRow], list[TrainingRow]]:
    """(the runs with a usable prediction and time, those of them within ``OUTLIER_RATIO`` of it: what the fit
    learns from and the calibration report counts)."""
    rows = [r for r in rows if r.predicted_seconds > 0 and r.actual_seconds > 0
            and math.isfinite(r.predicted_seconds) and math.isfinite(r.actual_seconds)]
    return rows, [r for r in rows if not is_outlier(r.actual_seconds, r.predicted_seconds)]


def evaluate(rows: Sequence[TrainingRow], *, min_runs: int = MIN_RUNS, min_gain: float = MIN_GAIN,
             max_p: float = MAX_P, spec_lookup: SpecLookup | None = None, folds: int = FOLDS,
             repeats: int = REPEATS) -> Correction:
    """Cross-validate and fit the correction on ``rows``; the returned ``Correction`` says whether it is
    used, and why."""
    from advisor.schemas.history import MIN_RECOMMENDATIONS
    capped = getattr(rows, "capped", False)  # History.training_rows read only the newest of more runs
    rows, kept = kept_runs(rows)
    left_out = "" if len(kept) == len(rows) else (
        f" {len(rows) - len(kept)} run(s) more than {OUTLIER_RATIO:.0f}x from their uncorrected prediction are left "
        "out of the fit (`advisor history compare` shows them).")
    rows, n = kept, len(kept)
    if n == 0:  # runs all left out are said so: "record outcomes" was told to one who had recorded them
        return Correction(n_runs=0, used=False, min_runs=min_runs, reason=f"No run to learn from yet:{left_out}"
                          if left_out else "No completed runs with a prediction in history yet: record outcomes with "
                          "`advisor history record ID --actual-seconds S` or advisor.track(rec.id).")
    base_errors = _pct_errors([r.predicted_seconds for r in rows], [r.actual_seconds for r in rows])
    base = Correction(n_runs=n, used=False, min_runs=min_runs, cv_error_before_pct=float(_median_abs(base_errors)),
                      mean_error_before_pct=statistics.fmean(base_errors), reason="")
    groups = [r.recommendation_id for r in rows]
    n_groups = len(set(groups))
    if n < min_runs or n_groups < MIN_RECOMMENDATIONS:
        base.reason = (f"{'At least' if capped else 'Only'} {n:,} completed run(s) from {n_groups} recommendation(s) "
                       f"in history; the correction needs at least {min_runs} runs from {MIN_RECOMMENDATIONS} "
                       f"recommendations.{left_out}")
        return base
    counts = kind_runs(rows)
    kinds = trusted_kinds(counts, min_runs)  # one GPU run at 10x gave every GPU x5 (``learned_kinds``)
    if not kinds:
        base.reason, base.kind_runs = f"Not used: {no_kind_reason(counts, min_runs)}.{left_out}", counts
        return base

    import numpy as np
    table = GpuFigures.load() if spec_lookup is None else None
    X = np.asarray([row_features(r, spec_lookup, table) for r in rows], dtype=float)
    y = np.log(np.asarray([r.actual_seconds / r.predicted_seconds for r in rows]))
    predicted = np.asarray([r.predicted_seconds for r in rows])
    actual = np.asarray([r.actual_seconds for r in rows])
    k = min(folds, n_groups)

    held = _cross_validate(rows, X, y, groups, k, repeats, kinds)
    name = choose({m: held[m][0] for m in MODELS}, min_gain, max_p, repeats, _p_better)
    abs_log_after, corrected = held[name]
    held_actual = np.tile(actual, repeats)
    held_errors = _pct_errors(corrected, held_actual)
    held_base = _pct_errors(np.tile(predicted, repeats), held_actual)
    residuals = np.log(held_actual / corrected)
    before, after = float(_median_abs(held_base)), float(_median_abs(held_errors))
    # The paired test takes one pair per run (its repeats summed), not one per repeat: the repeats are not
    # independent draws.
    p_value = _p_better(np.abs(np.log(predicted / actual)) * repeats, abs_log_after.reshape(repeats, n).sum(axis=0))
    final = fit(name, X, y)
    correction = Correction(
        n_runs=n, used=False, min_runs=min_runs, folds=k, cv_error_before_pct=before, cv_error_after_pct=after,
        mean_error_before_pct=float(statistics.fmean(held_base)),
        mean_error_after_pct=float(statistics.fmean(held_errors)),
        residual_bounds=kind_bounds(rows, residuals, repeats),
        model=final, spec_lookup=spec_lookup, spec_table=table, kinds=kinds, kind_runs=counts,
        workload_kinds=workload_kinds(rows), description=_description(name, final, held, k, repeats),
        bands=bands_of(rows, residuals, repeats), band_sizes=covered_of(rows), band_machines=machines_of(rows),
        unspecced=unspecced_factors([r.gpu if r.tier != "cpu" else None for r in rows], X, y, min_runs),
        gpu_log_factor=gpu_kind_factor(X, y), gpu_runs=sum(r.tier != "cpu" for r in rows),
        reason="",
    )
    _decide(correction, p_value, min_gain, max_p)
    correction.reason += left_out
    return correction


def _cross_validate(rows: Sequence[TrainingRow], X: Any, y: Any, groups: Sequence[Any], k: int,
                    repeats: int, kinds: frozenset[bool]) -> dict[str, tuple[Any, Any]]:
    """Each model's held-out (|log error|, corrected seconds) per run and repeat (repeat after repeat, in ``rows``'
    order): repeated K-fold, the runs of one recommendation held out together, each held-out run corrected as
    ``Correction.apply`` would (a run whose workload has training runs only on the other kind keeps its time)."""
    import numpy as np

    from advisor.sklearn_env import quiet_environ

    with quiet_environ():
        from sklearn.model_selection import GroupKFold

    n = len(rows)
    predicted = np.asarray([r.predicted_seconds for r in rows])
    actual = np.asarray([r.actual_seconds for r in rows])
    log_f = {m: np.zeros((repeats, n)) for m in MODELS}
    rng = np.random.default_rng(0)
    unique = sorted(set(groups))
    for repeat in range(repeats):
        # GroupKFold has no shuffling in older scikit-learn: relabel the groups at random instead.
        relabel = dict(zip(unique, rng.permutation(len(unique)), strict=True))
        labels = np.asarray([relabel[g] for g in groups])
        for train, test in GroupKFold(n_splits=k).split(X, y, labels):
            moved = np.asarray(_corrected_rows(rows, train, test, kinds), dtype=float)
            for m in MODELS:
                fitted = np.clip(fit(m, X[train], y[train]).predict(X[test]), -MAX_LOG_FACTOR, MAX_LOG_FACTOR)
                log_f[m][repeat, test] = fitted * moved
    held = {}
    for m in MODELS:
        corrected = (predicted * np.exp(log_f[m])).ravel()
        held[m] = (np.abs(np.log(corrected / np.tile(actual, repeats))), corrected)
    return held


def _description(name: str, model: Any, held: dict[str, tuple[Any, Any]], k: int, repeats: int) -> str:
    """What ``history calibration`` says of the fit: the model, ``choose``'s rule, both models' held-out errors."""
    import numpy as np

    errors = ", ".join(f"{m.replace('_', ' ')} {float(np.median(held[m][0])) * 100:.1f}%" for m in MODELS)
    what = ("one factor per kind of device (CPU, GPU): the median of its runs' log(actual/predicted)"
            if name == "per_kind" else
            f"Huber-robust ridge regression of log(actual/predicted) on {len(FEATURES)} features, alpha "
            f"{model[-1].alpha_:.3g}")
    return (f"{what} (the ridge is used only where its held-out median |log error| is {MIN_GAIN:.0%} lower and lower "
            f"run by run, paired test p < {MAX_P:g}: {errors}); {k}-fold x{repeats} cross-validation by recommendation")


def _corrected_rows(rows: Sequence[TrainingRow], train: Any, test: Any, kinds: frozenset[bool]) -> list[bool]:
    """Which held-out ``rows[test]`` a correction fitted on ``rows[train]`` would move (``Correction.kinds_for``):
    a run whose workload has training runs only on the other kind of device, or of a kind not corrected
    (``learned_kinds``: decided on all of them), keeps its prediction."""
    trained = [rows[i] for i in train]
    fitted = Correction(n_runs=len(train), used=True, reason="", workload_kinds=workload_kinds(trained),
                        kinds=frozenset(r.tier != "cpu" for r in trained) & kinds)
    return [(rows[i].tier != "cpu") in fitted.kinds_for(rows[i].workload)[0] for i in test]


def _decide(correction: Correction, p_value: float, min_gain: float, max_p: float) -> None:
    """Whether ``correction`` is used (held-out errors ``min_gain`` below the base's, a paired test under ``max_p``)
    and why; the reason names the one kind of device it corrects where it has runs on one only."""
    before, after = correction.cv_error_before_pct, correction.cv_error_after_pct
    if after < before * (1.0 - min_gain) and p_value < max_p:
        correction.used = True
        correction.reason = (f"Used: on held-out runs it lowers the median absolute error from {before:.1f}% "
                             f"to {after:.1f}% (paired test p = {p_value:.2g}).")
    elif after < before * (1.0 - min_gain):
        correction.reason = (f"Not used: on held-out runs it lowers the median absolute error from {before:.1f}% "
                             f"to {after:.1f}%, but not consistently enough to trust (paired test p = "
                             f"{p_value:.2g} >= {max_p}).")
    else:
        correction.reason = (f"Not used: on held-out runs it does not beat the uncorrected predictor by "
                             f"{min_gain:.0%} ({before:.1f}% -> {after:.1f}%).")
    if correction.used and len(correction.kinds) == 1:
        only = "GPU" if True in correction.kinds else "CPU"
        other = "it has no run on the other kind to learn from" if (only == "CPU") not in correction.kind_runs else \
            too_few(correction.kind_runs, only == "CPU", correction.min_runs)
        correction.reason += f" It corrects {only} targets only: {other}."


def fit_correction(rows: Sequence[TrainingRow], *, min_runs: int = MIN_RUNS, min_gain: float = MIN_GAIN,
                   spec_lookup: SpecLookup | None = None) -> Correction | None:
    """The correction to apply to new estimates, or None when history is too thin or it does not help."""
    correction = evaluate(rows, min_runs=min_runs, min_gain=min_gain, spec_lookup=spec_lookup)
    return correction if correction.used else None


def calibration_report(history, *, min_runs: int = MIN_RUNS, min_gain: float = MIN_GAIN,
                       spec_lookup: SpecLookup | None = None) -> CalibrationReport:
    """``advisor history calibration``: the base predictor's held-out error and the correction's, from the
    runs stored in ``history`` (an ``advisor.History``)."""
    from advisor.predictor.learned_groups import method_groups

    rows = history.training_rows()
    correction = evaluate(rows, min_runs=min_runs, min_gain=min_gain, spec_lookup=spec_lookup)
    return correction.report(by_method=method_groups(kept_runs(rows)[1]))
