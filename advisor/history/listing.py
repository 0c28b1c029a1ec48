"""The rows of ``History.list``: each stored recommendation with its chosen candidate's headline, its latest
outcome, and the cost it was ranked on.

The recommendation row copies the chosen candidate's on-demand cost (``chosen_cost_usd``), but an answer ranked
under ``--spot`` chose on the spot cost: the list showed $58.01 where the answer and its page said "$22.02 spot".
The chosen candidate's spot cost and ``interruptible`` flag are read from its candidates row, for the listed
page only (one indexed lookup per 500 ids), so the list shows the figure the answer was ranked on. So is its
start-up: the costs pay for the whole run, start-up + job, where the predicted time is the job alone (as an outcome
times it), and the list gave "2.7s ... $0.0023" for a run of 2m03s; it now has the whole run's time too. The
latest outcome comes with its own machine's prediction (copied on the outcome), which differs from the chosen one's
where it ran elsewhere: a -45% miss on another machine read as a 1% hit beside the chosen one's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from advisor.history.tables import CandidateTable, OutcomeTable
from advisor.schemas import HistoryEntry

_CHUNK = 500  # ids per IN (...): well under every backend's bound-parameter limit


def _chunks(ids: list[int]) -> Sequence[list[int]]:
    return [ids[lo:lo + _CHUNK] for lo in range(0, len(ids), _CHUNK)]


def _outcomes(conn: Connection, ids: list[int]) -> dict[int, list[Any]]:
    """Each recommendation's outcomes, oldest first."""
    o = OutcomeTable
    found: dict[int, list[Any]] = {}
    for chunk in _chunks(ids):
        for out in conn.execute(select(o.recommendation_id, o.actual_seconds, o.status, o.instance_type,
                                       o.predicted_seconds)
                                .where(o.recommendation_id.in_(chunk)).order_by(o.recorded_at, o.id)):
            found.setdefault(out.recommendation_id, []).append(out)
    return found


def _chosen_parts(conn: Connection, ids: list[int]) -> dict[int, tuple[float | None, bool, float | None]]:
    """Each recommendation's chosen candidate: (its spot cost, whether it was ranked on it, its start-up)."""
    c = CandidateTable
    found: dict[int, tuple[float | None, bool, float | None]] = {}
    for chunk in _chunks(ids):
        # The flag and the start-up sit in the row's JSON (every Candidate field without a column of its own).
        stmt = (select(c.recommendation_id, c.spot_cost_usd, c.extra["interruptible"].as_boolean(),
                       c.extra["startup_seconds"].as_float())
                .where(c.recommendation_id.in_(chunk), c.chosen.is_(True)))
        for rid, spot, interruptible, startup in conn.execute(stmt):
            found[rid] = (spot, bool(interruptible), startup)
    return found


def history_entries(conn: Connection, rows: Sequence[Any]) -> list[HistoryEntry]:
    """The list rows of ``rows`` (``History.list``'s selection of recommendations columns)."""
    ids = [row.id for row in rows]
    outcomes, chosen = _outcomes(conn, ids), _chosen_parts(conn, ids)
    entries = []
    for row in rows:
        outs = outcomes.get(row.id, [])
        last = outs[-1] if outs else None
        spot_cost, interruptible, startup = chosen.get(row.id, (None, False, None))
        entries.append(HistoryEntry(
            id=row.id, created_at=row.created_at, workload=row.name, dataset_size=row.dataset_size,
            epochs=row.epochs, batch_size=row.batch_size, objective=row.objective, provider=row.chosen_provider,
            instance_type=row.chosen_instance_type, tier=row.chosen_tier, gpu=row.chosen_gpu,
            gpu_count=row.chosen_gpu_count, predicted_seconds=row.chosen_seconds, low=row.chosen_low,
            high=row.chosen_high, startup_seconds=startup, cost_usd=row.chosen_cost_usd,
            spot_cost_usd=spot_cost, interruptible=interruptible,
            method=row.chosen_method, n_candidates=row.n_candidates or 0, n_outcomes=len(outs),
            **({"actual_seconds": last.actual_seconds, "status": last.status,
                "outcome_instance_type": last.instance_type,
                "outcome_predicted_seconds": last.predicted_seconds} if last else {})))
    return entries
