"""What the routes call: ``advisor.api`` and the history, over one long-lived ``History`` per worker.

The server computes nothing itself: recommendations and predictions are ``advisor.api.recommend`` /
``advisor.api.predict`` with the request's ``Profile`` as the source (data: nothing at its workload path is
read), outcomes are ``advisor.api.record_outcome``, queries are ``advisor.history.repository.History``.

A recommendation is a pure function of the profile, the job, the constraints, the price files and the stored
outcomes (the learned correction). ``RecommendationCache`` keeps the ranked result for identical requests, keyed by
all of these (the outcomes by their count, newest id and time, the price files by their size and mtime), so a pipeline
that asks again for the same profile and job is answered without predicting again; every request is still
stored as a row of its own. Concurrent identical requests compute once (the others wait for it), and at most
``compute_slots`` computations run at once in a worker, since they are CPU-bound.
"""

from __future__ import annotations

import gc
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from advisor import api
from advisor.errors import AdvisorError, DatabaseUnavailableError
from advisor.history.engine import database_error
from advisor.history.outcomes import forget as forget_outcomes
from advisor.history.outcomes import list_predictions
from advisor.history.repository import History
from advisor.history.tables import RecommendationTable
from advisor.predictor.contexts import DEFAULT_ENTRIES as CONTEXT_ENTRIES
from advisor.predictor.contexts import ContextCache, profile_key
from advisor.pricer import offers_for, price_files_version
from advisor.schemas import (
    CalibrationReport,
    Comparison,
    Estimate,
    HistoryDetail,
    HistoryEntry,
    Offer,
    Outcome,
    PredictionEntry,
    Recommendation,
    utc_now,
)
from advisor.service.config import ServiceConfig
from advisor.service.wire import OutcomeRequest, PredictionRequest, RecommendationRequest, TargetSpec
from advisor.settings import Settings

FLIGHT_WAIT_SECONDS = 300.0
# What a ranking imports (numpy, scipy and scikit-learn under them; never torch), loaded by ``Backend.warm``.
# The predictor imports scikit-learn and scipy inside the functions that fit (the CLI's start-up stays short):
# named here, or a worker's first ranking pays their 1-1.5 s import while every request behind it waits.
_WARM_MODULES = ("advisor.pricing.catalog", "advisor.predictor.estimate", "advisor.predictor.targets",
                 "advisor.predictor.fit", "advisor.predictor.learned", "advisor.ranking",
                 "sklearn.linear_model", "sklearn.impute", "sklearn.pipeline", "sklearn.preprocessing",
                 "sklearn.model_selection", "scipy.optimize", "scipy.stats")
# The collector's thresholds in a worker (Python's default: 700, 10, 10): see ``Backend.warm``.
GC_THRESHOLDS = (50_000, 20, 20)
VERSION_SECONDS = 1.0  # how long a worker reuses its read of the outcomes' version for the cache key
_DB_HINT = "Fix: check that the database is reachable; the server retries on the next request."


_HEAD = {"schema_version", "id", "created_at"}


@dataclass(frozen=True)
class Ranked:
    """A ranked recommendation and its JSON without the fields each stored copy has of its own (``tail``: the
    object from its fourth key on), so that an answer is written without encoding 100 kB again."""

    recommendation: Recommendation
    tail: bytes

    @classmethod
    def of(cls, rec: Recommendation) -> Ranked:
        return cls(rec, rec.model_dump_json(by_alias=True, exclude=_HEAD).encode())

    def answer(self, rec: Recommendation) -> bytes:
        """``rec`` (this ranking, with its own id and time) as the JSON the CLI prints."""
        head = json.dumps(rec.model_dump(mode="json", include=_HEAD), separators=(",", ":")).encode()
        return head[:-1] + b"," + self.tail[1:] if self.tail != b"{}" else head


@dataclass
class _Flight:
    """One computation that identical concurrent requests wait for."""

    done: threading.Event = field(default_factory=threading.Event)
    result: Ranked | None = None
    error: BaseException | None = None


class RecommendationCache:
    """Ranked recommendations by request key: at most ``entries``, each for at most ``seconds``."""

    def __init__(self, entries: int, seconds: float) -> None:
        self.entries, self.seconds = entries, seconds
        self._items: OrderedDict[str, tuple[float, Ranked]] = OrderedDict()
        self._flights: dict[str, _Flight] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_compute(self, key: str, compute: Callable[[], Ranked]) -> Ranked:
        """The cached result for ``key``, else ``compute()``'s (once for concurrent identical requests)."""
        with self._lock:
            found = self._items.get(key)
            if found is not None and time.monotonic() - found[0] < self.seconds:
                self._items.move_to_end(key)
                self.hits += 1
                return found[1]
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
                self.misses += 1
        if not leader:
            if not flight.done.wait(FLIGHT_WAIT_SECONDS) or flight.result is None:
                raise flight.error if flight.error is not None else TimeoutError("computation timed out")
            return flight.result
        try:
            flight.result = compute()
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)
                if flight.result is not None and self.entries > 0:
                    self._items[key] = (time.monotonic(), flight.result)
                    while len(self._items) > self.entries:
                        self._items.popitem(last=False)
            flight.done.set()
        return flight.result


