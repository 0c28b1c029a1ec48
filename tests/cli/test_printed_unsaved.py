"""``advisor.cli.errors.printed_unsaved``: the one place an answer whose save failed is printed all the same and
turned into the error to end with (recommend, predict and predict's table use it)."""

from __future__ import annotations

from advisor.cli.errors import _answered, printed_unsaved
from advisor.errors import HistoryError


def _failed_save(hint: str | None = None) -> HistoryError:
    exc = HistoryError("Database is locked.", hint=hint)
    exc.estimate = object()
    return exc


def test_the_answer_is_shown_and_the_error_says_it_was_not_saved():
    shown = []
    exc = _failed_save()
    unsaved = printed_unsaved(exc, lambda: shown.append("answer"), "prediction")
    assert shown == ["answer"]
    assert unsaved.message == "The prediction was printed, but not saved in history: database is locked."
    assert unsaved.hint == ("Fix: run the command again once the database answers. Or pass --no-save to run "
                            "without saving.")
    assert unsaved.estimate is exc.estimate and unsaved.recommendation is None and unsaved.grid is None
    assert unsaved.printed is True and _answered(unsaved)  # --json adds no error document to the answer's
    assert unsaved.exit_code == 1


def test_the_cause_hint_and_other_words_are_kept():
    exc = _failed_save(hint="Fix: free the lock.")
    exc.estimate, exc.grid = None, object()
    unsaved = printed_unsaved(exc, lambda: None, "table", "only p3 of its predictions was saved")
    assert unsaved.message == ("The table was printed, but only p3 of its predictions was saved in history: "
                               "database is locked.")
    assert unsaved.hint == "Fix: free the lock. Or pass --no-save to run without saving."
    assert unsaved.grid is exc.grid


def test_a_reader_that_went_away_still_gets_the_error(monkeypatch):
    dropped = []
    monkeypatch.setattr("advisor.cli.errors._drop_stdout", lambda: dropped.append(True))

    def show():
        raise BrokenPipeError

    unsaved = printed_unsaved(_failed_save(), show, "recommendation")
    assert dropped == [True]
    assert unsaved.message.startswith("The recommendation was printed, but not saved in history")
