"""The allocator's what-if against real jobs: what the probe says keeping freed memory saves, and what it saves.

For each workload: advisor's CPU probe (a child process, as ``advisor predict --device cpu`` runs it), whose
``DeviceProfile.kept_memory`` (``advisor.probe.allocator``) times the step as the process ran it and with glibc
told to keep freed memory; then the real job (bench/accuracy_cpu.py's job, a fresh process each) in interleaved
rounds, as it is and with ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` set (what the note's fix
sets), its mean steady step each time. The probe's saving is the note's figure; the jobs' is what a user gets.

    .venv/bin/python bench/kept_memory.py                      # ~5 min on 2 cores; run it on an idle machine
    .venv/bin/python bench/kept_memory.py --examples bench/workloads/wide_mlp.py --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accuracy_cpu as A  # noqa: E402

KEEP = {"MALLOC_MMAP_THRESHOLD_": "2147483647", "MALLOC_TRIM_THRESHOLD_": "2147483647"}
EXAMPLES = "bench/workloads/wide_mlp.py,bench/workloads/conv1d_audio.py,tabular_mlp,small_cnn,tiny_transformer_lm"


def bench_one(name: str, args) -> dict:
    from advisor.predictor.measured import predict_measured
    from advisor.probe import run_profile
    from advisor.schemas import JobSpec
    from advisor.workload import load_workload

    path = A.workload_path(name)
    batch_size = load_workload(path).batch_size
    profile = run_profile(str(path), devices=["cpu"], batch_size=batch_size, probe_seconds=args.probe_seconds,
                          thread_scaling=False)
    dev = profile.device("cpu")
    top = max((m for m in dev.measurements if not m.oom), key=lambda m: m.batch_size)
    dataset_size = A.choose_dataset_size(profile, batch_size, 1, args.target_seconds)
    est = predict_measured(profile, JobSpec(dataset_size, 1, batch_size))
    steps: dict[str, list[float]] = {"default": [], "kept": []}
    for _ in range(args.rounds):
        for mode in steps:
            job = A.run_job_subprocess(path, dataset_size, 1, batch_size, dev.threads,
                                       env=KEEP if mode == "kept" else None)
            steps[mode].append(job["mean_step_seconds"])
    default, kept = statistics.median(steps["default"]), statistics.median(steps["kept"])
    return {"workload": path.stem, "batch_size": batch_size, "kernel_share": top.kernel_cpu_share,
            "faults": top.page_faults_per_step, "kept_memory": dev.kept_memory, "job_default": default,
            "job_kept": kept, "rounds": steps, "noted": any("With freed memory kept" in n for n in est.notes)}


def render(rows: list[dict]) -> str:
    out = ["| workload | batch | probe: kernel share, faults a step | probe: step ms as run / kept (faults) | "
           "probe's saving (the note) | real job: step ms as run / kept | job's saving | note |",
           "|---|---:|---|---|---:|---|---:|---|"]
    for r in rows:
        k = r["kept_memory"]
        share = f"{r['kernel_share']:.0%}, {r['faults']:,.0f}" if r["kernel_share"] is not None else "-"
        probe = (f"{1e3 * k.probed_step_seconds:.2f} / {1e3 * k.kept_step_seconds:.2f} "
                 f"({k.probed_faults_per_step:,.0f} / {k.kept_faults_per_step:,.0f})") if k else "not measured"
        saving = f"{k.saving:+.0%}" if k else "-"
        job = 1 - r["job_kept"] / r["job_default"]
        out.append(f"| {r['workload']} | {r['batch_size']} | {share} | {probe} | {saving} | "
                   f"{1e3 * r['job_default']:.2f} / {1e3 * r['job_kept']:.2f} | {job:+.0%} | "
                   f"{'yes' if r['noted'] else 'no'} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--examples", default=EXAMPLES, help="comma-separated example names or workload files")
    p.add_argument("--rounds", type=int, default=2, help="real jobs per mode, interleaved (default 2)")
    p.add_argument("--target-seconds", type=float, default=8.0, help="each real job's length (default 8 s)")
    p.add_argument("--probe-seconds", type=float, default=20.0)
    args = p.parse_args(argv)
    rows = []
    for name in args.examples.split(","):
        rows.append(bench_one(name, args))
        r = rows[-1]
        print(f"[{r['workload']}] jobs {r['rounds']}", file=sys.stderr, flush=True)
    print(f"Kept memory, {A.machine()}\n")
    print(render(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
