"""advisor.track times the real job and stores the outcome: as a context manager, as a decorator, on failure."""

from __future__ import annotations

import time

import pytest
from history_helpers import recommendation

import advisor
from advisor.errors import HistoryError
from advisor.history.repository import History


def test_context_manager_records_the_duration(history, db_url):
    rec = recommendation("m")
    rec.id = history.save_recommendation(rec)
    with advisor.track(rec.id) as t:  # ADVISOR_DATABASE_URL is db_url
        time.sleep(0.05)
    assert t.outcome is not None and t.outcome.status == "completed"
    assert 0.05 <= t.outcome.actual_seconds < 5 and t.seconds == t.outcome.actual_seconds
    comp = history.compare()
    assert [r.recommendation_id for r in comp.rows] == [rec.id]
    assert comp.rows[0].actual_seconds == pytest.approx(t.seconds)
    assert comp.rows[0].instance_type == rec.chosen.instance_type


def test_decorator_records_each_call(history):
    rec_id = history.save_recommendation(recommendation("m"))

    @advisor.track(rec_id, url=history.url, instance_type="c7i.8xlarge")
    def train(x):
        return x * 2

    assert train(2) == 4 and train(3) == 6
    outcomes = history.show(rec_id).outcomes
    assert [(o.status, o.instance_type) for o in outcomes] == [("completed", "c7i.8xlarge")] * 2


def test_exception_marks_the_run_failed_and_propagates(history):
    rec_id = history.save_recommendation(recommendation("m"))
    with pytest.raises(RuntimeError, match="diverged"):
        with advisor.track(rec_id, url=history.url):
            raise RuntimeError("loss diverged")
    (outcome,) = history.show(rec_id).outcomes
    assert outcome.status == "failed" and "RuntimeError: loss diverged" in outcome.notes
    assert history.compare().rows == []  # a failed run's duration is not the job's


def test_ctrl_c_is_recorded_as_failed(history):
    rec_id = history.save_recommendation(recommendation("m"))
    with pytest.raises(KeyboardInterrupt):
        with advisor.track(rec_id, url=history.url):
            raise KeyboardInterrupt
    assert history.show(rec_id).outcomes[0].status == "failed"


def test_unknown_id_or_instance_fails_before_the_job_runs(history):
    ran = []
    with pytest.raises(HistoryError, match="No recommendation 999"):
        with advisor.track(999, url=history.url):
            ran.append(1)
    rec_id = history.save_recommendation(recommendation("m"))
    with pytest.raises(HistoryError, match="not a candidate"):
        with advisor.track(rec_id, url=history.url, instance_type="nope.large"):
            ran.append(1)
    assert ran == []
    assert history.show(rec_id).outcomes == []


def test_accepts_the_recommendation_itself(history):
    rec = recommendation("m")
    rec.id = history.save_recommendation(rec)
    with advisor.track(rec, url=history.url):
        pass
    assert len(history.show(rec.id).outcomes) == 1
    unsaved = recommendation("m")
    with pytest.raises(HistoryError, match="not saved"):
        advisor.track(unsaved)


def test_record_outcome_then_list_from_a_new_instance(db_url):
    with History(db_url) as hist:
        rec_id = hist.save_recommendation(recommendation("m"))
    with advisor.track(rec_id):
        pass
    with History(db_url) as hist:
        assert hist.list()[0].n_outcomes == 1
