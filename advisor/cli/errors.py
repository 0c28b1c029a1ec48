"""How a CLI command ends on an error: ``AdvisorError`` becomes its message on stderr and its exit code.

``ADVISOR_DEBUG=1`` shows the traceback instead. Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

import typer


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
        except BrokenPipeError:
            # The reader of our output went away (`advisor ... | head`): stop quietly, and keep Python from
            # complaining when it flushes stdout at exit.
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(code=1) from None
        except KeyboardInterrupt:
            typer.echo("Interrupted.", err=True)
            raise typer.Exit(code=130) from None

    return wrapper
