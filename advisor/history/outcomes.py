"""Outcome housekeeping beside the repository: a run's predicted time, forgetting outcomes, the saved predictions
that ``advisor history list`` shows beside the recommendations, and how many of each a page of it is of
(``totals``).

An outcome more than ``OUTLIER_RATIO`` times away from its prediction is far more likely a mistake (minutes typed
as seconds, a test run of a few steps timed by ``track``) than a real job: ``History.record_outcome`` (so
``advisor history record`` and the Python API) refuses it without force, and ``advisor.track`` stores it but warns
(the guard: ``advisor.history.outcome_checks``). One such outcome would otherwise dominate
``history compare`` and the learned correction (a 0.2 s block against a 4h38m prediction read as +8,227,568%).
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import delete, func, select

from advisor.errors import HistoryError
from advisor.history.filters import matching, newest_first_filtered
from advisor.history.outcome_checks import outlier  # noqa: F401 - importable from here, as before
from advisor.history.repository import History
from advisor.history.tables import (
    STORED_STARTUP_KEY,
    OutcomeTable,
    PredictionTable,
    RecommendationTable,
    WorkloadTable,
)
from advisor.schemas import Estimate, PredictionEntry


def predicted_seconds(hist: History, recommendation_id: int, instance_type: str | None = None) -> float | None:
    """The job time a run of the candidate that was run (default: the chosen one) is judged against: its
    uncorrected time where the history's correction changed it, as the fit reads it (``judged_seconds``);
    HistoryError if the recommendation or the instance is unknown."""
    from advisor.history.outcome_checks import judged_seconds

    with hist._read() as conn:
        cand = hist._run_candidate(conn, recommendation_id, instance_type)[1]
    return judged_seconds(cand)[0]


def forget(hist: History, recommendation_id: int, outcome_id: int | None = None) -> int:
    """Delete the recorded outcomes of a recommendation (or only ``outcome_id``); returns how many went.
    The recommendation itself stays. HistoryError when there is nothing to forget."""
    o = OutcomeTable
    stmt = delete(o).where(o.recommendation_id == recommendation_id)
    if outcome_id is not None:
        stmt = stmt.where(o.id == outcome_id)
    with hist._write(creating=False) as conn:  # a SQLite file not yet made is "No history at", not made
        hist._run_candidate(conn, recommendation_id, None)  # an unknown id is an error, not "0 forgotten"
        # an outcome id past the id column's range names no row (the driver would fail on it)
        storable = outcome_id is None or hist._storable_id(outcome_id)
        gone = (conn.execute(stmt).rowcount or 0) if storable else 0
    if not gone:
        what = (f"There is no outcome {outcome_id} of recommendation {recommendation_id}" if outcome_id is not None
                else f"There are no outcomes for recommendation {recommendation_id}")
        raise HistoryError(f"{what} to forget.",
                           hint=f"Fix: `advisor history show {recommendation_id}` lists its outcomes.")
    return gone


def list_predictions(hist: History, workload: str | None = None, since: datetime | str | None = None,
                     limit: int | None = 50, prediction_id: int | None = None,
                     offset: int = 0) -> list[PredictionEntry]:
    """Saved predictions, newest first, after the newest ``offset`` (``prediction_id``: that one, or none)."""
    p = PredictionTable
    stmt = (select(p.id, p.created_at, WorkloadTable.name, p.dataset_size, p.epochs, p.batch_size, p.target_kind,
                   p.gpu, p.gpu_count, p.threads, p.seconds, p.low, p.high, p.method, p.precision)
            .join(WorkloadTable, WorkloadTable.id == p.workload_id).order_by(p.created_at.desc(), p.id.desc()))
    stmt = newest_first_filtered(stmt, p.created_at, workload, since, limit, offset)
    if prediction_id is not None:  # an id past the column's range names no row (the driver would fail on it)
        stmt = stmt.where(p.id == prediction_id) if hist._storable_id(prediction_id) else stmt.where(False)
    with hist._read() as conn:
        rows = conn.execute(stmt).all()
    return [PredictionEntry(
        id=r.id, created_at=r.created_at, workload=r.name, dataset_size=r.dataset_size, epochs=r.epochs,
        batch_size=r.batch_size, seconds=r.seconds, low=r.low, high=r.high, method=r.method, precision=r.precision,
        target=(f"{r.gpu_count} x {r.gpu}" if r.target_kind == "gpu"
                else "cpu" + (f" ({r.threads} thread{'s' if r.threads != 1 else ''})" if r.threads else "")))
        for r in rows]


def saved_prediction(hist: History, prediction_id: int) -> tuple[Estimate | None, float | None]:
    """The estimate ``advisor predict`` saved as ``prediction_id`` and the instance start-up it printed beside it
    (a GPU model's "with start-up"; None for a CPU, a device here, or a row saved before it was kept): as it printed
    them. The estimate is None where there is no such row, or one written by an advisor whose estimate this one
    no longer reads."""
    from pydantic import ValidationError

    if not hist._storable_id(prediction_id):
        return None, None
    with hist._read() as conn:
        data = conn.execute(select(PredictionTable.data).where(PredictionTable.id == prediction_id)).scalar()
    try:
        est = Estimate.model_validate(data) if data else None
    except ValidationError:
        return None, None
    if est is None:
        return None, None
    # The row was written before its id existed (history_id null in it): the id is the row's.
    est.history_id = prediction_id
    startup = data.get(STORED_STARTUP_KEY)
    usable = isinstance(startup, (int, float)) and not isinstance(startup, bool) and math.isfinite(startup)
    return est, (float(startup) if usable and startup >= 0 else None)


def totals(hist: History, workload: str | None = None, since: datetime | str | None = None) -> tuple[int, int]:
    """How many stored recommendations and saved predictions match ``workload`` / ``since``: what a page of
    ``history list`` is "of"."""
    counts = []
    with hist._read() as conn:
        for table in (RecommendationTable, PredictionTable):
            stmt = select(func.count()).select_from(table).join(WorkloadTable, WorkloadTable.id == table.workload_id)
            counts.append(int(conn.execute(matching(stmt, table.created_at, workload, since)).scalar() or 0))
    return counts[0], counts[1]
