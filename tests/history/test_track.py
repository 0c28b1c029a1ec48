"""advisor.track times the real job and stores the outcome: as a context manager, as a decorator, on failure."""

from __future__ import annotations

import inspect
import time
import warnings
from collections.abc import Callable, Iterator
from typing import NamedTuple

import pytest
from history_helpers import recommendation

import advisor
from advisor.errors import HistoryError
from advisor.history.repository import History


class Clock:
    """``advisor.track``'s clock, moved by the test: a block of "no time" must not take over a millisecond when a
    loaded CI machine preempts the test between the block's two readings."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    import advisor.history.track as track_module

    fake = Clock()
    monkeypatch.setattr(track_module, "time", fake)
    return fake


class SavedThenLocked(NamedTuple):
    url: str  # the SQLite history, ADVISOR_DATABASE_URL's too (`advisor history record` reads it)
    rec_id: int  # a recommendation saved there
    lock: Callable[[], object]  # takes the history's lock, as another process saving would


@pytest.fixture
def saved_then_locked(tmp_path, monkeypatch) -> Iterator[SavedThenLocked]:
    """A recommendation saved in a history whose lock the test takes while the job runs; the busy timeout 0.5 s,
    not 30 s of waiting for the lock."""
    import sqlite3

    import advisor.history.engine as engine

    monkeypatch.setattr(engine, "BUSY_TIMEOUT_SECONDS", 0.5)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    with History(url) as hist:
        rec_id = hist.save_recommendation(recommendation("m"))
    holder = sqlite3.connect(tmp_path / "h.db", isolation_level=None)
    try:
        yield SavedThenLocked(url, rec_id, lambda: holder.execute("BEGIN EXCLUSIVE"))
    finally:
        holder.close()


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
        time.sleep(0.01)
        return x * 2

    assert train(2) == 4 and train(3) == 6
    outcomes = history.show(rec_id).outcomes
    assert [(o.status, o.instance_type) for o in outcomes] == [("completed", "c7i.8xlarge")] * 2


def test_exception_marks_the_run_failed_and_propagates(history):
    rec_id = history.save_recommendation(recommendation("m"))
    with pytest.raises(RuntimeError, match="diverged"):
        with advisor.track(rec_id, url=history.url):
            time.sleep(0.01)  # a job that ran, then failed
            raise RuntimeError("loss diverged")
    (outcome,) = history.show(rec_id).outcomes
    assert outcome.status == "failed" and "RuntimeError: loss diverged" in outcome.notes
    assert history.compare().rows == []  # a failed run's duration is not the job's


def test_ctrl_c_is_recorded_as_failed(history):
    rec_id = history.save_recommendation(recommendation("m"))
    with pytest.raises(KeyboardInterrupt):
        with advisor.track(rec_id, url=history.url):
            time.sleep(0.01)
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
        time.sleep(0.01)
    assert len(history.show(rec.id).outcomes) == 1
    unsaved = recommendation("m")
    with pytest.raises(HistoryError, match="not saved"):
        advisor.track(unsaved)


def test_record_outcome_then_list_from_a_new_instance(db_url):
    with History(db_url) as hist:
        rec_id = hist.save_recommendation(recommendation("m"))
    with advisor.track(rec_id):
        time.sleep(0.01)
    with History(db_url) as hist:
        assert hist.list()[0].n_outcomes == 1


def test_an_async_job_is_timed_over_its_awaiting_and_its_failure_recorded(history):
    """ContextDecorator timed only the call that made the coroutine: 8 us "completed", even when it raised."""
    import asyncio

    rec_id = history.save_recommendation(recommendation("m"))

    @advisor.track(rec_id, url=history.url)
    async def train(fail: bool) -> str:
        await asyncio.sleep(0.05)
        if fail:
            raise ValueError("training failed")
        return "done"

    assert asyncio.run(train(False)) == "done"
    with pytest.raises(ValueError, match="training failed"):
        asyncio.run(train(True))
    done, failed = history.show(rec_id).outcomes
    assert done.status == "completed" and 0.05 <= done.actual_seconds < 5
    assert failed.status == "failed" and failed.actual_seconds >= 0.05 and "training failed" in failed.notes


def test_a_generator_function_is_refused_when_decorated(history):
    from advisor.errors import ConfigError

    rec_id = history.save_recommendation(recommendation("m"))
    with pytest.raises(ConfigError, match="cannot time the generator function"):
        @advisor.track(rec_id, url=history.url)
        def batches():
            yield 1
    assert history.show(rec_id).outcomes == []


@pytest.mark.parametrize("notes", [5, "a\x00b", "x\ud800"])
def test_bad_notes_are_refused_before_the_job_runs(history, notes):
    rec_id = history.save_recommendation(recommendation("m"))
    with pytest.raises(HistoryError, match="notes"):
        with advisor.track(rec_id, url=history.url, notes=notes):
            raise AssertionError("the job ran")
    with pytest.raises(HistoryError, match="notes"):
        history.record_outcome(rec_id, 60.0, notes=notes)
    assert history.show(rec_id).outcomes == []


def test_a_recommendation_from_another_database_is_refused_not_recorded_on_another_job(history, tmp_path):
    """track(rec) wrote to the default database, onto whatever recommendation had rec's id there."""
    other = History(f"sqlite:///{tmp_path / 'other.db'}")
    mine = recommendation("mine")
    mine.id = other.save_recommendation(mine)
    theirs = recommendation("theirs")
    assert history.save_recommendation(theirs) == mine.id  # the same id, another job
    with pytest.raises(HistoryError, match="is another recommendation .*theirs.* than the one given .*mine"):
        with advisor.track(mine, url=history.url):
            raise AssertionError("the job ran")
    assert history.show(mine.id).outcomes == []
    with advisor.track(mine, url=other.url):
        time.sleep(0.01)
    assert len(other.show(mine.id).outcomes) == 1
    other.close()


