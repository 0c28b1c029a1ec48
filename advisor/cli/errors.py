"""How a CLI command ends on an error: ``AdvisorError`` becomes its message on stderr and its exit code.

``ADVISOR_DEBUG=1`` shows the traceback instead (and keeps ``--json``'s error document on stdout). Standard output
that cannot be written (a full disk: ``advisor.cli.streams.StandardOutputError``) is one message too, a closed pipe
a quiet stop (exit 0). Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import typer

from advisor.cli.streams import StandardOutputError, say_ended
from advisor.cli.termination import Terminated, ended_by
from advisor.option_words import flag_words
from advisor.service.call_hints import server_flag


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command, turning AdvisorError into a clean message and exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from advisor.errors import AdvisorError, ProbeNote

        try:
            with warnings.catch_warnings(), flag_words():  # errors name the CLI's flags, not the API's parameters
                # A probe's notes are in Profile.notes and printed from there as notes, escaped (or in the JSON);
                # Python's own rendering of them is a second copy, raw (a process name with ESC sequences reaches
                # the terminal), pointing at whatever called advisor (typer). Filtered by their class: they name
                # the first frame outside advisor (advisor/caller.py), so a filter on the module matches none.
                warnings.simplefilter("ignore", ProbeNote)
                result = func(*args, **kwargs)
            sys.stdout.flush()  # what is still buffered fails here, not at exit (with a traceback)
            return result
        except AdvisorError as exc:
            from advisor.settings import debug_enabled

            wants_json = _wants_json(kwargs) and not _answered(exc)
            if debug_enabled():
                # The traceback on stderr, and under --json the same document on stdout as without debug: a
                # pipeline turning debug on to look into a failure still parses what it always does.
                if wants_json:
                    _print_error_json(exc)
                raise
            from advisor.cli import render

            render.error(exc)
            if wants_json:
                _print_error_json(exc)
            raise typer.Exit(code=exc.exit_code) from None
        except BrokenPipeError:
            reader_went_away()
            raise typer.Exit(code=0) from None
        except StandardOutputError as exc:
            standard_output_failed(exc)
            raise typer.Exit(code=1) from None
        except KeyboardInterrupt as exc:
            say_ended("Interrupted." + _saved_before(exc))
            raise typer.Exit(code=130) from None
        except Terminated as exc:
            say_ended(ended_by(exc.signum) + _saved_before(exc))
            raise typer.Exit(code=128 + exc.signum) from None

    return wrapper


def _wants_json(kwargs: dict[str, Any]) -> bool:
    """Whether the command was asked for JSON: ``--json``, or ``--format json`` where it is the answer's format
    (a command with ``--json``; ``history export --format json`` is data, and an error object would pass as it)."""
    return "json_out" in kwargs and (kwargs["json_out"] is True
                                     or str(kwargs.get("fmt") or "").strip().lower() == "json")


def _answered(exc: Exception) -> bool:
    """An infeasible recommendation (exit 3), or a recommendation or prediction that could not be saved (exit 1),
    whose JSON document was printed already: stdout holds one."""
    from advisor.errors import HistoryError, NoFeasibleCandidateError

    if getattr(exc, "printed", False):  # an answer printed unsaved (``printed_unsaved``)
        return True
    return isinstance(exc, (NoFeasibleCandidateError, HistoryError)) and exc.recommendation is not None


def _print_error_json(exc: Exception) -> None:
    """The error as the service's body gives it, on stdout for a pipeline that parses ``--json``: its class
    (``HardwareError`` is a config fix, ``DatabaseUnavailableError`` a retry), message and hint. The message stays
    on stderr too, for a person."""
    import json

    error = {"type": type(exc).__name__, "message": getattr(exc, "message", str(exc)),
             "hint": getattr(exc, "hint", None)}
    try:
        sys.stdout.write(json.dumps({"schema_version": 1, "error": error}, indent=2) + "\n")
        sys.stdout.flush()
    except OSError:  # standard output that cannot be written: stderr has said it all, and the exit code stands
        _drop_stdout()


class Change(NamedTuple):
    """A change a command made to a stored recommendation (rather than an answer it stored), in the words said
    where its output then failed."""

    done: str  # "The outcome 3 of recommendation 7 was recorded in history"
    shown: str  # what `advisor history show ID` does about it: "lists it"
    again: str  # what running the command again would do: "record the run twice (...)"


@contextlib.contextmanager
def shown_after_saving(refs: list[str], server: str | None = None, what: Change | None = None) -> Iterator[None]:
    """Writing an answer already stored in history as ``refs`` ("7" a recommendation, "p42" a prediction; empty:
    not stored): standard output that fails says so and how to print it again, as running the command again would
    store it twice. ``what``: a change the command made to ``refs[0]`` rather than the answer itself (an outcome
    recorded, or forgotten)."""
    try:
        yield
        sys.stdout.flush()
    except (StandardOutputError, KeyboardInterrupt, Terminated) as exc:
        # Ctrl-C (or a SIGTERM) while the answer prints comes after the save too: the user must learn the id.
        exc.stored_as = (refs, server, what)
        raise


def _stored_words(refs: list[str], server: str | None, what: Change | None = None) -> str:
    """"The recommendation 7 was saved in history" (or "The predictions p3, p4 were saved in the server's
    history") for answers stored as ``refs``; ``what``'s words where the command made a change."""
    if what:
        return what.done
    kind = "prediction" if refs[0].startswith("p") else "recommendation"
    saved = f"{kind}{'s' if len(refs) > 1 else ''} {', '.join(refs)} {'were' if len(refs) > 1 else 'was'}"
    where = "the server's history" if server else "history"
    return f"The {saved} saved in {where}"


def _saved_before(exc: BaseException) -> str:
    """For an interrupt while a saved answer printed: " The recommendation 7 was saved in history: `advisor
    history show 7` prints it." (one line, so the id is not lost with the answer); "" otherwise."""
    refs, server, what = getattr(exc, "stored_as", ([], None, None))
    if not refs:
        return ""
    remote = server_flag(server)  # quoted as every other command the user copies
    shows = what.shown if what else "prints it"
    return f" {_stored_words(refs, server, what)}: `advisor history show {refs[0]}{remote}` {shows}."


def standard_output_failed(exc: OSError) -> None:
    """Say on stderr that the answer could not be written to standard output, and why; what is left of it is
    dropped, so that Python does not fail again on it at exit."""
    from advisor.cli import render
    from advisor.errors import AdvisorError
    from advisor.output_file import out_of_space

    _drop_stdout()
    refs, server, what = getattr(exc, "stored_as", ([], None, None))
    message = f"could not write the answer to standard output ({exc.strerror or exc})."
    # Freeing space only helps a full disk (/dev/full, ENOSPC); a closed or unwritable stdout needs another place.
    first = ("free some space where the output goes (or send it elsewhere)" if out_of_space(exc)
             else "send the output somewhere it can be written")
    hint = f"Fix: {first}, then run the command again."
    if refs:
        remote = server_flag(server)
        message += f" {_stored_words(refs, server, what)}, so the command need not run again."
        hint = (f"Fix: {first}, then print it with `advisor "
                f"history show {refs[0]}{remote}` (add --json for the JSON); running the command again would "
                "save it a second time.")
        if what:  # a change the command made (an outcome recorded, or forgotten): made already
            hint = (f"Fix: {first}; `advisor history show {refs[0]}{remote}` {what.shown} (add --json for the "
                    f"JSON): running the command again would {what.again}.")
    render.error(AdvisorError(message, hint=hint))


def printed_unsaved(exc: Any, show: Callable[[], None], what: str, unsaved_words: str = "not saved") -> Any:
    """An answer made but not saved (the history failed, or was locked, when it was to be stored): ``show``
    prints it all the same (its probe may have taken minutes; under --json it is the document on stdout, with a
    null id), and the ``HistoryError`` returned is the error to end with, exit 1: "The ``what`` was printed, but
    ``unsaved_words`` in history: <why>". It carries the answer ``exc`` carried (``recommendation``,
    ``estimate`` or ``grid``) and ``printed``, so that ``--json`` adds no error document to the answer's."""
    from advisor.errors import HistoryError

    try:
        show()
    except BrokenPipeError:  # a reader that stopped (`| head`): the error and its exit code stand
        reader_went_away()
    message = exc.message[:1].lower() + exc.message[1:]
    unsaved = HistoryError(f"The {what} was printed, but {unsaved_words} in history: {message}",
                           hint=(exc.hint or "Fix: run the command again once the database answers.")
                           + " Or pass --no-save to run without saving.")
    unsaved.recommendation, unsaved.estimate, unsaved.grid = exc.recommendation, exc.estimate, exc.grid
    unsaved.printed = True
    return unsaved


def reader_went_away() -> None:
    """The reader of our output went away (`advisor ... | head -1`): it chose to stop, so the command stops
    quietly with exit 0, whatever the answer's size against the pipe's buffer (exit 1 would fail a CI step under
    ``pipefail``). What is left of the output is dropped, so that Python does not fail again on it at exit; an
    answer saved in history stays saved (``history list`` has it)."""
    _drop_stdout()


def _drop_stdout() -> None:
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
