"""History scale benchmark: are the history queries fast with 100k stored recommendations?

1. bulk-insert ``--recommendations`` (default 100,000) recommendations, each with ``--candidates`` (default 5)
   candidates, one chosen, spread over 20 workloads and the last 365 days; ``--outcome-fraction`` (default 10%)
   of them get a recorded outcome. Rows go in with core executemany in batches (the bench times the queries,
   not the loader), then the single-row writes are timed through the repository like ``advisor`` does them;
2. time every query of ``advisor.History`` (the same calls ``advisor history ...`` makes), warm, on one open
   ``History``: median and worst of ``--repeat`` runs, in milliseconds;
3. print a table; the target is every query under 200 ms at 100k rows (bench/README.md, "History scale").

    python bench/history_scale.py                                   # SQLite in a temporary folder
    python bench/history_scale.py --url postgresql://postgres@127.0.0.1/test?options=-csearch_path%3Dbench
    python bench/history_scale.py --recommendations 10000 --json-out scale.json

The database must be empty (or pass ``--reuse`` to time an already filled one). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TARGET_MS = 200.0
MENU = [  # instance type, tier, gpu, gpu count, vcpus, $/h, speed-up over the CPU
    ("c7i.8xlarge", "cpu", None, 0, 32, 1.428, 1.0),
    ("g4dn.xlarge", "single_gpu", "T4", 1, 4, 0.526, 6.0),
    ("g5.xlarge", "single_gpu", "A10G", 1, 4, 1.006, 12.0),
    ("p4d.24xlarge", "multi_gpu", "A100-40GB", 8, 96, 32.77, 150.0),
    ("p5.48xlarge", "multi_gpu", "H100-SXM", 8, 192, 98.32, 300.0),
    ("a2-highgpu-1g", "single_gpu", "A100-40GB", 1, 12, 3.67, 25.0),
]


def fill(hist, n_recs: int, n_cands: int, outcome_fraction: float, seed: int = 0, batch: int = 5000) -> float:
    """Bulk-insert the synthetic history; returns the seconds it took."""
    from sqlalchemy import insert

    from advisor.history.repository import CHOSEN_COPY, OUTCOME_COPY
    from advisor.history.tables import CandidateTable, OutcomeTable, RecommendationTable, WorkloadTable

    rnd = random.Random(seed)
    now = datetime.now(timezone.utc)
    start = time.perf_counter()
    engine = hist.engine
    with engine.begin() as conn:
        conn.execute(insert(WorkloadTable), [
            {"id": i + 1, "name": f"workload_{i:02d}", "file_sha256": f"{i:064x}", "path": f"/models/w{i}.py",
             "param_count": int(10 ** rnd.uniform(5, 9)), "flops_per_sample": 10 ** rnd.uniform(8, 12),
             "optimizer": "AdamW", "created_at": now - timedelta(days=400)} for i in range(20)])
    constraints = {"objective": "cost", "deadline_seconds": 21600.0, "budget_usd": 50.0, "providers": ["aws"],
                   "regions": None, "spot": False, "top": 10, "precision": None}
    snapshot = {"dates": {"aws": "2026-11-01", "gcp": "2026-11-01"}, "sources": ["pricing/instances.csv"]}
    cand_id = 0
    for lo in range(0, n_recs, batch):
        recs, cands, outs = [], [], []
        for rec_id in range(lo + 1, min(lo + batch, n_recs) + 1):
            workload = rnd.randrange(20) + 1
            created = now - timedelta(seconds=rnd.uniform(0, 365 * 86400))
            cpu_seconds = 10 ** rnd.uniform(3, 6)
            chosen_rank = rnd.randrange(n_cands)
            rec_cands = []
            for rank, (inst, tier, gpu, count, vcpus, price, speed) in enumerate(rnd.sample(MENU, n_cands)):
                cand_id += 1
                secs = cpu_seconds / speed
                rec_cands.append({
                    "id": cand_id, "recommendation_id": rec_id, "rank": rank, "chosen": rank == chosen_rank,
                    "excluded": False, "provider": "aws", "instance_type": inst, "region": "us-east-1",
                    "tier": tier, "gpu": gpu, "gpu_count": count, "vcpus": vcpus, "seconds": secs,
                    "low": secs * 0.8, "high": secs * 1.25, "cost_usd": secs / 3600 * price, "spot_cost_usd": None,
                    "fits_memory": True, "method": "measured" if tier == "cpu" else "scaled",
                    "base_seconds": None, "base_method": None, "reason": "", "price_usd_per_hour": price,
                    "spot_price_usd_per_hour": None,
                    "extra": {"billed_seconds": secs + 60, "startup_seconds": 300.0, "pareto": rank == 0,
                              "meets_constraints": True, "interruptible": False, "precision": "fp32"}})
            cands.extend(rec_cands)
            chosen = rec_cands[chosen_rank]
            recs.append({"id": rec_id, "workload_id": workload, "profile_id": None, "created_at": created,
                         "dataset_size": rnd.randint(10_000, 10_000_000), "epochs": rnd.randint(1, 50),
                         "batch_size": 2 ** rnd.randint(4, 10), "objective": "cost", "deadline_seconds": 21600.0,
                         "budget_usd": 50.0, "n_candidates": n_cands,
                         **{f"chosen_{k}": chosen[k] for k in CHOSEN_COPY},
                         "constraints": constraints, "pricing_snapshot": snapshot,
                         "workload_info": {"name": f"workload_{workload - 1:02d}"},
                         "extra": {"schema_version": 1, "best_per_tier": {}, "advice": [], "measured_devices": ["cpu"],
                                   "notes": []}})
            if rnd.random() < outcome_fraction:
                outs.append({"recommendation_id": rec_id, "workload_id": workload, "candidate_id": chosen["id"],
                             "actual_seconds": chosen["seconds"] * math.exp(rnd.gauss(0.1, 0.15)),
                             "instance_type": chosen["instance_type"],
                             "status": "completed" if rnd.random() < 0.95 else "failed",
                             "recorded_at": created + timedelta(seconds=chosen["seconds"]), "notes": None,
                             "predicted_seconds": chosen["seconds"], **{k: chosen[k] for k in OUTCOME_COPY}})
        with engine.begin() as conn:
            conn.execute(insert(RecommendationTable), recs)
            conn.execute(insert(CandidateTable), cands)
            if outs:
                conn.execute(insert(OutcomeTable), outs)
    if engine.dialect.name == "postgresql":
        # Continue the id sequences after the explicit ids, and give the planner statistics.
        with engine.begin() as conn:
            for table in ("workloads", "recommendations", "candidates"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - start


def recommendation_like(n_cands: int):
    """One Recommendation shaped like those the bench loads, for timing the real save path."""
    from advisor.schemas import Candidate, Constraints, Recommendation

    cands = []
    for inst, tier, gpu, count, vcpus, price, speed in MENU[:n_cands]:
        secs = 36_000.0 / speed
        cands.append(Candidate(provider="aws", instance_type=inst, region="us-east-1", tier=tier, gpu=gpu,
                               gpu_count=count, vcpus=vcpus, seconds=secs, low=secs * 0.8, high=secs * 1.25,
                               cost_usd=secs / 3600 * price, fits_memory=True,
                               method="measured" if tier == "cpu" else "scaled", price_usd_per_hour=price))
    return Recommendation(workload={"name": "workload_07", "file_sha256": f"{7:064x}"}, dataset_size=100_000,
                          epochs=10, batch_size=128, chosen=cands[0], candidates=cands,
                          constraints=Constraints(), pricing_snapshot={"dates": {"aws": "2026-11-01"}})


def timed(fn, repeat: int) -> dict:
    """Median / worst wall time and median CPU time of this process (the machine may be shared: CPU time is
    what the query itself cost here; for PostgreSQL the server's share is in the wall time only)."""
    fn()  # warm-up
    runs, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        runs.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return {"median_ms": statistics.median(runs), "max_ms": max(runs), "cpu_ms": statistics.median(cpu),
            "result": result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="database URL (default: a SQLite file in a temporary folder)")
    parser.add_argument("--recommendations", type=int, default=100_000)
    parser.add_argument("--candidates", type=int, default=5, choices=range(1, len(MENU) + 1))
    parser.add_argument("--outcome-fraction", type=float, default=0.10)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="time an already filled database")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)

    from sqlalchemy import func, select

    from advisor.history.export import EXPORT_PAGE_ROWS
    from advisor.history.repository import History
    from advisor.history.tables import CandidateTable, OutcomeTable, RecommendationTable

    tmp = None
    url = args.url
    if url is None:
        tmp = tempfile.TemporaryDirectory(prefix="advisor-bench-")
        url = f"sqlite:///{Path(tmp.name) / 'history.db'}"
    hist = History(url)
    hist.list(limit=1)  # creates the schema
    with hist.engine.connect() as conn:
        existing = conn.execute(select(func.count()).select_from(RecommendationTable)).scalar()
    if existing and not args.reuse:
        print(f"{hist!r} already holds {existing} recommendations; use an empty database or --reuse.")
        return 2
    fill_seconds = 0.0
    if not existing:
        print(f"Filling {hist!r}: {args.recommendations:,} recommendations x {args.candidates} candidates, "
              f"{args.outcome_fraction:.0%} with outcomes ...", flush=True)
        fill_seconds = fill(hist, args.recommendations, args.candidates, args.outcome_fraction)
    with hist.engine.connect() as conn:
        sizes = {t.__tablename__: conn.execute(select(func.count()).select_from(t)).scalar()
                 for t in (RecommendationTable, CandidateTable, OutcomeTable)}
    print(f"rows: {sizes} (loaded in {fill_seconds:.1f} s)", flush=True)

    some_id = sizes["recommendations"] // 2
    sink = open(os.devnull, "w")  # noqa: SIM115 - closed below
    queries = [
        ("list (limit 50)", "advisor history list", lambda: len(hist.list())),
        ("list --workload (limit 50)", "advisor history list --workload workload_07",
         lambda: len(hist.list(workload="workload_07"))),
        ("list --since 7d (limit 50)", "advisor history list --since 7d", lambda: len(hist.list(since="7d"))),
        ("list --limit 1000", "advisor history list --limit 1000", lambda: len(hist.list(limit=1000))),
        ("show ID", "advisor history show ID", lambda: len(hist.show(some_id).recommendation.candidates)),
        ("compare (all outcomes)", "advisor history compare", lambda: len(hist.compare().rows)),
        ("compare --workload", "advisor history compare --workload workload_07",
         lambda: len(hist.compare(workload="workload_07").rows)),
        ("training_rows (learning)", "(fit_correction input)", lambda: len(hist.training_rows())),
        ("export csv --since 7d", 'History.export("csv", since="7d")', lambda: _export(hist, "csv", sink, "7d")),
        ("export csv (everything)", "advisor history export --format csv", lambda: _export(hist, "csv", sink)),
        ("export json (everything)", "advisor history export --format json", lambda: _export(hist, "json", sink)),
        # What a server reads for one answer of `history export --server` (GET /v1/history/export), at the
        # table's start and at its end: a page after a key, which must not cost more further in.
        ("export page, the first", "GET /v1/history/export (one page)",
         lambda: len(list(hist.export_rows(after=(0, 0), limit=EXPORT_PAGE_ROWS)))),
        ("export page, the last", "GET /v1/history/export?after_recommendation=N",
         lambda: len(list(hist.export_rows(after=(sizes["recommendations"] - EXPORT_PAGE_ROWS, 0),
                                           limit=EXPORT_PAGE_ROWS)))),
    ]
    results = []
    for label, command, fn in queries:
        r = timed(fn, args.repeat if "everything" not in label else max(3, args.repeat // 2))
        results.append({"query": label, "command": command, "rows": r["result"], "median_ms": r["median_ms"],
                        "max_ms": r["max_ms"], "cpu_ms": r["cpu_ms"]})
        print(f"  {label:<28} {r['median_ms']:9.1f} ms  ({r['result']} rows)", flush=True)
    sink.close()

    # Single writes through the repository, as `advisor recommend` / `history record` do them.
    write = timed(lambda: hist.save_recommendation(recommendation_like(args.candidates)), args.repeat)
    results.append({"query": "save_recommendation (1 + candidates)", "command": "advisor recommend (the save)",
                    "rows": 1, "median_ms": write["median_ms"], "max_ms": write["max_ms"], "cpu_ms": write["cpu_ms"]})
    rec_id = write["result"]
    record = timed(lambda: hist.record_outcome(rec_id, 30_000.0).id, args.repeat)
    results.append({"query": "record_outcome", "command": "advisor history record ID --actual-seconds S",
                    "rows": 1, "median_ms": record["median_ms"], "max_ms": record["max_ms"],
                    "cpu_ms": record["cpu_ms"]})

    backend = hist.engine.dialect.name
    print()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"History scale on {backend} ({platform.machine()}, {os.cpu_count()} CPUs, load average {load:.1f}, "
          f"Python {platform.python_version()}): {sizes['recommendations']:,} recommendations, "
          f"{sizes['candidates']:,} candidates, {sizes['outcomes']:,} outcomes; median of {args.repeat} warm runs "
          f"(export: of {max(3, args.repeat // 2)})")
    print()
    print("| query | command | rows | median ms | max ms | CPU ms | under 200 ms |")
    print("|---|---|---:|---:|---:|---:|:---:|")
    for r in results:
        ok = "yes" if r["median_ms"] < TARGET_MS else "no"
        print(f"| {r['query']} | `{r['command']}` | {r['rows']:,} | {r['median_ms']:.1f} | {r['max_ms']:.1f} "
              f"| {r['cpu_ms']:.1f} | {ok} |")
    if args.json_out:
        args.json_out.write_text(json.dumps({"backend": backend, "sizes": sizes, "fill_seconds": fill_seconds,
                                             "results": results}, indent=2))
    hist.close()
    if tmp is not None:
        tmp.cleanup()
    return 0


def _export(hist, fmt: str, sink, since: str | None = None) -> int:
    counter = _Counter(sink)
    hist.export(fmt, counter, since=since)
    return counter.lines - (1 if fmt == "csv" else 2)


class _Counter(io.TextIOBase):
    """A write-only stream that counts lines (rows) and throws the text away."""

    def __init__(self, sink) -> None:
        self.sink = sink
        self.lines = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return len(text)


if __name__ == "__main__":
    sys.exit(main())
