"""The history database's tables (SQLAlchemy 2 typed declarative). The schema itself is created and
changed only by the alembic migrations in ``migrations/``; a test checks that they agree with these classes.

    workloads        name + file hash (unique), parameters, FLOPs per sample
    profiles         one probe session of a workload (the whole Profile as JSON too, for ``show``)
    measurements     timed probe steps: device, batch size, step time stats, memory
    predictions      one Estimate (``advisor predict``)
    recommendations  constraints, pricing snapshot, job size; one per ``advisor recommend``
    candidates       every ranked (and excluded) candidate of a recommendation; one is ``chosen``
    outcomes         what really happened: actual seconds, the instance it ran on, completed/failed

Rows are written once and never updated (except a workload's missing parameter count / FLOPs), so a few
columns are copied where the queries need them: the chosen candidate's headline on its recommendation (list,
export), the run candidate's prediction on its outcome (compare, learning). At 100k recommendations those
queries then read one table instead of joining half a million candidates.

Timestamps are stored in UTC and always come back timezone-aware (``UTCDateTime``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Names for constraints and indexes, so that migrations and the metadata agree on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# A job's epochs and batch size go up to 10^12 (migration 0002): BIGINT on PostgreSQL, whose INTEGER holds 2^31 - 1;
# SQLite's INTEGER holds 64 bits already, and retyping there would copy tables whose drop cascades to their children.
JOB_COUNT = BigInteger().with_variant(Integer(), "sqlite")


def named(sqlite_length: int) -> Any:
    """A name that a user, a profile file or a pricing file gives (a workload, host, device, GPU, provider,
    instance type, region): TEXT on PostgreSQL (migration 0003), so that it takes every name SQLite takes. SQLite
    never enforced a VARCHAR's length, and keeps the declared one (retyping there would copy the tables)."""
    return Text().with_variant(String(sqlite_length), "sqlite")