def test_under_a_millisecond_is_no_job(history, clock):
    rec_id = history.save_recommendation(recommendation("m"))
    with pytest.warns(RuntimeWarning, match="less than a millisecond: no job ran"):
        with advisor.track(rec_id, url=history.url) as tracked:
            clock.now += 0.0004
    assert tracked.outcome is None and history.show(rec_id).outcomes == []
    from advisor.errors import ConfigError

    with pytest.raises(ConfigError, match="duration is 1 ms to 1e9 s"):
        history.record_outcome(rec_id, 0.0005)


@pytest.mark.parametrize("error", [RuntimeError("data path missing"), KeyboardInterrupt()])
def test_a_block_that_raised_within_a_millisecond_is_no_job_either(history, error, clock):
    """It was stored as a failed outcome of ~0.05 ms, which `history list` then showed in place of the real one."""
    rec_id = history.save_recommendation(recommendation("m"))
    history.record_outcome(rec_id, 1750.0)  # the real, completed run
    with pytest.warns(RuntimeWarning, match="less than a millisecond: the block raised before any job ran, so no "
                                            "outcome was recorded"):
        with pytest.raises(type(error)), advisor.track(rec_id, url=history.url) as tracked:
            clock.now += 0.0004
            raise error
    assert tracked.outcome is None and tracked.seconds < 1e-3
    assert [(o.actual_seconds, o.status) for o in history.show(rec_id).outcomes] == [(1750.0, "completed")]
    (entry,) = history.list()
    assert (entry.actual_seconds, entry.status, entry.n_outcomes) == (1750.0, "completed", 1)


def test_the_same_job_saved_half_a_second_apart_elsewhere_is_another_recommendation(history, tmp_path):
    """The check compared the job and the time to a second: a twin saved 0.57 s later in the default database
    took the outcome."""
    from datetime import timedelta

    other = History(f"sqlite:///{tmp_path / 'other.db'}")
    mine = recommendation("m")
    mine.id = other.save_recommendation(mine)
    twin = recommendation("m", created_at=mine.created_at + timedelta(seconds=0.57))
    assert history.save_recommendation(twin) == mine.id
    with pytest.raises(HistoryError, match=r"another recommendation \(m, 10 x 50,000 @ 128, made .*\.\d{6} UTC\)"):
        advisor.track(mine, url=history.url).__enter__()
    other.close()


def test_an_outcomes_duration_of_the_wrong_type_or_size_says_which(history):
    from advisor.errors import ConfigError

    rec_id = history.save_recommendation(recommendation("m"))
    with pytest.raises(ConfigError, match=r"An outcome's duration is a number of seconds, got '90' \(str\)"):
        history.record_outcome(rec_id, "90")
    with pytest.raises(ConfigError, match=r"A failed run's duration is 0 s to 1e9 s \(31 years\), got -1 s"):
        history.record_outcome(rec_id, -1, status="failed")
    assert history.record_outcome(rec_id, 0.0, status="failed").status == "failed"  # it failed at once


def test_an_outcomes_duration_may_be_a_numpy_number(history):
    """A pandas column's cell (numpy int64, float32) was refused as "a number of seconds, got np.int64(1750)", though
    advisor.api.record_outcome took it; it is stored as a float."""
    import numpy as np

    rec_id = history.save_recommendation(recommendation("m"))
    assert history.record_outcome(rec_id, np.int64(1750)).actual_seconds == 1750.0
    assert history.record_outcome(rec_id, np.float32(1800.5)).actual_seconds == 1800.5
    stored = [(o.actual_seconds, type(o.actual_seconds)) for o in history.show(rec_id).outcomes]
    assert stored == [(1750.0, float), (1800.5, float)]


