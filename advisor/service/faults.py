"""Errors as JSON: every failure the service answers is ``{"error": {"type", "message", "hint", ...}}``; a
browser's request for a web page gets the same message, hint and status as a page (``wants_page``).

The message and hint are the CLI's (an ``AdvisorError``'s what / fix). The status says whose problem it is: 422
a bad value (the field named), 404 an unknown id, 409 no candidate meets the constraints (with the nearest
misses), 503 the history database is unreachable (nothing was written; the cause goes to the server's log,
not to the caller), or refuses the server's writes where a request is to be saved (found before any work; no
Retry-After, as waiting does not mend it). Anything else is a bug: 500 with a request id, the traceback in the
server's log only.
No response ever carries a traceback, a file path of the server's, or the database's address.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from advisor.errors import AdvisorError, DatabaseUnavailableError, HistoryError, NoFeasibleCandidateError
from advisor.schemas import SCHEMA_VERSION
from advisor.service.markup import page, text
from advisor.service.wire import API_PREFIX, ErrorBody, ErrorDetail, FieldProblem, field_problems, profile_version

log = logging.getLogger("advisor.service")

_UNAVAILABLE = ErrorDetail(
    type="ServiceUnavailable",
    message="The history database is unavailable, so nothing was stored.",
    hint="Fix: try again in a moment; if it goes on, tell the server's operator (its log has the cause).")
# What a call that fails with the database did not do, by its method: a read's "nothing was stored" had its
# reader wonder which write was lost.
_NOT_DONE = {"GET": "the history cannot be read", "HEAD": "the history cannot be read",
             "DELETE": "nothing was deleted"}
# The CLI's what / fix of a history it may not write (advisor.history.write_access), without the database's
# address or role; in the CLI's words, as every error here (a Python client reads --no-save as save=False).
_NOT_WRITABLE = ErrorDetail(
    type="HistoryNotWritable",
    message="This server may not write its history database (its database role lacks the privileges, or the "
            "database takes no writes), so a request that saves was refused before any work: nothing was "
            "computed and nothing was stored.",
    hint="Fix: ask again with --no-save (\"save\": false in the request's JSON) to get the answer without storing "
         "it; to store it, the server's operator must let the server write its history (the server's log says "
         "what it lacks).")


class BodyTooLarge(HTTPException):
    """A request body went over the limit while it was being read (one sent without Content-Length). An
    ``HTTPException``, so that FastAPI's body parsing passes it on instead of calling it a parse error."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(413, "request body too large")
        self.limit_bytes = limit_bytes


def request_id(request: Request) -> str:
    return getattr(request.state, "request_id", None) or uuid.uuid4().hex[:12]


def error_response(status: int, detail: ErrorDetail, *, recommendation: dict | None = None,
                   headers: dict[str, str] | None = None, request: Request | None = None,
                   nearest: list[dict] | None = None) -> Response:
    """The error body as JSON; as a page with the same message, hint and id where ``request`` is a browser's for
    a web page (``wants_page``)."""
    if request is not None and wants_page(request):
        title = _PAGE_TITLES.get(status)
        what = detail.message + (f" (request id {detail.request_id})" if detail.request_id else "")
        body = (f'<h1>{text(title or "Something went wrong")}</h1><p class="err">{text(what)}</p>'
                + (f'<p class="note">{text(detail.hint)}</p>' if detail.hint else "")
                + '<p><a href="/">Recent recommendations</a></p>')
        return page(title or f"Error {status}", body, status, headers)
    body = ErrorBody(error=detail, recommendation=recommendation, nearest=nearest)
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status, headers=headers)


_PAGE_TITLES = {404: "Not found", 413: "Request too large", 422: "Invalid request", 429: "Too many requests",
                503: "The history is unavailable", 500: "Something went wrong"}
# Paths whose callers are programs, answered in JSON whatever they accept.
_API_PATHS = (API_PREFIX + "/", "/openapi.json", "/healthz", "/livez")


def wants_page(request: Request) -> bool:
    """A browser's request for a web page (not the API, ``/openapi.json`` or ``/healthz``): its errors are
    answered as a page, since a browser shows a JSON body as raw text."""
    path = request.url.path
    return (not any(path == p.rstrip("/") or path.startswith(p) for p in _API_PATHS)
            and "text/html" in request.headers.get("accept", ""))


def too_large(limit_bytes: int, request_id_: str | None = None, request: Request | None = None) -> Response:
    """The 413 of a body over ``limit_bytes``: a page where ``request`` is a browser's for a web page."""
    mib = limit_bytes / (1024 * 1024)
    return error_response(413, ErrorDetail(
        type="RequestTooLarge", message=f"The request body is over the server's limit of {mib:g} MB.",
        hint="Fix: send a smaller body (a profile is tens of kB); the operator sets the limit with "
             "ADVISOR_API_MAX_BODY_MB.", request_id=request_id_), request=request)


