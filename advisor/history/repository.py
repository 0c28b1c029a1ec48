"""``advisor.History``: storing and querying recommendations, profiles, predictions and real outcomes.

Every write is one transaction: a recommendation with all its candidates (and its workload and profile) is
committed whole or not at all, whatever happens midway (an exception, Ctrl-C, a killed process). Queries
return the pydantic models of ``advisor.schemas``. The schema is migrated to head on first use.

    with History() as hist:                       # ADVISOR_DATABASE_URL, else SQLite in the user data dir
        rec.id = hist.save_recommendation(rec, profile=prof)
        hist.record_outcome(rec.id, 5400.0)
        hist.compare().by_device
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import statistics
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal, TextIO

from sqlalchemy import Connection, and_, case, func, insert, select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from advisor.errors import ConfigError, HistoryError, did_you_mean
from advisor.history.engine import create_history_engine, writer
from advisor.history.tables import (
    CandidateTable,
    MeasurementTable,
    OutcomeTable,
    PredictionTable,
    ProfileTable,
    RecommendationTable,
    WorkloadTable,
)
from advisor.schemas import (
    Candidate,
    Comparison,
    Constraints,
    Estimate,
    HistoryDetail,
    HistoryEntry,
    Outcome,
    Profile,
    Recommendation,
    TrainingRow,
    WorkloadInfo,
    utc_now,
)
from advisor.settings import Settings

_NOT_FOUND_HINT = "Fix: `advisor history list` shows the stored ids."

# Candidate fields kept in their own columns; every other field goes to the row's ``extra`` JSON.
_CANDIDATE_COLUMNS = ("provider", "instance_type", "region", "tier", "gpu", "gpu_count", "vcpus", "seconds", "low",
                      "high", "cost_usd", "spot_cost_usd", "fits_memory", "method", "reason",
                      "price_usd_per_hour", "spot_price_usd_per_hour")
_BASE_COLUMNS = ("base_seconds", "base_method")
# Copied from the chosen candidate onto its recommendation row (as chosen_*), and from the run candidate onto
# its outcome row (seconds as predicted_seconds): see advisor/history/tables.py.
CHOSEN_COPY = ("provider", "instance_type", "region", "tier", "gpu", "gpu_count", "vcpus", "method", "seconds",
                "low", "high", "cost_usd")
OUTCOME_COPY = ("provider", "region", "tier", "gpu", "gpu_count", "vcpus", "method", "low", "high", "cost_usd",
                 "base_seconds", "base_method")

EXPORT_COLUMNS = (
    "recommendation_id", "created_at", "workload", "file_sha256", "param_count", "flops_per_sample",
    "dataset_size", "epochs", "batch_size", "objective", "deadline_seconds", "budget_usd",
    "provider", "instance_type", "region", "tier", "gpu", "gpu_count", "vcpus", "method",
    "predicted_seconds", "low", "high", "cost_usd", "chosen",
    "outcome_id", "recorded_at", "status", "actual_seconds", "error_pct",
)
_PREDICTED = EXPORT_COLUMNS.index("predicted_seconds")

# ------------------------------------------------------------------------------------------------ helpers

_SINCE_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(w|d|h|m|min|s)\s*$", re.IGNORECASE)
_SINCE_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "min": 60, "s": 1}


def parse_since(text: str | datetime | date, *, now: datetime | None = None) -> datetime:
    """A timezone-aware UTC datetime from ``--since``: "7d", "12h", "30m", "2w", or a date / datetime in ISO
    form ("2026-11-01", "2026-11-01T12:00", "2026-11-01 12:00+02:00"; naive means UTC)."""
    if isinstance(text, datetime):
        return text.replace(tzinfo=timezone.utc) if text.tzinfo is None else text.astimezone(timezone.utc)
    if isinstance(text, date):
        return datetime(text.year, text.month, text.day, tzinfo=timezone.utc)
    raw = str(text).strip()
    m = _SINCE_DURATION.match(raw)
    if m:
        now = now or utc_now()
        return now - timedelta(seconds=float(m.group(1)) * _SINCE_UNITS[m.group(2).lower()])
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"Cannot read --since {text!r}: it is neither an age like 7d nor a date like 2026-11-01.",
                          hint="Fix: e.g. --since 7d, --since 12h or --since 2026-11-01.") from None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def device_label(tier: str, gpu: str | None, gpu_count: int | None) -> str:
    """How compare names a device: "A100-80GB", "4 x A100-80GB", "cpu"."""
    if tier == "cpu" or not gpu:
        return "cpu"
    return f"{gpu_count} x {gpu}" if (gpu_count or 1) > 1 else gpu


def _workload_fields(info: Mapping[str, Any] | WorkloadInfo | None) -> dict[str, Any]:
    """The workloads row from Recommendation.workload (a dict) or a WorkloadInfo."""
    if info is None:
        info = {}
    if isinstance(info, WorkloadInfo):
        info = info.model_dump()
    params = info.get("param_count", info.get("params"))
    return {
        "name": str(info.get("name") or "workload")[:200],
        "file_sha256": str(info.get("file_sha256") or info.get("sha256") or ""),
        "path": None if info.get("path") is None else str(info.get("path")),
        "param_count": None if params is None else int(params),
        "flops_per_sample": info.get("flops_per_sample"),
        "optimizer": info.get("optimizer"),
    }


def _candidate_row(c: Candidate, recommendation_id: int, *, rank: int | None, chosen: bool,
                   excluded: bool) -> dict[str, Any]:
    data = c.model_dump(mode="json")
    row = {k: data.pop(k, None) for k in _CANDIDATE_COLUMNS}
    for k in _BASE_COLUMNS:
        row[k] = data.pop(k, None)
    row["reason"] = row["reason"] or ""
    row.update(recommendation_id=recommendation_id, rank=rank, chosen=chosen, excluded=excluded, extra=data)
    return row


def _candidate_from_row(row: Any) -> Candidate:
    m = row._mapping
    data = dict(m["extra"] or {})
    data.update({k: m[k] for k in _CANDIDATE_COLUMNS})
    for k in _BASE_COLUMNS:
        if m[k] is not None:
            data[k] = m[k]
    return Candidate.model_validate(data)


def _same_candidate(a: Candidate, b: Candidate) -> bool:
    return a is b or a == b


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _group(key: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A ComparisonGroup's fields from compare's row dicts."""
    errors = [r["error_pct"] for r in rows]
    inside = sum(1 for r in rows if r["within_interval"])
    return {
        "key": key,
        "n": len(rows),
        "median_abs_error_pct": statistics.median([abs(e) for e in errors]),
        "mean_error_pct": math.fsum(errors) / len(errors),
        "within_interval_pct": 100.0 * inside / len(rows),
    }


