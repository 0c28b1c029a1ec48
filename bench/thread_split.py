"""What a second thread is worth for a training step's fixed part and for its per-sample part, on this CPU.

A busy probe times the step on one thread at several batch sizes (the ladder) and scales it to the idle
machine's threads (``advisor.predictor.cpu_scaling.at_device_threads``). This bench asks whether that scaling
should treat the step as two parts: ``t(B) = a + b B``, the fixed part ``a`` (the optimizer over the
parameters, the weights' reads, the launches: the same at any batch) and the per-sample part ``b B`` (work a
thread pool splits by rows). Each workload, in a fresh process on an idle machine: steps at 1 and 2 threads,
each at the batch sizes B, B/2 and B/4, in interleaved rounds (medians). A line through each thread count's
points gives ``a`` and ``b`` at 1 and at 2 threads. Then, on the workloads marked ``fit`` only, two Amdahl
factors by least squares on the relative error of every two-thread point::

    t2(B) = a1 x (1 - p_fixed / 2) + b1 B x (1 - p_sample / 2)

and the table prints, for every workload (the ``held out`` ones judge it), the error of the two-thread step at
its batch size B from the constant ``cpu_scaling.BUSY_PARALLEL_FRACTION`` and from the two fitted fractions,
each applied to the one-thread ladder as a busy probe measures it.

    .venv/bin/python bench/thread_split.py              # ~5 min on 2 cores; run it on an idle machine
    .venv/bin/python bench/thread_split.py --only tabular_mlp,wide_mlp
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

# bench/ is on sys.path when a script in it runs
from parallel_fraction import busy_scaled_error_pct, fit_line, fresh_rows

REPO = Path(__file__).resolve().parent.parent


def batch_sizes(batch_size: int) -> list[int]:
    """B, B/2 and B/4, at least 1 and without repeats, largest first."""
    return sorted({max(1, batch_size // d) for d in (1, 2, 4)}, reverse=True)


def fit_fractions(rows: list[dict]) -> tuple[float, float]:
    """(p_fixed, p_sample) minimising the relative squared error of every two-thread point of ``rows``.

    Each point gives ``t2 / t2 = (a1 / t2) F_f + (b1 B / t2) F_s`` with ``F = 1 - p / 2``: a linear least
    squares in ``F_f`` and ``F_s`` (the 2 x 2 normal equations), each clipped to an Amdahl factor's range."""
    sxx = sxy = syy = sx1 = sy1 = 0.0
    for r in rows:
        a1, b1 = r["a1_ms"], r["b1_ms"]
        for batch, t2 in r["t2_ms"].items():
            x, y = a1 / t2, b1 * int(batch) / t2
            sxx, sxy, syy, sx1, sy1 = sxx + x * x, sxy + x * y, syy + y * y, sx1 + x, sy1 + y
    det = sxx * syy - sxy * sxy
    if abs(det) < 1e-12:
        raise ValueError("the fit rows cannot separate the fixed part from the per-sample part")
    f_fixed = (sx1 * syy - sy1 * sxy) / det
    f_sample = (sxx * sy1 - sxy * sx1) / det

    def as_p(f: float) -> float:
        return min(1.0, max(0.0, 2 * (1 - f)))

    return as_p(f_fixed), as_p(f_sample)


def split_two_thread_ms(a1_ms: float, b1_ms: float, batch_size: int, p_fixed: float, p_sample: float) -> float:
    """The two-thread step from the one-thread line, each part by its own Amdahl factor."""
    return max(a1_ms, 0.0) * (1 - p_fixed / 2) + (b1_ms * batch_size + min(a1_ms, 0.0)) * (1 - p_sample / 2)


def measure(path: str, batch_size: int, rounds: int) -> dict:
    """In this (fresh) process: median step ms at 1 and 2 threads for each of ``batch_sizes(batch_size)``."""
    import torch

    from advisor.workload import load_workload, split_batch, train_step

    workload = load_workload(path)
    model = workload.build_model()
    model.train()
    optimizer = workload.build_optimizer(model.parameters())
    sizes = batch_sizes(batch_size)
    batches = {b: split_batch(workload, workload.make_batch(b)) for b in sizes}

    def steps(n: int, threads: int, b: int) -> float:
        torch.set_num_threads(threads)
        inputs, target = batches[b]
        times = []
        for _ in range(n + 1):
            start = time.perf_counter()
            train_step(workload, model, optimizer, inputs, target)
            times.append(time.perf_counter() - start)
        return statistics.median(times[1:])

    first = steps(2, 2, sizes[0])
    n = max(3, min(30, int(0.6 / max(first, 1e-4))))
    cells: dict[tuple[int, int], list[float]] = {(t, b): [] for t in (1, 2) for b in sizes}
    for _ in range(rounds):
        for b in sizes:
            for t in (2, 1):
                cells[(t, b)].append(steps(n, t, b))
    med = {k: statistics.median(v) * 1e3 for k, v in cells.items()}
    a1, b1 = fit_line([(b, med[(1, b)]) for b in sizes])
    a2, b2 = fit_line([(b, med[(2, b)]) for b in sizes])
    return {"sizes": sizes, "t1_ms": {str(b): med[(1, b)] for b in sizes},
            "t2_ms": {str(b): med[(2, b)] for b in sizes}, "a1_ms": a1, "b1_ms": b1, "a2_ms": a2, "b2_ms": b2}


def table(rows: list[dict], p_fixed: float, p_sample: float) -> str:
    """Per workload: the line at each thread count and the two scalings' error of t(2) at the batch size B."""
    out = ["| workload | role | B | 1 thread: fixed ms + per-sample ms at B | 2 threads: fixed + per-sample | "
           "fixed share | measured p at B | constant p: error of t(2) | two fractions: error of t(2) |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        b = r["batch"]
        t1, t2 = r["t1_ms"][str(b)], r["t2_ms"][str(b)]
        split = split_two_thread_ms(r["a1_ms"], r["b1_ms"], b, p_fixed, p_sample)
        out.append(f"| {r['name']} | {r['role']} | {b} | {r['a1_ms']:.1f} + {r['b1_ms'] * b:.1f} | "
                   f"{r['a2_ms']:.1f} + {r['b2_ms'] * b:.1f} | {r['a1_ms'] / t1:.2f} | {2 * (1 - t2 / t1):.2f} | "
                   f"{busy_scaled_error_pct(t1, t2):+.1f}% | {100 * (split / t2 - 1):+.1f}% |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated names")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json-out", help="also write the rows here")
    parser.add_argument("--one", nargs=2, metavar=("PATH", "BATCH"), help=argparse.SUPPRESS)  # the child
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.rounds)))
        return 0
    rows = []
    for row in fresh_rows(__file__, args.only, args.rounds):
        rows.append(row)
        print(f"[{row['name']}] 1 thread {row['a1_ms']:.1f} + {row['b1_ms']:.3f} B ms, "
              f"2 threads {row['a2_ms']:.1f} + {row['b2_ms']:.3f} B ms", file=sys.stderr, flush=True)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=1))
    fit_rows = [r for r in rows if r["role"] == "fit"]
    p_fixed, p_sample = fit_fractions(fit_rows)
    print(f"Fixed and per-sample parallel fractions on this CPU, {time.strftime('%Y-%m-%d %H:%M')}, "
          f"{os.cpu_count()} logical CPUs; fitted on {len(fit_rows)} workloads: p_fixed {p_fixed:.2f}, "
          f"p_sample {p_sample:.2f}\n")
    print(table(rows, p_fixed, p_sample))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
