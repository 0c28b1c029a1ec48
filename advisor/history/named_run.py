"""Which stored candidate of a recommendation a run on a named instance type was (``history record --instance X``,
``History.record_outcome(instance_type=X)``, ``track``), and the machines an older answer named beyond its rows.

Since 485885a every machine an answer shows (its table's rows, the best value, the best per tier and per
provider) is stored as a candidate row. An advisor before that stored the answer's top rows alone as rows, and the
rest only in the recommendation's JSON (``extra``: ``best_per_tier``, ``best_per_provider``, the answer's
``best_value``). Its answer printed them ("Best per tier: CPU: aws m7a.large ...", "Best value: ... on 192 vCPU
(aws m7a.48xlarge)"), so its user may have run one, and a record of that run was refused as "not a candidate".
Where no row matches, the name is looked up among those too; the outcome then copies that candidate's prediction
as it would a row's, with no candidate id (as a run ``here`` has none).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, select

from advisor.errors import HistoryError, did_you_mean
from advisor.history.rows import candidate_row
from advisor.history.tables import RecommendationTable
from advisor.schemas import Candidate

_LISTED = 12  # names listed in the "not a candidate" hint


def answer_named(extra: Mapping[str, Any] | None) -> list[Candidate]:
    """The candidates a recommendation's stored JSON (``extra``) holds: its best value (and that one's safe
    alternative), best per tier and best per provider, in that order, each once. One an advisor of today cannot
    read is left out."""
    extra = extra if isinstance(extra, Mapping) else {}
    best_value = (extra.get("answer") or {}).get("best_value") or {}
    found: list[Any] = [best_value.get("candidate"), best_value.get("safe_alternative")] \
        if isinstance(best_value, Mapping) else []
    for key in ("best_per_tier", "best_per_provider"):
        held = extra.get(key)
        found += list(held.values()) if isinstance(held, Mapping) else []
    named: list[Candidate] = []
    for data in found:
        try:
            cand = Candidate.model_validate(data) if isinstance(data, Mapping) else None
        except ValidationError:
            cand = None
        if cand is not None and cand not in named:
            named.append(cand)
    return named


def _answer_rows(conn: Connection, recommendation_id: int) -> list[dict[str, Any]]:
    """``answer_named``'s candidates of the stored recommendation, as ``History._run_candidate``'s rows (no id)."""
    extra = conn.execute(select(RecommendationTable.extra).where(RecommendationTable.id == recommendation_id)).scalar()
    return [{**candidate_row(c, recommendation_id, rank=None, chosen=False, excluded=False), "id": None}
            for c in answer_named(extra)]


def named_candidate(conn: Connection, recommendation_id: int, cands: list[dict[str, Any]],
                    instance_type: Any) -> dict[str, Any]:
    """The row of ``cands`` (recommendation ``recommendation_id``'s candidate rows) named ``instance_type`` (any
    case): the chosen one first, then a listed one before an excluded one, by rank; where none is, the first
    candidate of that name an older answer stored in its JSON (``answer_named``). HistoryError where neither
    holds it."""
    if not isinstance(instance_type, str):
        raise HistoryError(f"instance_type is an instance's name, got {instance_type!r}.",
                           hint=f"Fix: e.g. instance_type=\"g5.xlarge\" (`advisor history show "
                                f"{recommendation_id}` lists the candidates).")
    wanted = instance_type.strip().lower()
    matches = [c for c in cands if c["instance_type"].lower() == wanted]
    if matches:
        matches.sort(key=lambda c: (not c["chosen"], c["excluded"],
                                    c["rank"] if c["rank"] is not None else 1 << 30))
        return matches[0]
    older = _answer_rows(conn, recommendation_id)
    match = next((c for c in older if c["instance_type"].lower() == wanted), None)
    if match is not None:
        return match
    names = sorted({c["instance_type"] for c in (*cands, *older)})
    raise HistoryError(
        f"Instance type {instance_type!r} is not a candidate of recommendation {recommendation_id}."
        + did_you_mean(instance_type, names),
        hint=f"Fix: use one of its candidates ({', '.join(names[:_LISTED]) or 'none'}"
             + (", ..." if len(names) > _LISTED else "") + "), or leave --instance out for the chosen one.")