def _groups(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    buckets: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        buckets.setdefault(r[key], []).append(r)
    groups = [_group(k, v) for k, v in buckets.items()]
    return sorted(groups, key=lambda g: (-g["n"], g["key"]))


def _iso(value: Any) -> Any:
    """A value as export writes it: ISO timestamps, no NaN/inf (empty instead)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# ----------------------------------------------------------------------------------------------- History


class History:
    """The history database. ``url`` None: ``settings`` (default ``Settings.from_env()``) decides: the
    ``ADVISOR_DATABASE_URL``, else a SQLite file in the user data dir. Use as a context manager, or
    ``close()`` it. The schema is created / upgraded on first use."""

    def __init__(self, url: str | None = None, *, settings: Settings | None = None) -> None:
        if url is None:
            url = (settings or Settings.from_env()).resolved_database_url
        self.url = url
        self._engine = create_history_engine(url)
        self._writer = writer(self._engine)
        self._ready = False

    # -------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"History({self._engine.url.render_as_string(hide_password=True)!r})"

    @property
    def engine(self):
        return self._engine

    def _ensure(self) -> None:
        if not self._ready:
            from advisor.history.migrate import ensure_schema

            ensure_schema(self._engine)
            self._ready = True

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction: committed whole at the end, rolled back on any exception (Ctrl-C too)."""
        self._ensure()
        with self._db_errors(writing=True), self._writer.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        self._ensure()
        with self._db_errors(), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _db_errors(self, writing: bool = False) -> Iterator[None]:
        try:
            yield
        except (OperationalError, InterfaceError) as exc:
            where = self._engine.url.render_as_string(hide_password=True)
            detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
            raise HistoryError(f"The history database {where} failed: {detail}."
                               + (" Nothing was written." if writing else ""),
                               hint="Fix: check that the database is reachable and not locked by a stuck "
                                    "process, then run the command again.") from exc

    # ----------------------------------------------------------------------------------- writes

    def _workload_id(self, conn: Connection, info: Mapping[str, Any] | WorkloadInfo | None) -> int:
        """Insert-or-get the workload by (name, file hash); safe against a concurrent insert of the same one."""
        fields = _workload_fields(info)
        key = and_(WorkloadTable.name == fields["name"], WorkloadTable.file_sha256 == fields["file_sha256"])
        found = conn.execute(select(WorkloadTable.id, WorkloadTable.param_count,
                                    WorkloadTable.flops_per_sample).where(key)).first()
        if found is None:
            values = dict(fields, created_at=utc_now())
            dialect = conn.dialect.name
            if dialect in ("sqlite", "postgresql"):
                if dialect == "sqlite":
                    from sqlalchemy.dialects.sqlite import insert as dialect_insert
                else:
                    from sqlalchemy.dialects.postgresql import insert as dialect_insert
                conn.execute(dialect_insert(WorkloadTable).values(**values).on_conflict_do_nothing(
                    index_elements=["name", "file_sha256"]))
            else:  # pragma: no cover - other backends: a savepoint absorbs a concurrent duplicate
                try:
                    with conn.begin_nested():
                        conn.execute(insert(WorkloadTable).values(**values))
                except IntegrityError:
                    pass
            found = conn.execute(select(WorkloadTable.id, WorkloadTable.param_count,
                                        WorkloadTable.flops_per_sample).where(key)).one()
        workload_id, params, flops = found
        fill = {k: fields[k] for k, old in (("param_count", params), ("flops_per_sample", flops))
                if old is None and fields[k] is not None}
        if fill:
            conn.execute(WorkloadTable.__table__.update().where(WorkloadTable.id == workload_id).values(**fill))
        return workload_id

    def _insert_profile(self, conn: Connection, profile: Profile, workload_id: int) -> int:
        profile_id = conn.execute(insert(ProfileTable).values(
            workload_id=workload_id,
            created_at=profile.created_at,
            hostname=profile.host.hostname if profile.host else None,
            probe_wall_seconds=profile.probe_wall_seconds,
            data=profile.model_dump(mode="json"),
        )).inserted_primary_key[0]
        rows = [
            {
                "profile_id": profile_id, "device": d.device, "device_kind": d.kind, "device_name": d.name,
                "spec_name": d.spec_name, "batch_size": m.batch_size, "threads": m.threads,
                "precision": m.precision, "compute_seconds": m.compute_seconds, "batch_seconds": m.batch_seconds,
                "spread": m.spread, "peak_memory_gib": m.peak_memory_gib,
                "gpu_utilization_pct": m.gpu_utilization_pct, "power_watts": m.power_watts, "oom": m.oom,
                "samples": list(m.compute_seconds_samples),
            }
            for d in profile.devices for m in d.measurements
        ]
        if rows:
            conn.execute(insert(MeasurementTable), rows)
        return profile_id

    def save_profile(self, profile: Profile) -> int:
        """Store a profile and its measurements (one transaction); returns the profile id."""
        with self._write() as conn:
            return self._insert_profile(conn, profile, self._workload_id(conn, profile.workload))

    def save_prediction(self, estimate: Estimate, workload: WorkloadInfo | Mapping[str, Any],
                        profile_id: int | None = None) -> int:
        """Store one Estimate (``advisor predict``); returns the prediction id."""
        with self._write() as conn:
            workload_id = self._workload_id(conn, workload)
            return conn.execute(insert(PredictionTable).values(
                workload_id=workload_id, profile_id=profile_id, created_at=utc_now(),
                target_kind=estimate.target.kind, gpu=estimate.target.gpu_name, gpu_count=estimate.target.count,
                threads=estimate.target.threads, dataset_size=estimate.dataset_size, epochs=estimate.epochs,
                batch_size=estimate.batch_size, seconds=estimate.seconds, low=estimate.low, high=estimate.high,
                method=estimate.method, precision=estimate.precision, fits_memory=estimate.fits_memory,
                data=estimate.model_dump(mode="json", by_alias=True),
            )).inserted_primary_key[0]

    def save_recommendation(self, rec: Recommendation, *, profile: Profile | None = None,
                            profile_id: int | None = None) -> int:
        """Store a recommendation with all its candidates (ranked, excluded, the chosen one flagged), its
        constraints and pricing snapshot, its workload and (optionally) the profile it came from, in ONE
        transaction. Returns the new id; the caller sets ``rec.id``."""
        with self._write() as conn:
            info = dict(rec.workload or {})
            if profile is not None:
                # The profile knows the file hash and optimizer even when the recommendation's dict does not.
                for k, v in profile.workload.model_dump().items():
                    if info.get(k) is None and v is not None:
                        info[k] = v
            workload_id = self._workload_id(conn, info)
            if profile is not None and profile_id is None:
                profile_id = self._insert_profile(conn, profile, workload_id)
            c = rec.constraints
            chosen = rec.chosen
            rec_id = conn.execute(insert(RecommendationTable).values(
                workload_id=workload_id, profile_id=profile_id, created_at=rec.created_at,
                dataset_size=rec.dataset_size, epochs=rec.epochs, batch_size=rec.batch_size,
                objective=c.objective, deadline_seconds=c.deadline_seconds, budget_usd=c.budget_usd,
                n_candidates=len(rec.candidates),
                **{f"chosen_{k}": getattr(chosen, k) if chosen is not None else None for k in CHOSEN_COPY},
                constraints=c.model_dump(mode="json"),
                pricing_snapshot=json.loads(json.dumps(rec.pricing_snapshot or {}, default=str)),
                workload_info=json.loads(json.dumps(rec.workload or {}, default=str)),
                extra={
                    "schema_version": rec.schema_version,
                    "best_per_tier": {k: v.model_dump(mode="json") for k, v in rec.best_per_tier.items()},
                    "advice": list(rec.advice),
                    "measured_devices": list(rec.measured_devices),
                    "notes": list(rec.notes),
                },
            )).inserted_primary_key[0]
            rows, chosen_stored = [], False
            for rank, cand in enumerate(rec.candidates):
                is_chosen = not chosen_stored and chosen is not None and _same_candidate(cand, chosen)
                chosen_stored |= is_chosen
                rows.append(_candidate_row(cand, rec_id, rank=rank, chosen=is_chosen, excluded=False))
            for rank, cand in enumerate(rec.excluded):
                rows.append(_candidate_row(cand, rec_id, rank=rank, chosen=False, excluded=True))
            if chosen is not None and not chosen_stored:  # chosen but not listed among the candidates
                rows.append(_candidate_row(chosen, rec_id, rank=None, chosen=True, excluded=False))
            if rows:
                conn.execute(insert(CandidateTable), rows)
            return rec_id

    def record_outcome(self, recommendation_id: int, actual_seconds: float, *, instance_type: str | None = None,
                       status: Literal["completed", "failed"] = "completed", notes: str | None = None) -> Outcome:
        """Store what really happened to a recommended job. ``instance_type`` names the candidate that was run
        (default: the chosen one); its prediction is what ``compare`` and the learned correction use."""
        if status not in ("completed", "failed"):
            raise ConfigError(f"Unknown outcome status {status!r}.", hint="Fix: use 'completed' or 'failed'.")
        if (isinstance(actual_seconds, bool) or not isinstance(actual_seconds, (int, float))
                or not math.isfinite(actual_seconds) or actual_seconds < 0
                or (actual_seconds == 0 and status == "completed")):
            raise ConfigError(f"--actual-seconds must be a positive number of seconds, got {actual_seconds!r}.",
                              hint="Fix: e.g. --actual-seconds 5400.")
        with self._write() as conn:
            workload_id, cand = self._run_candidate(conn, recommendation_id, instance_type)
            outcome = Outcome(recommendation_id=recommendation_id, actual_seconds=float(actual_seconds),
                              instance_type=cand["instance_type"] if cand else instance_type, status=status,
                              notes=notes)
            copied = {k: cand[k] for k in OUTCOME_COPY} if cand else {}
            if cand:
                copied["predicted_seconds"] = cand["seconds"]
            outcome.id = conn.execute(insert(OutcomeTable).values(
                recommendation_id=recommendation_id, workload_id=workload_id,
                candidate_id=cand["id"] if cand else None, actual_seconds=outcome.actual_seconds,
                instance_type=outcome.instance_type, status=status, recorded_at=outcome.recorded_at, notes=notes,
                **copied,
            )).inserted_primary_key[0]
            return outcome

    def check_run(self, recommendation_id: int, instance_type: str | None = None) -> str | None:
        """Raise HistoryError now if ``record_outcome`` would fail later (unknown id, instance not a candidate);
        returns the instance type that will be recorded. ``track`` calls this before the job starts."""
        with self._read() as conn:
            cand = self._run_candidate(conn, recommendation_id, instance_type)[1]
            return cand["instance_type"] if cand else instance_type

    def _run_candidate(self, conn: Connection, recommendation_id: int,
                       instance_type: str | None) -> tuple[int, dict[str, Any] | None]:
        """(workload id, the candidate row that was run) of a recommendation; HistoryError if unknown."""
        workload_id = conn.execute(select(RecommendationTable.workload_id).where(
            RecommendationTable.id == recommendation_id)).scalar()
        if workload_id is None:
            raise HistoryError(f"No recommendation {recommendation_id} in history.", hint=_NOT_FOUND_HINT)
        cands = [dict(c._mapping) for c in conn.execute(
            select(CandidateTable.id, CandidateTable.chosen, CandidateTable.excluded, CandidateTable.rank,
                   CandidateTable.instance_type, CandidateTable.seconds,
                   *(getattr(CandidateTable, k) for k in OUTCOME_COPY))
            .where(CandidateTable.recommendation_id == recommendation_id))]
        if instance_type is None:
            chosen = [c for c in cands if c["chosen"]]
            return workload_id, (chosen[0] if chosen else None)
        wanted = instance_type.strip().lower()
        matches = [c for c in cands if c["instance_type"].lower() == wanted]
        if not matches:
            names = sorted({c["instance_type"] for c in cands})
            raise HistoryError(
                f"Instance type {instance_type!r} is not a candidate of recommendation {recommendation_id}."
                + did_you_mean(instance_type, names),
                hint=f"Fix: use one of its candidates ({', '.join(names[:12]) or 'none'}"
                     + (", ..." if len(names) > 12 else "") + "), or leave --instance out for the chosen one.")
        matches.sort(key=lambda c: (not c["chosen"], c["excluded"], c["rank"] if c["rank"] is not None else 1 << 30))
        return workload_id, matches[0]

    # ---------------------------------------------------------------------------------- queries

    def workload_names(self) -> list[str]:
        """Every stored workload name (for "did you mean")."""
        with self._read() as conn:
            return sorted(set(conn.execute(select(WorkloadTable.name)).scalars()))

    def list(self, workload: str | None = None, since: datetime | None = None,
             limit: int | None = 50) -> list[HistoryEntry]:
        """Stored recommendations, newest first: the chosen candidate and the latest outcome of each."""
        r = RecommendationTable
        stmt = (
            select(r.id, r.created_at, WorkloadTable.name, r.dataset_size, r.epochs, r.batch_size, r.objective,
                   r.chosen_provider, r.chosen_instance_type, r.chosen_tier, r.chosen_gpu, r.chosen_gpu_count,
                   r.chosen_seconds, r.chosen_cost_usd, r.chosen_method, r.n_candidates)
            .join(WorkloadTable, WorkloadTable.id == r.workload_id)
            .order_by(r.created_at.desc(), r.id.desc())
        )
        if workload is not None:
            stmt = stmt.where(WorkloadTable.name == workload)
        if since is not None:
            stmt = stmt.where(r.created_at >= parse_since(since))
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
            outcomes: dict[int, list[Any]] = {}
            ids = [row.id for row in rows]
            for lo in range(0, len(ids), 500):
                for o in conn.execute(
                    select(OutcomeTable.recommendation_id, OutcomeTable.actual_seconds, OutcomeTable.status)
                    .where(OutcomeTable.recommendation_id.in_(ids[lo:lo + 500]))
                    .order_by(OutcomeTable.recorded_at, OutcomeTable.id)
                ):
                    outcomes.setdefault(o.recommendation_id, []).append(o)
        entries = []
        for row in rows:
            outs = outcomes.get(row.id, [])
            last = outs[-1] if outs else None
            entries.append(HistoryEntry(
                id=row.id, created_at=row.created_at, workload=row.name, dataset_size=row.dataset_size,
                epochs=row.epochs, batch_size=row.batch_size, objective=row.objective, provider=row.chosen_provider,
                instance_type=row.chosen_instance_type, tier=row.chosen_tier, gpu=row.chosen_gpu,
                gpu_count=row.chosen_gpu_count, predicted_seconds=row.chosen_seconds, cost_usd=row.chosen_cost_usd,
                method=row.chosen_method, n_candidates=row.n_candidates or 0, n_outcomes=len(outs),
                actual_seconds=last.actual_seconds if last else None, status=last.status if last else None,
            ))
        return entries

    def show(self, id: int) -> HistoryDetail:  # noqa: A002 - the CLI's word
        """The stored recommendation, exactly as it was returned, and its outcomes."""
        with self._read() as conn:
            row = conn.execute(select(RecommendationTable).where(RecommendationTable.id == id)).first()
            if row is None:
                raise HistoryError(f"No recommendation {id} in history.", hint=_NOT_FOUND_HINT)
            cands = conn.execute(select(CandidateTable).where(CandidateTable.recommendation_id == id)
                                 .order_by(CandidateTable.excluded, CandidateTable.rank, CandidateTable.id)).all()
            outs = conn.execute(select(OutcomeTable).where(OutcomeTable.recommendation_id == id)
                                .order_by(OutcomeTable.recorded_at, OutcomeTable.id)).all()
        r = row._mapping
        extra = r["extra"] or {}
        listed = [c for c in cands if not c.excluded and c.rank is not None]
        chosen_rows = [c for c in cands if c.chosen]
        rec = Recommendation(
            schema_version=extra.get("schema_version", 1),
            id=r["id"], created_at=r["created_at"], workload=r["workload_info"] or {},
            dataset_size=r["dataset_size"], epochs=r["epochs"], batch_size=r["batch_size"],
            chosen=_candidate_from_row(chosen_rows[0]) if chosen_rows else None,
            candidates=[_candidate_from_row(c) for c in listed],
            best_per_tier={k: Candidate.model_validate(v) for k, v in (extra.get("best_per_tier") or {}).items()},
            excluded=[_candidate_from_row(c) for c in cands if c.excluded],
            constraints=Constraints.model_validate(r["constraints"] or {}),
            pricing_snapshot=r["pricing_snapshot"] or {},
            advice=extra.get("advice") or [], measured_devices=extra.get("measured_devices") or [],
            notes=extra.get("notes") or [],
        )
        outcomes = [Outcome(id=o.id, recommendation_id=o.recommendation_id, actual_seconds=o.actual_seconds,
                            instance_type=o.instance_type, status=o.status, recorded_at=o.recorded_at,
                            notes=o.notes) for o in outs]
        return HistoryDetail(recommendation=rec, outcomes=outcomes, profile_id=r["profile_id"])

    def _runs(self, workload: str | None = None, since: datetime | None = None, *columns):
        """Completed outcomes that have a prediction: the rows of compare and of learning (one table scan)."""
        o = OutcomeTable
        stmt = (
            select(o.id.label("outcome_id"), o.recommendation_id, o.recorded_at, o.actual_seconds,
                   WorkloadTable.name.label("workload"), o.provider, o.instance_type, o.tier, o.gpu, o.gpu_count,
                   o.vcpus, o.method, o.predicted_seconds, o.low, o.high, o.base_seconds, o.base_method, *columns)
            .join(WorkloadTable, WorkloadTable.id == o.workload_id)
            .where(o.status == "completed", o.predicted_seconds.is_not(None))
        )
        if workload is not None:
            stmt = stmt.where(WorkloadTable.name == workload)
        if since is not None:
            stmt = stmt.where(o.recorded_at >= parse_since(since))
        return stmt

    def compare(self, workload: str | None = None, since: datetime | None = None) -> Comparison:
        """Predicted vs actual for every completed run: the error of each, and aggregated per device and per
        method. Failed runs are left out (their duration is not the job's)."""
        stmt = self._runs(workload, since).order_by(OutcomeTable.recorded_at, OutcomeTable.id)
        with self._read() as conn:
            result = conn.execute(stmt).all()
        rows = []
        labels: dict[tuple, str] = {}
        for (outcome_id, rec_id, recorded_at, actual, name, provider, instance, tier, gpu, gpu_count, _vcpus, method,
             predicted, low, high, *_base) in result:
            if not (_finite(actual) and actual > 0 and _finite(predicted)):
                continue
            key = (tier, gpu, gpu_count)
            device = labels.get(key) or labels.setdefault(key, device_label(tier, gpu, gpu_count))
            error = (predicted - actual) / actual * 100.0
            rows.append({
                "recommendation_id": rec_id, "outcome_id": outcome_id, "recorded_at": recorded_at, "workload": name,
                "provider": provider, "instance_type": instance, "device": device, "tier": tier, "method": method,
                "predicted_seconds": predicted, "low": low, "high": high, "actual_seconds": actual,
                "error_pct": error, "abs_error_pct": abs(error), "within_interval": low <= actual <= high,
            })
        if not rows:
            return Comparison()
        # One validation call for the whole result (much cheaper than one per row at 10k rows).
        return Comparison.model_validate({"rows": rows, "by_device": _groups(rows, "device"),
                                          "by_method": _groups(rows, "method"), "overall": _group("all", rows)})

    def training_rows(self, limit: int | None = 20_000) -> list[TrainingRow]:
        """The completed runs the learned correction trains on (newest ``limit``), with the BASE prediction:
        a candidate already corrected by history contributes its uncorrected seconds, or nothing if unknown."""
        fastest = (
            select(MeasurementTable.profile_id,
                   func.min(MeasurementTable.compute_seconds / MeasurementTable.batch_size).label("per_sample"))
            .where(MeasurementTable.compute_seconds.is_not(None), MeasurementTable.oom.is_(False))
            .group_by(MeasurementTable.profile_id).subquery()
        )
        r = RecommendationTable
        stmt = (
            self._runs(None, None, r.dataset_size, r.epochs, r.batch_size, WorkloadTable.param_count,
                       WorkloadTable.flops_per_sample, fastest.c.per_sample)
            .join(r, r.id == OutcomeTable.recommendation_id)
            .outerjoin(fastest, fastest.c.profile_id == r.profile_id)
            .order_by(OutcomeTable.recorded_at.desc(), OutcomeTable.id.desc())
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._read() as conn:
            result = conn.execute(stmt).all()
        out = []
        for row in result:
            if row.method == "history":
                base, method = row.base_seconds, row.base_method
            else:
                base, method = row.predicted_seconds, row.method
            if not (_finite(base) and base > 0 and _finite(row.actual_seconds) and row.actual_seconds > 0):
                continue
            if method not in ("measured", "scaled"):
                continue
            out.append(TrainingRow(
                recommendation_id=row.recommendation_id, outcome_id=row.outcome_id, workload=row.workload,
                param_count=row.param_count, flops_per_sample=row.flops_per_sample, dataset_size=row.dataset_size,
                epochs=row.epochs, batch_size=row.batch_size, tier=row.tier, gpu=row.gpu,
                gpu_count=row.gpu_count or 0, vcpus=row.vcpus, method=method, predicted_seconds=base,
                actual_seconds=row.actual_seconds, measured_seconds_per_sample=row.per_sample,
            ))
        out.reverse()  # oldest first
        return out

    # ----------------------------------------------------------------------------------- export

    def _export_stmt(self, workload: str | None, since: datetime | None):
        o = OutcomeTable
        r = RecommendationTable
        w = WorkloadTable
        ran = o.id.is_not(None)

        def pick(outcome_col: str, chosen_col: str):
            # The candidate that was run (copied on the outcome), else the chosen one.
            return case((ran, getattr(o, outcome_col)), else_=getattr(r, chosen_col)).label(outcome_col)

        stmt = (
            select(r.id, r.created_at, w.name, w.file_sha256, w.param_count, w.flops_per_sample, r.dataset_size,
                   r.epochs, r.batch_size, r.objective, r.deadline_seconds, r.budget_usd,
                   pick("provider", "chosen_provider"), pick("instance_type", "chosen_instance_type"),
                   pick("region", "chosen_region"), pick("tier", "chosen_tier"), pick("gpu", "chosen_gpu"),
                   pick("gpu_count", "chosen_gpu_count"), pick("vcpus", "chosen_vcpus"),
                   pick("method", "chosen_method"), pick("predicted_seconds", "chosen_seconds"),
                   pick("low", "chosen_low"), pick("high", "chosen_high"), pick("cost_usd", "chosen_cost_usd"),
                   case((ran, func.coalesce(o.instance_type, "") == func.coalesce(r.chosen_instance_type, "")),
                        else_=r.chosen_instance_type.is_not(None)).label("chosen"),
                   o.id.label("outcome_id"), o.recorded_at, o.status, o.actual_seconds)
            .join(w, w.id == r.workload_id)
            .outerjoin(o, o.recommendation_id == r.id)
            .order_by(r.id, o.id)
        )
        if workload is not None:
            stmt = stmt.where(w.name == workload)
        if since is not None:
            stmt = stmt.where(r.created_at >= parse_since(since))
        return stmt

    def export_rows(self, workload: str | None = None, since: datetime | None = None) -> Iterator[tuple]:
        """The export table (``EXPORT_COLUMNS``), one row per recommendation and outcome (a recommendation
        without an outcome gives one row with empty outcome columns); the predicted columns are those of the
        candidate that was run (the chosen one unless the outcome names another). Timestamps are ISO 8601
        strings. Streams from the database."""
        created, recorded, chosen = (EXPORT_COLUMNS.index(k) for k in ("created_at", "recorded_at", "chosen"))
        with self._read() as conn:
            result = conn.execution_options(yield_per=5000).execute(self._export_stmt(workload, since))
            for row in result:
                values = list(row)
                actual, predicted = values[-1], values[_PREDICTED]
                values.append((predicted - actual) / actual * 100.0
                              if _finite(actual) and actual and _finite(predicted) else None)
                values[created] = values[created].isoformat()
                if values[recorded] is not None:
                    values[recorded] = values[recorded].isoformat()
                if values[chosen] is not None:
                    values[chosen] = bool(values[chosen])
                yield values

    def export(self, fmt: Literal["csv", "json"] = "csv", out: TextIO | None = None, *,
               workload: str | None = None, since: datetime | None = None) -> str:
        """The whole history as CSV (header + one row per recommendation and outcome) or JSON (an array of
        objects with the same keys). Written to ``out`` as it streams (then "" is returned), or returned as a
        string when ``out`` is None."""
        if fmt not in ("csv", "json"):
            raise ConfigError(f"Unknown export format {fmt!r}.{did_you_mean(str(fmt), ['csv', 'json'])}",
                              hint="Fix: --format csv or --format json.")
        target = io.StringIO() if out is None else out
        rows = self.export_rows(workload, since)
        if fmt == "csv":
            w = csv.writer(target, lineterminator="\n")
            w.writerow(EXPORT_COLUMNS)
            batch: list[list] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= 5000:
                    w.writerows(batch)
                    batch.clear()
            w.writerows(batch)
        else:
            target.write("[")
            sep = "\n"
            for row in rows:
                item = dict(zip(EXPORT_COLUMNS, row, strict=True))
                try:
                    text = json.dumps(item, allow_nan=False)
                except ValueError:  # NaN or infinity somewhere: JSON has no such numbers
                    text = json.dumps({k: _iso(v) for k, v in item.items()})
                target.write(sep + text)
                sep = ",\n"
            target.write("]\n" if sep == "\n" else "\n]\n")
        return target.getvalue() if out is None else ""
