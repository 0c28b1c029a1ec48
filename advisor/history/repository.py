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

import contextlib
import json
import numbers
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Literal, TextIO

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import DBAPIError

from advisor.errors import ConfigError, HistoryError
from advisor.history import export as _export
from advisor.history.comparison import comparison
from advisor.history.engine import (
    create_history_engine,
    database_error,
    database_fault,
    display_url,
    make_sqlite_folder,
    no_history_error,
    sqlite_file_missing,
    writer,
)
from advisor.history.export import EXPORT_COLUMNS  # noqa: F401 - importable from here, as before
from advisor.history.filters import newest_first_filtered
from advisor.history.here_run import is_here, stored_here_candidate
from advisor.history.listing import history_entries
from advisor.history.name_paths import run_files
from advisor.history.named_run import named_candidate
from advisor.history.outcome_checks import (
    check_outcome,
    forced_note,
    judged_seconds,
    refuse_outlier,
    refuse_repeat,
    warn_left_out,
)
from advisor.history.rows import (
    CHOSEN_COPY,
    OUTCOME_COPY,
    candidate_from_row,
    candidate_row,
    named_candidates,
    ranked_count,
    same_candidate,
    stored_extra,
    stored_summary,
    workload_fields,
)
from advisor.history.tables import (
    STORED_STARTUP_KEY,
    CandidateTable,
    OutcomeTable,
    PredictionTable,
    ProfileTable,
    RecommendationTable,
    WorkloadTable,
)
from advisor.history.training import training_rows_of, training_statement
from advisor.history.workload_rows import insert_profile, stored_workload_id
from advisor.option_words import python_surface
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
    WorkloadInfo,
    utc_now,
)
from advisor.schemas.history import TRAINING_ROWS_LIMIT, TrainingRows
from advisor.settings import Settings
from advisor.since import parse_since

_NOT_FOUND_HINT = "Fix: `advisor history list` shows the stored ids."
_NO_FILE_HINT = ("Fix: check the path (sqlite:////abs/path/history.db has four slashes), or leave the URL out (and "
                 "ADVISOR_DATABASE_URL unset) for the default history; a first save creates the file.")

# Row ids are INTEGER columns: a bigger number cannot be stored, so it names no row (and would make the driver
# fail instead of finding nothing). SQLite's INTEGER holds 64 bits, PostgreSQL's 32.
_MAX_ID = {"postgresql": 2**31 - 1}
_MAX_ID_DEFAULT = 2**63 - 1

# ----------------------------------------------------------------------------------------------- History


