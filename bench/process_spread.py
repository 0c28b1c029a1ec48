"""The same training step in fresh processes: how far apart they land, with glibc's malloc as it starts and with
its thresholds raised (freed memory kept).

Issue 8 judges a prediction against one real job, in one fresh process. On this project's 2-vCPU VMs the same job
rerun unchanged moves 5-30% (bench/README.md, "Pooled"), and part of that is not the VM: glibc's malloc hands freed
blocks back to the kernel and takes fresh pages again, and how often it does depends on the order in which the
process's threads allocated (section "Page faults"). This bench starts ``--processes`` fresh processes per workload
and case, interleaved, each timing ``--steps`` steps at the workload's batch size on all threads, and prints each
case's median step, its range over the processes, and the minor page faults and kernel CPU time a step (medians
over the steps after the first ``WARM_STEPS``). The cases: glibc as a fresh process starts it, and with
``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` at 1 GiB (the fix the product's page-fault note names).

    .venv/bin/python bench/process_spread.py                       # the five workloads bench/accuracy_cpu.py judges
    .venv/bin/python bench/process_spread.py --only conv1d_audio --processes 8
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from parallel_fraction import WORKLOADS, fresh_child  # noqa: E402 - bench/ is this script's folder

JUDGED = ("tabular_mlp", "small_cnn", "tiny_transformer_lm", "wide_mlp", "conv1d_audio")
WARM_STEPS = 30  # a fresh process's first steps, left out (its heap still growing)
KEPT_BYTES = str(2**30)
CASES = [("glibc", "glibc as it starts", {}),
         ("kept", "freed memory kept (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ 1 GiB)",
          {"MALLOC_MMAP_THRESHOLD_": KEPT_BYTES, "MALLOC_TRIM_THRESHOLD_": KEPT_BYTES})]


def measure(path: str, batch_size: int, steps: int) -> dict:
    """In this (fresh) process: the median step, and the median minor faults and kernel seconds a step."""
    from advisor.workload import load_workload, split_batch, train_step

    workload = load_workload(path)
    model = workload.build_model()
    model.train()
    optimizer = workload.build_optimizer(model.parameters())
    seconds, faults, kernel = [], [], []
    for _ in range(steps):
        inputs, target = split_batch(workload, workload.make_batch(batch_size))
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        train_step(workload, model, optimizer, inputs, target)
        seconds.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_SELF)
        faults.append(after.ru_minflt - before.ru_minflt)
        kernel.append(after.ru_stime - before.ru_stime)
    kept = slice(min(WARM_STEPS, steps // 2), None)
    return {"step_ms": statistics.median(seconds[kept]) * 1e3, "faults": statistics.median(faults[kept]),
            "kernel_ms": statistics.median(kernel[kept]) * 1e3}


def one_process(path: str, batch: int, steps: int, env: dict[str, str]) -> dict:
    """``measure`` in a fresh process with ``env`` added to this one's."""
    return fresh_child(__file__, path, batch, env, "--steps", str(steps))


def spread(name: str, path: str, batch: int, env: dict[str, str], processes: int, steps: int) -> dict:
    """Each case's processes for one workload, the cases interleaved process by process."""
    runs: dict[str, list[dict]] = {key: [] for key, _, _ in CASES}
    for _ in range(processes):
        for key, _, extra in CASES:
            runs[key].append(one_process(path, batch, steps, {**env, **extra}))
    return {"name": name, "batch": batch, "runs": runs}


def table(rows: list[dict]) -> str:
    """Per workload and case: the processes' median step, its range, (max - min) / median, faults and kernel ms."""
    lines = ["| workload | batch | case | processes | median step ms | min-max ms | (max - min) / median | "
             "page faults a step (median) | kernel ms a step (median) |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        for key, title, _ in CASES:
            ms = [p["step_ms"] for p in r["runs"][key]]
            mid = statistics.median(ms)
            lines.append(f"| {r['name']} | {r['batch']} | {title} | {len(ms)} | {mid:.1f} | "
                         f"{min(ms):.1f}-{max(ms):.1f} | {(max(ms) - min(ms)) / mid:.0%} | "
                         f"{statistics.median(p['faults'] for p in r['runs'][key]):,.0f} | "
                         f"{statistics.median(p['kernel_ms'] for p in r['runs'][key]):.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(JUDGED), help="comma-separated names of parallel_fraction.py's")
    parser.add_argument("--processes", type=int, default=6, help="fresh processes per workload and case")
    parser.add_argument("--steps", type=int, default=120, help="steps each process times")
    parser.add_argument("--one", nargs=2, metavar=("PATH", "BATCH"), help=argparse.SUPPRESS)  # the child
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.steps)))
        return 0
    rows = []
    for name, path, batch, env, _ in WORKLOADS:
        if name in args.only.split(","):
            rows.append(spread(name, path, batch, env, args.processes, args.steps))
            print(f"[{name}] done", file=sys.stderr, flush=True)
    print(f"The same step in fresh processes, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} logical CPUs, "
          f"{args.processes} processes a case, {args.steps} steps each (the first {WARM_STEPS} left out)\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
