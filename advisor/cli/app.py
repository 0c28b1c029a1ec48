"""The ``advisor`` command: a thin typer app. Commands parse, call ``advisor.api``, and render.

Only typer and the command modules are imported at start-up; torch and the rest load inside commands, so
``advisor --help`` answers fast. ``AdvisorError`` becomes its message on stderr and exit code 1 (3 when no
candidate meets the constraints); ``ADVISOR_DEBUG=1`` shows the traceback instead. Any other exception is a
bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

import typer

HELP = ("Cost-aware compute advisor for PyTorch training: probe a model, predict the whole job's time on CPUs "
        "and GPUs (including ones you don't have), price every cloud candidate, and recommend one.")


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command, turning AdvisorError into a clean message and exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from advisor.errors import AdvisorError

        try:
            with warnings.catch_warnings():
                # The probe's warnings are in Profile.notes and printed as notes (or in the JSON); Python's
                # own rendering of them (file, line, source) is noise on a terminal.
                warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"advisor(\.|$)")
                return func(*args, **kwargs)
        except AdvisorError as exc:
            if os.environ.get("ADVISOR_DEBUG", "") not in ("", "0", "false"):
                raise
            from advisor.cli import render

            render.error(exc)
            raise typer.Exit(code=exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("Interrupted.", err=True)
            raise typer.Exit(code=130) from None

    return wrapper


def build_app() -> typer.Typer:
    from advisor.cli import db, hardware, history, pricing, profile, recommend

    app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=False,
                      pretty_exceptions_enable=False, rich_markup_mode=None)
    recommend.register(app)
    profile.register(app)
    app.add_typer(pricing.app, name="pricing")
    hardware.register(app)
    app.add_typer(history.app, name="history")
    app.add_typer(db.app, name="db")
    return app


def main() -> None:
    build_app()(prog_name="advisor")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