class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        """UTC on the way in (naive means UTC); naive for SQLite, which has no time zones."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect, coltype):
        """SQLite's stored text parsed straight to an aware datetime; the default elsewhere."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        # SQLite hands back the text it stored ("2026-11-21 22:05:15.592608"): parse it in C, not by regex.
        def process(value):
            if value is None:
                return None
            if isinstance(value, str):
                return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
            return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

        return process

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        """Aware UTC on the way out."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """The tables' metadata: constraint names, and the column types of the annotations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class WorkloadTable(Base):
    """``workloads``: one row per (name, file hash)."""

    __tablename__ = "workloads"
    __table_args__ = (UniqueConstraint("name", "file_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(named(200))
    # "" when the workload did not come from a file (Python API): NULLs would not be unique.
    file_sha256: Mapped[str] = mapped_column(String(64), default="")
    path: Mapped[str | None] = mapped_column(Text)
    param_count: Mapped[int | None] = mapped_column(BigInteger)
    flops_per_sample: Mapped[float | None] = mapped_column(Float)
    optimizer: Mapped[str | None] = mapped_column(named(100))
    created_at: Mapped[datetime]


class ProfileTable(Base):
    """``profiles``: one probe session (the whole Profile as JSON too)."""

    __tablename__ = "profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workload_id: Mapped[int] = mapped_column(ForeignKey("workloads.id"), index=True)
    created_at: Mapped[datetime]
    hostname: Mapped[str | None] = mapped_column(named(255))
    probe_wall_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    data: Mapped[dict[str, Any]]  # the whole Profile, model_dump(mode="json")


class MeasurementTable(Base):
    """``measurements``: one timed batch size on one device of a profile."""

    __tablename__ = "measurements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    device: Mapped[str] = mapped_column(named(50))
    device_kind: Mapped[str] = mapped_column(String(10))
    device_name: Mapped[str] = mapped_column(named(200))
    spec_name: Mapped[str | None] = mapped_column(named(100))
    batch_size: Mapped[int] = mapped_column(Integer)
    threads: Mapped[int | None] = mapped_column(Integer)
    precision: Mapped[str] = mapped_column(String(10))
    compute_seconds: Mapped[float | None] = mapped_column(Float)
    batch_seconds: Mapped[float | None] = mapped_column(Float)
    spread: Mapped[float | None] = mapped_column(Float)
    peak_memory_gib: Mapped[float | None] = mapped_column(Float)
    gpu_utilization_pct: Mapped[float | None] = mapped_column(Float)
    power_watts: Mapped[float | None] = mapped_column(Float)
    oom: Mapped[bool] = mapped_column(Boolean, default=False)
    samples: Mapped[list[Any]]


# The key of a saved prediction's ``data`` that holds its instance start-up, as ``predict --json`` names it.
STORED_STARTUP_KEY = "instance_startup_seconds"


class PredictionTable(Base):
    """``predictions``: one Estimate (``advisor predict``)."""

    __tablename__ = "predictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workload_id: Mapped[int] = mapped_column(ForeignKey("workloads.id"), index=True)
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(index=True)
    target_kind: Mapped[str] = mapped_column(String(10))
    gpu: Mapped[str | None] = mapped_column(named(100))
    gpu_count: Mapped[int] = mapped_column(Integer)
    threads: Mapped[int | None] = mapped_column(Integer)
    dataset_size: Mapped[int] = mapped_column(BigInteger)
    epochs: Mapped[int] = mapped_column(JOB_COUNT)
    batch_size: Mapped[int] = mapped_column(JOB_COUNT)
    seconds: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(20))
    precision: Mapped[str] = mapped_column(String(10))
    fits_memory: Mapped[bool] = mapped_column(Boolean)
    # The whole Estimate, and beside its fields STORED_STARTUP_KEY: the paid start-up of a GPU instance that
    # ``predict`` showed with it (no column: an older advisor reads the row as before, ignoring the key).
    data: Mapped[dict[str, Any]]


class RecommendationTable(Base):
    """``recommendations``: one ``advisor recommend``, with its chosen candidate's headline copied."""

    __tablename__ = "recommendations"
    __table_args__ = (Index(None, "workload_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workload_id: Mapped[int] = mapped_column(ForeignKey("workloads.id"))
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(index=True)
    dataset_size: Mapped[int] = mapped_column(BigInteger)
    epochs: Mapped[int] = mapped_column(JOB_COUNT)
    batch_size: Mapped[int] = mapped_column(JOB_COUNT)
    objective: Mapped[str] = mapped_column(String(10))
    deadline_seconds: Mapped[float | None] = mapped_column(Float)
    budget_usd: Mapped[float | None] = mapped_column(Float)
    n_candidates: Mapped[int] = mapped_column(Integer, default=0)  # ranked ones, excluded not counted
    # A copy of the chosen candidate's headline (write-once, like every row here): list and export read
    # 100k recommendations without a join into candidates. NULL when nothing was feasible.
    chosen_provider: Mapped[str | None] = mapped_column(named(50))
    chosen_instance_type: Mapped[str | None] = mapped_column(named(100))
    chosen_region: Mapped[str | None] = mapped_column(named(50))
    chosen_tier: Mapped[str | None] = mapped_column(String(20))
    chosen_gpu: Mapped[str | None] = mapped_column(named(100))
    chosen_gpu_count: Mapped[int | None] = mapped_column(Integer)
    chosen_vcpus: Mapped[int | None] = mapped_column(Integer)
    chosen_method: Mapped[str | None] = mapped_column(String(20))
    chosen_seconds: Mapped[float | None] = mapped_column(Float)
    chosen_low: Mapped[float | None] = mapped_column(Float)
    chosen_high: Mapped[float | None] = mapped_column(Float)
    chosen_cost_usd: Mapped[float | None] = mapped_column(Float)
    constraints: Mapped[dict[str, Any]]
    pricing_snapshot: Mapped[dict[str, Any]]
    workload_info: Mapped[dict[str, Any]]  # Recommendation.workload as returned
    extra: Mapped[dict[str, Any]]  # best_per_tier, advice, measured_devices, notes, schema_version


class CandidateTable(Base):
    """``candidates``: every ranked or excluded candidate of a recommendation."""

    __tablename__ = "candidates"
    __table_args__ = (Index(None, "recommendation_id", "chosen"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id", ondelete="CASCADE"))
    rank: Mapped[int | None] = mapped_column(Integer)  # 0 = best; None for excluded candidates
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    provider: Mapped[str] = mapped_column(named(50))
    instance_type: Mapped[str] = mapped_column(named(100))
    region: Mapped[str] = mapped_column(named(50))
    tier: Mapped[str] = mapped_column(String(20))
    gpu: Mapped[str | None] = mapped_column(named(100))
    gpu_count: Mapped[int] = mapped_column(Integer)
    vcpus: Mapped[int | None] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    cost_usd: Mapped[float] = mapped_column(Float)
    spot_cost_usd: Mapped[float | None] = mapped_column(Float)
    fits_memory: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(20))
    # The uncorrected prediction when method is "history" (what the correction learns from).
    base_seconds: Mapped[float | None] = mapped_column(Float)
    base_method: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    price_usd_per_hour: Mapped[float] = mapped_column(Float)
    spot_price_usd_per_hour: Mapped[float | None] = mapped_column(Float)
    extra: Mapped[dict[str, Any]]  # every other Candidate field


class OutcomeTable(Base):
    """``outcomes``: what really happened, with the run candidate's prediction copied."""

    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"), index=True)
    workload_id: Mapped[int] = mapped_column(ForeignKey("workloads.id"), index=True)
    # The candidate that was really run: the one matching instance_type, else the chosen one.
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id", ondelete="SET NULL"))
    actual_seconds: Mapped[float] = mapped_column(Float)
    instance_type: Mapped[str | None] = mapped_column(named(100))
    status: Mapped[str] = mapped_column(String(10))
    recorded_at: Mapped[datetime] = mapped_column(index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    # What was predicted for that candidate, copied when the outcome is recorded: compare and learning scan
    # outcomes alone. NULL when the recommendation had no candidate to compare with.
    provider: Mapped[str | None] = mapped_column(named(50))
    region: Mapped[str | None] = mapped_column(named(50))
    tier: Mapped[str | None] = mapped_column(String(20))
    gpu: Mapped[str | None] = mapped_column(named(100))
    gpu_count: Mapped[int | None] = mapped_column(Integer)
    vcpus: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str | None] = mapped_column(String(20))
    predicted_seconds: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    base_seconds: Mapped[float | None] = mapped_column(Float)
    base_method: Mapped[str | None] = mapped_column(String(20))
