"""The input pipeline's measurement on a busy machine: does a busy neighbour move the measured rate?

For each workload, ``advisor.probe.input_pipeline.measure_input_pipeline`` (what the probe's child runs, here in
this process) is timed on the idle machine, then with busy loops (``python -c "while True: pass"``) started
before it and stopped after, alternating idle and busy runs so that the machine's drift is paired out. Each
row prints, per worker count, the rate the product uses (``samples_per_second``: on a busy machine the wall
time less the batch makers' waits for a CPU, issue 8) and the plain wall-clock rate (what the measurement
used before), as ratios to the idle runs' median. With ``--fresh`` each measurement runs in a new process, as
the probe's child does, so that ``make_batch``'s first call pays for first use as it does there.

    python bench/input_under_load.py                      # jpeg_resnet's loader and resnet50's make_batch
    python bench/input_under_load.py --loops 1,3 --runs 3
    python bench/input_under_load.py --workloads examples/resnet50.py --batch-size 256 --fresh  # README's job

It is a benchmark, not a test: it exits 0 after printing.
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

WORKLOADS = {"examples/jpeg_resnet.py": 64, "examples/resnet50.py": 64}


def _points(path: str, batch_size: int, budget_seconds: float, fresh: bool) -> list:
    """The input pipeline's points, measured in this process or (``fresh``) in a new one."""
    from advisor.schemas import InputPipeline

    if fresh:
        out = subprocess.run([sys.executable, __file__, "--measure", path, str(batch_size), str(budget_seconds)],
                             check=True, capture_output=True, text=True).stdout
        return InputPipeline.model_validate_json(out).points
    from advisor.probe.input_pipeline import measure_input_pipeline
    from advisor.workload.loader import load_workload

    return measure_input_pipeline(load_workload(Path(path)), batch_size, budget_seconds).points


def _rates(path: str, batch_size: int, loops: int, budget_seconds: float,
           fresh: bool = False) -> dict[int, tuple[float, float, str, int]]:
    """{workers: (rate used, wall-clock rate, clock, batches timed)} with ``loops`` busy loops beside it."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(loops)]
    try:
        time.sleep(0.3 if loops else 0.0)
        points = _points(path, batch_size, budget_seconds, fresh)
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()
    out = {}
    for p in points:
        unwaited = p.seconds - (p.wait_seconds or 0.0) if p.clock == "wall_less_wait" else p.seconds
        out[p.workers] = (p.samples_per_second, p.samples_per_second * unwaited / p.seconds, p.clock, p.batches_timed)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--loops", default="1,3", help="busy loops beside the busy runs, comma-separated")
    p.add_argument("--runs", type=int, default=3, help="idle/busy pairs per workload and loop count")
    p.add_argument("--budget-seconds", type=float, default=4.0)
    p.add_argument("--batch-size", type=int, default=None, help="every workload's batch size (default: 64)")
    p.add_argument("--fresh", action="store_true", help="each measurement in a new process, as the probe's child")
    p.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)  # PATH BATCH BUDGET: one --fresh measurement
    args = p.parse_args()
    import torch

    torch.set_num_threads(1)  # the training process's make_batch runs between steps, on its own
    if args.measure:
        from advisor.probe.input_pipeline import measure_input_pipeline
        from advisor.workload.loader import load_workload

        path, batch, budget = args.measure
        print(json.dumps(measure_input_pipeline(load_workload(Path(path)), int(batch), float(budget))
                         .model_dump(mode="json")))
        return
    print("| workload | batch | busy loops | workers | idle rate (median) | batches timed (idle) | rate used / idle |"
          " wall-clock rate / idle | batches timed (busy) | clock |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path in args.workloads.split(","):
        batch_size = args.batch_size or WORKLOADS.get(path, 64)
        for loops in (int(n) for n in args.loops.split(",")):
            idle: dict[int, list[tuple[float, int]]] = {}
            busy: dict[int, list[tuple[float, float, str, int]]] = {}
            for _ in range(args.runs):
                for workers, (rate, _, _, n) in _rates(path, batch_size, 0, args.budget_seconds, args.fresh).items():
                    idle.setdefault(workers, []).append((rate, n))
                for workers, row in _rates(path, batch_size, loops, args.budget_seconds, args.fresh).items():
                    busy.setdefault(workers, []).append(row)
            for workers in sorted(idle):
                base = statistics.median(r for r, _ in idle[workers])
                idle_timed = ", ".join(str(n) for _, n in idle[workers])
                rows = busy.get(workers, [])
                used = ", ".join(f"{r / base:.2f}" for r, *_ in rows)
                wall = ", ".join(f"{w / base:.2f}" for _, w, *_ in rows)
                timed = ", ".join(str(n) for *_, n in rows)
                clocks = "/".join(sorted({c for _, _, c, _ in rows}))
                print(f"| {Path(path).stem} | {batch_size} | {loops} | {workers} | {base:,.0f} samples/s |"
                      f" {idle_timed} | {used} | {wall} | {timed} | {clocks} |", flush=True)


if __name__ == "__main__":
    main()
