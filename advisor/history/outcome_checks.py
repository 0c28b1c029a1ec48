"""What an outcome may hold, checked before anything is written: its status, its duration (1 ms to 1e9 s for a
completed run, the range the CLI, the service and the Python API take), how far it may be from its prediction
(``refuse_outlier``: more than ``OUTLIER_RATIO`` times only with force), that the recommendation does not hold it
already (``refuse_repeat``: only with force; of two records of one run at once, one is stored) and its note (text
that a database can store; the instance type is checked against the recommendation's candidates).

``advisor.track`` checks the note before the job starts, so that a bad note fails at once rather than after
hours of training with the outcome lost; ``History.record_outcome`` checks everything again before it writes.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from sqlalchemy import Connection, select, text

from advisor.caller import outside_stacklevel
from advisor.errors import ConfigError, HistoryError, OutlierRecorded
from advisor.history.tables import OutcomeTable
from advisor.predictor.outliers import OUTLIER_RATIO, times_off  # one rule for the guard, the fit and compare
from advisor.schemas import Outcome
from advisor.schemas.base import NUL
from advisor.units import MAX_ACTUAL_SECONDS, MIN_ACTUAL_SECONDS, format_duration

STATUSES = ("completed", "failed")


def check_notes(notes: Any) -> None:
    """HistoryError for a note that is not text a database can store (a number, a NUL, a lone surrogate)."""
    if notes is None:
        return
    if not isinstance(notes, str):
        raise HistoryError(f"An outcome's notes are text, got {type(notes).__name__} {notes!r:.80}.",
                           hint="Fix: pass notes as a string, or leave them out.")
    try:
        notes.encode("utf-8")
    except UnicodeEncodeError:
        storable = False
    else:
        storable = NUL not in notes
    if not storable:
        raise HistoryError("An outcome's notes hold a character no database can store: a NUL (\\x00) or a lone "
                           "surrogate. Nothing was written.", hint="Fix: remove that character from the notes.")


def check_outcome(actual_seconds: Any, status: Any, *, notes: Any = None) -> None:
    """ConfigError for a status or duration an outcome cannot have; HistoryError for its notes."""
    if status not in STATUSES:
        raise ConfigError(f"Unknown outcome status {status!r}.", hint="Fix: use 'completed' or 'failed'.")
    hint = "Fix: the job's real duration in seconds, e.g. record_outcome(id, 5400) (--actual-seconds 5400)."
    # numbers.Real, not (int, float): NumPy's int64 and float32 (a pandas column's cell) are seconds too
    if isinstance(actual_seconds, bool) or not isinstance(actual_seconds, numbers.Real):
        raise ConfigError(f"An outcome's duration is a number of seconds, got {actual_seconds!r:.60} "
                          f"({type(actual_seconds).__name__}).", hint=hint)
    # A failed run may have failed at once: its time is kept as a note on the run, never learned from.
    shortest = MIN_ACTUAL_SECONDS if status == "completed" else 0.0
    if not math.isfinite(actual_seconds) or not shortest <= actual_seconds <= MAX_ACTUAL_SECONDS:
        raise ConfigError(f"A {status} run's duration is {'1 ms' if shortest else '0 s'} to 1e9 s (31 years), got "
                          f"{actual_seconds!r} s.", hint=hint)
    check_notes(notes)


def judged_seconds(cand: dict[str, Any] | None) -> tuple[float | None, bool]:
    """(the prediction a run of the stored candidate ``cand`` is judged against, whether that is its uncorrected
    time): the base time of a candidate the learned correction changed, as the fit reads it
    (``history.training``), else its time. One prediction for the guard and the fit: judged against the corrected
    time, a run 17x it and 25x the base was stored without --force and then silently left out of the fit, and
    one under 20x the base refused."""
    if cand is None:
        return None, False
    base = cand.get("base_seconds")
    if cand.get("method") == "history" and isinstance(base, (int, float)) and math.isfinite(base) and base > 0:
        return float(base), True
    return cand["seconds"], False


def outlier(actual_seconds: float, predicted: float | None, *, uncorrected: bool = False) -> str | None:
    """Why ``actual_seconds`` looks like a mistake against ``predicted`` (the ``uncorrected`` prediction of a
    corrected candidate: said so), or None."""
    if not predicted or predicted <= 0 or actual_seconds <= 0:
        return None
    ratio = times_off(actual_seconds, predicted)
    if ratio <= OUTLIER_RATIO:
        return None
    side = "longer" if actual_seconds > predicted else "shorter"
    what = "uncorrected prediction (before the history's correction; what it learns against)" if uncorrected \
        else "predicted"
    return (f"{format_duration(actual_seconds)} is {ratio:,.0f}x {side} than the {what} "
            f"{format_duration(predicted)} (the job alone)")


def refuse_outlier(actual_seconds: float, predicted: float | None, *, uncorrected: bool = False) -> None:
    """HistoryError where ``actual_seconds`` is more than ``OUTLIER_RATIO`` times from ``predicted`` (from
    ``judged_seconds``): what ``History.record_outcome`` (the CLI, the service and the Python API) refuses without
    ``force``."""
    why = outlier(actual_seconds, predicted, uncorrected=uncorrected)
    if why:
        raise HistoryError(f"Not recorded: {why}, so it looks like a mistake (minutes typed as seconds, or a "
                           f"test run).", hint="Fix: check the duration; if it is right, add --force "
                                               "(force=True in Python); the learned correction will leave it out.")


# The stored notes' words for a forced outlier: what a client reads back from a server's outcome (``forced_words``).
FORCED = "recorded with --force: "


def forced_note(notes: str | None, actual_seconds: float, predicted: float | None, *,
                completed: bool, timed: bool = False) -> str | None:
    """``notes`` with, for a completed run recorded with force more than ``OUTLIER_RATIO`` times from ``predicted``
    (the prediction ``judged_seconds`` gives), "recorded with --force: 24x its prediction": the run's stored notes
    say it, so `history show` does (before, nothing stored said the run was forced). ``timed``: a run
    ``advisor.track`` timed, which no one forced: "timed by advisor.track: 24x its prediction"."""
    if not (completed and outlier(actual_seconds, predicted)):
        return notes
    how = "timed by advisor.track: " if timed else FORCED
    said = f"{how}{times_off(actual_seconds, predicted):,.0f}x its prediction"
    return f"{notes}; {said}" if notes else said


def left_out_words(why: str, outcome: Outcome, server_flag: str = "") -> str:
    """What a forced outlier (``why``: ``outlier``'s words) is told: kept, left out of the learned correction, and
    how to see and remove it (``server_flag``: " --server URL" where it is stored on that server)."""
    return (f"recorded with force: {why}, so the learned correction leaves it out (it learns only from runs within "
            f"{OUTLIER_RATIO:.0f}x of their uncorrected prediction); `advisor history compare{server_flag}` shows it; "
            f"`advisor history forget {outcome.recommendation_id} --outcome {outcome.id}{server_flag}` removes it.")


def forced_words(outcome: Outcome, server_flag: str) -> str | None:
    """``left_out_words`` for an ``outcome`` a server stored as a forced outlier (its notes end with ``FORCED``),
    where the server's own ``OutlierRecorded`` warning stays on the server; None for any other. ``why`` is against
    the prediction the outcome carries, else (a corrected prediction within 20x of it) the stored ratio."""
    notes = outcome.notes or ""
    if outcome.status != "completed" or FORCED not in notes:
        return None
    why = outlier(outcome.actual_seconds, outcome.predicted_seconds) or \
        f"{format_duration(outcome.actual_seconds)} is {notes.rsplit(FORCED, 1)[1]}"
    return left_out_words(why, outcome, server_flag)


def warn_left_out(outcome: Outcome, predicted: float | None, *, uncorrected: bool = False) -> None:
    """``OutlierRecorded`` where a (forced) ``outcome`` is more than ``OUTLIER_RATIO`` times from ``predicted``:
    stored, but the learned correction leaves it out. Before, `history record --force` said only "Recorded"."""
    why = outlier(outcome.actual_seconds, predicted, uncorrected=uncorrected) if outcome.status == "completed" \
        else None
    if why:
        warnings.warn(left_out_words(why, outcome), OutlierRecorded, stacklevel=outside_stacklevel())


# The first key of the PostgreSQL advisory locks advisor takes ("advr"); the second is the recommendation's id.
_OUTCOME_LOCK_NAMESPACE = 0x61647672


def hold_recommendation(conn: Connection, recommendation_id: int) -> None:
    """Make another transaction that checks an outcome of ``recommendation_id`` wait until ``conn``'s ends.

    On PostgreSQL (read committed) two records of one run at the same moment both checked before either had
    inserted, both passed, and the run was stored twice; now the second waits for the first to commit, then sees
    its outcome and is refused. A transaction-scoped advisory lock, not SELECT ... FOR UPDATE on the
    recommendation's row: that needs the UPDATE privilege on recommendations, and a role may record outcomes with
    INSERT on outcomes alone. SQLite needs nothing: its write transactions begin IMMEDIATE, one at a time
    (``advisor.history.engine``)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:namespace, :recommendation_id)"),
                     {"namespace": _OUTCOME_LOCK_NAMESPACE, "recommendation_id": recommendation_id})


