"""Builders of realistic history objects, shared by the history tests and the child processes they start
(``python tests/history/history_helpers.py write|hang ...``)."""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from advisor.schemas import (
    Candidate,
    Constraints,
    CpuInfo,
    DeviceProfile,
    HostInfo,
    Measurement,
    Profile,
    Recommendation,
    WorkloadInfo,
)


def at_0001(url: str) -> None:
    """The database at revision 0001 (as advisors before 0002 left it): from empty, or down from head."""
    from alembic import command

    from advisor.history import migrate
    from advisor.history.engine import create_history_engine

    engine = create_history_engine(url)
    try:
        with engine.connect() as conn:
            move = command.upgrade if migrate.revision_of(engine) is None else command.downgrade
            move(migrate._config(connection=conn), "0001")
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    """The tables ``url``'s database holds."""
    from sqlalchemy import inspect

    from advisor.history.engine import create_history_engine

    engine = create_history_engine(url)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


GPUS = [("g5.xlarge", "A10G", 1, 4, 1.006), ("p4d.24xlarge", "A100-40GB", 8, 96, 32.77),
        ("g4dn.xlarge", "T4", 1, 4, 0.526), ("p5.48xlarge", "H100-SXM", 8, 192, 98.32)]


def sqlite_driver_error(url: str, errorname: str, text: str, *, statement: str = "INSERT",
                 message: str = "{detail}", hint: str = "-"):
    """``advisor.history.engine.database_error``'s error for a SQLite driver error that sqlite3 names ``errorname``
    (its ``sqlite_errorname``: "SQLITE_READONLY_DIRECTORY") and words as ``text``, raised by ``statement`` on the
    history ``url``; ``message`` and ``hint`` are the defaults database_error is given."""
    from sqlalchemy.exc import OperationalError

    from advisor.history.engine import create_history_engine, database_error

    driver = type("DriverError", (Exception,), {"sqlite_errorname": errorname})
    engine = create_history_engine(url)
    try:
        return database_error(engine, OperationalError(statement, {}, driver(text)), message, hint)
    finally:
        engine.dispose()


def candidate(i: int = 0, *, seconds: float | None = None, method: str = "scaled", **overrides) -> Candidate:
    """The i-th of a fixed menu of candidates (CPU first, then GPUs)."""
    if i % 5 == 0:
        data = dict(provider="aws", instance_type="c7i.8xlarge", region="us-east-1", tier="cpu", gpu=None,
                    gpu_count=0, vcpus=32, price_usd_per_hour=1.428)
    else:
        inst, gpu, count, vcpus, price = GPUS[(i % 5) - 1]
        data = dict(provider="aws", instance_type=inst, region="us-east-1",
                    tier="multi_gpu" if count > 1 else "single_gpu", gpu=gpu, gpu_count=count, vcpus=vcpus,
                    price_usd_per_hour=price)
    secs = seconds if seconds is not None else 3600.0 / (1 + i % 5)
    data.update(seconds=secs, low=secs * 0.8, high=secs * 1.25, cost_usd=secs / 3600 * data["price_usd_per_hour"],
                spot_cost_usd=None, fits_memory=True, method=method, reason=f"candidate {i}",
                billed_seconds=secs + 60, startup_seconds=120.0, precision="fp32", pareto=i % 2 == 0,
                meets_constraints=True)
    data.update(overrides)
    return Candidate(**data)


def recommendation(name: str = "model", *, n: int = 5, chosen: int = 1, sha: str = "f" * 64,
                   created_at: datetime | None = None, excluded: int = 1, **overrides) -> Recommendation:
    cands = [candidate(i) for i in range(n)]
    data = dict(
        workload={"name": name, "params": 11_689_512, "flops_per_sample": 1.1e10, "path": f"/w/{name}.py",
                  "file_sha256": sha},
        dataset_size=50_000, epochs=10, batch_size=128,
        chosen=cands[chosen] if cands else None, candidates=cands,
        best_per_tier={c.tier: c for c in reversed(cands)},
        best_per_provider={c.provider: c for c in reversed(cands)},
        excluded=[candidate(i, fits_memory=False, reason="does not fit in memory") for i in range(excluded)],
        constraints=Constraints(objective="cost", deadline_seconds=6 * 3600, budget_usd=50.0, providers=["aws"]),
        pricing_snapshot={"dates": {"aws": "2026-11-01"}, "sources": ["pricing/aws.csv"]},
        advice=["--precision bf16 would take 41% less time"], measured_devices=["cpu"],
        notes=["No GPU here: GPU candidates are scaled."],
    )
    if created_at is not None:
        data["created_at"] = created_at
    data.update(overrides)
    return Recommendation(**data)


def profile(name: str = "model", sha: str = "f" * 64) -> Profile:
    return Profile(
        created_at=datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc),
        workload=WorkloadInfo(name=name, path=f"/w/{name}.py", file_sha256=sha, param_count=11_689_512,
                              flops_per_sample=1.1e10, optimizer="AdamW"),
        host=HostInfo(cpu=CpuInfo(model_name="Xeon", arch="x86_64", physical_cores=2, logical_cores=4,
                                  torch_threads=2, memory_gib=8.0), hostname="box"),
        devices=[DeviceProfile(device="cpu", kind="cpu", name="Xeon", threads=2, measurements=[
            Measurement(device="cpu", batch_size=b, threads=2, compute_seconds=0.01 * b,
                        compute_seconds_samples=[0.01 * b] * 3, batch_seconds=0.001, peak_memory_gib=0.5)
            for b in (8, 16, 32)])],
        probe_wall_seconds=12.5,
    )


# ---------------------------------------------------------------------------------------- child processes


def _write(url: str, count: int, name: str, start_file: str | None) -> None:
    """Save ``count`` recommendations of workload ``name``; print "ok FIRST LAST" (commit times)."""
    import alembic.command  # noqa: F401 - imported up front, so that both writers reach the migration together

    from advisor.history.repository import History

    if start_file:  # start together: say we are ready, then wait until the parent says go
        Path(f"{start_file}.{name}").write_text("ready")
        deadline = time.monotonic() + 60
        while not Path(start_file).exists() and time.monotonic() < deadline:
            time.sleep(0.002)
    times = []
    with History(url) as hist:
        for i in range(count):
            hist.save_recommendation(recommendation(name, sha=f"{i % 3:064d}"), profile=profile(name))
            times.append(time.time())
            time.sleep(0.01)  # spread the writes out, so that the two writers' transactions interleave
    print("ok", times[0], times[-1], flush=True)


def _hang(url: str, stage: str, marker: str) -> None:
    """Start saving a recommendation and stop forever midway, inside the transaction, once ``stage`` has been
    executed ('recommendations' or 'candidates'), after writing ``marker``. The parent kills us there."""
    from sqlalchemy import event

    from advisor.history.repository import History

    hist = History(url)
    hist.list()  # migrate first, outside the write that will be killed
    seen = {"n": 0}

    @event.listens_for(hist.engine, "after_cursor_execute")
    def _stop(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(f"INSERT INTO {stage.upper()}"):
            seen["n"] += 1
            Path(marker).write_text(stage)
            while True:
                time.sleep(1)

    hist.save_recommendation(recommendation("doomed", n=6), profile=profile("doomed"))
    print("finished?!", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if sys.argv[1] == "write":
        _write(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None)
    elif sys.argv[1] == "hang":
        _hang(sys.argv[2], sys.argv[3], sys.argv[4])
