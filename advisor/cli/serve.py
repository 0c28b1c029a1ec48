"""``advisor serve``: the advisor as an HTTP service (``advisor.service``) for a team."""

from __future__ import annotations

from typing import Annotated

import typer

from advisor.cli.errors import handle_errors


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


@handle_errors
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback only without tokens).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes (more than 1 needs PostgreSQL).")]
    = 1,
    max_body_mb: Annotated[float | None, typer.Option("--max-body-mb", help="Largest request body (default 5).")]
    = None,
    rate_limit: Annotated[int | None, typer.Option(
        "--rate-limit", help="Requests a minute per token; without tokens, per client address (0: off).")]
    = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve the advisor over HTTP: /v1 JSON API, a web page at /, the endpoints listed at /api, OpenAPI at
    /openapi.json (tokens: ADVISOR_API_TOKENS)."""
    import math
    import os

    from advisor.cli import render
    from advisor.cli.termination import default_termination
    from advisor.errors import ConfigError
    from advisor.service.config import ServiceConfig
    from advisor.service.server import serve as run

    if log_level not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"Unknown --log-level {log_level!r}.", hint="Fix: use debug, info, warning or error.")
    if max_body_mb is not None and not (math.isfinite(max_body_mb) and 0.01 <= max_body_mb <= 1024):
        raise ConfigError(f"--max-body-mb must be from 0.01 to 1024, got {max_body_mb!r}.",
                          hint="Fix: e.g. --max-body-mb 5.")
    if rate_limit is not None and rate_limit < 0:
        raise ConfigError(f"--rate-limit must be 0 (off) or more, got {rate_limit}.", hint="Fix: e.g. 600.")
    config = ServiceConfig.from_env(
        os.environ, host=host, port=port, workers=workers, rate_per_minute=rate_limit,
        max_body_bytes=None if max_body_mb is None else int(max_body_mb * 1024 * 1024))
    default_termination()
    run(config, say=render.note, log_level=log_level)
