"""The input pipeline's measurement on a busy machine: does a busy neighbour move the measured rate?

For each workload, ``advisor.probe.input_pipeline.measure_input_pipeline`` (what the probe's child runs, here in
this process) is timed on the idle machine, then with busy loops (``python -c "while True: pass"``) started
before it and stopped after, alternating idle and busy runs so that the machine's drift is paired out. Each
row prints, per worker count, the rate the product uses (``samples_per_second``: on a busy machine the wall
time less the batch makers' waits for a CPU, issue 8) and the plain wall-clock rate (what the measurement
used before), as ratios to the idle runs' median.

    python bench/input_under_load.py                      # jpeg_resnet's loader and resnet50's make_batch
    python bench/input_under_load.py --loops 1,3 --runs 3

It is a benchmark, not a test: it exits 0 after printing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

WORKLOADS = {"examples/jpeg_resnet.py": 64, "examples/resnet50.py": 64}


def _rates(path: str, batch_size: int, loops: int, budget_seconds: float) -> dict[int, tuple[float, float, str]]:
    """{workers: (rate used, wall-clock rate, clock)} with ``loops`` busy loops beside the measurement."""
    from advisor.probe.input_pipeline import measure_input_pipeline
    from advisor.workload.loader import load_workload

    workload = load_workload(Path(path))
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(loops)]
    try:
        time.sleep(0.3 if loops else 0.0)
        ip = measure_input_pipeline(workload, batch_size, budget_seconds)
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()
    out = {}
    for p in ip.points:
        unwaited = p.seconds - (p.wait_seconds or 0.0) if p.clock == "wall_less_wait" else p.seconds
        out[p.workers] = (p.samples_per_second, p.samples_per_second * unwaited / p.seconds, p.clock)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--loops", default="1,3", help="busy loops beside the busy runs, comma-separated")
    p.add_argument("--runs", type=int, default=3, help="idle/busy pairs per workload and loop count")
    p.add_argument("--budget-seconds", type=float, default=4.0)
    args = p.parse_args()
    import torch

    torch.set_num_threads(1)  # the training process's make_batch runs between steps, on its own
    print("| workload | busy loops | workers | idle rate (median) | rate used / idle | wall-clock rate / idle |"
          " clock |")
    print("|---|---|---|---|---|---|---|")
    for path in args.workloads.split(","):
        batch_size = WORKLOADS.get(path, 64)
        for loops in (int(n) for n in args.loops.split(",")):
            idle: dict[int, list[float]] = {}
            busy: dict[int, list[tuple[float, float, str]]] = {}
            for _ in range(args.runs):
                for workers, (rate, _, _) in _rates(path, batch_size, 0, args.budget_seconds).items():
                    idle.setdefault(workers, []).append(rate)
                for workers, row in _rates(path, batch_size, loops, args.budget_seconds).items():
                    busy.setdefault(workers, []).append(row)
            for workers in sorted(idle):
                base = statistics.median(idle[workers])
                used = ", ".join(f"{r / base:.2f}" for r, _, _ in busy.get(workers, []))
                wall = ", ".join(f"{w / base:.2f}" for _, w, _ in busy.get(workers, []))
                clocks = "/".join(sorted({c for _, _, c in busy.get(workers, [])}))
                print(f"| {Path(path).stem} | {loops} | {workers} | {base:,.0f} samples/s | {used} | {wall} |"
                      f" {clocks} |", flush=True)


if __name__ == "__main__":
    main()
