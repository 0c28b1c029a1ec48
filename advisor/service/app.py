"""The FastAPI application: the ``/v1`` API, the web page, ``/healthz`` and ``/livez``, the endpoints at ``/api``,
OpenAPI at ``/openapi.json`` and ``/docs``.

``create_app(config)`` builds one; ``create_app_from_env()`` is the factory uvicorn calls in every worker
process (``advisor serve`` passes its options through the environment, see ``config``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from advisor import __version__
from advisor.service import api_page, balance, faults, routes, web
from advisor.service.backend import Backend
from advisor.service.config import ServiceConfig
from advisor.service.gate import Gate
from advisor.service.security import GUESSES_PER_MINUTE, RateLimiter, Tokens
from advisor.service.wire import ErrorDetail

DESCRIPTION = ("The cost-aware compute advisor as a service: send a `Profile` (from `advisor profile -o FILE`, "
               "taken where the model lives) and get predictions and recommendations priced over the catalog, "
               "stored in the team's history. Bodies are the JSON the CLI prints with `--json`. Every `/v1` "
               "call needs `Authorization: Bearer TOKEN`.")

HEALTH_UNAVAILABLE = ("The history database is unavailable: the calls that read or write the history answer 503 "
                      "until it is back.")
HEALTH_FIX = "Fix: wait; the server reconnects by itself once the database answers (its log has the cause)."


def create_app(config: ServiceConfig) -> FastAPI:
    """The application for ``config`` (its ``Backend`` opens when the app starts, closes when it stops)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.backend = Backend(config)
        app.state.loads = balance.open_loads(os.environ.get(balance.LOADS_ENV))
        await run_in_threadpool(app.state.backend.warm)
        try:
            yield
        finally:
            app.state.backend.close()
            if app.state.loads is not None:
                app.state.loads.close()

    app = FastAPI(title="advisor", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url="/docs", redoc_url=None)
    tokens = Tokens(config.tokens)
    app.state.tokens = tokens
    app.state.login_limiter = RateLimiter(GUESSES_PER_MINUTE)
    faults.install(app)
    app.include_router(routes.router)
    app.include_router(web.router)
    app.include_router(api_page.router)

    # HEAD too: some load balancers' and uptime monitors' checks send it (a 405 read as down); the server sends
    # a HEAD's status and headers without the body.
    @app.api_route("/healthz", methods=["GET", "HEAD"], include_in_schema=False)
    async def healthz(request: Request) -> JSONResponse:
        """Readiness: 200 ``"status": "ok"``, or 503 ``"unavailable"`` with the error's what / fix while the
        history database does not answer (the calls that read or write it answer 503 then too)."""
        ok = await run_in_threadpool(request.app.state.backend.database_ok)
        body = {"status": "ok" if ok else "unavailable", "version": __version__,
                "database": "ok" if ok else "unavailable", "auth": "bearer" if tokens else "none (loopback only)"}
        if ok:
            return JSONResponse(body)
        error = ErrorDetail(type="ServiceUnavailable", message=HEALTH_UNAVAILABLE, hint=HEALTH_FIX,
                            request_id=faults.request_id(request))
        return JSONResponse({**body, "error": error.model_dump(mode="json", exclude_none=True)}, status_code=503,
                            headers={"Retry-After": "5"})

    @app.api_route("/livez", methods=["GET", "HEAD"], include_in_schema=False)
    async def livez() -> JSONResponse:
        """Liveness: 200 while the process answers, whatever the database's state (a liveness probe that
        restarted the server for a database outage would not bring the database back)."""
        return JSONResponse({"status": "alive", "version": __version__})

    app.add_middleware(faults.CatchAll)  # inside the Gate, which logs the answer's status and adds its id
    app.add_middleware(Gate, tokens=tokens, limiter=RateLimiter(config.rate_per_minute),
                       max_body_bytes=config.max_body_bytes)
    return app


def create_app_from_env() -> FastAPI:
    """uvicorn's factory: the app for ``ServiceConfig.from_env()``."""
    return create_app(ServiceConfig.from_env())
