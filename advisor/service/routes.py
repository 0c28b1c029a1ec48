"""The ``/v1`` JSON API: each route parses, calls the ``Backend`` (``advisor.api`` and the history), and returns
the object the CLI prints with ``--json``. Handlers are plain functions, which FastAPI runs in its thread pool,
since the work under them (prediction, the database) blocks; the recommendation and prediction routes hand their
work to the pool themselves (``_computed``): in the worker's queue, counted in the workers' shared load."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AfterValidator

from advisor.errors import ConfigError
from advisor.history.export import EXPORT_COLUMNS, EXPORT_PAGE_ROWS, page_key
from advisor.history.filters import SQL_INT_MAX
from advisor.schemas import CalibrationReport, Comparison, HistoryDetail, Outcome, Recommendation
from advisor.service.backend import Backend
from advisor.service.wire import (
    API_PREFIX,
    LIST_LIMIT_MAX,
    ErrorBody,
    OutcomeRequest,
    PredictionRequest,
    RecommendationRequest,
    no_nul,
)

router = APIRouter(prefix=API_PREFIX)

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": what} for code, what in (
        (401, "missing or invalid bearer token"), (413, "body over the size limit"),
        (422, "an invalid field (named in the error)"), (429, "over the per-token rate"),
        (503, "the history database is unavailable, or refuses the server's writes where the request "
                     "saves; nothing was stored"))}
# Query text: a NUL in it is a 422 naming the parameter (PostgreSQL cannot compare with such a string).
Text = Annotated[str | None, Query(max_length=200), AfterValidator(no_nul)]
Since = Annotated[str | None, Query(max_length=64), AfterValidator(no_nul)]
Limit = Annotated[int, Query(ge=1, le=LIST_LIMIT_MAX)]
Offset = Annotated[int, Query(ge=0, le=SQL_INT_MAX)]  # how many of the newest rows a page skips


def _backend(request: Request) -> Backend:
    return request.app.state.backend


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    if hasattr(data, "model_dump"):
        data = data.model_dump(mode="json", by_alias=True)
    return JSONResponse(data, status_code=status, headers=headers)


@router.get("/catalog", responses=_ERRORS, summary="Priced offers, cheapest first (advisor pricing list)")
def catalog(request: Request, provider: Text = None, gpu: Text = None, region: Text = None,
            max_price: Annotated[float | None, Query(description="US$ per hour, 0 or more")] = None) -> JSONResponse:
    # Checked here, not by Query(ge=0): that refused nan as "greater than or equal to 0" before this could say why.
    if max_price is not None and not (math.isfinite(max_price) and max_price >= 0):
        raise ConfigError(f"max_price must be a finite number of US$ per hour, 0 or more, got {max_price!r}.",
                          hint="Fix: e.g. max_price=5.")
    offers = _backend(request).offers(provider=provider, gpu=gpu, max_price=max_price, region=region)
    return _json({"schema_version": 1, "count": len(offers), "offers": [o.listing_json() for o in offers]})


async def _computed(request: Request, work: Callable[..., Any], *args: Any) -> tuple[Any, dict[str, str]]:
    """``work(*args)`` in the worker's queue of CPU-bound requests (``Backend.limiter``); the result, and the
    headers that hand the connection back when this worker holds more requests than another (``balance``)."""
    backend, loads = _backend(request), getattr(request.app.state, "loads", None)
    if loads is None:
        return await to_thread.run_sync(work, *args, limiter=backend.limiter), {}
    loads.add(1)
    try:
        result = await to_thread.run_sync(work, *args, limiter=backend.limiter)
    finally:
        loads.add(-1)
    return result, ({"Connection": "close"} if loads.busier_than_another() else {})


@router.post("/predictions", responses=_ERRORS, summary="One target's whole-job time (advisor predict)")
async def predictions(request: Request, body: PredictionRequest) -> JSONResponse:
    (estimate, startup), headers = await _computed(request, _backend(request).predict, body)
    return _json(estimate.json_contract(instance_startup_seconds=startup), headers=headers)


@router.post("/recommendations", status_code=201, response_model=Recommendation,
             responses={**_ERRORS, 409: {"model": ErrorBody, "description": "no candidate meets the constraints"}},
             summary="Rank every priced machine for a job and store it (advisor recommend)")
async def recommendations(request: Request, body: RecommendationRequest) -> Response:
    raw = await request.body()  # already read by FastAPI: the cache keys on the bytes as sent
    (rec, answer), headers = await _computed(request, _backend(request).recommend, body, raw)
    if rec.id is not None:
        headers["Location"] = f"{API_PREFIX}/recommendations/{rec.id}"
    return Response(answer, status_code=201 if rec.id is not None else 200, headers=headers,
                    media_type="application/json")


@router.get("/recommendations/{recommendation_id}", response_model=HistoryDetail, responses=_ERRORS,
            summary="One stored recommendation and its outcomes (advisor history show)")
def recommendation(request: Request, recommendation_id: int) -> JSONResponse:
    return _json(_backend(request).show(recommendation_id))


@router.post("/recommendations/{recommendation_id}/outcome", status_code=201, response_model=Outcome,
             responses=_ERRORS, summary="Record what the job really took (advisor history record)")
def outcome(request: Request, recommendation_id: int, body: OutcomeRequest) -> JSONResponse:
    return _json(_backend(request).record_outcome(recommendation_id, body), 201)


@router.delete("/recommendations/{recommendation_id}/outcomes", responses=_ERRORS,
               summary="Delete the recorded outcomes of a recommendation, or one (advisor history forget)")
def forget(request: Request, recommendation_id: int,
           outcome: Annotated[int | None, Query(ge=1)] = None) -> JSONResponse:
    gone = _backend(request).forget(recommendation_id, outcome)
    return _json({"schema_version": 1, "recommendation_id": recommendation_id, "forgotten_outcomes": gone})


@router.get("/calibration", response_model=CalibrationReport, responses=_ERRORS,
            summary="The learned correction's cross-validated error on the stored outcomes (advisor history "
                    "calibration)")
async def calibration(request: Request) -> JSONResponse:
    report, headers = await _computed(request, _backend(request).calibration)  # a cross-validated fit: CPU work
    return _json(report, headers=headers)


@router.get("/history", responses=_ERRORS, summary="Stored recommendations, newest first (advisor history list)")
def history(request: Request, workload: Text = None, since: Since = None, limit: Limit = 50,
            offset: Offset = 0) -> JSONResponse:
    return _page(request, "entries", workload, since, limit, offset)


@router.get("/predictions", responses=_ERRORS,
            summary="Saved predictions, newest first (advisor history list, below the recommendations)")
def saved_predictions(request: Request, workload: Text = None, since: Since = None, limit: Limit = 50,
                      offset: Offset = 0) -> JSONResponse:
    return _page(request, "predictions", workload, since, limit, offset)


def _page(request: Request, key: str, workload: str | None, since: str | None, limit: int,
          offset: int) -> JSONResponse:
    """One page of the stored recommendations (``key`` "entries") or saved predictions ("predictions"), with how
    many match in all."""
    backend, since_at = _backend(request), _since(since)
    read = backend.list if key == "entries" else backend.predictions
    rows = read(workload=workload, since=since_at, limit=limit, offset=offset)
    total = backend.totals(workload=workload, since=since_at)[0 if key == "entries" else 1]
    return _json({"schema_version": 1, key: [r.model_dump(mode="json", by_alias=True) for r in rows],
                  "total": total})


def _since(text: str | None) -> datetime | None:
    """A ``since`` query ("7d", "12h", "2026-11-01") as the time it means; a bad one is a ConfigError (422)."""
    from advisor.since import parse_since

    return parse_since(text, query=True) if text else None


# A page key is an id: past the largest SQL integer it was a 500 on SQLite (an OverflowError in the driver)
PageKey = Annotated[int, Query(ge=0, le=SQL_INT_MAX)]


@router.get("/history/export", responses=_ERRORS,
            summary="A page of the history as one flat table: columns and rows (advisor history export)")
def export(request: Request, workload: Text = None, since: Since = None,
           after_recommendation: PageKey = 0, after_outcome: PageKey = 0,
           limit: Annotated[int, Query(ge=1, le=EXPORT_PAGE_ROWS)] = EXPORT_PAGE_ROWS) -> JSONResponse:
    """At most ``limit`` rows after the row whose (recommendation id, outcome id or 0) is the ``after_`` pair;
    ``next`` is the pair to ask with for the page after this one, or null where this page ends the table (one row
    more than the page is read to know)."""
    rows = _backend(request).export_rows(workload=workload, since=_since(since),
                                         after=(after_recommendation, after_outcome), limit=limit + 1)
    more, rows = len(rows) > limit, rows[:limit]
    after = page_key(rows[-1]) if more else None
    return _json({"schema_version": 1, "columns": list(EXPORT_COLUMNS), "rows": rows,
                  "next": None if after is None else {"after_recommendation": after[0], "after_outcome": after[1]}})


@router.get("/compare", response_model=Comparison, responses=_ERRORS,
            summary="Predicted vs actual per run, device and method (advisor history compare)")
def compare(request: Request, workload: Text = None) -> JSONResponse:
    return _json(_backend(request).compare(workload=workload))
