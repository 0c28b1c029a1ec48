"""How the learned history correction is fitted: the two candidate models, their robust fit, and the linear form
both are applied as.

``advisor.predictor.learned`` cross-validates and applies the correction; this module owns the fit of
``log(actual / predicted)`` on the run features (``advisor.predictor.learned_features``):

- ``per_kind``: one factor per kind of device (CPU, GPU), the median of the runs' log ratios. What a history of
  "this job always takes twice its prediction" should give, whatever the size of the next job.
- ``robust_ridge``: a ridge regression on every feature (median imputation, standardisation, its penalty chosen by
  generalised cross-validation), made robust by iteratively reweighted least squares with Huber's weights: a run
  far from the rest (a job that hit a slow disk, a mistyped outcome under the 20x guard) weighs by how far it is,
  not by its square. A plain ridge moved a "x2.00" workload to x2.44 for one 15x run among 30.

The correction uses the ridge only where it beats the per-kind factor on held-out runs (``choose``): with a few
dozen noisy runs the ridge fits noise along the job-size features, and a "x2" history gave x1.76 to x2.21 by
job size.

scikit-learn and numpy are imported inside the functions that need them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from advisor.predictor.learned_features import FEATURES, JOB_FEATURES

IS_GPU = FEATURES.index("is_gpu")
# Huber's constant, in residual scales. The textbook 1.345 (95% of least squares' efficiency under normal errors)
# down-weighted so many runs of a few dozen that noise alone bent the ridge's slope (a pure x2 history's factor
# spread x1.45 over job sizes against 1.16 unweighted; bench/learned_fit.py); 2.0 keeps one 15x run out as well.
HUBER_K = 2.0
ROBUST_ROUNDS = 8  # reweighting rounds; the weights settle in 3-5 on histories of a few dozen runs
MIN_SCALE = 0.01  # floor on the residuals' scale (log units, ~1%): exact histories would weigh every run to 0
MODELS = ("per_kind", "robust_ridge")


@dataclass(frozen=True)
class LinearForm:
    """A fitted model's prediction as ``offset + sum(weight * feature)``, a missing (NaN) feature taking its
    imputed value. For the ridge: the same figure as the pipeline's ``predict`` up to rounding (tested), in
    microseconds instead of a millisecond."""

    fill: tuple[float, ...]
    weights: tuple[float, ...]
    offset: float

    @classmethod
    def of(cls, pipeline: Any) -> LinearForm:
        imputer, scaler, ridge = (step for _, step in pipeline.steps)
        scale = [float(v) for v in (scaler.scale_ if scaler.scale_ is not None else [1.0] * len(ridge.coef_))]
        mean = [float(v) for v in (scaler.mean_ if scaler.mean_ is not None else [0.0] * len(ridge.coef_))]
        weights = tuple(float(c) / s for c, s in zip(ridge.coef_, scale, strict=True))
        offset = float(ridge.intercept_) - math.fsum(w * m for w, m in zip(weights, mean, strict=True))
        return cls(tuple(float(v) for v in imputer.statistics_), weights, offset)

    @classmethod
    def of_kinds(cls, cpu_log_factor: float, gpu_log_factor: float) -> LinearForm:
        """The per-kind model: ``cpu_log_factor`` for a CPU target, ``gpu_log_factor`` for a GPU one."""
        width = len(FEATURES)
        weights = [0.0] * width
        weights[IS_GPU] = gpu_log_factor - cpu_log_factor
        return cls((0.0,) * width, tuple(weights), cpu_log_factor)

    def __call__(self, features: Sequence[float]) -> float:
        if len(features) != len(self.weights):
            raise ValueError(f"{len(features)} features for a form of {len(self.weights)}")
        return self.offset + math.fsum(self._term(i, x) for i, x in enumerate(features))

    def _term(self, i: int, x: float) -> float:
        if self.weights[i] == 0.0:  # a feature the model does not read: its value, NaN included, adds nothing
            return 0.0
        return self.weights[i] * (x if x == x else self.fill[i])  # x != x: NaN, missing

    def fixed_terms(self, features: Sequence[float]) -> tuple[float, ...]:
        """The terms of the features no job changes (all but ``JOB_FEATURES``): a target's, kept by ``bind``."""
        return tuple(self._term(i, x) for i, x in enumerate(features) if i not in JOB_FEATURES)

    def terms_of(self, features: Sequence[tuple[int, float]]) -> tuple[float, ...]:
        """The terms of (index, value) features."""
        return tuple(self._term(i, x) for i, x in features)

    def sum_of(self, *terms: Sequence[float]) -> float:
        """``self(features)`` from all its terms, given in groups (``fixed_terms``, ``terms_of``): the same figure
        to the last bit (``math.fsum`` is the correctly rounded sum of its terms, in any order)."""
        return self.offset + math.fsum(t for group in terms for t in group)

    def predict(self, X: Any) -> Any:
        """Rows of features -> the model's log factors (numpy), as a fitted pipeline's ``predict``."""
        import numpy as np

        X = np.asarray(X, dtype=float)
        weights = np.asarray(self.weights)
        filled = np.where(np.isnan(X), np.asarray(self.fill), X)
        filled[:, weights == 0.0] = 0.0  # as ``_term``: a feature the model does not read adds nothing
        return filled @ weights + self.offset


def pipeline() -> Any:
    """The ridge's pipeline, unfitted: median imputation, standardisation, ridge with its penalty by GCV."""
    import numpy as np

    from advisor.sklearn_env import quiet_environ

    with quiet_environ():
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import RidgeCV
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

    return make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
                         RidgeCV(alphas=np.logspace(-2, 4, 25)))