class Backend:
    """The service's calls into advisor, for one worker process. ``close()`` it (the app does, on shutdown)."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.settings: Settings = config.settings
        self.history = History(settings=self.settings)
        self.cache = RecommendationCache(config.cache_entries, config.cache_seconds)
        # Per profile, the probe's fits and the targets' compute models: another job of a profile this worker
        # has ranked starts from them (advisor.predictor.contexts).
        self.contexts = ContextCache(min(config.cache_entries, CONTEXT_ENTRIES)) if config.cache_entries else None
        self._compute = threading.BoundedSemaphore(max(1, config.compute_slots))
        # Requests being worked on at once in this worker; the others wait their turn in arrival order. More
        # threads than this only fight over the GIL and serve the unlucky ones last (see bench/README.md).
        self.limiter = anyio.CapacityLimiter(max(1, config.request_slots))
        self._schema_ready = False
        self._writable = False  # whether this worker's history took a save, or passed the check for one
        self._frozen = False
        self._version: tuple[float, tuple[int, int, str]] | None = None  # (when read, outcomes_version())
        # profile digest -> the stored rows of that profile and its workload: a profile is stored (and its
        # workload looked up) once per worker, not once per request (a team's pipelines send the same profile
        # again and again, for one job or many).
        self._profile_ids: OrderedDict[str, tuple[int, int]] = OrderedDict()

    def close(self) -> None:
        self.history.close()

    def warm(self) -> None:
        """Before the first request: load what a ranking needs (the predictor's modules, the catalog), then
        move those long-lived objects out of the garbage collector's sight (``gc.freeze``): otherwise the full
        collections that each request's garbage triggers scan them all, and took 0.4-0.5 s each here. And
        collect less often (``GC_THRESHOLDS``): a new job allocates ~10^5 objects, nearly all freed by their
        reference counts, yet at Python's default thresholds they started ~4 collections a request, 2-3 ms of
        its ~30 ms of CPU (measured with ``gc.callbacks``; 0.2 ms at these thresholds)."""
        import importlib

        from advisor.sklearn_env import quiet_environ

        with quiet_environ():  # the server's probe children must not get what scikit-learn sets on import
            for name in _WARM_MODULES:
                importlib.import_module(name)
        self.catalog()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)

    # ---------------------------------------------------------------------------------- database state

    def _db_call(self, what: Callable[[], Any]) -> Any:
        engine = self.history.engine
        try:
            if not self._schema_ready:
                self.history.create()  # with a named SQLite file's folder, made on first use
                self._schema_ready = True
            return what()
        except (DataError, IntegrityError):
            raise  # the database refused a value it was sent: a fault of the request or of advisor, not an outage
        except DBAPIError as exc:
            raise database_error(engine, exc, "The history database {where} failed: {detail}.", _DB_HINT) from exc

    def outcomes_version(self, *, fresh: bool = True) -> tuple[int, int, str]:
        """(count, newest id, newest time) of the stored outcomes: what the learned correction was fitted on. ``fresh``
        False may answer from the last read of the past ``VERSION_SECONDS`` (an outcome recorded through another
        worker reaches this worker's cache that much later; one recorded through this worker at once)."""
        seen = self._version
        if not fresh and seen is not None and time.monotonic() - seen[0] < VERSION_SECONDS:
            return seen[1]

        version = self._db_call(self.history.outcomes_version)
        self._version = (time.monotonic(), version)
        return version

    def check_saves(self) -> None:
        """``DatabaseUnavailableError`` (``writes_refused``) unless this worker may store a request's run: asked
        before any work (``advisor.history.write_access``), as the CLI asks before its probe. Asked until it
        passes, then trusted: one query a request only on a server whose history refuses writes (a grant made
        meanwhile is seen at the next request); a save that fails later asks again."""
        if not self._writable:
            from advisor.history.write_access import check_writable

            self._db_call(lambda: check_writable(self.history.engine))
            self._writable = True

    def database_ok(self) -> bool:
        try:
            self.outcomes_version()
            return True
        except AdvisorError:
            return False

    # -------------------------------------------------------------------------------------- pricing

    def catalog(self):
        """The price catalog the rankings use (``pricer.offers_for``: loaded again only when a price file changed,
        its offers' estimate keys worked out with it; with the caches off, loaded for each call)."""
        return offers_for([Path(p) for p in self.settings.pricing_files], self.contexts, None, None)[0]

    def offers(self, *, provider: str | None, gpu: str | None, max_price: float | None,
               region: str | None) -> list[Offer]:
        """``advisor pricing list``: the offers matching the filters, cheapest first."""
        from advisor.units import parse_names

        cpu_only = gpu is not None and gpu.lower() in ("none", "cpu")
        offers = self.catalog().filter(providers=parse_names(provider), regions=parse_names(region),
                                       gpu=None if cpu_only else gpu, max_price_usd_per_hour=max_price,
                                       cpu_only=cpu_only)
        return sorted(offers, key=lambda o: (o.price_usd_per_hour, o.provider, o.instance_type))

    # ------------------------------------------------------------------------------- recommendations

    def _key(self, req: RecommendationRequest, raw: bytes | None) -> str:
        """What the ranking depends on. ``raw`` (the request body as sent) stands for the request when given:
        the same bytes are the same request, and hashing them is cheaper than dumping the profile again."""
        s = self.settings
        request: Any = hashlib.sha256(raw).hexdigest() if raw is not None else req.model_dump(mode="json")
        parts = {"request": request, "outcomes": self._outcomes_or_none(req),
                 "prices": price_files_version(s.pricing_files, self.contexts),
                 "startup": [s.startup_seconds_cpu, s.startup_seconds_gpu]}
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()

    def _outcomes_or_none(self, req: RecommendationRequest) -> tuple[int, int, str] | None:
        """The outcomes' version; None when the database cannot be read and nothing is to be stored: the ranking
        goes on without the learned correction, with a note, as the local `recommend --no-save` does (it was a 503).
        """
        try:
            return self.outcomes_version(fresh=False)
        except DatabaseUnavailableError:
            if req.save:
                raise
            return None

    def _compute_recommendation(self, req: RecommendationRequest) -> Ranked:
        # The version the key was made with (read at most VERSION_SECONDS ago): a fresh read here was a database
        # round trip per new job (~4% of its CPU). A database that went away since fails the save instead (503,
        # nothing stored); once that read is older, the key's read fails before any work.
        version = self._outcomes_or_none(req)
        with self._compute:
            rec = api.recommend(
                req.profile, dataset_size=req.dataset_size, epochs=req.epochs, batch_size=req.batch_size,
                deadline=req.deadline, budget=req.budget, objective=req.objective, providers=req.providers,
                regions=req.regions, spot=req.spot, top=req.top, precision=req.precision, save=False,
                settings=self.settings, contexts=self.contexts, history=self.history, outcomes_version=version,
                **req.job_steps(),
                **{k: v for k, v in (("startup_seconds_cpu", req.startup_seconds_cpu),
                                     ("startup_seconds_gpu", req.startup_seconds_gpu)) if v is not None})
        if not self._frozen:
            self._frozen = True
            gc.freeze()  # what the first ranking loaded lazily lives as long as the process too (see warm)
        # Every ranked candidate is kept out of the JSON and the history; the cache need not hold it either.
        return Ranked.of(rec.model_copy(update={"all_candidates": []}))

    def recommend(self, req: RecommendationRequest, raw: bytes | None = None) -> tuple[Recommendation, bytes]:
        """Rank (or reuse the ranking of an identical request), store this request as a new row; returns the
        recommendation and its JSON."""
        if req.save:
            self.check_saves()  # a history that may not be written fails now, not after the ranking
        key = self._key(req, raw)  # reads the outcomes: an unreachable database fails here, before any work
        ranked = self.cache.get_or_compute(key, lambda: self._compute_recommendation(req))
        rec = ranked.recommendation.model_copy(update={"id": None, "created_at": utc_now()})
        if req.save:
            try:
                rec.id = self._db_call(lambda: self._save(rec, req))
            except DatabaseUnavailableError:
                self._writable = False  # a privilege revoked since: the next request asks before its work
                raise
        return rec, ranked.answer(rec)

    def _save(self, rec: Recommendation, req: RecommendationRequest) -> int:
        key = self.contexts.key_of(req.profile) if self.contexts is not None else profile_key(req.profile)
        stored = self._profile_ids.get(key)
        if stored is not None:
            try:
                return self.history.save_recommendation(rec, profile=req.profile, profile_id=stored[0],
                                                        workload_id=stored[1])
            except IntegrityError:  # the profile or workload row is gone (removed by hand): store them again
                self._profile_ids.pop(key, None)
        rec_id = self.history.save_recommendation(rec, profile=req.profile)
        with self.history.engine.connect() as conn:
            row = conn.execute(select(RecommendationTable.profile_id, RecommendationTable.workload_id)
                               .where(RecommendationTable.id == rec_id)).one()
            self._profile_ids[key] = (row.profile_id, row.workload_id)
        while len(self._profile_ids) > max(1, self.config.cache_entries):
            self._profile_ids.popitem(last=False)
        return rec_id

    # ----------------------------------------------------------------------------------- predictions

    def predict(self, req: PredictionRequest) -> tuple[Estimate, float | None]:
        """``advisor.predict`` of the request, and the paid start-up of the instance, for a GPU model (the
        request's ``startup_seconds_gpu``, else the server's; None for a CPU): what ``predict --gpu --json`` adds
        as ``instance_startup_seconds`` and ``total_seconds``. The start-up is read first: a bad one costs no
        prediction."""
        target = req.target.target() if isinstance(req.target, TargetSpec) else req.target
        settings = self.settings.with_startup(None, req.startup_seconds_gpu)  # saved with the prediction too
        with self._compute:
            est = api.predict(req.profile, dataset_size=req.dataset_size, epochs=req.epochs,
                              batch_size=req.batch_size, target=target, precision=req.precision,
                              use_history=req.use_history, save=req.save, settings=settings,
                              vcpus=req.vcpus, **req.job_steps())
        return est, (settings.startup_seconds_gpu if est.target.kind == "gpu" else None)

    # --------------------------------------------------------------------------------------- history

    def record_outcome(self, recommendation_id: int, req: OutcomeRequest) -> Outcome:
        try:
            return api.record_outcome(recommendation_id, req.actual_seconds, instance_type=req.instance_type,
                                      settings=self.settings, **({"force": True} if req.force else {}),
                                      **({"failed": True} if req.failed else {}))
        finally:
            self._version = None  # the next ranking here sees the new outcome

    def forget(self, recommendation_id: int, outcome_id: int | None) -> int:
        """``advisor history forget``: delete a recommendation's recorded outcomes (or one); how many went."""
        try:
            return self._db_call(lambda: forget_outcomes(self.history, recommendation_id, outcome_id))
        finally:
            self._version = None  # the next ranking here fits the correction without them

    def calibration(self) -> CalibrationReport:
        """``advisor history calibration``: the learned correction's cross-validated error on the outcomes here."""
        from advisor.predictor.learned import calibration_report

        return self._db_call(lambda: calibration_report(self.history))

    def list(self, *, workload: str | None, since: datetime | None, limit: int,
             offset: int = 0) -> list[HistoryEntry]:
        return self._db_call(lambda: self.history.list(workload=workload, since=since, limit=limit, offset=offset))

    def probe_flags(self, ids: list[int]) -> dict[int, list[str]]:
        """Which of recommendations ``ids`` had a disturbed or unreliable probe (``here_run.probe_flags``): the web
        list marks them, as the page of each shows its warnings."""
        from advisor.history.here_run import probe_flags

        def read() -> dict[int, list[str]]:
            with self.history._read() as conn:
                return probe_flags(conn, ids)

        return self._db_call(read)

    def predictions(self, *, workload: str | None, since: datetime | None, limit: int,
                    offset: int = 0) -> list[PredictionEntry]:
        """The predictions saved here (``POST /v1/predictions`` with ``save``), newest first: what the local
        ``advisor history list`` shows of its own history."""
        return self._db_call(lambda: list_predictions(self.history, workload=workload, since=since, limit=limit,
                                                      offset=offset))

    def totals(self, *, workload: str | None, since: datetime | None) -> tuple[int, int]:
        """How many recommendations and saved predictions here match: what a listed page is "of"."""
        from advisor.history.outcomes import totals

        return self._db_call(lambda: totals(self.history, workload, since))

    def show(self, recommendation_id: int) -> HistoryDetail:
        return self._db_call(lambda: self.history.show(recommendation_id))

    def compare(self, *, workload: str | None) -> Comparison:
        return self._db_call(lambda: self.history.compare(workload=workload))

    def export_rows(self, *, workload: str | None, since: datetime | None, after: tuple[int, int],
                    limit: int) -> list[list]:
        """A page of ``advisor history export``'s table of the history here (``EXPORT_COLUMNS``): at most
        ``limit`` rows after the row whose ``page_key`` is ``after``, as JSON values."""
        from advisor.history.export import wire_row

        return self._db_call(lambda: [wire_row(r) for r in self.history.export_rows(
            workload, since, after=after, limit=limit)])
