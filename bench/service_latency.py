"""Latency of ``POST /v1/recommendations`` from a saved profile, at 1 and 50 concurrent clients.

A real ``advisor serve`` process on 127.0.0.1 (default: 2 workers over PostgreSQL in a schema of its own, the
team set-up; ``--sqlite`` for 1 worker on a SQLite file), driven by closed-loop clients (each sends its next
request when the last answered) from this process: asyncio and a minimal HTTP/1.1 client over keep-alive
connections, the request bytes built once, so that the generator takes little of the cores it shares with the
server and the database (its CPU time is reported). Scenarios:

* ``same job``: every request the same profile and job (a pipeline that asks again): the ranking is reused
  from the server's cache, each request is still validated and stored as a row of its own;
* ``new job``: every request a different dataset size, so each one is predicted and ranked from scratch;
* ``same job, first burst``: 50 identical requests at once for a job no worker has ranked yet (each worker ranks
  it once while the others wait for that ranking);
* ``new job, learned correction``: new jobs again after 12 outcomes were recorded, so that the learned history
  correction is fitted and applied to every estimate (a team's server that learns from its runs).

Each at 1 client and at 50. Every response must be 201 (errors are counted and shown). The 1-minute load
average before and after is printed: other processes on the machine move these figures. So is the CPU each
request cost the server (its processes, read with psutil) and the database (every PostgreSQL process): at 50
closed-loop clients the mean latency is 50 / (requests per second), so the p99 follows the server's CPU per
request and how quick the machine is that minute, and these columns say which of the two moved.

    .venv/bin/python bench/service_latency.py                 # ~1 min
    .venv/bin/python bench/service_latency.py --repeat 5      # 'new job' at 50 clients five times
    .venv/bin/python bench/service_latency.py --sqlite --requests 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "service"))

from service_helpers import TOKEN, Server, drop_schema, postgres_schema, profile_data  # noqa: E402


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of the live processes among ``pids``."""
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _database_pids() -> list[int]:
    """Every PostgreSQL process on this machine (the server's own connections among them)."""
    return [p.pid for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postgres")]


def _measured(srv: Server, clients: int, requests: int, new_job: bool, offset: int) -> dict:
    """``_run`` with the CPU the server's processes and the database's spent on it, in seconds per request."""
    server = [srv.process.pid, *srv.worker_pids()]
    database = _database_pids()
    server0, database0 = _cpu_seconds(server), _cpu_seconds(database)
    result = asyncio.run(_run(srv.url, clients, requests, new_job, offset))
    n = max(1, result["n"])
    result["server_cpu"] = (_cpu_seconds(server) - server0) / n
    result["database_cpu"] = (_cpu_seconds(database) - database0) / n
    return result


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def _request(url: str, body: bytes, keep_alive: bool) -> bytes:
    host = url.split("://", 1)[1]
    head = (f"POST /v1/recommendations HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            + ("" if keep_alive else "Connection: close\r\n") + "\r\n")
    return head.encode() + body


async def _exchange(url: str, request: bytes, conn: list) -> int:
    """Send one request on the connection in ``conn`` (opened if need be); the status. A minimal HTTP/1.1
    client (the request bytes made once, the answer read by its Content-Length), so that the load generator
    takes little of the 2 cores it shares with the server."""
    if not conn:
        host, port = url.split("://", 1)[1].split(":")
        conn.extend(await asyncio.open_connection(host, int(port)))
    reader, writer = conn
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    await reader.readexactly(length)
    if b"connection: close" in head.lower() or b"Connection: close" in request:
        writer.close()
        conn.clear()
    return status


async def _run(url: str, clients: int, requests: int, new_job: bool, offset: int, keep_alive: bool = True) -> dict:
    """``requests`` POSTs shared by ``clients`` closed-loop clients; latencies in seconds."""
    profile = profile_data()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = iter(range(requests))
    same = _request(url, json.dumps({"profile": profile, "dataset_size": 20_000, "epochs": 2}).encode(),
                    keep_alive)

    async def client() -> None:
        conn: list = []
        for i in counter:
            request = same if not new_job else _request(url, json.dumps(
                {"profile": profile, "dataset_size": 20_000 + offset + i, "epochs": 2}).encode(), keep_alive)
            started = time.perf_counter()
            try:
                status = await asyncio.wait_for(_exchange(url, request, conn), 300)
                key = None if status == 201 else f"HTTP {status}"
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as exc:
                key, conn[:] = type(exc).__name__, []
            latencies.append(time.perf_counter() - started)
            if key:
                errors[key] = errors.get(key, 0) + 1
        if conn:
            conn[1].close()

    cpu0, began = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall, cpu1 = time.perf_counter() - began, resource.getrusage(resource.RUSAGE_SELF)
    return {"n": len(latencies), "p50": _percentile(latencies, 50), "p99": _percentile(latencies, 99),
            "max": max(latencies), "mean": statistics.fmean(latencies), "rps": len(latencies) / wall,
            "errors": errors, "client_cpu": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
            "wall": wall}


OUTCOMES = 12  # recorded runs, enough for the learned correction to be fitted and used (learned.MIN_RUNS: 8)


def _record_outcomes(url: str, count: int) -> None:
    """``count`` stored recommendations with a recorded outcome each, the real run 1.5-2x the chosen candidate's
    prediction (a history the correction learns a bias from)."""
    import random

    import httpx

    rng = random.Random(0)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
        for i in range(count):
            rec = http.post("/v1/recommendations", json={"profile": profile_data(), "dataset_size": 30_000 + i,
                                                         "epochs": 2})
            rec.raise_for_status()
            body = rec.json()
            seconds = (1.5 + 0.5 * rng.random()) * body["chosen"]["seconds"]
            http.post(f"/v1/recommendations/{body['id']}/outcome",
                      json={"actual_seconds": seconds}).raise_for_status()
        time.sleep(1.1)  # a worker reads the outcomes' version at most once a second (backend.VERSION_SECONDS)
        check = http.post("/v1/recommendations", json={"profile": profile_data(), "dataset_size": 29_999,
                                                       "epochs": 2}).json()
        if check["chosen"]["method"] != "history":
            raise SystemExit(f"the learned correction is not applied after {count} outcomes: "
                             f"{check['chosen']['method']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", action="store_true", help="1 worker over a SQLite file instead")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=600, help="requests per 'same job' scenario")
    parser.add_argument("--new-requests", type=int, default=100, help="requests per 'new job' scenario")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run 'new job' at 50 clients this many times (its p99 moves with the machine's speed)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="service-bench-"))
    made = None
    if args.sqlite:
        url, workers, where = f"sqlite:///{tmp / 'history.db'}", 1, "SQLite, 1 worker"
    else:
        made = postgres_schema()
        if made is None:
            print("PostgreSQL at 127.0.0.1:5432 is unreachable; use --sqlite")
            return 1
        url, workers, where = made[0], args.workers, f"PostgreSQL, {args.workers} workers"
    load_before = os.getloadavg()
    srv = Server(tmp, database_url=url, workers=workers, args=("--rate-limit", "0"))
    try:
        # Warm every worker: imports, the catalog, the first ranking.
        asyncio.run(_run(srv.url, 2 * workers, 4 * workers, new_job=True, offset=900_000))
        # 50 identical requests at once on a job no worker has ranked yet: each worker ranks it once, the
        # others wait for that ranking.
        rows = [("same job, first burst", 50, _measured(srv, 50, 50, False, 0))]
        for name, new_job, count in (("same job", False, args.requests), ("new job", True, args.new_requests)):
            for clients in (1, 50):
                n = min(count, 60) if clients == 1 else count
                rows.append((name, clients, _measured(srv, clients, n, new_job, 1000 * clients)))
        for again in range(1, args.repeat):
            rows.append(("new job", 50, _measured(srv, 50, args.new_requests, True, 100_000 * again)))
        # A team's history: real outcomes recorded, so that the learned correction is fitted and applied to
        # every estimate of every recommendation.
        _record_outcomes(srv.url, OUTCOMES)
        for clients in (1, 50):
            n = min(args.new_requests, 60) if clients == 1 else args.new_requests
            rows.append(("new job, learned correction", clients,
                         _measured(srv, clients, n, True, 500_000 + 1000 * clients)))
    finally:
        srv.stop()
        if made is not None:
            drop_schema(made[1], made[2])
    load_after = os.getloadavg()
    print(f"POST /v1/recommendations, profile of examples/tabular_mlp.py, {where}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}; 1-min load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after (2 cores)\n")
    database = "" if args.sqlite else " | database CPU ms/req"
    print(f"| scenario | clients | requests | p50 ms | p99 ms | max ms | req/s | errors | server CPU ms/req{database} "
          "| client CPU s / wall s |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|" + ("" if args.sqlite else "---:|") + "---|")
    for name, clients, r in rows:
        errors = ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "0"
        db = "" if args.sqlite else f" {r['database_cpu'] * 1000:.1f} |"
        print(f"| {name} | {clients} | {r['n']} | {r['p50'] * 1000:.0f} | {r['p99'] * 1000:.0f} | "
              f"{r['max'] * 1000:.0f} | {r['rps']:.1f} | {errors} | {r['server_cpu'] * 1000:.1f} |{db} "
              f"{r['client_cpu']:.1f} / {r['wall']:.1f} |")
    runs = [r for name, clients, r in rows if name == "new job" and clients == 50]
    if len(runs) > 1:
        p99 = sorted(r["p99"] * 1000 for r in runs)
        print(f"\nnew job at 50 clients, {len(runs)} runs: p99 median {statistics.median(p99):.0f} ms "
              f"({p99[0]:.0f}-{p99[-1]:.0f}); {sum(x < 1000 for x in p99)} of {len(runs)} under 1 s; requests/s "
              f"median {statistics.median(r['rps'] for r in runs):.1f}; server CPU per request median "
              f"{statistics.median(r['server_cpu'] for r in runs) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