def _line() -> int:
    import inspect

    return inspect.currentframe().f_back.f_lineno


def test_tracks_warnings_name_the_callers_line(history, clock):
    """They named advisor/option_words.py:79 (python_surface's wrapper) for every block, decorated or not."""
    import warnings

    rec_id = history.save_recommendation(recommendation("m"))

    @advisor.track(rec_id, url=history.url)
    def train():
        clock.now += 0.01

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        empty = _line() + 1
        with advisor.track(rec_id, url=history.url):
            clock.now += 0.0004
        short = _line() + 1
        with advisor.track(rec_id, url=history.url):
            clock.now += 0.01
        called = _line() + 1
        train()
    sites = [(w.filename, w.lineno, str(w.message)) for w in caught]
    assert [(f, n) for f, n, _ in sites] == [(__file__, empty), (__file__, short), (__file__, called)], sites
    assert "less than a millisecond" in sites[0][2]
    assert all("shorter than the predicted" in text for _, _, text in sites[1:])
    assert len(history.show(rec_id).outcomes) == 2  # the two that ran a job


def test_track_leaves_the_process_warning_filters_to_other_threads(history, clock, monkeypatch):
    """track recorded its outcome inside ``warnings.catch_warnings()``, which swaps the process-wide filter list:
    while it wrote, every thread of the caller had OutlierRecorded ignored, and a filter another thread added
    meanwhile was thrown away when the block restored its saved list (huber.py tells the same story)."""
    import warnings

    import advisor.history.repository as repository
    from advisor.errors import OutlierRecorded

    rec_id = history.save_recommendation(recommendation("m"))
    seen_while_recording: list[list] = []
    real = repository.forced_note

    def another_thread_meanwhile(*args, **kwargs):  # runs while the outcome is being stored
        seen_while_recording.append([f for f in warnings.filters if f[2] is OutlierRecorded])
        warnings.filterwarnings("error", message="the host's own filter")
        return real(*args, **kwargs)

    monkeypatch.setattr(repository, "forced_note", another_thread_meanwhile)
    with warnings.catch_warnings(record=True) as caught:  # the test's own block, around everything
        warnings.simplefilter("always")
        with advisor.track(rec_id, url=history.url) as tracked:
            clock.now += 100_000.0  # a run far from its prediction: track warns of it itself, once
        assert seen_while_recording == [[]]  # OutlierRecorded was not ignored for the whole process
        assert any(f[1] is not None and f[1].pattern == "the host's own filter" for f in warnings.filters)
    assert tracked.outcome is not None and tracked.outcome.actual_seconds == 100_000.0
    texts = [str(w.message) for w in caught]
    assert [w.category for w in caught] == [RuntimeWarning], texts
    assert texts[0].startswith("advisor.track recorded") and f"history forget {rec_id}" in texts[0]


def test_a_completed_job_whose_outcome_cannot_be_stored_keeps_its_time(saved_then_locked, clock):
    # The history locked at the job's end (another advisor saving, a backup) raised "database is locked ... then
    # run the command again": after hours of training, the time the job took was lost, and no command records it.
    from advisor.errors import DatabaseUnavailableError

    url, rec_id, lock = saved_then_locked
    with pytest.raises(DatabaseUnavailableError) as caught, \
            advisor.track(rec_id, url=url, instance_type="c7i.8xlarge"):
        clock.now += 5400.25  # the job: 1h30m
        lock()
    assert caught.value.message.startswith(f"advisor.track timed the job at 1h30m (5400.250 s) for history id "
                                           f"{rec_id}, but could not record it: the history database {url} failed: "
                                           "database is locked")
    assert caught.value.hint.startswith(f"Fix: record it once the history answers: `advisor history record {rec_id} "
                                        "--actual-seconds 5400.250 --instance c7i.8xlarge`. The cause: another "
                                        "process holds")
    with History(url) as hist:
        assert hist.show(rec_id).outcomes == []


def test_a_failed_job_whose_outcome_cannot_be_stored_warns_with_its_time_and_the_command(saved_then_locked, clock):
    # A job that raised with the history locked warned "could not record the failed run: ... then run the command
    # again" (the cause's fix: here, the job), with no word of how long it ran nor of `history record --failed`.
    url, rec_id, lock = saved_then_locked
    with warnings.catch_warnings(record=True) as caught, pytest.raises(RuntimeError, match="CUDA out of memory"), \
            advisor.track(rec_id, url=url, instance_type="c7i.8xlarge"):
        warnings.simplefilter("always")
        clock.now += 5400.25
        lock()
        raise RuntimeError("CUDA out of memory")
    texts = [str(w.message) for w in caught]
    assert len(texts) == 1, texts
    assert texts[0].startswith(f"advisor.track timed the failed run at 1h30m (5400.250 s) for history id {rec_id}, "
                               f"but could not record it: the history database {url} failed: database is locked")
    assert (f"\nFix: record it once the history answers: `advisor history record {rec_id} --actual-seconds 5400.250 "
            "--instance c7i.8xlarge --failed`. The cause: another process holds") in texts[0]
    with History(url) as hist:
        assert hist.show(rec_id).outcomes == []


