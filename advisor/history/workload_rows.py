"""The rows a write adds beside its own: the workload it is of (inserted once, then found) and a profile with its
measurements. Called inside ``advisor.History``'s write transactions, with their connection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, and_, insert, select
from sqlalchemy.exc import IntegrityError

from advisor.history.rows import measurement_rows, workload_fields
from advisor.history.tables import MeasurementTable, ProfileTable, WorkloadTable
from advisor.schemas import Profile, WorkloadInfo, utc_now


def stored_workload_id(conn: Connection, info: Mapping[str, Any] | WorkloadInfo | None) -> int:
    """Insert-or-get the workload by (name, file hash); safe against a concurrent insert of the same one."""
    fields = workload_fields(info)
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
    found_id, params, flops = found
    fill = {k: fields[k] for k, old in (("param_count", params), ("flops_per_sample", flops))
            if old is None and fields[k] is not None}
    if fill:
        conn.execute(WorkloadTable.__table__.update().where(WorkloadTable.id == found_id).values(**fill))
    return found_id


def insert_profile(conn: Connection, profile: Profile, workload_id: int) -> int:
    """Insert a profile of the workload row ``workload_id`` with its measurement rows; its id."""
    profile_id = conn.execute(insert(ProfileTable).values(
        workload_id=workload_id,
        created_at=profile.created_at,
        hostname=profile.host.hostname if profile.host else None,
        probe_wall_seconds=profile.probe_wall_seconds,
        data=profile.model_dump(mode="json"),
    )).inserted_primary_key[0]
    rows = measurement_rows(profile, profile_id)
    if rows:
        conn.execute(insert(MeasurementTable), rows)
    return profile_id
