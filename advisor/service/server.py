"""Running the service: checks before anything starts, the schema migrated once, then uvicorn.

Production defaults: no auto-reload; several worker processes only over PostgreSQL (SQLite's single writer
would make them queue, and a file database is not shared between machines); graceful shutdown (SIGTERM or
Ctrl-C: the socket closes, in-flight requests finish, up to ``graceful_seconds``), after which the command
exits with status 0 whichever signal it was and however many workers (``StopSignals``); a worker that dies is
replaced; on Linux each worker accepts on a socket of its own, so the kernel spreads connections evenly
(``advisor.service.workers``; elsewhere uvicorn's workers share one socket); the workers share their load
(``advisor.service.balance``) so that a busier one hands connections back.
``X-Forwarded-*`` headers are trusted only from ``ADVISOR_FORWARDED_ALLOW_IPS`` (default the loopback
address, where a reverse proxy on the same machine sits).
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from advisor.errors import ConfigError, DatabaseUnavailableError, HistoryError
from advisor.service.config import ServiceConfig, is_loopback

if TYPE_CHECKING:
    from advisor.history.repository import History

APP_FACTORY = "advisor.service.app:create_app_from_env"
STARTUP_FAILURE = 3  # uvicorn's exit status for a server that could not start (the app failed to load)


class StopRequested(BaseException):
    """SIGTERM or SIGINT before the server serves (its checks, the migration): nothing to finish, so it stops."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class StopSignals:
    """SIGTERM and SIGINT as the operator's request to stop, while ``serve`` runs: one way to stop, exit status 0.

    uvicorn handles both while it serves (graceful shutdown), then raises the signal again; the CLI's handlers
    made that re-raised SIGTERM a death by the signal (status -15) and a SIGINT an exit 0, and ``Supervisor`` had
    its own (0 for both). Here: before the server serves, a signal raises ``StopRequested``; once ``server`` is
    set (uvicorn's, or None for the supervisor, which has handlers of its own), it asks the server to exit, so
    that uvicorn's re-raised signal after its shutdown is a no-op.
    """

    def __init__(self) -> None:
        self.server: Any = None
        self.serving = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        self._old = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: Any) -> None:  # noqa: ARG002 - a signal handler's signature
        if not self.serving:
            raise StopRequested(signum)
        if self.server is not None:
            self.server.should_exit = True


def check(config: ServiceConfig) -> tuple[ServiceConfig, list[str]]:
    """The config to run (loopback only when there are no tokens) and what to tell the operator.

    Raises:
        ConfigError: several workers over SQLite, or a port that cannot be bound. CatalogError: a price file
            (``ADVISOR_PRICING``) that cannot be read.
    """
    from sqlalchemy.engine import make_url

    notes: list[str] = []
    url = config.settings.resolved_database_url
    try:
        backend = make_url(url).get_backend_name()
    except Exception:  # an invalid URL is reported by the history on first use  # noqa: BLE001
        backend = "?"
    if config.workers > 1 and backend != "postgresql":
        raise ConfigError(
            f"--workers {config.workers} needs a PostgreSQL history, but {_history_kind(config, backend)}: worker "
            + ("processes would queue on one file." if backend == "sqlite" else "processes share one only there."),
            hint="Fix: set ADVISOR_DATABASE_URL=postgresql+psycopg2://USER@HOST/DB (pip install "
                 "'advisor[postgres]'), or run with --workers 1.")
    if config.workers < 1:
        raise ConfigError(f"--workers must be 1 or more, got {config.workers}.", hint="Fix: e.g. --workers 2.")
    # Loopback is not one user: on a machine several people use, each of them (and any process) reaches it
    shared = (" Every user and program on this machine can read the history and record or forget outcomes, "
              "anonymously: on a machine shared by several people, set ADVISOR_API_TOKENS.")
    if not config.tokens and not is_loopback(config.host):
        notes.append(f"No ADVISOR_API_TOKENS: serving WITHOUT authentication, so on 127.0.0.1 only (not on "
                     f"{config.host}). Set ADVISOR_API_TOKENS to serve other machines.{shared}")
        config = _replace(config, host="127.0.0.1")
    elif not config.tokens:
        notes.append(f"No ADVISOR_API_TOKENS: serving without authentication, on this machine only.{shared}")
    _check_port(config.host, config.port)
    # The price files every worker loads at start: a broken one is the operator's to fix, said once, here (in
    # the workers it would be a failed start in each).
    from advisor.pricing import load_catalog

    load_catalog(list(config.settings.pricing_files))
    return config, notes


def _replace(config: ServiceConfig, **changes) -> ServiceConfig:
    from dataclasses import replace

    return replace(config, **changes)


def _check_port(host: str, port: int) -> None:
    if not 0 < port < 65536:
        raise ConfigError(f"--port must be from 1 to 65535, got {port}.", hint="Fix: e.g. --port 8000.")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.",
                              hint="Fix: choose another --port (or --host), or stop what uses it.") from None