def database_down(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the database failing, rather than the request being wrong."""
    from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, (DataError, IntegrityError)):  # a value the database refused: not an outage, no retry
            return False
        # DatabaseUnavailableError: advisor's own word for it, also where no DBAPIError is in the chain (a
        # statement cut at its answer deadline is raised from the driver's error, not SQLAlchemy's).
        if isinstance(exc, (DBAPIError, PoolTimeout, DatabaseUnavailableError)):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _unavailable(request: Request, rid: str) -> Response:
    """The 503 of a history database that failed, saying what the call did not do (read, store or delete)."""
    not_done = _NOT_DONE.get(request.method)
    detail = _UNAVAILABLE.model_copy(update={"request_id": rid} if not_done is None else {
        "request_id": rid, "message": f"The history database is unavailable, so {not_done}."})
    return error_response(503, detail, headers={"Retry-After": "5"}, request=request)


def _status(exc: AdvisorError) -> int:
    if isinstance(exc, NoFeasibleCandidateError):
        return 409
    if isinstance(exc, HistoryError) and exc.message.startswith(("No recommendation", "There is no outcome")):
        return 404  # an unknown id: a recommendation's, or an outcome's the caller named
    return 422


def _advisor_error(request: Request, exc: AdvisorError) -> JSONResponse:
    rid = request_id(request)
    if isinstance(exc, DatabaseUnavailableError) and exc.writes_refused:
        log.warning("history database refuses writes",
                    extra={"request_id": rid, "detail": exc.message, "hint": exc.hint})
        return error_response(503, _NOT_WRITABLE.model_copy(update={"request_id": rid}), request=request)
    if database_down(exc):
        log.warning("history database unavailable", extra={"request_id": rid, "detail": exc.message})
        return _unavailable(request, rid)
    rec = getattr(exc, "recommendation", None)
    # In the CLI's words, as written: a client raises it again in its own caller's (advisor.option_words).
    detail = ErrorDetail(type=type(exc).__name__, message=exc.cli_message, hint=exc.cli_hint, request_id=rid)
    nearest = getattr(exc, "nearest", None)
    return error_response(_status(exc), detail, request=request,
                          recommendation=rec.model_dump(mode="json", by_alias=True) if rec is not None else None,
                          nearest=[c.model_dump(mode="json", by_alias=True) for c in nearest] if nearest else None)


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    unique = field_problems(list(exc.errors()))
    first = unique[0] if unique else FieldProblem(field="body", problem="is invalid")
    more = f" (and {len(unique) - 1} more)" if len(unique) > 1 else ""
    # A profile's field: where a good one comes from. Any other: the request's own (a path, a query, a body's).
    hint = ("Fix: correct the field named; a profile comes from `advisor profile -o FILE`, and its ranges are in "
            "the README's security model." if first.field.startswith("profile") else
            "Fix: correct the field named (the README's \"Run the service for a team\" lists each endpoint's).")
    version = profile_version(list(exc.errors()))
    if version is not None:
        hint = _VERSION_HINT if version > SCHEMA_VERSION else (
            f"Fix: send \"schema_version\": {SCHEMA_VERSION} (or leave it out), or write the profile with "
            "`advisor profile -o FILE`.")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if first.field == "body" and request.method in ("POST", "PUT", "PATCH") and kind != "application/json":
        # FastAPI reads a body of another type as no object at all ("a valid dictionary"): curl's --data sends
        # application/x-www-form-urlencoded unless told
        hint = (f"Fix: send the JSON with the header Content-Type: application/json (this request's was "
                f"{kind[:60] or 'not set'}; curl: -H 'Content-Type: application/json').")
    detail = ErrorDetail(type="ValidationError", message=f"Invalid request: {first.field}: {first.problem}{more}.",
                         hint=hint, fields=unique[:50], request_id=request_id(request))
    return error_response(422, detail, request=request)


# A profile from a newer advisor than the server's: the client was upgraded first (the CLI, which reads the version
# before sending, tells its own user to upgrade; this is for a program that calls the API).
_VERSION_HINT = ("Fix: upgrade advisor on the server (pip install -U advisor, then restart `advisor serve`), or "
                 "write the profile with the advisor version the server runs.")


_HTTP_TYPES = {401: "Unauthorized", 404: "NotFound", 405: "MethodNotAllowed", 429: "TooManyRequests"}


_PARSE_FAILED = "There was an error parsing the body"  # FastAPI's 400 for a body its JSON reader cannot take


def _unreadable_body(request: Request, exc: HTTPException) -> ErrorDetail | None:
    """What is wrong with a body FastAPI could not parse at all (its bare 400), and the fix: a 422 at ``body``, as
    for a body that is not JSON. FastAPI raises its 400 from the reader's error, which says which case it is."""
    if exc.status_code != 400 or exc.detail != _PARSE_FAILED:
        return None
    encoding = request.headers.get("content-encoding", "").strip()
    cause = exc.__cause__
    if encoding and encoding.lower() != "identity":
        problem = f"is compressed (Content-Encoding: {encoding[:40]}), which this server does not read"
        fix = "send the JSON uncompressed, without a Content-Encoding header"
    elif isinstance(cause, UnicodeDecodeError):
        problem = f"is not UTF-8 text (byte {cause.start} is not valid UTF-8)"
        fix = "send the JSON encoded as UTF-8 (other text escaped as \\uXXXX is fine)"
    elif isinstance(cause, RecursionError):
        problem = "nests arrays or objects too deeply to be read"
        fix = "send the body as the CLI writes it (`advisor profile -o FILE`, `--json`): a few levels deep"
    else:
        problem, fix = "could not be read as JSON", "send one JSON object encoded as UTF-8"
    return ErrorDetail(type="ValidationError", message=f"Invalid request: body: {problem}.", hint=f"Fix: {fix}.",
                       fields=[FieldProblem(field="body", problem=problem)], request_id=request_id(request))


def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    unreadable = _unreadable_body(request, exc)
    if unreadable is not None:
        return error_response(422, unreadable, request=request)
    status = exc.status_code
    message = exc.detail if isinstance(exc.detail, str) else "The request failed."
    path = request.url.path
    if status == 404 and message == "Not Found":
        message = f"There is no {request.method} {path} on this server."
    allowed = (getattr(exc, "headers", None) or {}).get("Allow")
    if status == 405:  # the path is there (under /v1 or not): its methods are what to change
        message = f"{path} does not take {request.method}" + (f"; it takes {allowed}." if allowed else ".")
        hint = "Fix: " + (f"send {allowed} " if allowed else "use a method it takes ") + "(see /api)."
    elif status == 404:
        hint = _not_found_hint(path)
    else:
        hint = "Fix: see /api for what this server accepts."
    return error_response(status, ErrorDetail(type=_HTTP_TYPES.get(status, f"HTTP{status}"), message=message,
                                              hint=hint, request_id=request_id(request)),
                          headers=getattr(exc, "headers", None), request=request)


def _not_found_hint(path: str) -> str:
    """The fix for a path no route has. One that holds an API path after something else (/v1/v1/history,
    /api/v1/history) came from a client given a URL with a path (``--server http://host:8000/v1``): that URL is
    the mistake, so the fix names it rather than the API's paths."""
    at = path.find(API_PREFIX + "/", 1)
    if at > 0:
        first = path[at:].split("/")[2]
        from advisor.service.routes import router  # here: routes imports this module

        heads = {route.path.split("/")[2] for route in router.routes}
        if first in heads:
            extra = path[:at]
            return (f"Fix: the API's paths start with {API_PREFIX}, and this one has {extra} before it: give --server "
                    f"(advisor.Client's URL) the server's root, http://HOST:PORT, without {extra} (see /api).")
    if path.startswith(API_PREFIX + "/"):
        return "Fix: see /api for the API's paths; the web page is at /."
    return "Fix: the API is under /v1 (see /api); the web page is at /."


def _body_too_large(request: Request, exc: BodyTooLarge) -> JSONResponse:
    return too_large(exc.limit_bytes, request_id(request), request)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    rid = request_id(request)
    if database_down(exc):
        log.warning("history database unavailable", extra={"request_id": rid, "detail": str(exc)[:500]})
        return _unavailable(request, rid)
    log.error("unexpected error", exc_info=exc, extra={"request_id": rid})
    return error_response(500, ErrorDetail(
        type="InternalError", message=f"The server failed on this request (id {rid}).",
        hint="Fix: tell the server's operator the id; the server's log has the details.", request_id=rid),
        request=request)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into the JSON error body; what none of them takes is
    answered by ``CatchAll``, which the app adds as a middleware."""
    app.add_exception_handler(AdvisorError, _advisor_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(BodyTooLarge, _body_too_large)


class CatchAll:
    """An exception no handler took, answered with the error body (500, or 503 when the database failed) and the
    connection kept. As an ``Exception`` handler, Starlette's outermost middleware sent that response and then
    raised the exception again, and uvicorn closed the connection: a keep-alive client's next request, a valid
    one, was reset ("Cannot reach the advisor server")."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def noted_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, noted_send)
        except Exception as exc:  # noqa: BLE001 - the last line: every failure becomes an error body
            if started:  # a response is under way: nothing can be sent in its place
                raise
            await _unexpected(Request(scope), exc)(scope, receive, send)
