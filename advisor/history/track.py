"""``advisor.track``: time the real job and store its outcome against a recommendation.

    with advisor.track(rec.id):                # or rec itself
        train()

    @advisor.track(rec.id, instance_type="p4d.24xlarge")
    def train(): ...

The recommendation (and the instance type and notes, when given) is checked before the job starts, so a typo
fails fast rather than after hours of training. Given the ``Recommendation`` itself, the stored one under its id
must be that recommendation (the same job, made at the same time): a ``rec`` saved to another database than the
one ``track`` writes to is refused, not recorded against whatever that id holds there. An ``async def`` job is
timed over its awaiting; a generator function is refused (calling it runs nothing, so there is no job to time).

A run more than 20x away from its prediction (a test run of a few steps, say) is stored but warned about
(``RuntimeWarning``): ``advisor history forget ID`` removes it. A block of less than a millisecond ran no job:
it is warned about and not recorded, whether it ended or raised. The wall time is measured with
``time.perf_counter``; if the job raises (Ctrl-C included) the outcome is stored with status "failed" and the
exception propagates.
"""

from __future__ import annotations

import functools
import inspect
import time
import warnings
from contextlib import ContextDecorator
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from advisor.caller import outside_stacklevel
from advisor.errors import AdvisorError, ConfigError, HistoryError
from advisor.history.outcome_checks import check_notes
from advisor.option_words import python_surface
from advisor.schemas import Outcome, Recommendation
from advisor.settings import Settings
from advisor.units import MIN_ACTUAL_SECONDS

# track's own parameters: an error raised as the block begins or ends (an unknown instance_type, checked at
# __enter__) names them, not __enter__'s or __exit__'s, which take none of them.
_TRACK_PARAMETERS = ("recommendation_id", "url", "instance_type", "notes", "settings")


