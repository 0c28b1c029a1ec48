"""Two records of one run at the same moment: exactly one is stored, the other gets the "already has this
outcome" refusal, on SQLite and on PostgreSQL.

Before, on PostgreSQL both transactions ran the duplicate check before either had inserted, both passed, and the
recommendation held the run twice (counted twice by `history compare` and the learned correction) without
--force. The race is forced, not hoped for: each writer waits after its check until the other has checked too
(or for ``_WAIT_SECONDS``, where the other is held back by the lock, as it must be).
"""

from __future__ import annotations

import threading

from history_helpers import recommendation
from sqlalchemy import func, select

from advisor.errors import HistoryError
from advisor.history import repository
from advisor.history.repository import History
from advisor.history.tables import OutcomeTable

_WAIT_SECONDS = 3.0


def _outcome_rows(url: str) -> int:
    with History(url) as hist, hist.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(OutcomeTable)).scalar()


def _record_at_once(url: str, monkeypatch, rec_id: int, *, force: bool = False) -> list[object]:
    """Record the same 5400 s run of ``rec_id`` from two threads, each with its own History (its own connection
    pool, as two processes have); returns what each got (its Outcome or its exception)."""
    checked = threading.Barrier(2)
    refuse_repeat = repository.refuse_repeat

    def check_then_wait(conn, outcome):
        refuse_repeat(conn, outcome)
        try:  # the other writer checks meanwhile, unless the lock holds it back
            checked.wait(timeout=_WAIT_SECONDS)
        except threading.BrokenBarrierError:
            pass

    monkeypatch.setattr(repository, "refuse_repeat", check_then_wait)
    started = threading.Barrier(2)
    results: list[object] = [None, None]

    def write(slot: int) -> None:
        with History(url) as hist:
            hist.list(limit=1)  # schema checked and a connection open before the start line
            started.wait(timeout=30)
            try:
                results[slot] = hist.record_outcome(rec_id, 5400.0, notes="run 1", force=force)
            except Exception as exc:  # noqa: BLE001 - the test reads it
                results[slot] = exc

    threads = [threading.Thread(target=write, args=(slot,)) for slot in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return results


def test_two_records_at_once_store_one_outcome(db_url, monkeypatch):
    with History(db_url) as hist:
        rec_id = hist.save_recommendation(recommendation("racer"))
    results = _record_at_once(db_url, monkeypatch, rec_id)
    stored = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(stored) == 1 and len(refused) == 1, results
    assert isinstance(refused[0], HistoryError), repr(refused[0])
    assert refused[0].message.startswith(f"Not recorded: recommendation {rec_id} already has this outcome, 1h30m")
    assert f"(outcome {stored[0].id}, recorded " in refused[0].message
    assert _outcome_rows(db_url) == 1
    with History(db_url) as hist:
        assert [(o.id, o.actual_seconds, o.notes) for o in hist.show(rec_id).outcomes] == \
            [(stored[0].id, 5400.0, "run 1")]


def test_two_forced_records_at_once_store_both(db_url, monkeypatch):
    """--force still stores another run that took as long, even at the same moment."""
    with History(db_url) as hist:
        rec_id = hist.save_recommendation(recommendation("racer"))
    results = _record_at_once(db_url, monkeypatch, rec_id, force=True)
    assert not any(isinstance(r, Exception) for r in results), results
    assert _outcome_rows(db_url) == 2
