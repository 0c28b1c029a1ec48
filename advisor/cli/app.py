"""The ``advisor`` command: a thin typer app. Commands parse, call ``advisor.api``, and render.

Only typer and the command modules are imported at start-up; torch and the rest load inside commands, so
``advisor --help`` answers fast. ``AdvisorError`` becomes its message on stderr and exit code 1 (3 when no
candidate meets the constraints); ``ADVISOR_DEBUG=1`` shows the traceback instead. Any other exception is a
bug and keeps its traceback.
"""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING

from advisor.cli.termination import TERMINATING, Terminated, end_at_once, ended_by, hold_terminations

if TYPE_CHECKING:
    import typer

# typer and the commands are imported inside main() (build_app), where Ctrl-C is handled: importing them takes
# a second or more on a busy machine, and a Ctrl-C then (a wrong flag seen just after Enter) printed a traceback.

HELP = ("Cost-aware compute advisor for PyTorch training: probe a model, predict the whole job's time on CPUs "
        "and GPUs (including ones you don't have), price every cloud candidate, and recommend one.")


def build_app() -> typer.Typer:
    import typer
    from typer.completion import completion_init

    from advisor.cli import db, diff, hardware, history, predict, pricing, profile, recommend, serve
    from advisor.cli.completion import RootGroup

    # -h as well as --help, on every command. --install-completion / --show-completion [SHELL] are the root's own
    # (advisor.cli.completion), over typer's scripts: completion_init registers the shells that typer's
    # completions (_ADVISOR_COMPLETE=complete_bash) answer for, which typer's add_completion would have done.
    completion_init()
    app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                      rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]},
                      cls=RootGroup)
    app.callback()(_root_command())
    recommend.register(app)
    profile.register(app)
    predict.register(app)
    app.add_typer(pricing.app, name="pricing")
    hardware.register(app)
    app.add_typer(history.app, name="history")
    app.add_typer(db.app, name="db")
    diff.register(app)
    serve.register(app)
    return app


def _version(value: bool) -> None:
    if value:
        import typer

        from advisor import __version__

        typer.echo(f"advisor {__version__}")
        raise typer.Exit()


def _root_command():
    """The root command's callback: its options (--version, the completion ones), made once typer is imported."""
    import typer

    from advisor.cli.completion import HELP_INSTALL, HELP_SHOW, INSTALL, SHOW

    def _root(
        version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                     help="Print the version and exit."),
        install_completion: bool = typer.Option(False, INSTALL, help=HELP_INSTALL),  # answered by RootGroup
        show_completion: bool = typer.Option(False, SHOW, help=HELP_SHOW),
    ) -> None:
        """Cost-aware compute advisor for PyTorch training."""

    return _root


def main() -> None:
    """The ``advisor`` console script. Ctrl-C before a command handles it itself (``handle_errors``), while
    Python loads typer and the commands or builds the app, ends as a command's does: "Interrupted.", exit 130;
    SIGTERM or SIGHUP there, or after the command's handling (a SIGTERM while it says "Interrupted."), too:
    "Terminated (SIGTERM).", exit 128 + the signal."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not where it is ignored (nohup, `&`)
        signal.signal(signal.SIGINT, _first_ctrl_c)
    try:
        _main()
    except KeyboardInterrupt:
        hold_terminations()
        from advisor.cli.streams import say_ended  # a light module: nothing here may take long to import

        say_ended("Interrupted.")
        _end_quietly()
        raise SystemExit(130) from None
    except Terminated as exc:
        hold_terminations()
        from advisor.cli.streams import say_ended

        say_ended(ended_by(exc.signum))
        _end_quietly()
        raise SystemExit(128 + exc.signum) from None
    except SystemExit as exc:
        if exc.code in _SAID_ENDED:  # a command's handle_errors said "Interrupted." or "Terminated (...)."
            _end_quietly()
        raise


def _first_ctrl_c(signum: int, frame: object) -> None:
    """Ctrl-C: ``KeyboardInterrupt``, as Python's own handler raises, and every later Ctrl-C ignored. The first one
    ends the command; what is left is its cleanup (the probe's processes and scratch folder, a transaction rolled
    back), its "Interrupted." and the process's shutdown, a second or more with torch loaded (its heap collected,
    threads joined). An impatient second Ctrl-C then broke the cleanup half-way, or printed a traceback from
    Python's shutdown (threading._shutdown), or ended the process by SIGINT instead of exit 130. (``advisor
    serve`` has uvicorn's own handler while it serves: there a second Ctrl-C still forces the stop.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    hold_terminations()  # a SIGTERM during the clean-up waits for its end too
    raise KeyboardInterrupt


def _end_quietly() -> None:
    """Once the command has said how it ended, only the process's shutdown is left: a further Ctrl-C is ignored,
    and a further SIGTERM or SIGHUP ends the process at once, as the signal's default does, rather than raising
    ``Terminated`` into the shutdown; so does one that came during its clean-up and was held till now
    (``hold_terminations``). No probe process starts after this, so none inherits the ignored SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end_at_once()


# The exit codes of a command that was interrupted (130) or terminated (128 + the signal), said on stderr.
_SAID_ENDED = frozenset({130, *(128 + s for s in TERMINATING)})


def _main() -> None:
    if sys.stdout is None or sys.stdout.closed:
        # Started with its standard output closed (`advisor ... >&-`): nothing could be printed.
        if sys.stderr is not None and not sys.stderr.closed:
            sys.stderr.write("error: standard output is closed, so advisor cannot print its answer.\n"
                             "Fix: run it with its output going to a terminal, a file or a pipe.\n")
        raise SystemExit(1)
    from advisor.cli.errors import reader_went_away, standard_output_failed
    from advisor.cli.streams import StandardOutputError, set_up, stand_in_for_closed_stderr
    from advisor.cli.termination import end_on_termination

    stand_in_for_closed_stderr()
    set_up()
    end_on_termination()
    try:
        try:
            build_app()(prog_name="advisor")
        finally:  # --version, --help and usage errors print outside a command's handle_errors
            sys.stdout.flush()
    except BrokenPipeError as exc:  # what typer printed (--version), flushed above
        reader_went_away()
        decided = exc.__context__  # an exit on its way out (a user error's 1) keeps its code
        raise SystemExit(decided.code if isinstance(decided, SystemExit) else 0) from None
    except SystemExit as exc:
        if exc.code == 1 and type(sys.stdout).__name__ == "PacifyFlushWrapper":
            # typer's own handling of a closed pipe outside a command (--help, --version): it wraps stdout in
            # click's PacifyFlushWrapper and exits 1, the user-error code; a reader that stopped is exit 0 here.
            reader_went_away()
            raise SystemExit(0) from None
        raise
    except StandardOutputError as exc:
        standard_output_failed(exc)
        raise SystemExit(1) from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