def huber_weights(residuals: Any) -> Any:
    """Huber's weights for ``residuals`` (numpy), their scale the normal-consistent median absolute deviation."""
    import numpy as np

    centre = float(np.median(residuals))
    scale = max(1.4826 * float(np.median(np.abs(residuals - centre))), MIN_SCALE)
    return np.minimum(1.0, HUBER_K * scale / np.maximum(np.abs(residuals), 1e-300))


def robust_ridge(X: Any, y: Any) -> Any:
    """The ridge pipeline fitted to ``y`` by iteratively reweighted least squares with Huber's weights (the
    imputation and the scaling, which no weight changes, fitted once)."""
    import numpy as np

    model = pipeline()
    imputer, scaler, ridge = (step for _, step in model.steps)
    Z = scaler.fit_transform(imputer.fit_transform(X))
    ridge.fit(Z, y)
    weights = np.ones(len(y))
    for _ in range(ROBUST_ROUNDS):
        new = huber_weights(y - ridge.predict(Z))
        if np.allclose(new, weights, atol=1e-3):
            break
        weights = new
        ridge.fit(Z, y, sample_weight=weights)
    return model


def per_kind(X: Any, y: Any) -> LinearForm:
    """The median log ratio of each kind's runs in ``(X, y)`` (a kind with no run takes the other's: the
    correction never applies it, ``Correction.kinds``)."""
    import numpy as np

    on_gpu = np.asarray(X)[:, IS_GPU] == 1.0
    gpu, cpu = np.asarray(y)[on_gpu], np.asarray(y)[~on_gpu]
    cpu_factor = float(np.median(cpu if len(cpu) else gpu))
    gpu_factor = float(np.median(gpu)) if len(gpu) else cpu_factor
    return LinearForm.of_kinds(cpu_factor, gpu_factor)


def fit(name: str, X: Any, y: Any) -> Any:
    """Model ``name`` (one of ``MODELS``) fitted on ``(X, y)``: anything with ``predict(X)``."""
    return per_kind(X, y) if name == "per_kind" else robust_ridge(X, y)


def form_of(model: Any) -> LinearForm:
    """A fitted model as its ``LinearForm``."""
    return model if isinstance(model, LinearForm) else LinearForm.of(model)


def choose(held_abs_log: dict[str, Any], min_gain: float, max_p: float, repeats: int,
           p_better: Callable[[Any, Any], float]) -> str:
    """The model to use, from each model's held-out |log error| per run and repeat (numpy, repeat after repeat):
    the ridge only where its median is ``min_gain`` (relative) below the per-kind factor's and a paired test
    (``p_better``, one pair per run) says it is smaller run by run at ``max_p``. A ridge that beat the median by
    chance on a pure "x2" history gave x1.76 to x2.21 by job size."""
    import numpy as np

    simple, ridge = (held_abs_log[name] for name in MODELS)
    gain = float(np.median(ridge)) < float(np.median(simple)) * (1.0 - min_gain)
    per_run = [errors.reshape(repeats, -1).sum(axis=0) for errors in (simple, ridge)]
    return "robust_ridge" if gain and p_better(*per_run) < max_p else "per_kind"


SPEC_FEATURES = tuple(FEATURES.index(f) for f in ("log2_gpu_memory_gib", "log10_gpu_bandwidth_gbs",
                                                  "log10_gpu_fp32_tflops"))


def spec_missing(features: Sequence[float]) -> bool:
    """Whether ``features`` are a GPU's with none of its datasheet figures (a GPU without a row in profiles/gpus.csv,
    nor a MIG slice of one): the ridge would read the imputed median GPU's instead."""
    return features[IS_GPU] == 1.0 and all(features[i] != features[i] for i in SPEC_FEATURES)  # all NaN


def unspecced_factors(gpus: Sequence[str | None], X: Any, y: Any, min_runs: int) -> dict[str, tuple[int, float]]:
    """GPU name (lower-case) -> (runs, median log ratio) of each GPU in ``gpus`` (one a row of ``(X, y)``) whose
    rows have no datasheet figure (``spec_missing``) and that has at least ``min_runs`` of them: its own factor, as
    ``per_kind`` gives a kind's, where the ridge cannot tell it from any other GPU."""
    import numpy as np

    by_name: dict[str, list[int]] = {}
    for i, gpu in enumerate(gpus):
        if gpu and spec_missing(X[i]):
            by_name.setdefault(gpu.strip().lower(), []).append(i)
    return {name: (len(idx), float(np.median(np.asarray(y)[idx]))) for name, idx in by_name.items()
            if len(idx) >= min_runs}


def gpu_kind_factor(X: Any, y: Any) -> float | None:
    """The per-kind model's log factor for a GPU (the median of the GPU rows' log ratios); None with no GPU row."""
    import numpy as np

    on_gpu = np.asarray(X)[:, IS_GPU] == 1.0
    return float(np.median(np.asarray(y)[on_gpu])) if on_gpu.any() else None


def p_better(base: Any, after: Any) -> float:
    """One-sided Wilcoxon signed-rank p-value that the corrected held-out errors are smaller than the base."""
    from advisor.sklearn_env import quiet_environ

    with quiet_environ():  # SciPy's import adds warning filters: the caller's stay as they were
        from scipy.stats import wilcoxon

    diff = base - after
    if not (diff != 0).any():
        return 1.0
    try:
        return float(wilcoxon(diff, alternative="greater").pvalue)
    except ValueError:
        return 1.0
