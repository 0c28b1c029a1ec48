"""``advisor.Client``: the advisor's Python API over HTTP, against an ``advisor serve`` server.

    client = advisor.Client("http://advisor.internal:8000", token)     # token default: ADVISOR_API_TOKEN
    rec = client.recommend("model.py", dataset_size=50_000, epochs=10)   # probes HERE, ranks and stores THERE
    client.record_outcome(rec.id, 5400)

The methods mirror ``advisor.api`` and ``advisor.History`` and return the same pydantic objects. A workload is
profiled locally (its code runs only on this machine, in the probe's child process) and only the ``Profile``
is sent; nothing is written to the local history. Errors are the server's ``AdvisorError`` with its what / fix
(``NoFeasibleCandidateError`` with the nearest misses), or ``ServiceError`` when the server cannot be reached or
refuses the call; an argument the server would refuse (``epochs=0``, an unknown precision) is the local API's
error or a ``ConfigError`` naming it, raised before anything is probed or sent. httpx with timeouts; connection
failures are retried (a request that never reached the server is safe to send again). This module imports
neither FastAPI nor any server module.
"""

from __future__ import annotations

import itertools
import operator
import os
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TextIO, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from advisor.errors import AdvisorError, ConfigError, NoFeasibleCandidateError, rebuild
from advisor.option_words import python_surface
from advisor.schemas import (
    CalibrationReport,
    Candidate,
    Comparison,
    Estimate,
    HistoryDetail,
    HistoryEntry,
    Offer,
    Outcome,
    PredictionEntry,
    Profile,
    Recommendation,
    Target,
)
from advisor.service.call_checks import check_constraints, list_params
from advisor.service.call_hints import REACH_HINT as _REACH_HINT
from advisor.service.call_hints import on_server, reprobe_hint, timeout_hint, too_new_field
from advisor.service.wire import (
    API_PREFIX,
    OutcomeRequest,
    PredictionRequest,
    RecommendationRequest,
    TargetSpec,
    field_problems,
)
from advisor.since import parse_since
from advisor.units import parse_actual_seconds

TOKEN_ENV = "ADVISOR_API_TOKEN"
B = TypeVar("B", bound=BaseModel)
# Stands for the profile while a request's other values are checked, before a workload is probed for it.
_UNPROBED = Profile.model_construct()


class ServiceError(AdvisorError):
    """The advisor server could not be reached, refused the call, or failed on it. ``status`` is the HTTP
    status (None when no answer came)."""

    def __init__(self, message: str, *, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


def check_url(url: str) -> str:
    """``url`` without a trailing slash, if it is an http(s) URL with a host; else ConfigError."""
    if not isinstance(url, str):
        raise ConfigError(f"The server's URL must be a string, got {url!r:.80} ({type(url).__name__}).",
                          hint="Fix: e.g. advisor.Client(\"http://127.0.0.1:8000\").")
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"The server's URL {url!r} is not an http:// or https:// URL (--server).",
                          hint="Fix: e.g. --server http://127.0.0.1:8000.")
    return url.rstrip("/")


def request_body(cls: type[B], **values: Any) -> B:
    """The request ``cls`` made of a call's arguments (named as the body's fields); a value the server would
    refuse is a ConfigError naming the argument, the value and what is wrong, before anything is sent."""
    try:
        return cls(**values)
    except ValidationError as exc:
        problems = field_problems(exc.errors())
    first = problems[0]
    path = first.field.split(".")
    name, value = path[0], values.get(path[0])
    for part in path[1:]:  # "target.threads": the value inside, not the whole target's dict
        value = value.get(part) if isinstance(value, dict) else None
    got = f" (got {value!r:.80})" if value is not None and name != "profile" else ""
    more = f"; and {len(problems) - 1} more" if len(problems) > 1 else ""
    raise ConfigError(f"Invalid {first.field}: {first.problem}{got}{more}.",
                      hint=f"Fix: correct {name}; the server takes the values the local advisor API does.") from None


