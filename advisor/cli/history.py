"""``advisor history ...``: list, show, compare, export, record, calibration over the stored history."""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer

from advisor.cli import remote
from advisor.cli.errors import Change, handle_errors, shown_after_saving

app = typer.Typer(help="Stored recommendations, predictions and real outcomes.", no_args_is_help=True)

# Stored times are UTC, and so is a date or time given without an offset (advisor.since.parse_since).
_SINCE_HELP = ("An age (7d, 12h, 1h30m) or a UTC date or time (2026-11-01, 2026-11-01T12:00; or with an offset, "
               "+02:00).")


def _open(server: str | None = None, *, reading: bool = False):
    """The history to use (``server``'s, else this machine's); ``reading``: a command that only reads it (or
    changes only what it holds: forget), refused before anything is created where ADVISOR_DATABASE_URL names a
    SQLite file that does not exist (a mistyped path made folders and an empty history, and answered "nothing"
    with exit 0)."""
    if server:  # client mode: the server's history, nothing opened here
        return remote.client(server)
    from advisor.cli.db import check_history_url
    from advisor.history.repository import History
    from advisor.settings import Settings

    check_history_url()
    settings = Settings.from_env()
    if reading and settings.database_url is not None:
        _refuse_missing_file(settings.database_url)
    return History(settings=settings)


def _refuse_missing_file(url: str) -> None:
    from advisor.history.engine import no_history_error, sqlite_file_missing

    if sqlite_file_missing(url):
        raise no_history_error(url, "Fix: check the path in ADVISOR_DATABASE_URL (sqlite:////abs/path/history.db "
                                    "has four slashes), or unset it for the default history.")


def _dump(obj):
    return obj.model_dump(mode="json", by_alias=True) if hasattr(obj, "model_dump") else obj


@app.command("list")
@handle_errors
def list_entries(
    workload: Annotated[str | None, typer.Option("--workload", help="Only this workload name.")] = None,
    since: Annotated[str | None, typer.Option("--since", help=_SINCE_HELP)] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    offset: Annotated[int, typer.Option("--offset", help="Skip the newest N of each list (the next page: "
                                                         "--offset 50 after --limit 50).")] = 0,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    server: remote.ServerOption = None,
) -> None:
    """Recent recommendations, newest first, then the saved predictions (`advisor predict`; with --server, the
    server's)."""
    from advisor.cli import render

    _check_page(limit, offset, server)
    since_at = _since(since)
    filtered = workload is not None or since is not None
    with _open(server, reading=True) as hist:
        entries = hist.list(workload=workload, since=since_at, limit=limit, offset=offset)
        predictions = _predictions(hist, server, workload, since, limit, offset)
        totals = _totals(hist, server, workload, since_at, [len(entries), len(predictions)], limit, offset)
        # Nothing matched: an empty history and filters that match nothing call for different words.
        stored = bool(entries or predictions) or (filtered and bool(
            hist.list(limit=1) or _predictions(hist, server, None, None, 1)))
    if json_out:
        render.print_json({"schema_version": 1, "entries": [_dump(e) for e in entries],
                           "predictions": [_dump(p) for p in predictions],
                           "total_entries": totals[0], "total_predictions": totals[1]})
        return
    if offset and not entries and totals[0]:
        render.out().print(f"History: {totals[0]:,} recommendation(s) match; none past --offset {offset:,}.")
    elif entries or not stored:
        render.history_list(entries, offset=offset, total=totals[0])
    else:
        render.out().print(_no_match(workload, since, bool(predictions)))
    render.prediction_list(predictions, offset=offset, total=totals[1])


def _check_page(limit: int, offset: int, server: str | None) -> None:
    """``--limit`` and ``--offset`` checked here, in the CLI's words (a server's maximum included)."""
    from advisor.errors import ConfigError
    from advisor.service.wire import LIST_LIMIT_MAX

    if limit < 1:
        raise ConfigError(f"--limit must be 1 or more, got {limit}.", hint="Fix: e.g. --limit 20.")
    if server and limit > LIST_LIMIT_MAX:
        raise ConfigError(f"--limit {limit:,} is over a server's maximum of {LIST_LIMIT_MAX:,} a call.",
                          hint=f"Fix: --limit {LIST_LIMIT_MAX} or less, and --offset {LIST_LIMIT_MAX} for the "
                               "next page; or narrow with --workload / --since.")
    if offset < 0:
        raise ConfigError(f"--offset must be 0 or more, got {offset}.",
                          hint="Fix: e.g. --offset 50 lists the entries after the newest 50.")


