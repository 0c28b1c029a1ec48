"""How advisor's pydantic models map onto the history tables' rows, and back.

The repository writes and reads through these; nothing here opens a connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from advisor.schemas import Candidate, Profile, Recommendation, WorkloadInfo, WorkloadSummary

# Candidate fields kept in their own columns; every other field goes to the row's ``extra`` JSON.
_CANDIDATE_COLUMNS = ("provider", "instance_type", "region", "tier", "gpu", "gpu_count", "vcpus", "seconds", "low",
                      "high", "cost_usd", "spot_cost_usd", "fits_memory", "method", "reason",
                      "price_usd_per_hour", "spot_price_usd_per_hour")
_BASE_COLUMNS = ("base_seconds", "base_method")
# Copied from the chosen candidate onto its recommendation row (as chosen_*), and from the run candidate onto
# its outcome row (seconds as predicted_seconds): see advisor/history/tables.py.
CHOSEN_COPY = ("provider", "instance_type", "region", "tier", "gpu", "gpu_count", "vcpus", "method", "seconds",
                "low", "high", "cost_usd")
OUTCOME_COPY = ("provider", "region", "tier", "gpu", "gpu_count", "vcpus", "method", "low", "high", "cost_usd",
                 "base_seconds", "base_method")


def workload_fields(info: Mapping[str, Any] | WorkloadInfo | None) -> dict[str, Any]:
    """The workloads row from a dumped Recommendation.workload (a dict) or a WorkloadInfo."""
    if info is None:
        info = {}
    if isinstance(info, WorkloadInfo):
        info = info.model_dump()
    params = info.get("param_count", info.get("params"))
    return {
        "name": str(info.get("name") or "workload")[:200],
        "file_sha256": str(info.get("file_sha256") or info.get("sha256") or ""),
        "path": None if info.get("path") is None else str(info.get("path")),
        "param_count": None if params is None else int(params),
        "flops_per_sample": info.get("flops_per_sample"),
        "optimizer": info.get("optimizer"),
    }


def stored_summary(info: Mapping[str, Any] | None) -> WorkloadSummary:
    """A recommendation's stored workload summary (rows written before it was typed may lack the name)."""
    return WorkloadSummary.model_validate({**(info or {}), "name": (info or {}).get("name") or "workload"})


def recommended_model(info: Mapping[str, Any] | None, workload_params: int | None,
                      workload_flops: float | None) -> tuple[int | None, float | None]:
    """(param count, FLOPs per sample) of the model a recommendation was for: its stored workload JSON's, as
    ``History.show`` reads them. The workloads row (``workload_params``, ``workload_flops``) is keyed by the file's
    name and hash only, and keeps the first model it saw: a sibling ``model.py`` edited since, or another project's
    identical ``train.py``, lands on the same row. The row's figures stand only for a JSON without the key."""
    info = info if isinstance(info, Mapping) else {}
    params = info.get("params", workload_params)
    flops = info.get("flops_per_sample", workload_flops)
    return (None if params is None else int(params)), flops


def candidate_row(c: Candidate, recommendation_id: int, *, rank: int | None, chosen: bool,
                   excluded: bool) -> dict[str, Any]:
    """The candidates row of ``c``: its own columns, the rest of its fields in ``extra``."""
    data = c.model_dump(mode="json")
    row = {k: data.pop(k, None) for k in _CANDIDATE_COLUMNS}
    for k in _BASE_COLUMNS:
        row[k] = data.pop(k, None)
    row["reason"] = row["reason"] or ""
    row.update(recommendation_id=recommendation_id, rank=rank, chosen=chosen, excluded=excluded, extra=data)
    return row


def candidate_from_row(row: Any) -> Candidate:
    """The Candidate a candidates row (as ``candidate_row`` wrote it) stores."""
    m = row._mapping
    data = dict(m["extra"] or {})
    data.update({k: m[k] for k in _CANDIDATE_COLUMNS})
    for k in _BASE_COLUMNS:
        if m[k] is not None:
            data[k] = m[k]
    return Candidate.model_validate(data)


def same_candidate(a: Candidate, b: Candidate) -> bool:
    """Whether ``a`` is the candidate ``b`` (the chosen one is flagged on its listed row, not stored twice)."""
    return a is b or a == b


# The answer on top, stored whole (the notes on each table's rows too); the groups are stored as the table's rows
# only (all of them hold every candidate)
_ANSWER = {"status", "verdict", "best_value", "skipped", "violations", "startup_seconds_cpu", "startup_seconds_gpu",
           "here", "compiled", "grad_accum_steps", "eval_every", "eval_steps", "row_notes"}


def stored_extra(rec: Recommendation) -> dict[str, Any]:
    """What a recommendation keeps beside its columns and candidate rows, as JSON (``History.show`` reads it)."""
    return {
        "schema_version": rec.schema_version,
        "best_per_tier": {k: v.model_dump(mode="json") for k, v in rec.best_per_tier.items()},
        "best_per_provider": {k: v.model_dump(mode="json") for k, v in rec.best_per_provider.items()},
        "advice": list(rec.advice),
        "measured_devices": list(rec.measured_devices),
        "notes": list(rec.notes),
        "answer": rec.model_dump(mode="json", include=_ANSWER),
        "groups": [g.model_dump(mode="json") for g in rec.groups[: rec.constraints.top]],
    }


def ranked_count(rec: Recommendation) -> int:
    """Every candidate ``rec`` ranked, as its answer counts them ("the cheapest of 273 candidates"): not only the top
    ones it lists (``candidates``), which are all a recommendation read back from JSON keeps, but for its ``groups``
    (every ranked candidate, grouped by hardware)."""
    return len(rec.all_candidates) or sum(g.count for g in rec.groups) or len(rec.candidates)


def named_candidates(rec: Recommendation) -> list[Candidate]:
    """The candidates the answer showed beyond its top ranked ones: the table's rows (the best of each of the top
    kinds of machine), the safe choice named beside an at-risk choice, the best value and the safe alternative to an
    at-risk one, the best of each tier and of each provider. Each is stored as a row, so that a run on any machine
    the user was shown can be recorded against its estimate."""
    shown = [g.best for g in rec.groups[: rec.constraints.top]]
    shown += [rec.safe_choice] if rec.safe_choice is not None else []
    bv = rec.best_value
    shown += [c for c in (bv.candidate, bv.safe_alternative) if c is not None] if bv is not None else []
    shown += [*rec.best_per_tier.values(), *rec.best_per_provider.values()]
    named: list[Candidate] = []
    for cand in shown:
        if not any(same_candidate(cand, other) for other in (*rec.candidates, *named)):
            named.append(cand)
    return named


def measurement_rows(profile: Profile, profile_id: int) -> list[dict[str, Any]]:
    """The measurements rows of a stored profile: one per device and batch size."""
    return [
        {
            "profile_id": profile_id, "device": d.device, "device_kind": d.kind, "device_name": d.name,
            "spec_name": d.spec_name, "batch_size": m.batch_size, "threads": m.threads,
            "precision": m.precision, "compute_seconds": m.compute_seconds, "batch_seconds": m.batch_seconds,
            "spread": m.spread, "peak_memory_gib": m.peak_memory_gib,
            "gpu_utilization_pct": m.gpu_utilization_pct, "power_watts": m.power_watts, "oom": m.oom,
            "samples": list(m.compute_seconds_samples),
        }
        for d in profile.devices for m in d.measurements
    ]