def response_object(cls: type[B], data: Any, url: str) -> B:
    """``cls`` from a server's answer; ServiceError when the answer is not one (not an advisor server, or one
    of another version)."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        first = field_problems(exc.errors())[0]
        raise ServiceError(f"The server at {url} answered with something that is not a {cls.__name__} "
                           f"({first.field}: {first.problem}).",
                           hint="Fix: check that the URL is an advisor server of this version (GET URL/healthz).",
                           ) from None


def _items(data: Any, key: str, url: str, offset: int = 0) -> list:
    """``data[key]``, a list, from a server's answer; ServiceError when the answer has none, or when a page past
    ``offset`` was asked of a server that does not page (it would answer the newest rows instead)."""
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ServiceError(f"The server at {url} answered without a list of {key}; is it an advisor server?",
                           hint=_REACH_HINT)
    if offset and "total" not in data:
        raise ServiceError(f"The server at {url} does not page its history (an older advisor): its answer would "
                           f"be the newest {key}, not those after the newest {offset:,}.",
                           hint="Fix: upgrade the server's advisor, or list without --offset.")
    return items


def recommendation_id_of(value: Any, what: str = "A recommendation id",
                         fix: str = "the id of a stored recommendation (rec.id, or `advisor history list`)") -> int:
    """A history id as a positive int; ConfigError naming ``what`` and the ``fix`` otherwise (it goes into the
    URL or the query)."""
    try:
        number = operator.index(value) if not isinstance(value, bool) else 0
    except TypeError:
        number = 0
    if number < 1:
        raise ConfigError(f"{what} is a positive whole number, got {value!r:.80}.", hint=f"Fix: use {fix}.")
    return number


class Client:
    """The advisor's API, served by ``advisor serve`` at ``url``. Use as a context manager, or ``close()``."""

    @python_surface
    def __init__(self, url: str, token: str | None = None, *, timeout_seconds: float = 120.0, retries: int = 3,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = check_url(url)
        token = token if token is not None else os.environ.get(TOKEN_ENV) or None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, follow_redirects=False,
                                  timeout=httpx.Timeout(timeout_seconds, connect=min(10.0, timeout_seconds)),
                                  transport=transport or httpx.HTTPTransport(retries=retries))

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r})"

    # ------------------------------------------------------------------------------------------ calls

    def _call(self, method: str, path: str, *, body: Any = None, params: dict | None = None,
              sent_unset: bool = True) -> Any:  # False: defaults not sent (older servers refuse new fields)
        content = body.model_dump_json(exclude_unset=not sent_unset) if body is not None else None
        try:
            response = self._http.request(
                method, path, content=content, params={k: v for k, v in (params or {}).items() if v is not None},
                headers={"Content-Type": "application/json"} if content is not None else None)
        except httpx.TimeoutException:
            raise ServiceError(f"The advisor server at {self.url} did not answer in time ({method} {path}).",
                               hint=timeout_hint(self.url, method, path)) from None
        except httpx.TransportError as exc:
            # httpx's own words may end with a full stop ("Server disconnected without sending a response.")
            why = str(exc).rstrip(".") or type(exc).__name__
            raise ServiceError(f"Cannot reach the advisor server at {self.url}: {why}.", hint=_REACH_HINT) from None
        if response.status_code >= 400:
            raise self._error(response)
        try:
            return response.json()
        except ValueError:
            raise ServiceError(f"The server at {self.url} answered {method} {path} with something that is not "
                               "JSON; is it an advisor server?", hint=_REACH_HINT,
                               status=response.status_code) from None

    def _sent_probe(self, source: Any, path: str, body: BaseModel) -> Any:
        """POST ``body``, which holds the profile of ``source`` made here; where no answer came (the server gone,
        or too slow), the fix also says how not to probe again to send it again."""
        try:
            return self._call("POST", path, body=body)
        except ServiceError as exc:
            if exc.status is not None:
                raise
            raise ServiceError(exc.cli_message, hint=(exc.cli_hint or "") + reprobe_hint(source)) from None

    @python_surface  # the server's words are the CLI's: the API's here, unless the CLI calls (--server)
    def _error(self, response: httpx.Response) -> AdvisorError:
        status = response.status_code
        try:
            data = response.json()
            detail = data["error"]
            message, hint, kind = str(detail["message"]), detail.get("hint"), str(detail.get("type", ""))
            hint = on_server(str(hint), self.url) if hint is not None else None
        except (ValueError, KeyError, TypeError):
            return ServiceError(f"The server at {self.url} answered HTTP {status} without an advisor error body.",
                                hint=_REACH_HINT, status=status)
        if status == 401:
            return ServiceError(message, hint=f"Fix: set {TOKEN_ENV} to one of the server's tokens.", status=status)
        if status == 409 and kind == NoFeasibleCandidateError.__name__:
            rec, misses = data.get("recommendation"), data.get("nearest")
            try:
                ranking = Recommendation.model_validate(rec) if isinstance(rec, dict) else None
                nearest = [Candidate.model_validate(c) for c in misses] if isinstance(misses, list) else []
            except ValidationError:  # the message and hint still say what is wrong
                ranking, nearest = None, []
            return NoFeasibleCandidateError(message, hint=hint, recommendation=ranking, nearest=nearest)
        if status in (422, 404):
            found = rebuild(kind, message, hint)
            if found is not None:
                return found
        return ServiceError(message, hint=hint, status=status)

    # -------------------------------------------------------------------------------------------- API

    @python_surface
    def recommend(self, source: Any, *, dataset_size: int | None = None, epochs: int | None = None,
                  batch_size: int | None = None, deadline: str | float | timedelta | None = None,
                  budget: str | float | None = None, objective: str = "cost",
                  providers: str | Sequence[str] | None = None, regions: str | Sequence[str] | None = None,
                  spot: bool = False, top: int = 10, precision: str | None = None,
                  startup_seconds_cpu: str | float | None = None, startup_seconds_gpu: str | float | None = None,
                  probe_seconds: float | None = None, progress: Any = None, save: bool = True,
                  compile: bool | None = None,  # the flag's name (shadows a builtin)
                  grad_accum_steps: int | None = None, name: str | None = None,
                  eval_every: int | None = None, eval_steps: int | None = None) -> Recommendation:
        """``advisor.recommend`` on the server: the source (a workload, a Profile or a profile .json) is
        profiled here if need be, ranked and stored there; ``rec.id`` is the server's history id. ``compile``,
        ``grad_accum_steps``, ``eval_every``, ``eval_steps``, ``name``: as ``advisor.recommend`` takes them (None:
        what the profile's workload declared; the name travels in the profile sent). A value the server would
        refuse is a ConfigError before anything is probed or sent (the job's sizes with the local API's messages,
        the rest naming the field)."""
        from advisor import api

        api.check_options({"save": save, "spot": spot}, {"progress": progress})  # "no" is no bool, as locally
        api.check_source(source)
        api.check_job_values(dataset_size, epochs, batch_size)  # the local API's messages for the job's values
        # a timedelta, which the local API takes, crosses as its seconds (JSON has no such type)
        deadline, startup_seconds_cpu, startup_seconds_gpu = (
            v.total_seconds() if isinstance(v, timedelta) else v for v in (deadline, startup_seconds_cpu,
                                                                           startup_seconds_gpu))
        check_constraints(objective, deadline, budget, providers, regions, spot, top, startup_seconds_cpu,
                          startup_seconds_gpu)
        self._answers_before_a_probe(source)
        body = request_body(
            RecommendationRequest, profile=_UNPROBED, dataset_size=dataset_size, epochs=epochs,
            batch_size=batch_size, deadline=deadline, budget=budget, objective=objective,
            providers=list(providers) if isinstance(providers, (list, tuple)) else providers,
            regions=list(regions) if isinstance(regions, (list, tuple)) else regions, spot=spot, top=top,
            precision=precision, startup_seconds_cpu=startup_seconds_cpu, startup_seconds_gpu=startup_seconds_gpu,
            save=save, compile=compile, grad_accum_steps=grad_accum_steps, eval_every=eval_every,
            eval_steps=eval_steps)
        # profiled as the local call would (a workload's PRECISION is the GPUs' analysis precision), so the server
        # answers as advisor.recommend would here
        prof = api.job_profile(source, recommend=True, dataset_size=dataset_size, epochs=epochs,
                               batch_size=batch_size, precision=precision, probe_seconds=probe_seconds,
                               progress=progress, name=name, **body.job_steps())
        data = self._sent_probe(source, f"{API_PREFIX}/recommendations", body.model_copy(update={"profile": prof}))
        return response_object(Recommendation, data, self.url)

    @python_surface
    def predict(self, source: Any, *, dataset_size: int | None = None, epochs: int | None = None,
                batch_size: int | None = None, target: Target | str | None = None, precision: str | None = None,
                probe_seconds: float | None = None, progress: Any = None, use_history: bool = True,
                save: bool = True, compile: bool | None = None,  # the flag's name (shadows a builtin)
                grad_accum_steps: int | None = None, eval_every: int | None = None, name: str | None = None,
                eval_steps: int | None = None, vcpus: int | str | None = None) -> Estimate:
        """``advisor.predict`` on the server (one target's whole-job time). ``precision`` as there: "mixed" is
        bf16; ``compile`` ... ``eval_steps`` as ``recommend``'s; ``vcpus``: a GPU target's host vCPUs, as
        ``advisor.predict`` takes them. ``predict_json`` has the answer whole, a GPU model's start-up in it."""
        return response_object(Estimate, self.predict_json(
            source, dataset_size=dataset_size, epochs=epochs, batch_size=batch_size, target=target,
            precision=precision, probe_seconds=probe_seconds, progress=progress, use_history=use_history, save=save,
            compile=compile, grad_accum_steps=grad_accum_steps, eval_every=eval_every, eval_steps=eval_steps,
            vcpus=vcpus, name=name), self.url)

    @python_surface
    def predict_json(self, source: Any, *, dataset_size: int | None = None, epochs: int | None = None,
                     batch_size: int | None = None, target: Target | str | None = None,
                     precision: str | None = None, probe_seconds: float | None = None, progress: Any = None,
                     use_history: bool = True, save: bool = True, compile: bool | None = None,
                     grad_accum_steps: int | None = None, eval_every: int | None = None, name: str | None = None,
                     eval_steps: int | None = None, vcpus: int | str | None = None,
                     startup_seconds_gpu: str | float | None = None) -> dict:
        """``predict``'s answer as the server sends it: the object ``advisor predict --json`` prints, with, for a
        GPU model, ``instance_startup_seconds`` (``startup_seconds_gpu``, "5m" or seconds; default: the server's)
        and ``total_seconds``, that start-up + ``seconds``."""
        from advisor import api
        from advisor.predictor.input_bound import check_target_vcpus, check_vcpus
        from advisor.units import parse_startup_seconds

        api.check_options({"use_history": use_history, "save": save}, {"progress": progress})
        api.check_source(source)
        api.check_job_values(dataset_size, epochs, batch_size)
        api.check_target(target)
        if startup_seconds_gpu is not None:  # refused here as the server would refuse it, before the probe
            parse_startup_seconds(startup_seconds_gpu, flag="--startup-gpu")
        body = request_body(PredictionRequest, profile=_UNPROBED, dataset_size=dataset_size, epochs=epochs,
                            batch_size=batch_size, target=TargetSpec.of(target), precision=precision,
                            use_history=use_history, save=save, compile=compile,
                            grad_accum_steps=grad_accum_steps, eval_every=eval_every, eval_steps=eval_steps,
                            vcpus=check_vcpus(vcpus), startup_seconds_gpu=startup_seconds_gpu)
        tgt = api.resolve_target(target)  # as the local call resolves it, before anything is probed
        check_target_vcpus(body.vcpus, tgt.kind == "gpu")
        self._answers_before_a_probe(source)
        prof = api.job_profile(source, target=tgt, dataset_size=dataset_size, epochs=epochs, batch_size=batch_size,
                               precision=precision, probe_seconds=probe_seconds, progress=progress, name=name,
                               **body.job_steps())
        data = self._sent_probe(source, f"{API_PREFIX}/predictions", body.model_copy(update={"profile": prof}))
        response_object(Estimate, data, self.url)  # an answer that is not an Estimate is a ServiceError here too
        return data

    @python_surface
    def record_outcome(self, recommendation_id: int, actual_seconds: float | str, *,
                       instance_type: str | None = None, force: bool = False, failed: bool = False) -> Outcome:
        """``advisor history record``: the real duration of a recommended job, stored on the server.
        ``actual_seconds`` is seconds or a duration ("30m", "1h30"), as ``advisor.api.record_outcome`` takes it
        (and refused as it refuses it: HistoryError); the server is sent seconds. ``failed``: a run that crashed,
        stored with status "failed" (sent only then: a server older than it refuses the field, not the record)."""
        rec_id = recommendation_id_of(recommendation_id)
        seconds = parse_actual_seconds(actual_seconds, failed=failed)
        body = request_body(OutcomeRequest, actual_seconds=seconds, instance_type=instance_type, force=force,
                            **({"failed": True} if failed else {}))
        try:  # a server older than ``failed`` refuses it as unknown: said so, not "correct the field named"
            data = self._call("POST", f"{API_PREFIX}/recommendations/{rec_id}/outcome", body=body, sent_unset=False)
        except ServiceError as exc:
            raise too_new_field(exc, "failed", self.url, "--failed (a crashed run)") from None
        return response_object(Outcome, data, self.url)

    @python_surface
    def forget(self, recommendation_id: int, outcome_id: int | None = None) -> int:
        """``advisor history forget`` on the server: delete a recommendation's recorded outcomes (or only
        ``outcome_id``), which the learned correction then no longer fits on; how many went. HistoryError when
        there is nothing to forget."""
        rec_id = recommendation_id_of(recommendation_id)
        outcome = None if outcome_id is None else recommendation_id_of(
            outcome_id, "An outcome id", "an outcome id that `advisor history show ID` lists")
        data = self._call("DELETE", f"{API_PREFIX}/recommendations/{rec_id}/outcomes", params={"outcome": outcome})
        gone = data.get("forgotten_outcomes") if isinstance(data, dict) else None
        if not isinstance(gone, int) or isinstance(gone, bool):
            raise ServiceError(f"The server at {self.url} answered without a count of forgotten outcomes; is it "
                               "an advisor server of this version?", hint=_REACH_HINT)
        return gone

    @python_surface
    def calibration(self) -> CalibrationReport:
        """``advisor history calibration`` on the server's history: the learned correction's held-out error."""
        return response_object(CalibrationReport, self._call("GET", f"{API_PREFIX}/calibration"), self.url)

    @python_surface
    def list(self, workload: str | None = None, since: str | datetime | date | None = None,
             limit: int | None = 50, offset: int = 0) -> list[HistoryEntry]:
        """``History.list`` on the server's history: stored recommendations, newest first, at most ``limit`` (the
        server lists up to 10,000 a call) after the newest ``offset``."""
        data = self._call("GET", f"{API_PREFIX}/history", params=list_params(workload, since, limit, offset))
        return [response_object(HistoryEntry, e, self.url) for e in _items(data, "entries", self.url, offset)]

    @python_surface
    def list_predictions(self, workload: str | None = None, since: str | datetime | date | None = None,
                         limit: int = 50, offset: int = 0) -> list[PredictionEntry]:
        """``advisor.history.outcomes.list_predictions`` on the server's history: the predictions saved there
        (``predict(..., save=True)``), newest first, at most ``limit`` (the server lists up to 10,000 a call)
        after the newest ``offset``."""
        data = self._call("GET", f"{API_PREFIX}/predictions", params=list_params(workload, since, limit, offset))
        return [response_object(PredictionEntry, p, self.url) for p in _items(data, "predictions", self.url, offset)]

    @python_surface
    def totals(self, workload: str | None = None,
               since: str | datetime | date | None = None) -> tuple[int | None, int | None]:
        """How many recommendations and saved predictions the server holds that match (None: a server that does
        not say): what a listed page is "of"."""
        counts = []
        for path in ("history", "predictions"):
            data = self._call("GET", f"{API_PREFIX}/{path}", params=list_params(workload, since, 1, 0))
            total = data.get("total") if isinstance(data, dict) else None
            counts.append(total if isinstance(total, int) and not isinstance(total, bool) else None)
        return counts[0], counts[1]

    @python_surface
    def show(self, recommendation_id: int) -> HistoryDetail:
        """``History.show``: one stored recommendation and its outcomes."""
        data = self._call("GET", f"{API_PREFIX}/recommendations/{recommendation_id_of(recommendation_id)}")
        return response_object(HistoryDetail, data, self.url)

    @python_surface
    def compare(self, workload: str | None = None) -> Comparison:
        """``History.compare``: predicted vs actual per run, device and method."""
        data = self._call("GET", f"{API_PREFIX}/compare", params={"workload": workload})
        return response_object(Comparison, data, self.url)

    @python_surface
    def export(self, fmt: str = "csv", out: TextIO | None = None, *, workload: str | None = None,
               since: str | datetime | date | None = None) -> str:
        """``History.export`` of the server's history: its rows, fetched a page at a time and written here as
        CSV or JSON (to ``out`` as they come, then "" is returned; else the text)."""
        from advisor.history.export import check_format, write_export

        check_format(fmt)
        # "7d" read once, here: every page then has the same start
        since_text = parse_since(since).isoformat() if since else None
        return write_export(fmt, self._export_pages({"workload": workload, "since": since_text}), out)

    def _export_pages(self, params: dict) -> Iterator[list]:
        from advisor.history.export import EXPORT_PAGE_ROWS, page_key, rows_from_wire

        after = (0, 0)
        while True:
            data = self._call("GET", f"{API_PREFIX}/history/export", params={
                **params, "after_recommendation": after[0], "after_outcome": after[1], "limit": EXPORT_PAGE_ROWS})
            rows = rows_from_wire(data)
            # each row past the one before: a server that sent a row again would page for ever
            if rows is None or any(a >= b for a, b in itertools.pairwise([after, *map(page_key, rows)])):
                raise ServiceError(f"The server at {self.url} answered without the export's columns and rows in "
                                   "order; is it an advisor server of this version?", hint=_REACH_HINT)
            yield from rows
            # the server's "next" (null on the last page); a server without it: a short page is the last
            more = data["next"] is not None if "next" in data else len(rows) >= EXPORT_PAGE_ROWS
            if not rows or not more:
                return
            after = page_key(rows[-1])

    @python_surface
    def catalog(self, *, provider: str | None = None, gpu: str | None = None, max_price: float | None = None,
                region: str | None = None) -> list[Offer]:
        """The server's priced offers matching the filters, cheapest first (``advisor pricing list``)."""
        data = self._call("GET", f"{API_PREFIX}/catalog",
                          params={"provider": provider, "gpu": gpu, "max_price": max_price, "region": region})
        return [response_object(Offer, o, self.url) for o in _items(data, "offers", self.url)]

    def _answers_before_a_probe(self, source: Any) -> None:
        """ServiceError now when no advisor server answers at the URL and ``source`` would be probed first: an
        unreachable server (or another web server there) failed only after the whole probe (a minute, by
        default). An advisor server's answer, its database down or its rate limit reached included, lets the call
        go on, to fail or not on its own request."""
        from advisor import api

        if api._is_saved_profile(source):
            return
        try:
            answer = self.health()
        except ServiceError as exc:
            if exc.status is None or exc.status in (404, 405, 501):
                raise
            return
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            raise ServiceError(f"The server at {self.url} answered GET /healthz, but not as an advisor server does.",
                               hint=_REACH_HINT)

    @python_surface
    def health(self) -> dict:
        """``GET /healthz``: the server's status (no token needed); ServiceError, ``status`` 503, with the server's
        reason while its database does not answer."""
        return self._call("GET", "/healthz")