def _since(since: str | None):
    from advisor.since import parse_since

    return parse_since(since) if since else None


def _totals(hist, server: str | None, workload: str | None, since, listed: list[int], limit: int,
            offset: int) -> tuple[int | None, int | None]:
    """How many recommendations and saved predictions match (None where a server does not say). A first page
    shorter than ``limit`` is all there is: only a full page, or one further back, is counted again."""
    if offset == 0 and max(listed) < limit:
        return listed[0], listed[1]
    if server:
        return hist.totals(workload=workload, since=since)
    from advisor.history.outcomes import totals

    return totals(hist, workload, since)


_WORKLOAD_NAME = "--workload takes the name shown in the workload column (the file name without .py)."


def _no_match(workload: str | None, since: str | None, predictions: bool) -> str:
    """What to say when no recommendation is listed although the history holds something (markup-safe)."""
    from advisor.cli.render import safe_text

    if workload is None and since is None:  # only predictions are stored: they are listed below
        return ("History: no recommendations stored yet (every `advisor recommend` lands here unless --no-save); "
                "the predictions `advisor predict` saved are below.")
    given = [(flag, value) for flag, value in (("--workload", workload), ("--since", since)) if value is not None]
    filters = " ".join(f"{flag} {safe_text(repr(value))}" for flag, value in given)
    if predictions:
        return f"History: no recommendation matches {filters}; the predictions that do are below."
    text = (f"History: nothing stored matches {filters} (other entries are stored: `advisor history list` without "
            f"{'these filters' if len(given) > 1 else 'it'} lists them).")
    if workload is not None:
        text += f" {_WORKLOAD_NAME}"
    return text


def _predictions(hist, server: str | None, workload: str | None, since: str | None, limit: int,
                 offset: int = 0) -> list:
    """The saved predictions, newest first: this machine's (`advisor predict`), or with ``server`` the server's
    (``advisor.Client.predict`` and ``POST /v1/predictions`` save there)."""
    if server:
        return hist.list_predictions(workload=workload, since=since, limit=limit, offset=offset)
    from advisor.history.outcomes import list_predictions

    return list_predictions(hist, workload=workload, since=since, limit=limit, offset=offset)


@app.command("show")
@handle_errors
def show(
    entry_id: Annotated[str, typer.Argument(metavar="ID", help="History id from `advisor history list`: N for a "
                                                 "recommendation, pN for a saved prediction.")],
    json_out: Annotated[bool, typer.Option("--json")] = False,
    server: remote.ServerOption = None,
) -> None:
    """One stored recommendation with its candidates and outcomes, or one saved prediction (pN)."""
    from advisor.cli import render
    from advisor.errors import HistoryError

    rec_id, pred_id = _entry_id(entry_id, server)
    if pred_id is not None:
        _show_prediction(pred_id, json_out, server)
        return
    with _open(server, reading=True) as hist:
        twin = None if server else _saved_prediction_id(hist, rec_id)  # ids of the two kinds overlap
        try:
            detail = hist.show(rec_id)
        except HistoryError as exc:
            if twin is None:
                raise
            raise HistoryError(f"No recommendation {rec_id} in history; there is a saved prediction p{rec_id}.",
                               hint=f"Fix: `advisor history show p{rec_id}` shows the prediction (a bare number "
                                    "names a recommendation).") from exc
    if twin is not None:
        render.note(f"note: showing recommendation {rec_id}; the saved prediction with the same number is "
                    f"`advisor history show p{rec_id}`.")
    if json_out:
        render.print_json(_dump(detail))
        return
    render.recommendation(detail.recommendation)
    from advisor.cli.older_answer import best_per_tier_line

    older = best_per_tier_line(detail.recommendation)  # an answer from before the verdict printed it
    if older:
        render.line(older)
    render.outcomes_table(detail.outcomes)


