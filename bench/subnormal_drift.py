"""A CPU job that slows down part-way as its optimizer's state turns subnormal: what the probe measures of it
(``advisor.probe.subnormal``), what the prediction adds, and the real job with and without
``torch.set_flush_denormal(True)`` (which removes the cause), in alternating fresh processes.

For each workload: probe it as ``advisor predict`` does, pick a dataset size whose predicted job takes about
``--target-seconds`` (bench/accuracy_cpu.py's rule), predict it, then run the real job ``--pairs`` times each way,
alternating, and print one row: the probe's zero-gradient share, onset and extra time per optimizer step, the
prediction with and without the drift, the real job's medians, and both errors.

    python bench/subnormal_drift.py                                   # tabular_mlp, ~3 min
    python bench/subnormal_drift.py --examples tabular_mlp,bench/workloads/wide_mlp.py --pairs 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from accuracy_cpu import choose_dataset_size, machine, run_job_subprocess, workload_path  # noqa: E402


def bench_one(name: str, args) -> dict:
    from advisor.predictor.measured import predict_measured
    from advisor.probe import run_profile
    from advisor.schemas import JobSpec
    from advisor.workload import load_workload

    path = workload_path(name)
    batch_size = load_workload(path).batch_size
    profile = run_profile(str(path), devices=["cpu"], batch_size=batch_size, probe_seconds=args.probe_seconds)
    dev = profile.device("cpu")
    dataset_size = choose_dataset_size(profile, batch_size, args.epochs, args.target_seconds)
    job = JobSpec(dataset_size, args.epochs, batch_size)
    est = predict_measured(profile, job)
    plain, flushed = [], []
    for _ in range(args.pairs):
        for flush, out in ((False, plain), (True, flushed)):
            out.append(run_job_subprocess(path, dataset_size, args.epochs, batch_size, dev.threads,
                                          flush_denormal=flush)["wall_seconds"])
    drift = dev.subnormal
    first = min(drift.stages, key=lambda s: s.onset_steps, default=None) if drift else None
    actual = statistics.median(plain)
    late = est.subnormal_seconds or 0.0
    return {"workload": path.stem, "steps": job.optimizer_steps, "share": drift.zero_grad_share if drift else None,
            "onset": first.onset_steps if first else None,
            "extra_ms": 1e3 * first.extra_step_seconds if first else None, "state": first.state if first else "",
            "predicted": est.seconds, "late": late, "actual": actual, "flushed": statistics.median(flushed),
            "plain_runs": plain, "flushed_runs": flushed,
            "error_without": 100 * ((est.seconds - late) / actual - 1), "error": 100 * (est.seconds / actual - 1)}


def render(rows: list[dict]) -> str:
    lines = ["| workload | optimizer steps | zero-gradient share | first onset (step, state) | its extra ms / step "
             "| predicted s without the drift | drift s | predicted s | job s | job s, flushed | job / flushed "
             "| error without | error |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        share = f"{r['share']:.0%}" if r["share"] is not None else "-"
        onset = f"{r['onset']:,} ({r['state']})" if r["onset"] is not None else "-"
        extra = f"{r['extra_ms']:.3g}" if r["extra_ms"] is not None else "-"
        lines.append(f"| {r['workload']} | {r['steps']:,} | {share} | {onset} | {extra} "
                     f"| {r['predicted'] - r['late']:.1f} | {r['late']:.1f} | {r['predicted']:.1f} | {r['actual']:.1f} "
                     f"| {r['flushed']:.1f} | {r['actual'] / r['flushed']:.2f}x | {r['error_without']:+.1f}% "
                     f"| {r['error']:+.1f}% |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--examples", default="tabular_mlp", help="example names or workload files (.py), comma-separated")
    p.add_argument("--target-seconds", type=float, default=20.0)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--pairs", type=int, default=2, help="real jobs each way, alternating")
    p.add_argument("--probe-seconds", type=float, default=10.0)
    args = p.parse_args(argv)
    rows = []
    for name in (n.strip() for n in args.examples.split(",") if n.strip()):
        print(f"[{name}] probing, predicting, {args.pairs} pairs of real jobs ...", file=sys.stderr, flush=True)
        rows.append(bench_one(name, args))
    print(f"Subnormal drift, {time.strftime('%Y-%m-%d %H:%M')}, {machine()}\n")
    print(render(rows))
    for r in rows:
        print(f"\n{r['workload']}: jobs {', '.join(f'{x:.1f}' for x in r['plain_runs'])} s; flushed "
              f"{', '.join(f'{x:.1f}' for x in r['flushed_runs'])} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
