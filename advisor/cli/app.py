"""The ``advisor`` command: a thin typer app. Commands parse, call ``advisor.api``, and render.

Only typer and the command modules are imported at start-up; torch and the rest load inside commands, so
``advisor --help`` answers fast. ``AdvisorError`` becomes its message on stderr and exit code 1 (3 when no
candidate meets the constraints); ``ADVISOR_DEBUG=1`` shows the traceback instead. Any other exception is a
bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import typer

HELP = ("Cost-aware compute advisor for PyTorch training: probe a model, predict the whole job's time on CPUs "
        "and GPUs (including ones you don't have), price every cloud candidate, and recommend one.")


def build_app() -> typer.Typer:
    from advisor.cli import db, diff, hardware, history, predict, pricing, profile, recommend, serve

    # -h as well as --help, on every command; --install-completion / --show-completion for the shell.
    app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=True, pretty_exceptions_enable=False,
                      rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]})
    app.callback()(_root)
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
        from advisor import __version__

        typer.echo(f"advisor {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Cost-aware compute advisor for PyTorch training."""


def main() -> None:
    """The ``advisor`` console script."""
    if sys.stdout is None or sys.stdout.closed:
        # Started with its standard output closed (`advisor ... >&-`): nothing could be printed.
        if sys.stderr is not None and not sys.stderr.closed:
            sys.stderr.write("error: standard output is closed, so advisor cannot print its answer.\n"
                             "Fix: run it with its output going to a terminal, a file or a pipe.\n")
        raise SystemExit(1)
    from advisor.cli.errors import end_on_termination, reader_went_away, standard_output_failed
    from advisor.cli.streams import StandardOutputError, set_up, stand_in_for_closed_stderr

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
    except OSError as exc:
        if not _in_completion_install(exc):
            raise  # any other is a bug: it keeps its traceback
        _completion_not_installed(exc)
        raise SystemExit(1) from None


def _in_completion_install(exc: BaseException) -> bool:
    """Whether ``exc`` came from typer's ``--install-completion``, which runs while the arguments are parsed,
    outside every command's ``handle_errors``."""
    from typer.completion import install_callback

    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is install_callback.__code__:
            return True
        tb = tb.tb_next
    return False


def _completion_not_installed(exc: OSError) -> None:
    """One message for a start-up file that cannot be written (a read-only or odd HOME on a CI image or shared
    machine), with the way round it: the script printed, to put where the user can write."""
    from advisor.cli import render
    from advisor.errors import AdvisorError

    where = f"{exc.filename}: " if exc.filename else ""
    render.error(AdvisorError(
        f"cannot install shell completion: {where}{exc.strerror or exc}.",
        hint="Fix: print the script with `advisor --show-completion` and put it in a file you can write "
             "(`advisor --show-completion > FILE`), then source FILE from your shell's start-up file; or run "
             "`advisor --install-completion` with HOME set to a folder you can write."))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