def _saved_prediction_id(hist, pred_id: int) -> int | None:
    """``pred_id`` where a saved prediction has it, else None."""
    from advisor.history.outcomes import list_predictions

    return pred_id if list_predictions(hist, limit=None, prediction_id=pred_id) else None


def _entry_id(text: str, server: str | None = None) -> tuple[int | None, int | None]:
    """(recommendation id, prediction id) from ``history show``'s argument: "12" or "p12" (as listed); the fix
    names ``server``'s list, where the ids are (this machine's are other runs)."""
    from advisor.errors import ConfigError
    from advisor.service.call_hints import server_flag

    raw = text.strip().lower()
    digits = raw[1:] if raw.startswith("p") else raw
    # Any whole number is an id to look up (one past the column's range is just not there); anything else is not.
    if not re.fullmatch(r"-?[0-9]{1,40}", digits):
        raise ConfigError(f"{text!r} is not a history id: N names a recommendation, pN a saved prediction.",
                          hint=f"Fix: take the id from the first column of `advisor history list"
                               f"{server_flag(server)}`, e.g. 12 or p3.")
    return (None, int(digits)) if raw.startswith("p") else (int(digits), None)


def _recommendation_id(text: str, command: str, server: str | None) -> int:
    """The recommendation id ``history record`` / ``forget`` take; a saved prediction's pN (which ``history list``
    shows beside them, and ``show`` takes) is refused with the reason: outcomes belong to recommendations. The
    commands the fix quotes go to ``server`` where there is one: this machine's history has other ids."""
    from advisor.errors import ConfigError
    from advisor.service.call_hints import server_flag

    flag = server_flag(server)
    listed = f"Fix: take it from the first column of `advisor history list{flag}`'s recommendations, e.g. 12"
    try:
        rec_id, pred_id = _entry_id(text)
    except ConfigError:
        raise ConfigError(f"{text!r} is not a recommendation's id: `history {command}` takes a whole number.",
                          hint=listed + ".") from None
    if pred_id is None:
        return rec_id
    what = "takes no outcome" if command == "record" else "has no outcomes to forget"
    raise ConfigError(f"{text.strip()!r} names a saved prediction (`advisor predict`), which {what}: `history "
                      f"{command}` takes the id of a recommendation, a number without the p.",
                      hint=listed + (" (the one whose machine ran the job; a job that was only predicted has no "
                                     "recommendation to record its run against)." if command == "record" else
                                     f"; `advisor history show ID{flag}` lists its outcomes."))


def _show_prediction(pred_id: int, json_out: bool, server: str | None) -> None:
    from advisor.cli import render
    from advisor.errors import ConfigError, HistoryError

    if server:
        from advisor.service.call_hints import server_flag

        raise ConfigError(f"history show p{pred_id} --server: a server's saved predictions are listed, not shown "
                          "one by one.",
                          hint=f"Fix: `advisor history list{server_flag(server)}` shows it in its table.")
    from advisor.history.outcomes import list_predictions, saved_prediction

    with _open(reading=True) as hist:
        found = list_predictions(hist, limit=None, prediction_id=pred_id)
        est, startup = saved_prediction(hist, pred_id) if found else (None, None)
    if not found:
        raise HistoryError(f"No saved prediction p{pred_id} in history.",
                           hint="Fix: `advisor history list` shows the saved predictions' ids (p1, p2, ...).")
    if json_out:  # the estimate as `predict --json` printed it (a GPU model's start-up too), where still readable
        render.print_json({"schema_version": 1, "prediction": _dump(found[0]),
                           "estimate": est.json_contract(startup) if est is not None else None})
        return
    render.prediction_list(found)
    if est is not None:
        from advisor.cli.predict import print_estimate

        print_estimate(est, startup)


