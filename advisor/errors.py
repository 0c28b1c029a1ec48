"""The exception hierarchy: every error a user can cause or fix is an ``AdvisorError``.

The CLI catches ``AdvisorError`` only (exit code 1, or 3 for ``NoFeasibleCandidateError``) and prints its
message; anything else is a bug and keeps its traceback. Messages say what went wrong, then how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class AdvisorError(Exception):
    """Base class. ``str(err)`` is the whole user-facing message (problem, then fix).

    Messages are written in the CLI's words. An error that leaves a function of the Python API has ``message`` and
    ``hint`` in the API's words (``dataset_size=`` for ``--dataset-size``: ``advisor.option_words.python_surface``);
    ``cli_message`` / ``cli_hint`` keep them as written, for another process to raise again in its own words and
    for what is stored as data.
    """

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.cli_message, self.cli_hint = message, hint
        self.message, self.hint = message, hint
        super().__init__(f"{message}\n{hint}" if hint else message)


class WorkloadError(AdvisorError):
    """The workload file or object is missing, broken, or does not train."""


class UnbuildableModelError(WorkloadError):
    """The model cannot be built on the analysis' fake tensors (its build reads its weights' values) and its real
    build would not fit this machine's memory, or ran out of it (``advisor.probe.analysis.real_build``). Not an
    optional analysis' failure: the probe's one-step check would build the model for real as well, so the probe
    stops with this message."""


class ProbeError(AdvisorError):
    """A probe could not run: the child crashed, hung past its timeout, or no batch size fitted."""


class HardwareError(AdvisorError):
    """A device was asked for that is not here or not known."""


class PredictionError(AdvisorError):
    """A prediction cannot be made (unknown device, missing spec, no usable measurements)."""


class CatalogError(AdvisorError):
    """A pricing catalog row or file is invalid."""


class HistoryError(AdvisorError):
    """The history database cannot be reached, or an id is not in it.

    ``recommendation``: a recommendation that was made but could not be saved (``advisor.recommend``: the
    database failed, or was locked, when it was to be stored), so that the answer is not lost with the save; None
    otherwise. ``public``: the message without the database's address or URL, where the message names them (a
    URL that cannot be used), for a note that may reach a caller of ``advisor serve``; None where the message
    names neither.
    """

    recommendation = None
    estimate = None  # likewise a prediction made but not saved (``advisor.predict(..., save=True)``)
    grid = None  # likewise a table of predictions not all saved (``advisor.scaling.predict_grid(save=True)``)

    def __init__(self, message: str, *, hint: str | None = None, public: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.public = public


class DatabaseUnavailableError(HistoryError):
    """The history database failed or did not answer: a fault of the database, not of what was asked.

    ``message`` names the database (its URL without the password) and the driver's words, for the user whose
    database it is. ``public`` says what happened without the database's address or the driver's text (which
    names host, port and database), for a caller of ``advisor serve`` who must not learn them. ``writes_refused``:
    the database answers but refuses this connection's writes (a missing privilege, a read-only file or server),
    which waiting does not mend, unlike an outage (``advisor.history.write_access``).
    """

    def __init__(self, message: str, *, hint: str | None = None, public: str | None = None,
                 writes_refused: bool = False) -> None:
        super().__init__(message, hint=hint, public=public or "The history database is unavailable.")
        self.writes_refused = writes_refused


class ConfigError(AdvisorError):
    """A setting, flag value or environment variable is invalid (durations, money, lists)."""


class NoFeasibleCandidateError(AdvisorError):
    """No candidate meets the constraints. Carries the nearest misses for the user."""

    exit_code = 3

    def __init__(self, message: str, *, hint: str | None = None, nearest: list | None = None,
                 recommendation=None) -> None:
        super().__init__(message, hint=hint)
        self.nearest = nearest or []
        self.recommendation = recommendation


class ProbeNote(RuntimeWarning):
    """A probe's note, as the Python warning ``advisor.profile`` (and ``predict`` / ``recommend``, which probe) issue
    for each of ``Profile.notes``: what made its timings less trustworthy (a busy machine, one thread after a fork).

    Not an error: the profile is made. A ``RuntimeWarning``, so filters on that keep working; its own class, so a
    caller can filter these alone (``warnings.simplefilter("ignore", advisor.ProbeNote)``), as the CLI does: it
    prints each note itself, escaped, from ``Profile.notes``.
    """


def rebuild(name: str | None, message: str, hint: str | None) -> AdvisorError | None:
    """The AdvisorError subclass called ``name``, made again from its message and hint (errors cross from
    the probe's processes as plain data); None when ``name`` is not one of them."""
    cls = globals().get(name) if name else None
    if isinstance(cls, type) and issubclass(cls, AdvisorError):
        return cls(message, hint=hint)
    return None


def did_you_mean(name: str, choices: Iterable[str], n: int = 3) -> str:
    """A ' Did you mean X?' suffix for an unknown name, or '' when nothing is close."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.5)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(lowered[c]) for c in close) + "?"


class OutlierRecorded(RuntimeWarning):
    """An outcome recorded with force although it is more than 20x from its (uncorrected) prediction: stored, and
    shown by ``history compare``, but never learned from by the history correction. ``History.record_outcome``
    issues it (``advisor history record --force`` prints it as a note); its own class, so a caller can filter it
    alone."""
