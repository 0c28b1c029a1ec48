"""One fresh process against two: which estimate of a job's step is closer to the real jobs, for the same seconds.

The CPU probe times the user's batch size in fresh processes forked before anything ran (``advisor.probe.twin``).
On a shared VM each fresh process lands somewhere in a spread of its own, which a few seconds of its steps do not
average out. This bench measures what that costs and what a second process buys, on this machine:

- ``draws`` fresh processes (import, build, 3 warm-up steps, then ``2 x --seconds`` of timed steps at the batch
  size), interleaved with ``jobs`` real jobs (bench/accuracy_cpu.py's, ``--job-seconds`` long, fresh processes):
  D J D D J D D J D for the defaults;
- one process: each draw's level over all its ``2 x --seconds`` (as the probe's fit takes it: each process's
  transient cut by the MSER rule, gross outliers dropped, the mean; ``advisor.predictor.fit``);
- two processes: each adjacent pair of draws, the first ``--seconds`` of each, pooled the same way;
- each against every job's mean steady step (|error| in % of the job), and, for the machine's own floor, every job
  against every other job. Medians over those pairs, per workload.

    .venv/bin/python bench/twin_draws.py                  # ~8 min on 2 cores; run it on an idle machine
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accuracy_cpu as A  # noqa: E402

EXAMPLES = "bench/workloads/wide_mlp.py,bench/workloads/conv1d_audio.py,tabular_mlp,small_cnn,tiny_transformer_lm"
ORDER = "DJDDJDDJD"


def draw(path: str, batch_size: int, seconds: float) -> dict:
    """In this (fresh) process: build, warm up, time steps for ``seconds``; the samples and their timestamps."""
    from advisor.workload import load_workload, split_batch, train_step

    workload = load_workload(path)
    model = workload.build_model()
    model.train()
    optimizer = workload.build_optimizer(model.parameters())

    def step() -> float:
        s0 = time.perf_counter()
        inputs, target = split_batch(workload, workload.make_batch(batch_size))
        train_step(workload, model, optimizer, inputs, target)
        return time.perf_counter() - s0

    for _ in range(3):
        step()
    samples: list[float] = []
    ends: list[float] = []
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        samples.append(step())
        ends.append(time.perf_counter() - t0)
    return {"samples": samples, "ends": ends}


def level(parts: list[list[float]]) -> float:
    """The probe fit's level of samples from several processes (advisor.predictor.fit)."""
    from advisor.predictor.fit import robust_level, steady_state

    return robust_level([x for part in parts for x in steady_state(part)])


def _draw_subprocess(path: Path, batch_size: int, seconds: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--draw", str(path), "--batch-size", str(batch_size),
           "--seconds", str(seconds)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=str(A.REPO))
    return json.loads(out.stdout.strip().splitlines()[-1])


def _err(predicted: float, actual: float) -> float:
    return 100 * abs(predicted / actual - 1)


def bench_one(name: str, args) -> dict:
    from advisor.workload import load_workload

    path = A.workload_path(name)
    batch_size = load_workload(path).batch_size
    draws: list[dict] = []
    jobs: list[float] = []
    dataset_size = 0
    for kind in ORDER:
        if kind == "D":
            draws.append(_draw_subprocess(path, batch_size, 2 * args.seconds))
            if not dataset_size:  # a job of about --job-seconds, never a whole number of batches
                step = statistics.median(draws[0]["samples"])
                dataset_size = max(batch_size + 1, int(args.job_seconds / step * batch_size) // batch_size
                                   * batch_size + batch_size // 2 + 1)
        else:
            jobs.append(A.run_job_subprocess(path, dataset_size, 1, batch_size, None)["mean_step_seconds"])
    one = [level([d["samples"]]) for d in draws]
    first = [[s for s, e in zip(d["samples"], d["ends"], strict=True) if e <= args.seconds] for d in draws]
    two = [level([first[i], first[i + 1]]) for i in range(0, len(first) - 1, 2)]
    return {
        "workload": path.stem, "batch_size": batch_size,
        "one_ms": [1e3 * x for x in one], "two_ms": [1e3 * x for x in two], "jobs_ms": [1e3 * j for j in jobs],
        "one_error": statistics.median(_err(p, j) for p in one for j in jobs),
        "two_error": statistics.median(_err(p, j) for p in two for j in jobs),
        "floor": statistics.median(_err(a, b) for a, b in itertools.permutations(jobs, 2)),
    }


def render(rows: list[dict], seconds: float) -> str:
    out = [f"| workload | batch | one process, {2 * seconds:g} s: step ms | two processes, "
           f"{seconds:g} s each: step ms | real jobs: mean step ms | one process vs the jobs | "
           "two processes vs the jobs | job vs job (floor) |",
           "|---|---:|---|---|---|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['workload']} | {r['batch_size']} | {_ms(r['one_ms'])} | {_ms(r['two_ms'])} | "
                   f"{_ms(r['jobs_ms'])} | {r['one_error']:.1f}% | {r['two_error']:.1f}% | {r['floor']:.1f}% |")
    if rows:
        out.append(f"| median | | | | | {statistics.median(r['one_error'] for r in rows):.1f}% | "
                   f"{statistics.median(r['two_error'] for r in rows):.1f}% | "
                   f"{statistics.median(r['floor'] for r in rows):.1f}% |")
    return "\n".join(out)


def _ms(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--examples", default=EXAMPLES, help="comma-separated example names or workload paths")
    p.add_argument("--seconds", type=float, default=1.0,
                   help="each of two processes' timed seconds (one process times twice this)")
    p.add_argument("--job-seconds", type=float, default=20.0, help="each real job's length, about")
    p.add_argument("--json-out", default=None, help="also write the rows as JSON here")
    p.add_argument("--draw", default=None, help=argparse.SUPPRESS)
    p.add_argument("--batch-size", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.draw:
        print(json.dumps(draw(args.draw, args.batch_size, args.seconds)))
        return 0
    print(A.machine())
    rows = []
    for name in (n.strip() for n in args.examples.split(",") if n.strip()):
        rows.append(bench_one(name, args))
        print(json.dumps({k: v for k, v in rows[-1].items() if k.endswith("error") or k == "workload"}),
              flush=True)
    print(render(rows, args.seconds))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
