"""What the learned history correction trains on: every completed run with its prediction
(``History.training_rows``). The base (uncorrected) prediction stands where the candidate was already corrected,
beside the probe's fastest time per sample of the profile the run came from. The query and the rows it gives;
the repository runs it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Select, func, select

from advisor.history.rows import recommended_model
from advisor.history.tables import MeasurementTable, OutcomeTable, RecommendationTable, WorkloadTable
from advisor.schemas import TrainingRow
from advisor.units import is_finite


def training_statement(runs: Callable[..., Select], limit: int | None) -> Select:
    """The newest ``limit`` completed runs with what ``training_rows_of`` reads. ``runs``: the repository's query
    of completed runs (``History._runs``: workload and since filters, then extra columns)."""
    fastest = (
        select(MeasurementTable.profile_id,
               func.min(MeasurementTable.compute_seconds / MeasurementTable.batch_size).label("per_sample"))
        .where(MeasurementTable.compute_seconds.is_not(None), MeasurementTable.oom.is_(False))
        .group_by(MeasurementTable.profile_id).subquery()
    )
    r = RecommendationTable
    stmt = (
        runs(None, None, r.dataset_size, r.epochs, r.batch_size, WorkloadTable.param_count,
             WorkloadTable.flops_per_sample, fastest.c.per_sample, r.workload_info)
        .join(r, r.id == OutcomeTable.recommendation_id)
        .outerjoin(fastest, fastest.c.profile_id == r.profile_id)
        .order_by(OutcomeTable.recorded_at.desc(), OutcomeTable.id.desc())
    )
    return stmt.limit(limit) if limit is not None else stmt


def training_rows_of(result: Sequence[Any]) -> list[TrainingRow]:
    """The rows of ``training_statement``, oldest first, with the BASE prediction: a candidate already corrected
    by history contributes its uncorrected seconds, or nothing if unknown. A CPU instance's size is its threads,
    as the correction reads a target's (``offer_target``: vCPUs over threads per core, 2 with SMT); a run here
    stored its threads already. An e2-standard-2 was learned at 2 and corrected at 1."""
    from advisor.history.here_run import is_here
    from advisor.predictor.targets import default_cpu_lookup, instance_cpu

    lookup = default_cpu_lookup()
    out = []
    for row in result:
        if row.method == "history":
            base, method = row.base_seconds, row.base_method
        else:
            base, method = row.predicted_seconds, row.method
        if not (is_finite(base) and base > 0 and is_finite(row.actual_seconds) and row.actual_seconds > 0):
            continue
        if method not in ("measured", "scaled"):
            continue
        vcpus = row.vcpus
        if row.tier == "cpu" and vcpus and vcpus > 0 and not is_here(row.instance_type):
            vcpus = instance_cpu(row.provider, row.instance_type, vcpus, lookup)[1]
        # the recommended model's own figures: the workloads row keeps the first model of the file's name and hash
        params, flops = recommended_model(row.workload_info, row.param_count, row.flops_per_sample)
        out.append(TrainingRow(
            recommendation_id=row.recommendation_id, outcome_id=row.outcome_id, workload=row.workload,
            param_count=params, flops_per_sample=flops, dataset_size=row.dataset_size,
            epochs=row.epochs, batch_size=row.batch_size, tier=row.tier, gpu=row.gpu,
            gpu_count=row.gpu_count or 0, vcpus=vcpus, method=method, predicted_seconds=base,
            actual_seconds=row.actual_seconds, measured_seconds_per_sample=row.per_sample,
            **({"low_seconds": row.low, "high_seconds": row.high}
               if row.method != "history" and is_finite(row.low) and is_finite(row.high) else {}),
        ))
    out.reverse()  # oldest first
    return out
