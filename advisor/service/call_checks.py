"""The checks ``advisor.Client`` makes of a call's arguments before anything is sent: a history listing's query,
and a recommendation's constraints, each refused in the local API's words where the server would refuse it (the
server's words name its query parameters and fields)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from advisor.errors import ConfigError
from advisor.service.wire import LIST_LIMIT_MAX
from advisor.since import parse_since


def list_params(workload: str | None, since: str | datetime | date | None, limit: Any, offset: Any) -> dict:
    """A history listing's query; ConfigError naming ``limit`` or ``offset`` where the server would refuse it."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= LIST_LIMIT_MAX:
        raise ConfigError(f"limit must be a whole number from 1 to {LIST_LIMIT_MAX:,}, got {limit!r:.80}.",
                          hint=f"Fix: e.g. limit=50 (--limit 50); page with offset={LIST_LIMIT_MAX:,} (--offset) "
                               "or narrow by workload or since for more.")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= 2**63 - 1:
        # the route's bound (the largest SQL integer), checked here so the message names offset as the API does
        raise ConfigError(f"offset must be a whole number from 0 to {2**63 - 1}, got {offset!r:.80}.",
                          hint="Fix: e.g. offset=50 (--offset 50) for the rows after the newest 50.")
    # read here, so that a bad one is refused in the caller's words (the server's name its query parameter)
    since_text = parse_since(since).isoformat() if since else None
    return {"workload": workload, "since": since_text, "limit": limit, "offset": offset or None}


def check_constraints(objective: Any, deadline: Any, budget: Any, providers: Any, regions: Any, spot: Any, top: Any,
                      startup_seconds_cpu: Any, startup_seconds_gpu: Any) -> None:
    """The local API's error for a constraint the server would refuse when it reads it (a deadline, budget or
    start-up it cannot parse, an unknown objective), before the workload is probed for the request. The server's
    start-ups are its own: a bare-number deadline shorter than the shortest start-up is refused here only when
    both are given (else the server, which knows its own, judges it); the server's catalog judges the providers
    and regions."""
    from advisor import api
    from advisor.settings import Settings

    unknown = Settings(startup_seconds_cpu=0.0, startup_seconds_gpu=0.0)
    known = unknown.with_startup(startup_seconds_cpu, startup_seconds_gpu)  # each given one read as the server does
    if startup_seconds_cpu is None or startup_seconds_gpu is None:
        known = unknown
    api.recommend_constraints(objective, deadline, budget, providers, regions, spot, top, None, known)