class History:
    """The history database. ``url`` None: ``settings`` (default ``Settings.from_env()``) decides: the
    ``ADVISOR_DATABASE_URL``, else a SQLite file in the user data dir. Use as a context manager, or
    ``close()`` it. The schema is created / upgraded on first use; a SQLite file named (by ``url`` or the
    setting) that does not exist is created by the first save, and a read of it (or an outcome) is a HistoryError."""

    @python_surface
    def __init__(self, url: str | None = None, *, settings: Settings | None = None) -> None:
        named = url is not None
        if url is None:
            settings = settings or Settings.from_env()
            named, url = settings.database_url is not None, settings.resolved_database_url
        if not isinstance(url, str):
            raise ConfigError(f"The history database URL must be a string, got {url!r:.80} ({type(url).__name__}).",
                              hint="Fix: e.g. advisor.History(\"sqlite:///history.db\"), or no argument for the "
                                   "default.")
        self.url = url
        # A mistyped path must not read as an empty history, nor leave its folders behind: made on a first write.
        self._absent = named and sqlite_file_missing(url)
        self._engine = create_history_engine(url, make_folder=not self._absent)
        self._writer = writer(self._engine)
        self._ready = False

    # -------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the engine's connections (the object is not used afterwards)."""
        self._engine.dispose()

    def __del__(self) -> None:  # History().list(): the engine's hook cycle kept its connection until a gc
        with contextlib.suppress(Exception):
            self.__dict__["_engine"].dispose()

    def __repr__(self) -> str:
        return f"History({display_url(self._engine.url)!r})"

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (tests and the benchmark use it)."""
        return self._engine

    def _ensure(self, writing: bool = False, reading: bool = False) -> None:
        if not self._ready:
            from advisor.history.migrate import ensure_schema

            if self._absent and sqlite_file_missing(self.url):
                if not writing:
                    raise no_history_error(self.url, _NO_FILE_HINT)
                make_sqlite_folder(self.url)
            ensure_schema(self._engine, reading=reading)
            self._ready = True

    @python_surface
    def create(self) -> None:
        """Create the database where it is missing (a SQLite file's folder, the file, the schema) or bring it to
        the newest schema, as a first write does: a caller that reads before it saves (``advisor.recommend``)."""
        self._ensure(writing=True)

    @contextmanager
    def _write(self, creating: bool = True) -> Iterator[Connection]:
        """One write transaction: committed whole at the end, rolled back on any exception (Ctrl-C too).
        ``creating`` False: a write that needs stored rows (an outcome) refuses a missing file, as a read does."""
        self._ensure(writing=creating)
        with self._db_errors(writing=True), self._writer.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        self._ensure(reading=True)
        with self._db_errors(), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _db_errors(self, writing: bool = False) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            if not database_fault(exc):  # a statement advisor got wrong: a bug, shown whole
                raise
            raise database_error(self._engine, exc, "The history database {where} failed: {detail}."
                                 + (" Nothing was written." if writing else ""),
                                 "Fix: check that the database is reachable, then run the command again.") from exc
        except ValueError as exc:
            # Text the driver cannot send: a NUL character (psycopg2: "A string literal cannot contain NUL (0x00)
            # characters.") or a lone surrogate (UTF-8 has no encoding for it). Profiles and service requests are
            # refused before this; a name or note given to the Python API reaches the driver.
            if not (isinstance(exc, UnicodeEncodeError) or "NUL (0x00)" in str(exc)):
                raise
            raise HistoryError("A text given to the history (a workload name, an instance type, a note) holds a "
                               "character no database can store: a NUL (\\x00) or a lone surrogate."
                               + (" Nothing was written." if writing else ""),
                               hint="Fix: remove that character from the text.") from exc

    def _storable_id(self, entry_id: int) -> bool:
        """Whether ``entry_id`` fits the id columns of this database (a bigger one names no row); HistoryError
        when it is not a whole number (a string, a float, a bool from the Python API)."""
        if isinstance(entry_id, bool) or not isinstance(entry_id, numbers.Integral):
            raise HistoryError(f"A history id is a whole number, got {entry_id!r}.",
                               hint="Fix: pass the id as an int, e.g. 3 (`advisor history list` shows the ids).")
        return 1 <= entry_id <= _MAX_ID.get(self._engine.dialect.name, _MAX_ID_DEFAULT)

    # ----------------------------------------------------------------------------------- writes

    @python_surface
    def save_profile(self, profile: Profile) -> int:
        """Store a profile and its measurements (one transaction); returns the profile id."""
        with self._write() as conn:
            return insert_profile(conn, profile, stored_workload_id(conn, profile.workload))

    @python_surface
    def save_prediction(self, estimate: Estimate, workload: WorkloadInfo | Mapping[str, Any],
                        profile_id: int | None = None, *, profile: Profile | None = None,
                        instance_startup_seconds: float | None = None) -> int:
        """Store one Estimate (``advisor predict``) and, given, the profile it came from, in one transaction;
        returns the prediction id. ``instance_startup_seconds``: a GPU model's paid start-up that ``predict`` showed
        beside it (its "with start-up"), kept with it so that ``history show pN`` shows it again; None for a CPU or
        a device here."""
        data = estimate.model_dump(mode="json", by_alias=True)
        if instance_startup_seconds is not None:  # beside the Estimate's own fields, which it ignores on a read
            data[STORED_STARTUP_KEY] = float(instance_startup_seconds)
        with self._write() as conn:
            workload_id = stored_workload_id(conn, workload)
            if profile is not None and profile_id is None:
                profile_id = insert_profile(conn, profile, workload_id)
            return conn.execute(insert(PredictionTable).values(
                workload_id=workload_id, profile_id=profile_id, created_at=utc_now(),
                target_kind=estimate.target.kind, gpu=estimate.target.gpu_name, gpu_count=estimate.target.count,
                threads=estimate.target.threads, dataset_size=estimate.dataset_size, epochs=estimate.epochs,
                batch_size=estimate.batch_size, seconds=estimate.seconds, low=estimate.low, high=estimate.high,
                method=estimate.method, precision=estimate.precision, fits_memory=estimate.fits_memory,
                data=data,
            )).inserted_primary_key[0]

    @python_surface
    def save_recommendation(self, rec: Recommendation, *, profile: Profile | None = None,
                            profile_id: int | None = None, workload_id: int | None = None) -> int:
        """Store a recommendation with all its candidates (ranked, excluded, the chosen one flagged), its
        constraints and pricing snapshot, its workload and (optionally) the profile it came from, in ONE
        transaction. Returns the new id; the caller sets ``rec.id``. ``profile_id`` / ``workload_id``: the rows
        of this profile and its workload stored before (a server's), used as they are."""
        with self._write() as conn:
            if workload_id is None:
                info = rec.workload.model_dump()
                if profile is not None:  # it knows the file hash and optimizer when the summary does not
                    for k, v in profile.workload.model_dump().items():
                        if info.get(k) is None and v is not None:
                            info[k] = v
                workload_id = stored_workload_id(conn, info)
            if profile is not None and profile_id is None:
                profile_id = insert_profile(conn, profile, workload_id)
            c = rec.constraints
            chosen = rec.chosen
            # The values as parameters: the insert is compiled once, not as ~25 literal values per recommendation.
            rec_id = conn.execute(insert(RecommendationTable), dict(
                workload_id=workload_id, profile_id=profile_id, created_at=rec.created_at,
                dataset_size=rec.dataset_size, epochs=rec.epochs, batch_size=rec.batch_size,
                objective=c.objective, deadline_seconds=c.deadline_seconds, budget_usd=c.budget_usd,
                n_candidates=ranked_count(rec),
                **{f"chosen_{k}": getattr(chosen, k) if chosen is not None else None for k in CHOSEN_COPY},
                constraints=c.model_dump(mode="json"),
                pricing_snapshot=json.loads(json.dumps(rec.pricing_snapshot or {}, default=str)),
                workload_info=rec.workload.model_dump(mode="json"),
                extra=stored_extra(rec),
            )).inserted_primary_key[0]
            rows, chosen_stored = [], False
            for rank, cand in enumerate(rec.candidates):
                is_chosen = not chosen_stored and chosen is not None and same_candidate(cand, chosen)
                chosen_stored |= is_chosen
                rows.append(candidate_row(cand, rec_id, rank=rank, chosen=is_chosen, excluded=False))
            for rank, cand in enumerate(rec.excluded):
                rows.append(candidate_row(cand, rec_id, rank=rank, chosen=False, excluded=True))
            if chosen is not None and not chosen_stored:  # chosen but not listed among the candidates
                rows.append(candidate_row(chosen, rec_id, rank=None, chosen=True, excluded=False))
            rows += [candidate_row(cand, rec_id, rank=None, chosen=False, excluded=False)
                     for cand in named_candidates(rec) if chosen is None or not same_candidate(cand, chosen)]
            if rows:
                conn.execute(insert(CandidateTable), rows)
            return rec_id

    @python_surface
    def record_outcome(self, recommendation_id: int, actual_seconds: float, *, instance_type: str | None = None,
                       status: Literal["completed", "failed"] = "completed", notes: str | None = None,
                       force: bool = False, warn_outlier: bool = True, timed: bool = False) -> Outcome:
        """Store what really happened to a recommended job. ``instance_type`` names the candidate that was run
        (default: the chosen one), or "here" ("here:cuda:0"): the probed machine (``advisor.history.here_run``);
        its prediction is what ``compare`` and the learned correction use; a completed run over 20x off it, or an
        outcome the recommendation already has (the same duration, instance and status: one run recorded twice), is
        refused (HistoryError, nothing written) unless ``force``, as ``history record`` does; a forced one is
        stored with an ``OutlierRecorded`` warning unless ``warn_outlier`` is False (``track`` warns in its words).
        ``timed``: the duration was timed by ``advisor.track`` (an outlier's stored note says so, not "--force")."""
        check_outcome(actual_seconds, status, notes=notes)
        actual_seconds = float(actual_seconds)  # a NumPy number as a float from here: compared, stored, printed
        with self._write(creating=False) as conn:  # a history not yet made holds no recommendation
            workload_id, cand = self._run_candidate(conn, recommendation_id, instance_type)
            judged, uncorrected = judged_seconds(cand)
            if status == "completed" and not force:
                refuse_outlier(actual_seconds, judged, uncorrected=uncorrected)
            notes = forced_note(notes, actual_seconds, judged, completed=status == "completed", timed=timed)
            copied = {**{k: cand[k] for k in OUTCOME_COPY}, "predicted_seconds": cand["seconds"]} if cand else {}
            outcome = Outcome(recommendation_id=recommendation_id, actual_seconds=float(actual_seconds),
                              instance_type=cand["instance_type"] if cand else instance_type, status=status,
                              notes=notes, **{k: copied.get(k) for k in ("predicted_seconds", "low", "high")})
            if not force:  # the same run recorded twice would count twice in compare and the correction
                refuse_repeat(conn, outcome)
            outcome.id = conn.execute(insert(OutcomeTable).values(
                recommendation_id=recommendation_id, workload_id=workload_id,
                candidate_id=cand["id"] if cand else None, actual_seconds=outcome.actual_seconds,
                instance_type=outcome.instance_type, status=status, recorded_at=outcome.recorded_at, notes=notes,
                **copied,
            )).inserted_primary_key[0]
        if warn_outlier:  # only a forced one can be that far
            warn_left_out(outcome, judged, uncorrected=uncorrected)
        return outcome

    @python_surface
    def check_run(self, recommendation_id: int, instance_type: str | None = None) -> str | None:
        """Raise HistoryError now if ``record_outcome`` would fail later (unknown id, instance not a candidate);
        returns the instance type that will be recorded. ``track`` calls this before the job starts."""
        with self._read() as conn:
            cand = self._run_candidate(conn, recommendation_id, instance_type)[1]
            return cand["instance_type"] if cand else instance_type

    def _run_candidate(self, conn: Connection, recommendation_id: int,
                       instance_type: str | None) -> tuple[int, dict[str, Any] | None]:
        """(workload id, the candidate row that was run, or one an older answer kept in its JSON alone: ``named_run``)
        of a recommendation; HistoryError if unknown."""
        workload_id = None
        if self._storable_id(recommendation_id):
            workload_id = conn.execute(select(RecommendationTable.workload_id).where(
                RecommendationTable.id == recommendation_id)).scalar()
        if workload_id is None:
            raise HistoryError(f"No recommendation {recommendation_id} in history.", hint=_NOT_FOUND_HINT)
        if is_here(instance_type):  # the probed machine itself: its device's estimate from the stored answer
            return workload_id, stored_here_candidate(conn, recommendation_id, instance_type)
        cands = [dict(c._mapping) for c in conn.execute(
            select(CandidateTable.id, CandidateTable.chosen, CandidateTable.excluded, CandidateTable.rank,
                   CandidateTable.instance_type, CandidateTable.seconds,
                   *(getattr(CandidateTable, k) for k in OUTCOME_COPY))
            .where(CandidateTable.recommendation_id == recommendation_id))]
        if instance_type is None:
            chosen = [c for c in cands if c["chosen"]]
            return workload_id, (chosen[0] if chosen else None)
        return workload_id, named_candidate(conn, recommendation_id, cands, instance_type)

    # ---------------------------------------------------------------------------------- queries

    @python_surface
    def recent_profiles(self, workload: WorkloadInfo | Mapping[str, Any], limit: int = 20
                        ) -> list[tuple[int, datetime, dict[str, Any]]]:
        """(id, created_at, the stored Profile's JSON) of ``workload``'s (name and file hash) newest profiles."""
        fields = workload_fields(workload)
        stmt = (select(ProfileTable.id, ProfileTable.created_at, ProfileTable.data)
                .join(WorkloadTable, WorkloadTable.id == ProfileTable.workload_id)
                .where(WorkloadTable.name == fields["name"], WorkloadTable.file_sha256 == fields["file_sha256"])
                .order_by(ProfileTable.created_at.desc(), ProfileTable.id.desc()).limit(limit))
        with self._read() as conn:
            return [(int(i), created, data) for i, created, data in conn.execute(stmt)]

    @python_surface
    def run_files(self, name: str) -> list[tuple[str | None, str]]:
        """(path, file hash) of each stored workload called ``name`` with a recorded run (``name_paths``)."""
        with self._read() as conn:
            return run_files(conn, name)

    @python_surface
    def workload_names(self) -> list[str]:
        """Every stored workload name (for "did you mean")."""
        with self._read() as conn:
            return sorted(set(conn.execute(select(WorkloadTable.name)).scalars()))

    @python_surface
    def list(self, workload: str | None = None, since: datetime | None = None,
             limit: int | None = 50, offset: int = 0) -> list[HistoryEntry]:
        """Stored recommendations, newest first past the newest ``offset``: each one's choice and latest outcome."""
        r = RecommendationTable
        stmt = (
            select(r.id, r.created_at, WorkloadTable.name, r.dataset_size, r.epochs, r.batch_size, r.objective,
                   r.chosen_provider, r.chosen_instance_type, r.chosen_tier, r.chosen_gpu, r.chosen_gpu_count,
                   r.chosen_seconds, r.chosen_low, r.chosen_high, r.chosen_cost_usd, r.chosen_method, r.n_candidates)
            .join(WorkloadTable, WorkloadTable.id == r.workload_id)
            .order_by(r.created_at.desc(), r.id.desc())
        )
        stmt = newest_first_filtered(stmt, r.created_at, workload, since, limit, offset)
        with self._read() as conn:
            return history_entries(conn, conn.execute(stmt).all())

    @python_surface
    def show(self, id: int) -> HistoryDetail:
        """The stored recommendation as it was returned, and its outcomes. Its ``groups`` are the table's rows (the
        top kinds of machine; all of them would hold every ranked candidate, which a new ``recommend`` ranks
        again)."""
        with self._read() as conn:
            row = None
            if self._storable_id(id):
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
            id=r["id"], created_at=r["created_at"], workload=stored_summary(r["workload_info"]),
            dataset_size=r["dataset_size"], epochs=r["epochs"], batch_size=r["batch_size"],
            chosen=candidate_from_row(chosen_rows[0]) if chosen_rows else None,
            candidates=[candidate_from_row(c) for c in listed],
            best_per_tier={k: Candidate.model_validate(v) for k, v in (extra.get("best_per_tier") or {}).items()},
            best_per_provider={k: Candidate.model_validate(v)
                               for k, v in (extra.get("best_per_provider") or {}).items()},
            excluded=[candidate_from_row(c) for c in cands if c.excluded],
            constraints=Constraints.model_validate(r["constraints"] or {}),
            pricing_snapshot=r["pricing_snapshot"] or {},
            advice=extra.get("advice") or [], measured_devices=extra.get("measured_devices") or [],
            notes=extra.get("notes") or [], groups=extra.get("groups") or [], **(extra.get("answer") or {}),
        )
        outcomes = [Outcome(id=o.id, recommendation_id=o.recommendation_id, actual_seconds=o.actual_seconds,
                            instance_type=o.instance_type, status=o.status, recorded_at=o.recorded_at,
                            notes=o.notes, predicted_seconds=o.predicted_seconds, low=o.low, high=o.high)
                    for o in outs]
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

    @python_surface
    def compare(self, workload: str | None = None, since: datetime | None = None) -> Comparison:
        """Predicted vs actual for every completed run: the error of each, and aggregated per device, method and
        workload. Failed runs are left out (their duration is not the job's)."""
        stmt = self._runs(workload, since).order_by(OutcomeTable.recorded_at, OutcomeTable.id)
        with self._read() as conn:
            result = conn.execute(stmt).all()
        return comparison(result)

    @python_surface
    def outcomes_version(self) -> tuple[int, int, str]:
        """(count, newest id, newest time) of the stored outcomes, which the learned correction is fitted on: any
        outcome recorded or removed changes it (SQLite may give a new row the id of a removed newest one)."""
        with self._read() as conn:
            o = OutcomeTable
            count, newest, latest = conn.execute(select(func.count(), func.max(o.id), func.max(o.recorded_at))).one()
        return int(count or 0), int(newest or 0), str(latest or "")

    @python_surface
    def training_rows(self, limit: int | None = TRAINING_ROWS_LIMIT) -> TrainingRows:
        """The completed runs the learned correction trains on (newest ``limit``), oldest first, with the BASE
        prediction: a candidate already corrected by history contributes its uncorrected seconds, or nothing if
        unknown (``advisor.history.training``)."""
        with self._read() as conn:  # one run past the limit: whether there are more than it reads
            result = conn.execute(training_statement(self._runs, None if limit is None else limit + 1)).all()
        rows = TrainingRows(training_rows_of(result[:limit]))  # newest first: the oldest one is dropped
        rows.capped = limit is not None and len(result) > limit
        return rows

    # ----------------------------------------------------------------------------------- export

    @python_surface
    def export_rows(self, workload: str | None = None, since: datetime | date | str | None = None, *,
                    after: tuple[int, int] | None = None, limit: int | None = None) -> Iterator[list[Any]]:
        """The export table, streamed (see ``advisor.history.export.export_rows``; ``after`` / ``limit``: a
        page of it)."""
        with self._read() as conn:
            yield from _export.export_rows(conn, workload, since, after=after, limit=limit)

    @python_surface
    def export(self, fmt: Literal["csv", "json"] = "csv", out: TextIO | None = None, *,
               workload: str | None = None, since: datetime | date | str | None = None) -> str:
        """The whole history as CSV (header + one row per recommendation and outcome) or JSON (an array of
        objects with the same keys). Written to ``out`` as it streams (then "" is returned), or returned as a
        string when ``out`` is None. See ``advisor.history.export``."""
        return _export.write_export(fmt, self.export_rows(workload, since), out)
