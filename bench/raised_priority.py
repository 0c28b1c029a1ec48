"""A training step on every thread beside a busy loop, with the probe's priority raised (``advisor.probe.priority``)
and without, against the same step on the idle machine.

Each workload runs in a fresh process that times its step on all threads, in interleaved rounds (medians):
idle; beside ``python -c "while True: pass"`` at the priority it was started with (what a probe would time if it
ignored the load); beside it with this process's threads and autogroup at nice -20, the loop started in this
session (the bench's own case) and in a session of its own (``setsid``: a program started from another terminal,
in another autogroup); and, in that last case, with only the threads raised, not the autogroup. Needs the
privilege to raise a priority (root or CAP_SYS_NICE); without it the raised columns say so.

    .venv/bin/python bench/raised_priority.py                   # the five workloads bench/accuracy_cpu.py judges
    .venv/bin/python bench/raised_priority.py --only tabular_mlp,wide_mlp --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from parallel_fraction import fresh_rows  # noqa: E402 - bench/ is this script's folder

JUDGED = ("tabular_mlp", "small_cnn", "tiny_transformer_lm", "wide_mlp", "conv1d_audio")
# column key, its header, (busy loop running, loop in its own session, priority raised, autogroup raised too)
CASES = [
    ("idle", "idle", (False, False, False, False)),
    ("busy", "beside the loop, as started", (True, False, False, False)),
    ("raised", "raised, the loop in this session", (True, False, True, True)),
    ("raised_other_session", "raised, the loop in another session", (True, True, True, True)),
    ("threads_only", "only the threads raised, the loop in another session", (True, True, True, False)),
]


def measure(path: str, batch_size: int, rounds: int) -> dict:
    """In this (fresh) process: the median step on all threads in each case of ``CASES``, in ms."""
    from advisor.probe.priority import ProbePriority
    from advisor.workload import load_workload, split_batch, train_step

    workload = load_workload(path)
    model = workload.build_model()
    model.train()
    optimizer = workload.build_optimizer(model.parameters())

    def steps(n: int) -> float:
        times = []
        for _ in range(n):
            inputs, target = split_batch(workload, workload.make_batch(batch_size))
            start = time.perf_counter()
            train_step(workload, model, optimizer, inputs, target)
            times.append(time.perf_counter() - start)
        return statistics.median(times[1:])

    def case(n: int, loop: bool, own_session: bool, raised: bool, autogroup: bool) -> float | None:
        proc = subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=own_session) \
            if loop else None
        priority = ProbePriority(raised, **({} if autogroup else {"autogroup_path": "/nonexistent"}))
        try:
            if proc is not None:
                time.sleep(0.5)  # the loop running before the first timed step, as a probe finds it
            if raised and not priority.raise_():
                return None  # no privilege
            return steps(n)
        finally:
            priority.restore()
            if proc is not None:
                proc.kill()
                proc.wait()

    n = max(4, min(40, int(1.5 / max(steps(3), 1e-4))))
    times: dict[str, list[float]] = {key: [] for key, _, _ in CASES}
    for _ in range(rounds):
        for key, _, how in CASES:
            if (t := case(n, *how)) is not None:
                times[key].append(t)
    return {key: statistics.median(v) * 1e3 if v else None for key, v in times.items()}


def table(rows: list[dict]) -> str:
    """Median ms a step per case, and each loaded case against idle."""
    head = ["workload", "batch"] + [f"{title} ms" for _, title, _ in CASES] + \
        [f"{title} / idle" for key, title, _ in CASES if key != "idle"]
    lines = ["| " + " | ".join(head) + " |", "|---|---:|" + "---:|" * (len(head) - 2)]
    for r in rows:
        cells = [r["name"], str(r["batch"])]
        cells += ["-" if r[key] is None else f"{r[key]:.1f}" for key, _, _ in CASES]
        cells += ["-" if r[key] is None else f"{r[key] / r['idle']:.2f}" for key, _, _ in CASES if key != "idle"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(JUDGED), help="comma-separated names of parallel_fraction.py's")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one", nargs=2, metavar=("PATH", "BATCH"), help=argparse.SUPPRESS)  # the child
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.rounds)))
        return 0
    rows = []
    for row in fresh_rows(__file__, args.only, args.rounds):
        rows.append(row)
        print(f"[{row['name']}] done", file=sys.stderr, flush=True)
    print(f"Two threads beside a busy loop, priority raised or not, {time.strftime('%Y-%m-%d %H:%M')}, "
          f"{os.cpu_count()} logical CPUs, {args.rounds} rounds\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