def refuse_repeat(conn: Connection, outcome: Outcome) -> None:
    """HistoryError where ``outcome``'s recommendation already has it: the same duration, instance and status. That
    is one run recorded twice (a retried CI step, a command run again), which would count twice in ``history
    compare`` and in the learned correction; ``History.record_outcome`` refuses it without ``force`` (another run
    that took exactly as long).

    The check holds a lock on the recommendation until ``conn``'s transaction ends (``hold_recommendation``),
    so that two records of one run at the same moment store it once."""
    hold_recommendation(conn, outcome.recommendation_id)
    o = OutcomeTable
    instance = o.instance_type.is_(None) if outcome.instance_type is None else o.instance_type == outcome.instance_type
    found = conn.execute(select(o.id, o.recorded_at).where(
        o.recommendation_id == outcome.recommendation_id, o.status == outcome.status,
        o.actual_seconds == outcome.actual_seconds, instance).order_by(o.id).limit(1)).first()
    if found is None:
        return
    rid = outcome.recommendation_id
    run = ("a failed run of " if outcome.status == "failed" else "") + format_duration(outcome.actual_seconds)
    on = f" on {outcome.instance_type}" if outcome.instance_type else ""
    # A failed run is neither compared nor learned from: twice, it is one crash listed as two.
    twice = "list one crash as two (`history show`)" if outcome.status == "failed" else \
        "count one run twice in `history compare` and the learned correction"
    raise HistoryError(f"Not recorded: recommendation {rid} already has this outcome, {run}{on} (outcome "
                       f"{found.id}, recorded {found.recorded_at:%Y-%m-%d %H:%M} UTC); a second would {twice}.",
                       hint="Fix: nothing to do if this repeats a record that went through (a retried step); if it "
                            "is another run that took as long, add --force (force=True in Python). `advisor history "
                            f"show {rid}` lists its outcomes.")