class track(ContextDecorator):  # lower case: it is used like a function, advisor.track(rec.id)
    """Context manager and decorator that records the real duration of a recommended job.

    Args:
        recommendation_id: the history id (``rec.id``), or the ``Recommendation`` itself.
        url: the history database (default: ``settings`` / ``ADVISOR_DATABASE_URL`` / the SQLite file).
        instance_type: the candidate that is really run (default: the recommendation's chosen one).
        notes: stored with the outcome.

    After the block, ``.outcome`` is the stored ``Outcome`` and ``.seconds`` the measured duration.
    """

    @python_surface
    def __init__(self, recommendation_id: int | Recommendation, *, url: str | None = None,
                 instance_type: str | None = None, notes: str | None = None,
                 settings: Settings | None = None) -> None:
        self._given = recommendation_id if isinstance(recommendation_id, Recommendation) else None
        if isinstance(recommendation_id, Recommendation):
            rec_id = recommendation_id.id
            if rec_id is None:
                raise HistoryError("This recommendation was not saved to history (its id is None), so its "
                                   "outcome cannot be recorded.",
                                   hint="Fix: recommend without --no-save / with save=True.")
            recommendation_id = rec_id
        if isinstance(recommendation_id, bool) or not isinstance(recommendation_id, int):
            raise HistoryError(f"advisor.track needs a history id, got {recommendation_id!r}.",
                               hint="Fix: pass rec.id of a saved recommendation (see `advisor history list`).")
        check_notes(notes)
        self.recommendation_id = recommendation_id
        self.url = url
        self.settings = settings
        self.instance_type = instance_type
        self.notes = notes
        self.outcome: Outcome | None = None
        self.seconds: float | None = None
        self._start: float | None = None
        self._predicted: float | None = None

    def _history(self):
        from advisor.history.repository import History

        return History(self.url, settings=self.settings)

    @python_surface(parameters=_TRACK_PARAMETERS)
    def __enter__(self) -> track:
        from advisor.history.outcomes import predicted_seconds

        with self._history() as hist:
            hist.check_run(self.recommendation_id, self.instance_type)
            if self._given is not None:
                _check_same(self._given, hist)
            self._predicted = predicted_seconds(hist, self.recommendation_id, self.instance_type)
        self.outcome = None
        self.seconds = None
        self._start = time.perf_counter()
        return self

    @python_surface(parameters=_TRACK_PARAMETERS)
    def __exit__(self, exc_type, exc, tb) -> bool:
        start, self._start = self._start, None
        self.seconds = time.perf_counter() - start if start is not None else 0.0
        failed = exc_type is not None
        notes = self.notes
        if failed:
            reason = f"{exc_type.__name__}: {exc}" if str(exc) else exc_type.__name__
            notes = f"{notes}; {reason}" if notes else reason
        if self.seconds < MIN_ACTUAL_SECONDS:  # a block that raised at once (a bad path, Ctrl-C) ran no job either
            what = "the block raised before any job ran" if failed else "no job ran in the block"
            warnings.warn(f"advisor.track timed {self.seconds * 1e6:.0f} us for history id {self.recommendation_id}, "
                          f"less than a millisecond: {what}, so no outcome was recorded.",
                          RuntimeWarning, stacklevel=outside_stacklevel())
            return False
        try:
            # Not warnings.catch_warnings() around it to hide OutlierRecorded: that swaps the process-wide filter
            # list, which the caller's other threads share (they lost filters they added meanwhile).
            with self._history() as hist:
                self.outcome = hist.record_outcome(
                    self.recommendation_id, self.seconds, instance_type=self.instance_type,
                    status="failed" if failed else "completed", notes=notes, force=True,
                    warn_outlier=False, timed=True)  # track warns of an outlier itself, in its words: below
        except (AdvisorError, SQLAlchemyError) as record_error:
            if not failed:
                raise self._unrecorded(record_error) from record_error
            # The job's own exception matters more than the bookkeeping one: warn, and let the job's propagate.
            # With the time and the command that records it, not the cause's "run the command again": the job.
            unrecorded = self._unrecorded(record_error, failed=True)
            warnings.warn(f"{unrecorded.message}\n{unrecorded.hint}", stacklevel=outside_stacklevel())
            return False
        self._warn_outlier(failed)
        return False

    def _unrecorded(self, error: Exception, failed: bool = False) -> HistoryError:
        """A job whose outcome could not be stored (the history locked or gone by the job's end): the error, with
        the time the job took and the command that records it, since running the job again to learn it may take
        hours (``failed``: a run that raised, recorded with ``--failed``). A database fault stays a
        ``DatabaseUnavailableError`` (worth a retry)."""
        from advisor.errors import DatabaseUnavailableError
        from advisor.units import format_duration

        cause = getattr(error, "message", None) or str(error).strip().splitlines()[0]
        flags = (f" --instance {self.instance_type}" if self.instance_type else "") + (" --failed" if failed else "")
        message = (f"advisor.track timed the {'failed run' if failed else 'job'} at {format_duration(self.seconds)} "
                   f"({self.seconds:.3f} s) for history id {self.recommendation_id}, but could not record it: "
                   f"{cause[:1].lower() + cause[1:]}")
        cause_hint = getattr(error, "hint", None) or ""
        hint = (f"Fix: record it once the history answers: `{self._database_prefix()}advisor history record "
                f"{self.recommendation_id} "
                f"--actual-seconds {self.seconds:.3f}{flags}`{self._hidden_password_note()}."
                + (f" The cause: {cause_hint.removeprefix('Fix: ')}" if cause_hint else ""))
        kind = DatabaseUnavailableError if isinstance(error, DatabaseUnavailableError | SQLAlchemyError) \
            else HistoryError
        return kind(message, hint=hint)

    def _history_url(self) -> str:
        """The URL of the history ``track`` writes to."""
        return self.url if self.url is not None else (self.settings or Settings.from_env()).resolved_database_url

    def _hidden_password_note(self) -> str:
        """Where the command's URL hides a password, the words that say to put it back: pasted as shown, the
        command would log in with "***" and fail."""
        from advisor.history.url_display import shown

        if not self._database_prefix() or shown(self._history_url()) == self._history_url():
            return ""
        return " (its password is hidden: put it in place of ***)"

    def _database_prefix(self) -> str:
        """"ADVISOR_DATABASE_URL=sqlite:////data/h.db " where ``track`` writes to another history (``url=``,
        ``settings=``) than the one ``advisor history record`` reads by default: without it, the command given
        recorded the run in that other history, against whatever its id holds there. The password is hidden."""
        import shlex

        from advisor.history.url_display import shown

        cli_url = Settings.from_env().resolved_database_url
        url = self._history_url()
        return "" if url == cli_url else f"ADVISOR_DATABASE_URL={shlex.quote(shown(url))} "

    def _warn_outlier(self, failed: bool) -> None:
        from advisor.history.outcomes import outlier

        why = None if failed else outlier(self.seconds or 0.0, self._predicted)
        if why:
            warnings.warn(f"advisor.track recorded {why} for history id {self.recommendation_id}: if this was a "
                          f"test run, remove it with `advisor history forget {self.recommendation_id}`.",
                          RuntimeWarning, stacklevel=outside_stacklevel())

    def __repr__(self) -> str:
        extra = f", instance_type={self.instance_type!r}" if self.instance_type else ""
        return f"track({self.recommendation_id}{extra})"

    # A decorated function called more than once records one outcome per call.
    def _recreate_cm(self) -> Any:
        return track(self._given or self.recommendation_id, url=self.url, instance_type=self.instance_type,
                     notes=self.notes, settings=self.settings)

    def __call__(self, func: Any) -> Any:
        # ContextDecorator would time only the call that makes the coroutine or the generator, which returns at
        # once: a job of microseconds, "completed" even when the awaited training then raised.
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            raise ConfigError(f"advisor.track cannot time the generator function {func.__qualname__!r}: calling it "
                              "runs none of its body, so there is no job to time.",
                              hint="Fix: decorate the function that runs the whole job, or put `with "
                                   "advisor.track(id):` around the loop that consumes the generator.")
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def timed(*args: Any, **kwargs: Any) -> Any:
                with self._recreate_cm():
                    return await func(*args, **kwargs)
            return timed

        @functools.wraps(func)  # ContextDecorator's, here: a warning then names the caller's line, not contextlib's
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            with self._recreate_cm():
                return func(*args, **kwargs)
        return timed_call


def _check_same(given: Recommendation, hist: Any) -> None:
    """HistoryError unless the recommendation stored under ``given.id`` is ``given``: the same job, made at the
    same moment (a database other than the one it was saved to can hold another one under that id)."""
    stored = hist.show(given.id).recommendation

    def job(rec: Recommendation) -> tuple:
        return rec.workload.name, rec.dataset_size, rec.epochs, rec.batch_size

    def utc(moment: datetime) -> datetime:
        return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment

    # Made at the same instant (to the millisecond: the databases keep microseconds), for the same job.
    if job(stored) == job(given) and abs((utc(stored.created_at) - utc(given.created_at)).total_seconds()) <= 1e-3:
        return

    def described(rec: Recommendation) -> str:
        return (f"{rec.workload.name}, {rec.epochs:,} x {rec.dataset_size:,} @ {rec.batch_size:,}, made "
                f"{utc(rec.created_at):%Y-%m-%d %H:%M:%S.%f} UTC")

    raise HistoryError(
        f"History id {given.id} in {hist!r} is another recommendation ({described(stored)}) than the one given "
        f"({described(given)}): it was saved to another database.",
        hint="Fix: pass url= (or settings=) naming the database the recommendation was saved to.")
