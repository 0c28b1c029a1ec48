"""``advisor history compare``: the error of each completed run's prediction, and its aggregates per device,
per method, per workload and overall. Pure arithmetic over the rows the repository's query returns.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from advisor.predictor.outliers import is_outlier, times_off
from advisor.schemas import Comparison
from advisor.units import is_finite


def device_label(tier: str, gpu: str | None, gpu_count: int | None) -> str:
    """How compare names a device: "A100-80GB", "4 x A100-80GB", "cpu"."""
    if tier == "cpu" or not gpu:
        return "cpu"
    return f"{gpu_count} x {gpu}" if (gpu_count or 1) > 1 else gpu


def _group(key: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A ComparisonGroup's fields from compare's row dicts: the figures leave out the outliers (over
    ``OUTLIER_RATIO`` from their uncorrected prediction), as calibration does, and ``n_outliers`` counts them."""
    kept = [r for r in rows if not r["outlier"]]
    errors = [r["error_pct"] for r in kept]
    figures = {} if not kept else {
        "median_abs_error_pct": statistics.median([abs(e) for e in errors]),
        "mean_error_pct": math.fsum(errors) / len(errors),
        "within_interval_pct": 100.0 * sum(1 for r in kept if r["within_interval"]) / len(kept),
    }
    return {"key": key, "n": len(rows), "n_outliers": len(rows) - len(kept), **figures}


def _judged_seconds(method: str, predicted: float, base_seconds: Any) -> float:
    """The prediction a run is judged against for the 20x rule: the uncorrected time of a candidate the history
    corrected (what calibration and the fit read, ``advisor.history.training``), else the predicted one."""
    if method == "history" and is_finite(base_seconds) and base_seconds > 0:
        return float(base_seconds)
    return predicted


def _groups(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    buckets: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        buckets.setdefault(r[key], []).append(r)
    groups = [_group(k, v) for k, v in buckets.items()]
    return sorted(groups, key=lambda g: (-g["n"], g["key"]))


def comparison(result: Iterable[Sequence[Any]]) -> Comparison:
    """The Comparison of the repository's completed-run rows (outcome id, recommendation id, recorded at,
    actual seconds, workload, provider, instance type, tier, gpu, gpu count, vcpus, method, predicted seconds,
    low, high, base seconds, ...), in their order; runs without a usable time are left out. A run over
    ``OUTLIER_RATIO`` from its uncorrected prediction is a row marked ``outlier``, left out of the aggregates."""
    rows = []
    labels: dict[tuple, str] = {}
    for (outcome_id, rec_id, recorded_at, actual, name, provider, instance, tier, gpu, gpu_count, _vcpus, method,
         predicted, low, high, base_seconds, *_) in result:
        if not (is_finite(actual) and actual > 0 and is_finite(predicted)):
            continue
        key = (tier, gpu, gpu_count)
        device = labels.get(key) or labels.setdefault(key, device_label(tier, gpu, gpu_count))
        error = (predicted - actual) / actual * 100.0
        judged = _judged_seconds(method, predicted, base_seconds)
        ratio = times_off(actual, judged) if judged > 0 else None
        outlier = ratio is not None and is_outlier(actual, judged)
        rows.append({
            "recommendation_id": rec_id, "outcome_id": outcome_id, "recorded_at": recorded_at, "workload": name,
            "provider": provider, "instance_type": instance, "device": device, "tier": tier, "method": method,
            "predicted_seconds": predicted, "low": low, "high": high, "actual_seconds": actual,
            "error_pct": error, "abs_error_pct": abs(error), "within_interval": low <= actual <= high,
            "outlier": outlier, "outlier_ratio": ratio if outlier else None,
        })
    if not rows:
        return Comparison()
    # One validation call for the whole result (much cheaper than one per row at 10k rows).
    return Comparison.model_validate({"rows": rows, "by_device": _groups(rows, "device"),
                                      "by_method": _groups(rows, "method"), "by_workload": _groups(rows, "workload"),
                                      "overall": _group("all", rows)})