@app.command("compare")
@handle_errors
def compare(
    workload: Annotated[str | None, typer.Option("--workload")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Show the latest N runs (0: the aggregates alone); the "
                                                       "aggregates count every run.")] = 50,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    server: remote.ServerOption = None,
) -> None:
    """Predicted vs actual time per run (the latest --limit) and aggregated per workload, device and method."""
    from advisor.cli import render
    from advisor.errors import ConfigError

    if limit < 0:
        raise ConfigError(f"--limit must be 0 or more, got {limit}.",
                          hint="Fix: e.g. --limit 20 for the latest 20 runs, or --limit 0 for the aggregates alone.")
    with _open(server, reading=True) as hist:
        comparison = hist.compare(workload=workload)
        # Nothing for this workload and runs recorded for others: say so, not that nothing was recorded.
        others = workload is not None and not comparison.rows and bool(hist.compare().rows)
    n_runs = comparison.n_runs  # the aggregates were computed over all of them, and it stays that count
    comparison = comparison.model_copy(update={"rows": comparison.rows[n_runs - min(limit, n_runs):]})
    if json_out:
        render.print_json(_dump(comparison))
    elif others:
        from advisor.cli.render import safe_text
        from advisor.service.call_hints import server_flag

        render.out().print(f"No recorded run matches --workload {safe_text(repr(workload))} (runs of other "
                           f"workloads are recorded: `advisor history compare{safe_text(server_flag(server))}` "
                           "without it compares them). " + _WORKLOAD_NAME)
    else:
        render.comparison(comparison, n_runs, server)


@app.command("export")
@handle_errors
def export(
    fmt: Annotated[str, typer.Option("--format", metavar="[csv|json]", help="csv or json.")] = "csv",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File (default stdout).")] = None,
    workload: Annotated[str | None, typer.Option("--workload", help="Only this workload name.")] = None,
    since: Annotated[str | None, typer.Option("--since", help=_SINCE_HELP)] = None,
    server: remote.ServerOption = None,
) -> None:
    """Export the history (one row per candidate run with its outcome) as CSV or JSON (with --server, the
    server's, written here)."""
    from advisor.cli.console import for_terminal
    from advisor.cli.options import check_output_path, write_atomically
    from advisor.cli.streams import utf8_data
    from advisor.history.export import check_format
    from advisor.since import parse_since

    check_format(fmt)
    since_at = parse_since(since) if since else None
    if output is not None:
        check_output_path(output, "--output")
    with _open(server, reading=True) as hist:
        if output is None:
            # raw bytes for a pipe or a file, in UTF-8; a terminal is shown a stored name's control characters
            with utf8_data(sys.stdout):
                hist.export(fmt, for_terminal(sys.stdout), workload=workload, since=since_at)
            return

        def write(tmp: Path) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                hist.export(fmt, fh, workload=workload, since=since_at)

        write_atomically(output, write, "--output")  # nothing half-written under the real name


