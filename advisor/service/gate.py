"""The ASGI layer in front of the app: request ids, structured access logs, the body limit, authentication
and the per-token rate, all decided before the app reads a byte of the body.

* ``/healthz``, ``/livez``, ``/login``, ``/api``, ``/docs``, ``/openapi.json`` are open; ``/v1/...`` needs
  ``Authorization: Bearer TOKEN`` (401 otherwise); the web pages need the session cookie (or the header) and send
  a browser without one to ``/login``. With no tokens configured the server listens on loopback only and nothing
  is checked.
* A body whose ``Content-Length`` is over the limit gets 413 at once; one sent without a length is counted as
  it arrives and stopped at the limit (``faults.BodyTooLarge``).
* One JSON line per request goes to the ``advisor.service.access`` logger: method, path, status, duration,
  bytes, client address and the token's id (never the token).
* A refusal here (429, 413) answers a browser's request for a web page with a page, as the app's errors do.
"""

from __future__ import annotations

import logging
import math
import os
import time
import uuid
from http.cookies import SimpleCookie

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from advisor.service.faults import BodyTooLarge, ErrorDetail, error_response, too_large
from advisor.service.security import GUESSES_PER_MINUTE, SESSION_COOKIE, RateLimiter, Tokens

access_log = logging.getLogger("advisor.service.access")

OPEN_PATHS = ("/healthz", "/livez", "/login", "/logout", "/api", "/docs", "/docs/oauth2-redirect", "/openapi.json",
              "/redoc", "/favicon.ico")


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookie(headers: dict[str, str], name: str) -> str | None:
    if "cookie" not in headers:
        return None
    jar = SimpleCookie()
    try:
        jar.load(headers["cookie"])
    except Exception:  # a malformed Cookie header is no session  # noqa: BLE001
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


class Gate:
    """Wraps the app: see the module docstring."""

    def __init__(self, app: ASGIApp, *, tokens: Tokens, limiter: RateLimiter, max_body_bytes: int) -> None:
        self.app, self.tokens, self.limiter, self.max_body_bytes = app, tokens, limiter, max_body_bytes
        # Requests refused for want of a token, per client address: guessing tokens is throttled as the login
        # form's passwords are (it was not: only callers that had a token were counted)
        self.refused = RateLimiter(GUESSES_PER_MINUTE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = uuid.uuid4().hex[:12]
        scope.setdefault("state", {})["request_id"] = rid
        record = {"status": 500, "bytes_out": 0, "bytes_in": 0, "token": None}

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record["status"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
            elif message["type"] == "http.response.body":
                record["bytes_out"] += len(message.get("body", b""))
            await send(message)

        try:
            await self._guarded(scope, receive, logged_send, record)
        finally:
            client = scope.get("client") or ("-", 0)
            access_log.info("request", extra={
                "request_id": rid, "method": scope.get("method"), "path": scope.get("path"),
                "status": record["status"], "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "bytes_in": record["bytes_in"], "bytes_out": record["bytes_out"], "client": client[0],
                "token": record["token"], "worker": os.getpid()})

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, record: dict) -> None:
        headers = _headers(scope)
        rid = scope["state"]["request_id"]
        # What the refusals below are answered for: a browser's page request gets a page (faults.wants_page)
        asked = Request(scope)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            await too_large(self.max_body_bytes, rid, asked)(scope, receive, send)
            return
        path = scope.get("path", "")
        is_api = path == "/v1" or path.startswith("/v1/")
        if path not in OPEN_PATHS:
            caller = None
            if self.tokens:
                caller = self.tokens.from_header(headers.get("authorization"))
                if caller is None and not is_api:
                    caller = self.tokens.from_cookie(_cookie(headers, SESSION_COOKIE))
                if caller is None:
                    wait = self.refused.wait_seconds(f"refused:{(scope.get('client') or ('-',))[0]}")
                    if wait > 0:
                        await error_response(429, ErrorDetail(
                            type="TooManyRequests", message=f"Too many requests without a valid token from this "
                            f"address: the limit is {GUESSES_PER_MINUTE} a minute.",
                            hint=f"Fix: wait {math.ceil(wait)} s (Retry-After), then send one of the server's tokens.",
                            request_id=rid), headers={"Retry-After": str(math.ceil(wait))},
                            request=asked)(scope, receive, send)
                        return
                    await self._refuse(scope, receive, send, is_api, rid)
                    return
            record["token"] = caller
            wait = self.limiter.wait_seconds(caller or f"ip:{(scope.get('client') or ('-',))[0]}")
            if wait > 0:
                await error_response(429, self._over_rate(wait, rid), headers={"Retry-After": str(math.ceil(wait))},
                                     request=asked)(scope, receive, send)
                return
        await self.app(scope, self._counted(receive, record), send)

    def _over_rate(self, wait_seconds: float, rid: str) -> ErrorDetail:
        """The 429 of a caller over the rate: per token, or without tokens per client address, which every user
        of one machine shares (the message named a token nobody had)."""
        per = "per token" if self.tokens else "per client address (no tokens are configured)"
        shared = "" if self.tokens else (
            "; every user on one machine shares its address's limit: with ADVISOR_API_TOKENS each token has its own")
        return ErrorDetail(
            type="TooManyRequests",
            message=f"Too many requests: the limit is {self.limiter.per_minute} a minute {per}.",
            hint=f"Fix: wait {math.ceil(wait_seconds)} s (Retry-After) and send fewer requests; the operator sets the "
                 f"limit with ADVISOR_API_RATE_LIMIT{shared}.", request_id=rid)

    def _counted(self, receive: Receive, record: dict) -> Receive:
        limit = self.max_body_bytes

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                record["bytes_in"] += len(message.get("body", b""))
                if record["bytes_in"] > limit:
                    raise BodyTooLarge(limit)
            return message

        return counted

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, is_api: bool, rid: str) -> None:
        if not is_api and scope.get("method") in ("GET", "HEAD"):
            from starlette.responses import RedirectResponse

            await RedirectResponse("/login", status_code=303)(scope, receive, send)
            return
        await error_response(401, ErrorDetail(
            type="Unauthorized", message="Missing or invalid bearer token.",
            hint="Fix: send 'Authorization: Bearer TOKEN' with one of the server's tokens (the CLI reads it "
                 "from ADVISOR_API_TOKEN).", request_id=rid),
            headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
