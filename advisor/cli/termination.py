"""How SIGTERM and SIGHUP end the CLI: ``Terminated``, raised in the main thread, and the handlers that raise it.

A light module (``signal`` only): ``advisor.cli.app.main`` catches ``Terminated`` around everything it runs, the
start-up included (typer and the commands loading, the app being built), where no command's ``handle_errors``
is there yet to say "Terminated (SIGTERM)." (a SIGTERM then printed a traceback and exited 1, the user-error code).
"""

from __future__ import annotations

import signal

# The signals that end a command as Ctrl-C does (SIGHUP is absent on Windows).
TERMINATING = tuple(s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)


class Terminated(BaseException):
    """SIGTERM or SIGHUP (``timeout``, a CI job cancelled, an ssh session closed), raised where the command runs so
    that it ends as Ctrl-C does: its probe processes and scratch folder gone, nothing half-written. A
    ``BaseException``: no ``except Exception`` of the command's may swallow it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def ended_by(signum: int) -> str:
    """The line a terminated command ends with: "Terminated (SIGTERM)."."""
    return f"Terminated ({signal.Signals(signum).name})."


def end_on_termination() -> None:
    """SIGTERM and SIGHUP raise ``Terminated`` in the main thread (Python's default ends the process on the spot,
    leaving the probe's scratch folder and no word); ``advisor serve`` puts the defaults back
    (``default_termination``)."""
    def _raise(signum: int, _frame: object) -> None:
        raise Terminated(signum)

    for signum in TERMINATING:
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _raise)


def default_termination() -> None:
    """SIGTERM and SIGHUP back to Python's default (``advisor serve``: SIGHUP ends it on the spot; its SIGTERM, and
    SIGINT, are its graceful stop, exit 0, while it runs: ``advisor.service.server.StopSignals``)."""
    for signum in TERMINATING:
        if signal.getsignal(signum) not in (signal.SIG_IGN, None):
            signal.signal(signum, signal.SIG_DFL)
