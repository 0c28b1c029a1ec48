"""Huber regression with a concomitant scale, fitted without touching the process's warning filters.

The objective and the solver are scikit-learn's ``HuberRegressor`` (Owen, "A robust hybrid of lasso and ridge
regression", 2007), written out here so that advisor calls ``scipy.optimize.minimize`` itself: scikit-learn's
estimator warns (``ConvergenceWarning``) when L-BFGS-B stops at its iteration limit, and the only way to keep
that off the caller's stderr was ``warnings.catch_warnings()``, which swaps the *process-wide* filter list. Two
threads of an API caller (a pool of ``advisor.recommend``) interleaved their save and restore, and left an
"ignore ConvergenceWarning" filter in the caller's process for good. scipy reports the stop in its result
instead, and the fit returns the solver's last point either way, as scikit-learn's estimator does.

For the same inputs the coefficients are the estimator's, bit for bit: the same arithmetic in the same order,
the same start, bounds and solver options.
"""

from __future__ import annotations

import numpy as np

TOLERANCE = 1e-5  # HuberRegressor's default tol: L-BFGS-B's projected-gradient tolerance (gtol)
# The scale's lower bound, as HuberRegressor sets it: strictly positive, where the loss divides by it.
_MIN_SCALE = float(np.finfo(np.float64).eps * 10)
_ABNORMAL = 2  # L-BFGS-B's status for a line search that failed: HuberRegressor raises ValueError on it


def huber_loss_and_gradient(params: np.ndarray, x: np.ndarray, y: np.ndarray, epsilon: float,
                            weights: np.ndarray) -> tuple[float, np.ndarray]:
    """Huber's loss with scale ``params[-1]`` of the line ``x @ params[:-1]`` (no intercept, no penalty), and its
    gradient over all of ``params``.

    Args:
        params: the coefficients, then the scale (sigma).
        x: the design matrix, one row a sample.
        y: the targets.
        epsilon: the residual, in scales, beyond which a sample counts as an outlier (linear loss).
        weights: each sample's weight.
    """
    n_features = x.shape[1]
    sigma = params[-1]
    coef = params[:n_features]
    n_weighted = np.sum(weights)
    residual = y - x @ coef
    outlying = np.abs(residual) > epsilon * sigma
    outliers = np.abs(residual)[outlying]
    outlier_weights = weights[outlying]
    outlier_weight_sum = np.sum(outlier_weights)
    outlier_loss = 2.0 * epsilon * np.sum(outlier_weights * outliers) - sigma * outlier_weight_sum * epsilon**2
    inliers = residual[~outlying]
    weighted_inliers = weights[~outlying] * inliers
    squared_loss = np.dot(weighted_inliers, inliers) / sigma

    grad = np.zeros(n_features + 1)
    grad[:n_features] = 2.0 / sigma * (weighted_inliers @ -x[~outlying, :])
    signs = np.ones_like(outliers)
    signs[residual[outlying] < 0] = -1.0
    grad[:n_features] -= 2.0 * epsilon * ((outlier_weights * signs) @ x[outlying, :])
    grad[-1] = n_weighted
    grad[-1] -= outlier_weight_sum * epsilon**2
    grad[-1] -= squared_loss / sigma
    loss = n_weighted * sigma + squared_loss + outlier_loss
    return float(loss), grad


def huber_fit(x: np.ndarray, y: np.ndarray, weights: np.ndarray, epsilon: float = 1.35,
              max_iter: int = 100) -> np.ndarray:
    """The coefficients of the robust line through ``(x, y)``, no intercept: ``HuberRegressor(epsilon=epsilon,
    alpha=0.0, fit_intercept=False, max_iter=max_iter).fit(x, y, sample_weight=weights).coef_``.

    Args:
        x: the design matrix (float64), one row a sample.
        y: the targets.
        weights: each sample's weight.
        epsilon: Huber's threshold, in scales.
        max_iter: L-BFGS-B's iteration limit; reaching it returns the last point (no warning).

    Raises:
        ValueError: L-BFGS-B's line search failed (as HuberRegressor raises).
    """
    from advisor.sklearn_env import quiet_environ

    with quiet_environ():  # SciPy's import adds warning filters: the caller's stay as they were
        from scipy import optimize  # imported on first fit: the CLI's start-up does not pay for it

    params = np.zeros(x.shape[1] + 1)
    params[-1] = 1.0
    bounds = np.tile([-np.inf, np.inf], (params.shape[0], 1))
    bounds[-1][0] = _MIN_SCALE
    result = optimize.minimize(huber_loss_and_gradient, params, method="L-BFGS-B", jac=True,
                               args=(x, y, epsilon, weights), bounds=bounds,
                               options={"maxiter": max_iter, "gtol": TOLERANCE})
    if result.status == _ABNORMAL:
        raise ValueError(f"Huber fit failed: L-BFGS-B terminated with {result.message}")
    return np.asarray(result.x[:x.shape[1]], dtype=float)
