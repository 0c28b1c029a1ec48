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
    for signum in TERMINATING:
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _raise_terminated)


def _raise_terminated(signum: int, _frame: object) -> None:
    hold_terminations()
    raise Terminated(signum)


class HeldTerminations:
    """SIGTERM's and SIGHUP's handler while a command ends: it notes them (``arrived``) and raises nothing."""

    def __init__(self) -> None:
        self.arrived: list[int] = []

    def __call__(self, signum: int, _frame: object) -> None:
        self.arrived.append(signum)


def hold_terminations() -> None:
    """The command is ending (its first Ctrl-C, SIGTERM or SIGHUP): a further SIGTERM or SIGHUP is held until it
    has said so (``end_at_once``), and a further Ctrl-C ignored. Raised into its clean-up, a second signal (a CI
    job cancelled: SIGINT, then SIGTERM) broke it half-way: the history's connection left unclosed, SQLAlchemy's
    "Exception closing connection" traceback on stderr, and "Terminated (SIGTERM)." instead of "Interrupted."."""
    if callable(signal.getsignal(signal.SIGINT)):  # advisor's Ctrl-C handler (not SIG_IGN: nohup, `&`)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if isinstance(signal.getsignal(TERMINATING[0]), HeldTerminations):
        return
    held = HeldTerminations()
    for signum in TERMINATING:
        if signal.getsignal(signum) is _raise_terminated:
            signal.signal(signum, held)


def end_at_once() -> None:
    """After the command's last line ("Interrupted."): SIGTERM and SIGHUP end the process at once, as their
    default does (not ``Terminated`` raised into Python's shutdown), one held during the clean-up included."""
    arrived: list[int] = []
    for signum in TERMINATING:
        handler = signal.getsignal(signum)
        if isinstance(handler, HeldTerminations):
            arrived = handler.arrived
        signal.signal(signum, signal.SIG_DFL)
    if arrived:
        signal.raise_signal(arrived[0])


def default_termination() -> None:
    """SIGTERM and SIGHUP back to Python's default (``advisor serve``: SIGHUP ends it on the spot; its SIGTERM, and
    SIGINT, are its graceful stop, exit 0, while it runs: ``advisor.service.server.StopSignals``)."""
    for signum in TERMINATING:
        if signal.getsignal(signum) not in (signal.SIG_IGN, None):
            signal.signal(signum, signal.SIG_DFL)
