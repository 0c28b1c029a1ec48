"""Input-pipeline accuracy benchmark: is a CPU job that feeds itself through a real DataLoader predicted well?

On a CPU the machine is both the loader (decode, augment, collate in worker processes) and the trainer, and the
two compete for the same cores. For each workload with a ``make_dataloader``:

1. ``advisor predict WORKLOAD --device cpu --json`` (the product's own path: the probe in its child process,
   the loader timed at 1, 2 and N workers, the predictor's CPU formula), timed;
2. the real job in a fresh process: build the model and optimizer, then for each epoch a new
   ``make_dataloader(batch_size, NUM_WORKERS)`` (as a training script makes one) iterated until ``dataset_size``
   samples were trained on, each batch moved to the device and stepped (DESIGN.md's step), wall-clock from the
   model build to the last step;
3. predicted vs actual, the error, whether the 80% interval held, the bound and the per-step parts.

    python bench/accuracy_input.py                         # examples/jpeg_resnet.py at its defaults
    python bench/accuracy_input.py --runs 3 --epochs 2
    python bench/accuracy_input.py --workloads path/to/other.py --dataset-size 2048

It is a benchmark, not a test: it exits 0 after printing (unless it crashes). The pass mark (issue 13, bench/README.md
"Input pipeline") is every CPU job within 15%.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

WORKLOADS = ("examples/jpeg_resnet.py",)


def run_job(path: str, dataset_size: int, epochs: int, batch_size: int, workers: int) -> dict:
    """The real job, in this (fresh) process: ``epochs`` passes of ``dataset_size`` samples from the loader."""
    import torch

    from advisor.workload import load_workload, move_to, split_batch, train_step

    workload = load_workload(path)  # importing the file is not part of the job
    t0 = time.perf_counter()
    model = workload.build_model()
    model.train()
    optimizer = workload.build_optimizer(model.parameters())
    steps = 0
    step_seconds: list[float] = []
    for _ in range(epochs):
        seen = 0
        while seen < dataset_size:  # a loader shorter than the dataset is started again, as an epoch would be
            loader = workload.make_dataloader(batch_size, workers)
            for batch in loader:
                s0 = time.perf_counter()
                inputs, target = split_batch(workload, batch)
                inputs, target = move_to(inputs, "cpu"), move_to(target, "cpu")
                train_step(workload, model, optimizer, inputs, target)
                step_seconds.append(time.perf_counter() - s0)
                seen += len(target) if target is not None else batch_size
                steps += 1
                if seen >= dataset_size:
                    break
            del loader
    wall = time.perf_counter() - t0
    return {"wall_seconds": wall, "steps": steps, "threads": torch.get_num_threads(), "workers": workers,
            "median_train_step_seconds": statistics.median(step_seconds) if step_seconds else 0.0,
            "per_step_seconds": wall / max(steps, 1)}


def _predict(path: Path, dataset_size: int, epochs: int, batch_size: int, probe_seconds: float | None) -> dict:
    cmd = [str(Path(sys.executable).with_name("advisor")), "predict", str(path), "--device", "cpu", "--dataset-size",
           str(dataset_size), "--epochs", str(epochs), "--batch-size", str(batch_size), "--json", "--no-save"]
    if probe_seconds:
        cmd += ["--probe-seconds", str(probe_seconds)]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=str(REPO))
    if out.returncode != 0:
        raise SystemExit(f"advisor predict failed ({out.returncode}):\n{out.stderr[-2000:]}")
    data = json.loads(out.stdout)
    data["_wall_seconds"] = time.perf_counter() - t0
    return data


def _job(path: Path, dataset_size: int, epochs: int, batch_size: int, workers: int) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run-job", str(path), "--dataset-size", str(dataset_size),
           "--epochs", str(epochs), "--batch-size", str(batch_size), "--workers", str(workers)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=str(REPO))
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_one(spec: str, args) -> dict:
    from advisor.workload import load_workload

    path = (REPO / spec).resolve() if not Path(spec).is_absolute() else Path(spec)
    workload = load_workload(path)
    batch_size = args.batch_size or workload.batch_size
    dataset_size = args.dataset_size or workload.dataset_size
    epochs = args.epochs or workload.epochs or 1
    # The workers the predictor assumes on this machine (advisor.predictor.input_bound.cpu_workers).
    from advisor.predictor.input_bound import cpu_workers
    from advisor.probe.input_pipeline import usable_cores

    workers = cpu_workers(usable_cores(), workload.num_workers)
    est = _predict(path, dataset_size, epochs, batch_size, args.probe_seconds)
    actual = _job(path, dataset_size, epochs, batch_size, workers)
    real = actual["wall_seconds"]
    return {
        "workload": path.stem, "dataset_size": dataset_size, "epochs": epochs, "batch_size": batch_size,
        "workers": workers, "predicted_seconds": est["seconds"], "low": est["low"], "high": est["high"],
        "actual_seconds": real, "error_pct": 100 * (est["seconds"] - real) / real,
        "interval_held": est["low"] <= real <= est["high"], "bound": est.get("bound"),
        "input_ms": 1000 * (est.get("input_seconds") or 0.0), "step_ms": 1000 * est["step_seconds"],
        "actual_step_ms": 1000 * actual["per_step_seconds"], "predict_wall_seconds": est["_wall_seconds"],
        "notes": est.get("notes", []),
    }


def render(rows: list[dict]) -> str:
    head = ("| workload | N x E, batch | workers | predicted | 80% interval | actual | error | held | bound | "
            "input ms/step | step ms pred / real | predict took |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        lines.append(
            f"| {r['workload']} | {r['dataset_size']} x {r['epochs']}, {r['batch_size']} | {r['workers']} | "
            f"{r['predicted_seconds']:.1f} s | {r['low']:.1f}-{r['high']:.1f} s | {r['actual_seconds']:.1f} s | "
            f"{r['error_pct']:+.1f}% | {'yes' if r['interval_held'] else 'no'} | {r['bound']} | "
            f"{r['input_ms']:.1f} | {r['step_ms']:.1f} / {r['actual_step_ms']:.1f} | "
            f"{r['predict_wall_seconds']:.0f} s |")
    errs = [abs(r["error_pct"]) for r in rows]
    if errs:
        lines.append("")
        lines.append(f"median |error| {statistics.median(errs):.1f}%, worst {max(errs):.1f}%, "
                     f"intervals held {sum(r['interval_held'] for r in rows)}/{len(rows)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--dataset-size", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--probe-seconds", type=float)
    p.add_argument("--runs", type=int, default=1, help="repeat each workload (predict + job) this many times")
    p.add_argument("--json-out")
    p.add_argument("--run-job", help=argparse.SUPPRESS)
    p.add_argument("--workers", type=int, default=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.run_job:
        print(json.dumps(run_job(args.run_job, args.dataset_size, args.epochs, args.batch_size, args.workers)))
        return 0
    rows = []
    for spec in [s for s in args.workloads.split(",") if s]:
        for _ in range(args.runs):
            rows.append(bench_one(spec, args))
            print(render(rows[-1:]), flush=True)
    print()
    print(render(rows))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