@pytest.mark.parametrize("failed", [False, True])
def test_the_record_command_names_the_history_track_wrote_to(saved_then_locked, clock, monkeypatch, tmp_path,
                                                            failed):
    # track(url=...) on another history than ADVISOR_DATABASE_URL's: the command given, `advisor history record 1
    # ...`, recorded the run in the CLI's history, against whatever its id 1 holds there (or "no recommendation 1").
    url, rec_id, lock = saved_then_locked
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'default.db'}")
    with warnings.catch_warnings(record=True) as caught, pytest.raises(Exception) as raised, \
            advisor.track(rec_id, url=url):
        warnings.simplefilter("always")
        clock.now += 60.0
        lock()
        if failed:
            raise RuntimeError("CUDA out of memory")
    said = str(caught[0].message) if failed else raised.value.hint
    assert (f"`ADVISOR_DATABASE_URL={url} advisor history record {rec_id} --actual-seconds 60.000"
            f"{' --failed' if failed else ''}`.") in said


def test_the_record_command_says_to_put_back_a_hidden_password(tmp_path, monkeypatch):
    # track(url="postgresql://bob:s3cret@...") on another history than the CLI's: the command read
    # `ADVISOR_DATABASE_URL=postgresql://bob:***@db.example/adv advisor history record 7 ...`, which logs in with
    # "***" as pasted, and nothing said so.
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'default.db'}")
    tracked = advisor.track(7, url="postgresql://bob:s3cret@db.example/adv")
    tracked.seconds = 60.0
    hint = tracked._unrecorded(RuntimeError("database is locked")).hint
    assert ("`ADVISOR_DATABASE_URL='postgresql://bob:***@db.example/adv' advisor history record 7 --actual-seconds "
            "60.000` (its password is hidden: put it in place of ***).") in hint
    assert "s3cret" not in hint
    plain = advisor.track(7, url=f"sqlite:///{tmp_path / 'team.db'}")
    plain.seconds = 60.0
    assert "password" not in plain._unrecorded(RuntimeError("database is locked")).hint


def test_an_unknown_instance_is_told_in_tracks_own_words(history):
    # track(id, instance_type="nope.large") read "or leave --instance out for the chosen one": its __enter__, where
    # the instance is checked, took the words of __enter__'s own (no) parameters, not of track's.
    rec_id = history.save_recommendation(recommendation("m"))
    with pytest.raises(HistoryError) as excinfo:
        with advisor.track(rec_id, url=history.url, instance_type="nope.large"):
            pass
    assert "leave instance_type= out for the chosen one" in excinfo.value.hint
    assert "--instance" not in str(excinfo.value)
    assert "--instance" in excinfo.value.cli_hint  # the CLI's words are kept for the server and stored data

    @advisor.track(rec_id, url=history.url, instance_type="nope.large")
    def train() -> None:
        pass

    with pytest.raises(HistoryError) as excinfo:
        train()
    assert "leave instance_type= out for the chosen one" in excinfo.value.hint
    # The words are those of every parameter track takes.
    from advisor.history.track import _TRACK_PARAMETERS

    assert set(_TRACK_PARAMETERS) == set(inspect.signature(advisor.track.__init__).parameters) - {"self"}


def test_an_outlier_track_timed_is_stored_as_timed_not_forced(history, clock):
    # A run track timed 0.01 s against its prediction was stored with the notes "recorded with --force: ...x its
    # prediction", though no one typed it or forced it: `history show` said --force of a run --force never touched.
    rec_id = history.save_recommendation(recommendation("m"))
    with pytest.warns(RuntimeWarning, match="shorter than the predicted"):
        with advisor.track(rec_id, url=history.url, notes="smoke test"):
            clock.now += 0.01
    (outcome,) = history.show(rec_id).outcomes
    assert outcome.notes.startswith("smoke test; timed by advisor.track: ")
    assert outcome.notes.endswith("x its prediction") and "--force" not in outcome.notes
    # history record --force (and force=True) still says so
    forced = history.record_outcome(rec_id, 0.02, force=True, warn_outlier=False)
    assert forced.notes.startswith("recorded with --force: ") and forced.notes.endswith("x its prediction")