def migrate(config: ServiceConfig) -> str | None:
    """Bring the history to the newest schema once, before workers start; a note if it cannot be reached now
    (the server starts anyway, answers 503 meanwhile, and migrates on the first request that finds it)."""
    from advisor.history.engine import make_sqlite_folder
    from advisor.history.repository import History

    # A URL that is not a database URL, a driver that is missing or a SQLite folder that cannot be made fails here:
    # the operator must fix it.
    with History(settings=config.settings) as hist:
        make_sqlite_folder(hist.url)
        try:
            hist.create()  # a SQLite file named that does not exist yet is made (a read of it is refused)
        except HistoryError as exc:
            return f"The history database is not usable yet: {exc.message} Requests get 503 until it is."
        return _writes_refused(hist)


def _writes_refused(hist: History) -> str | None:
    """A note for the operator where the server may read its history but not write it (a role with SELECT alone,
    a read-only file or server): each request that saves is refused then, before any work (``Backend.check_saves``).
    """
    from advisor.history.write_access import check_writable

    try:
        check_writable(hist.engine)
    except DatabaseUnavailableError as exc:
        if exc.writes_refused:
            return (f"{exc.message} Requests that save get 503 (HistoryNotWritable) until it may be written; the "
                    f"rest are answered. {exc.hint or ''}".strip())
    return None  # an outage: the requests find it (503) and the server reconnects by itself


def serve(config: ServiceConfig, *, say: Callable[[str], None], log_level: str = "info") -> None:
    """Run the server until SIGTERM / Ctrl-C, then return (``say`` prints the operator's notes)."""
    with StopSignals() as stops:
        try:
            _serve(config, say, log_level, stops)
        except StopRequested as stop:
            say(f"advisor serve: stopped ({signal.Signals(stop.signum).name}) before it served.")


def _serve(config: ServiceConfig, say: Callable[[str], None], log_level: str, stops: StopSignals) -> None:
    from advisor.service.logs import log_config

    config, notes = check(config)
    note = migrate(config)
    for text in [*notes, *([note] if note else [])]:
        say(text)
    from advisor.history.url_display import shown

    where = shown(config.settings.resolved_database_url)
    say(f"advisor serve: http://{config.host}:{config.port} ({config.workers} worker"
        f"{'s' if config.workers > 1 else ''}; history {where}; "
        f"{len(config.tokens)} token(s); body limit {config.max_body_bytes / 2**20:g} MB; "
        f"{config.rate_per_minute or 'no'} requests/minute "
        f"{'per token' if config.tokens else 'per client address, shared by its users'})")
    os.environ.update(config.to_env())
    loads = None
    if config.workers > 1:  # the workers' shared load (advisor.service.balance)
        import tempfile

        from advisor.service import balance

        handle, loads = tempfile.mkstemp(prefix="advisor-serve-loads-")
        os.close(handle)
        balance.create(loads)
        os.environ[balance.LOADS_ENV] = loads
    options = dict(app=APP_FACTORY, factory=True, host=config.host, port=config.port, access_log=False,
                   log_config=log_config(log_level), log_level=log_level,
                   timeout_graceful_shutdown=int(config.graceful_seconds), proxy_headers=True,
                   forwarded_allow_ips=config.forwarded_allow_ips,
                   server_header=False)
    try:
        _run(options, config, stops)
    finally:
        if loads is not None:
            os.unlink(loads)


def _run(options: dict[str, Any], config: ServiceConfig, stops: StopSignals) -> None:
    """uvicorn's server in this process (one worker), or the supervisor of several, until a stop."""
    import logging.config

    import uvicorn

    from advisor.service import workers

    if config.workers > 1 and workers.reuse_port_supported():
        logging.config.dictConfig(options["log_config"])
        supervisor = workers.Supervisor(options, config.workers, config.graceful_seconds)
        stops.serving = True  # its own handlers from here on
        supervisor.run()
        if supervisor.failed:
            raise ConfigError("A worker process failed to start, so the server stopped.",
                              hint="Fix: see the worker's error in the log above, then start it again.")
    elif config.workers > 1:  # uvicorn's workers (no SO_REUSEPORT spreading here), with its own handlers
        stops.serving = True
        uvicorn.run(**options, workers=config.workers, reload=False)
    else:
        server = uvicorn.Server(uvicorn.Config(**options))
        stops.server, stops.serving = server, True
        server.run()
        if not server.started:  # uvicorn logged why (uvicorn.run exits so too)
            raise SystemExit(STARTUP_FAILURE)


def _history_kind(config: ServiceConfig, backend: str) -> str:
    """What the history of a server that needs PostgreSQL is instead: the default file, or what the variable
    names (a backend's name is not its value, so it is not quoted as one)."""
    if config.settings.database_url is None:
        return "the history is the default SQLite file (ADVISOR_DATABASE_URL is not set)"
    if backend == "sqlite":
        return "ADVISOR_DATABASE_URL names a SQLite file"
    return f"ADVISOR_DATABASE_URL names a {backend!r} database" if backend != "?" else \
        "ADVISOR_DATABASE_URL cannot be read as a database URL"
