"""The history as one ``predict`` or ``recommend`` call uses it: opened before any probe (so that an unusable
database fails first where something is to be saved), and the learned correction fitted from it, or a note saying
why it was not applied; and the recommendation saved in it, or kept with the error where the save fails. Moved
out of ``advisor.api``; the heavy imports stay inside the functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from advisor.errors import AdvisorError, ConfigError, HistoryError

if TYPE_CHECKING:
    from advisor.history.repository import History
    from advisor.predictor.contexts import ContextCache
    from advisor.predictor.learned import Correction as LearnedCorrection
    from advisor.schemas import Profile, Recommendation
    from advisor.settings import Settings


@contextmanager
def open_history(settings: Settings, *, required: bool, given: History | None = None,
                 notes: list[str] | None = None, check_writes: bool = True) -> Iterator[History | None]:
    """The history database, opened before any probe so an unusable one fails first. Where nothing is to be
    saved (``required`` False), None for an unusable database (no correction then: ``notes`` gets a note saying
    why) or a SQLite file not yet created (no history: none is created). Where a run is to be saved
    (``required`` and ``check_writes``), one that may be read but not written fails now too
    (``advisor.history.write_access``). ``given``: a server's open history, used as it is and left open."""
    from advisor.history.repository import History

    if given is not None:
        if not isinstance(given, History):  # from the API's history=: refused before any probe, as the rest
            raise ConfigError(f"history must be an advisor History (or None), got {given!r:.60}.",
                              hint="Fix: leave history out, or pass an advisor.History.")
        yield given
        return
    if not required and _no_history_yet(settings):
        yield None
        return
    try:
        hist = History(settings=settings)
    except HistoryError as exc:
        if required:
            raise
        # A mistyped URL with --no-save: the learned correction must not vanish without a word.
        if notes is not None:
            notes.append(_not_applied(exc))
        yield None
        return
    with hist:
        if required:  # read before it saves (the correction's runs): a named file not yet made is made now
            hist.create()
            if check_writes:
                from advisor.history.write_access import check_writable

                check_writable(hist.engine)
        yield hist


def _no_history_yet(settings: Settings) -> bool:
    """Whether there is no history to read: its SQLite file does not exist, or the default one has no folder (no
    home folder: ``default_database_path``), where none can have been made."""
    from advisor.history.engine import sqlite_file_missing

    try:
        return sqlite_file_missing(settings.resolved_database_url)
    except HistoryError:
        return True


def fit_correction_noted(hist: History | None, notes: list[str], *, required: bool,
                    contexts: ContextCache | None = None, version: tuple | None = None) -> LearnedCorrection | None:
    """The learned history correction, or None (no history yet, too few runs, or it does not help). Fitted
    before any probe, so a database that cannot be read fails first where the result is to be saved; elsewhere
    it adds a note instead of vanishing. A long-lived caller's ``contexts`` keeps the fit per version of the
    stored outcomes (``History.outcomes_version``), the only rows it is fitted on."""
    if hist is None:
        return None
    try:
        if contexts is not None:
            version = version if version is not None else hist.outcomes_version()
            fitted, thin = contexts.remember(("correction", repr(hist), version), lambda: _fit(hist))
        else:
            fitted, thin = _fit(hist)
        notes.extend([thin] if thin else [])
        return fitted
    except AdvisorError as exc:
        if required and isinstance(exc, HistoryError):
            raise
        notes.append(_not_applied(exc))
        return None


def _fit(hist: History) -> tuple[LearnedCorrection | None, str | None]:
    """(the correction fitted on ``hist``'s runs where it is used, or None; a note where some runs are stored but
    fewer than a correction needs, or where enough are but the correction fitted from them is not used). Below that
    minimum predict and recommend said nothing of the history, so a user with 6 recorded runs could not tell why
    none corrected anything; above it, a correction that one more outcome turned off went as silently
    (``rejected_note``)."""
    from advisor.history.rejected_note import rejected_note
    from advisor.predictor.learned import MIN_RUNS, evaluate, kept_runs
    from advisor.predictor.learned_kinds import kind_runs, no_kind_reason, trusted_kinds
    from advisor.schemas.history import MIN_RECOMMENDATIONS

    rows = hist.training_rows()
    kept = kept_runs(rows)[1]
    recs = len({r.recommendation_id for r in kept})
    few_runs, few_recs = len(kept) < MIN_RUNS, recs < MIN_RECOMMENDATIONS
    if kept and (few_runs or few_recs):
        # Only a count below its minimum is told against it ("10 of the 8 runs" read as a shortfall).
        runs = f"{len(kept)} of the {MIN_RUNS} runs a correction needs" if few_runs else f"{len(kept)} runs"
        made = (f"{recs} of the {MIN_RECOMMENDATIONS} recommendations {'it' if few_runs else 'a correction'} needs"
                if few_recs else f"{recs} recommendations")
        return None, (f"history: {runs}, from {made}; nothing is corrected yet (`advisor history calibration` "
                      "says more)")
    counts = kind_runs(kept)
    if kept and not trusted_kinds(counts, MIN_RUNS):  # enough runs, but neither kind enough: said, as the count above
        return None, (f"history: {no_kind_reason(counts, MIN_RUNS)}; nothing is corrected yet (`advisor history "
                      "calibration` says more)")
    correction = evaluate(rows)
    return (correction, None) if correction.used else (None, rejected_note(correction, kept))


def _not_applied(exc: AdvisorError) -> str:
    # A database fault, or a URL that cannot be used, is told without the database's address or URL, nor the
    # driver's words: a note reaches a caller of advisor serve too (a prediction with save false), who must not
    # learn them, and a pull-request comment (recommend --format markdown), where no password may appear.
    if isinstance(exc, HistoryError) and exc.public:
        return f"the history correction was not applied: {exc.public}"
    from advisor.history.url_display import masked

    return f"the history correction was not applied: {masked(exc.message)}"


def save_recommendation(hist: History, rec: Recommendation, prof: Profile) -> None:
    """Store ``rec`` (and the profile ``prof`` it came from) in ``hist`` and set its id. A ``HistoryError`` that
    fails the save (a database locked or gone by then, after a probe of minutes) carries ``rec`` as
    ``.recommendation``: the answer stands, only its save failed, and ``advisor recommend`` prints it first."""
    try:
        rec.id = hist.save_recommendation(rec, profile=prof)
    except HistoryError as exc:
        exc.recommendation = rec
        raise