@app.command("record")
@handle_errors
def record(
    entry_id: Annotated[str, typer.Argument(metavar="ID", help="History id of the recommendation (N, as `advisor "
                                                "history list` shows it).")],
    actual_seconds: Annotated[str, typer.Option("--actual-seconds", help="The job's real wall time: seconds, "
                                                "or 30m, 1h30, 2h15m.")],
    instance: Annotated[str | None, typer.Option("--instance", help="Instance type actually used (default: the "
                                                 "chosen one); here, or here:DEVICE (here:cuda:0), for the probed "
                                                 "machine itself.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Record it even if it is over 20x away from the "
                                                        "prediction, or the recommendation already has this outcome "
                                                        "(another run that took as long).")] = False,
    failed: Annotated[bool, typer.Option("--failed", help="The run crashed or was stopped: --actual-seconds is how "
                                                          "long it ran; stored as failed, never compared nor "
                                                          "learned from.")] = False,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    server: remote.ServerOption = None,
) -> None:
    """Record the real duration of a recommended job, so compare and the learned correction can use it."""
    from advisor import api
    from advisor.cli import render
    from advisor.cli.db import check_history_url
    from advisor.cli.render import safe_text
    from advisor.errors import OutlierRecorded
    from advisor.history.outcome_checks import forced_words
    from advisor.outcome_words import looks_mistyped, recorded_words
    from advisor.service.call_hints import server_flag
    from advisor.settings import Settings
    from advisor.units import parse_actual_seconds

    entry_id = _recommendation_id(entry_id, "record", server)
    check_history_url(server)
    settings = Settings.from_env()
    if server is None and settings.database_url is not None:  # refused in the words `history list` uses
        # a bad duration first, as with --server and before the file's check
        parse_actual_seconds(actual_seconds, failed=failed)
        _refuse_missing_file(settings.database_url)
    record_outcome = api.record_outcome if server is None else remote.outcome_recorder(server)
    with warnings.catch_warnings(record=True) as left_out:  # a forced outlier: said as a note, not Python's way
        warnings.simplefilter("always", OutlierRecorded)
        outcome = record_outcome(entry_id, actual_seconds, instance_type=instance, force=force,
                                 settings=settings, **({"failed": True} if failed else {}))
    # Recorded by now: standard output that fails says so, since running the command again would repeat it.
    where = "the server's history" if server else "history"
    done = f"The outcome {outcome.id} of recommendation {entry_id} was recorded in {where}"
    with shown_after_saving([str(entry_id)], server, Change(done, "lists it", "record the run twice (refused as a "
                                                                              "repeat without --force)")):
        if json_out:
            render.print_json({"schema_version": 1, **_dump(outcome)})
        else:
            from advisor.units import format_duration

            crashed = outcome.status == "failed"
            render.line(f"Recorded {'a failed run of ' if crashed else ''}{format_duration(outcome.actual_seconds)} "
                        f"({outcome.actual_seconds:g} s) for history id {entry_id}"
                        + (f" on {outcome.instance_type or instance}" if instance else "") + recorded_words(outcome)
                        + (": listed, never compared nor learned from." if crashed else "."))
    forced = any(issubclass(w.category, OutlierRecorded) for w in left_out)  # its note says how to take it back
    # With --server the warning stays on the server: the outcome's stored notes say it was a forced outlier.
    there = forced_words(outcome, server_flag(server)) if server and not forced else None
    if there:
        typer.echo(f"note: {safe_text(there)}", err=json_out)
    elif looks_mistyped(outcome) and outcome.id is not None and not forced:  # a slipped unit (39m for 3m09s)
        typer.echo(f"note: if the duration is mistyped, `advisor history forget {entry_id} --outcome {outcome.id}"
                   f"{safe_text(server_flag(server))}` takes it back; then record the right one.", err=json_out)
    for w in left_out:
        if issubclass(w.category, OutlierRecorded):
            typer.echo(f"note: {w.message}", err=json_out)
        else:  # another warning, as it would have been shown
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


@app.command("forget")
@handle_errors
def forget(
    entry_id: Annotated[str, typer.Argument(metavar="ID", help="History id of the recommendation (N, as `advisor "
                                                "history list` shows it).")],
    outcome_id: Annotated[int | None, typer.Option("--outcome", help="Only this outcome (ids: history show).")
                          ] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    server: remote.ServerOption = None,
) -> None:
    """Delete the recorded outcomes of a recommendation (a test run, a mistyped duration); it stays listed."""
    from advisor.cli import render
    from advisor.history.outcomes import forget as forget_outcomes

    entry_id = _recommendation_id(entry_id, "forget", server)
    with _open(server, reading=True) as hist:  # a file that does not exist holds nothing to forget
        gone = hist.forget(entry_id, outcome_id) if server else forget_outcomes(hist, entry_id, outcome_id)
    # Deleted by now: standard output that fails says so, not "run the command again" (which finds nothing).
    where = "the server's history" if server else "history"
    outcomes = (f"outcome {outcome_id}" if outcome_id is not None
                else f"{gone} outcome{'s' if gone != 1 else ''}")
    done = f"The {outcomes} of recommendation {entry_id} {'were' if gone != 1 else 'was'} deleted from {where}"
    with shown_after_saving([str(entry_id)], server, Change(done, "lists the outcomes left",
                                                            "find nothing left to forget")):
        if json_out:
            render.print_json({"schema_version": 1, "recommendation_id": entry_id, "forgotten_outcomes": gone})
        else:
            render.line(f"Forgot {gone} outcome{'s' if gone != 1 else ''} of history id {entry_id}.")


@app.command("calibration")
@handle_errors
def calibration(json_out: Annotated[bool, typer.Option("--json")] = False,
                server: remote.ServerOption = None) -> None:
    """The learned correction's cross-validated error, before and after, on the stored outcomes (with --server,
    the server's: what its recommendations are corrected by)."""
    from advisor.cli import render
    from advisor.predictor.learned import calibration_report

    with _open(server, reading=True) as hist:
        report = hist.calibration() if server else calibration_report(hist)
    if json_out:
        render.print_json(_dump(report))
    else:
        render.calibration_report(report)
