"""How much a second thread speeds up a training step on this CPU, against the step's memory-bound share.

On a busy machine the probe times the step on the one free core (``advisor.probe.contention``) and scales it
to the idle machine's threads with a parallel fraction ``p`` it cannot measure there (Amdahl:
``t(T) = t1 ((1 - p) + p / T)``). This bench measures ``p`` for many workloads on an idle machine (each in a
fresh process: the training step at 1 and at 2 threads, interleaved rounds, medians) beside what the CPU
roofline (``advisor.predictor.cpu_roofline``) says of the step: the share of its one-thread time in
memory-bound operators, from the model's analysis and this CPU's measured op rates. It fits
``p = a + b x share`` by least squares on the workloads marked ``fit`` and prints the line's prediction for the
ones marked ``held out`` (the workloads ``bench/accuracy_cpu.py`` judges the busy-machine estimate with and
that no constant was taken from). A question asked of the data, not a shipped model: on 2026-11-30 the line
was tried as the busy-machine assumption and made ``bench/accuracy_cpu.py`` worse under load than the constant
``cpu_scaling.BUSY_PARALLEL_FRACTION`` (bench/README.md, "CPU accuracy under load").

    .venv/bin/python bench/parallel_fraction.py          # ~10 min on 2 cores; run it on an idle machine
    .venv/bin/python bench/parallel_fraction.py --only tabular_mlp,wide_mlp
    .venv/bin/python bench/parallel_fraction.py --beside-busy --only tabular_mlp,small_cnn,wide_mlp

``--beside-busy`` also times, in each round, one thread beside a busy loop (``python -c "while True: pass"``)
on the thread's own CPU-time clock, as a busy probe times it (``advisor.probe.contention``), and prints what the
busy probe's scaling (that one-thread step x ``amdahl_fraction(BUSY_PARALLEL_FRACTION, 2)``) gives against the
idle machine's two-thread step: the error a busy probe starts from on this VM before any other noise. It
separates the two ways a busy neighbour can mislead the probe: by slowing the one thread it times (the
"beside / idle" column) and by the second thread being worth less on this VM than assumed (the measured ``p``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# name, file, batch size, environment, role. Small batches keep the big models' steps to a few seconds.
WORKLOADS = [
    ("tabular_mlp", "examples/tabular_mlp.py", 512, {}, "fit"),
    ("small_cnn", "examples/small_cnn.py", 128, {}, "fit"),
    ("tiny_transformer_lm", "examples/tiny_transformer_lm.py", 16, {}, "fit"),
    ("wide_features", "examples/wide_features.py", 256, {}, "fit"),
    ("resnet18", "bench/workloads/resnet.py", 8, {"ADVISOR_RESNET_DEPTH": "18"}, "fit"),
    ("vit_small", "bench/workloads/vit.py", 4, {"ADVISOR_VIT_MODEL": "vit_small_patch16_224"}, "fit"),
    ("mpt_125m_seq128", "bench/workloads/mpt.py", 4, {"ADVISOR_MPT_SEQ_LEN": "128"}, "fit"),
    ("bert_base", "examples/bert_squad.py", 2, {}, "fit"),
    ("wide_mlp", "bench/workloads/wide_mlp.py", 100, {}, "held out"),
    ("conv1d_audio", "bench/workloads/conv1d_audio.py", 64, {}, "held out"),
]


def busy_scaled_error_pct(busy_one_thread_ms: float, idle_two_threads_ms: float) -> float:
    """How far a busy probe's two-thread step (its one thread beside the busy loop, scaled by the assumed
    fraction) lands from the idle machine's two-thread step, in percent (> 0: predicted slow)."""
    from advisor.predictor.cpu_scaling import BUSY_PARALLEL_FRACTION, amdahl_fraction

    scaled = busy_one_thread_ms * amdahl_fraction(BUSY_PARALLEL_FRACTION, 2)
    return 100.0 * (scaled / idle_two_threads_ms - 1.0)


def measure(path: str, batch_size: int, rounds: int, beside_busy: bool = False) -> dict:
    """In this (fresh) process: p from 1 vs 2 threads, and the roofline's memory-bound share at the batch;
    with ``beside_busy``, one thread's step beside a busy loop on its CPU-time clock too."""
    import torch

    from advisor.predictor.cpu_roofline import step_seconds
    from advisor.probe.analysis import analyze
    from advisor.probe.cpu_peak import measure_cpu_peak
    from advisor.workload import load_workload, split_batch, train_step

    workload = load_workload(path)
    model = workload.build_model()
    model.train()
    optimizer = workload.build_optimizer(model.parameters())

    def steps(n: int, threads: int, clock=time.perf_counter) -> float:
        torch.set_num_threads(threads)
        times = []
        for _ in range(n):
            inputs, target = split_batch(workload, workload.make_batch(batch_size))
            start = clock()
            train_step(workload, model, optimizer, inputs, target)
            times.append(clock() - start)
        return statistics.median(times[1:])

    def beside_busy_loop(n: int) -> float:
        loop = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(0.5)  # the loop running before the first timed step, as a busy probe finds it
            return steps(n, 1, clock=time.thread_time)
        finally:
            loop.kill()
            loop.wait()

    first = steps(3, 2)
    n = max(4, min(40, int(1.5 / max(first, 1e-4))))
    one, two, busy = [], [], []
    for _ in range(rounds):
        two.append(steps(n, 2))
        one.append(steps(n, 1))
        if beside_busy:
            busy.append(beside_busy_loop(n))
    t1, t2 = statistics.median(one), statistics.median(two)
    torch.set_num_threads(1)
    step = step_seconds(analyze(workload), measure_cpu_peak(torch), batch_size, 1)
    share = step.memory_bound_seconds / (step.compute_bound_seconds + step.memory_bound_seconds)
    row = {"t1_ms": t1 * 1e3, "t2_ms": t2 * 1e3, "p": 2 * (1 - t2 / t1), "share": share}
    if busy:
        row["busy_t1_ms"] = statistics.median(busy) * 1e3
    return row


def busy_table(rows: list[dict]) -> str:
    """One thread beside a busy loop (its CPU-time clock) against the idle machine, and the busy probe's scaled
    two-thread step against the idle two-thread step."""
    lines = ["", "| workload | role | idle: 1 thread ms | beside a busy loop: 1 thread, CPU ms | beside / idle | "
             "idle: 2 threads ms | measured p | busy probe's scaling: error of t(2) |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['role']} | {r['t1_ms']:.1f} | {r['busy_t1_ms']:.1f} | "
                     f"{r['busy_t1_ms'] / r['t1_ms']:.3f} | {r['t2_ms']:.1f} | {r['p']:.2f} | "
                     f"{busy_scaled_error_pct(r['busy_t1_ms'], r['t2_ms']):+.1f}% |")
    return "\n".join(lines)


def fresh_rows(script: str, only: str | None, rounds: int, *extra: str) -> Iterator[dict]:
    """Each chosen workload of ``WORKLOADS`` (``only``: comma-separated names, None for all) measured by
    ``script --one PATH BATCH --rounds N [extra]`` in a fresh process: its name, batch and role, and what the child
    printed (one JSON object on its last line). Shared by this bench, thread_split.py and raised_priority.py."""
    for name, path, batch, env, role in WORKLOADS:
        if only and name not in only.split(","):
            continue
        yield {"name": name, "batch": batch, "role": role,
               **fresh_child(script, path, batch, env, "--rounds", str(rounds), *extra)}


def fresh_child(script: str, path: str, batch: int, env: dict[str, str], *args: str) -> dict:
    """``script --one PATH BATCH [args]`` in a fresh process with ``env`` added to this one's: the JSON object on
    the last line it printed. Shared by ``fresh_rows`` and process_spread.py."""
    out = subprocess.run([sys.executable, script, "--one", path, str(batch), *args], cwd=REPO,
                         env={**os.environ, **env}, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fit_line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares ``y = a + b x`` (here p against the share; ``bench/thread_split.py``: step ms against the
    batch size). A single distinct x gives ``a`` = the mean and ``b`` = 0."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return my, 0.0
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    return my - b * mx, b


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated names")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--beside-busy", action="store_true",
                        help="also time one thread beside a busy loop, as a busy probe does")
    parser.add_argument("--one", nargs=2, metavar=("PATH", "BATCH"), help=argparse.SUPPRESS)  # the child
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.rounds, args.beside_busy)))
        return 0
    rows = []
    for row in fresh_rows(__file__, args.only, args.rounds, *(["--beside-busy"] if args.beside_busy else [])):
        rows.append(row)
        print(f"[{row['name']}] p {row['p']:.2f}, memory-bound share {row['share']:.2f}", file=sys.stderr)
    fitted = [(r["share"], r["p"]) for r in rows if r["role"] == "fit"]
    a, b = fit_line(fitted) if len(fitted) >= 2 else (float("nan"), float("nan"))
    print(f"Parallel fraction on this CPU, {time.strftime('%Y-%m-%d %H:%M')}, "
          f"{os.cpu_count()} logical CPUs\n")
    print("| workload | batch | role | 1 thread ms | 2 threads ms | measured p | memory-bound share | line's p |"
          " constant 0.8: error of t(2) | line: error of t(2) |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        line_p = min(0.99, max(0.0, a + b * r["share"]))
        real = 1 - r["p"] / 2  # t(2) / t(1)

        def err(p: float, real: float = real) -> str:
            return f"{((1 - p / 2) / real - 1) * 100:+.1f}%"

        fitted_line = a == a  # not NaN: two or more fit rows
        print(f"| {r['name']} | {r['batch']} | {r['role']} | {r['t1_ms']:.1f} | {r['t2_ms']:.1f} | {r['p']:.2f} | "
              f"{r['share']:.2f} | {f'{line_p:.2f}' if fitted_line else '-'} | {err(0.8)} | "
              f"{err(line_p) if fitted_line else '-'} |")
    if args.beside_busy:
        print(busy_table(rows))
    if len(fitted) < 2:
        return 0
    resid_line = [p - (a + b * s) for s, p in fitted]
    resid_const = [p - 0.8 for _, p in fitted]
    print(f"\nline on the fit rows: p = {a:.3f} + ({b:.3f}) x share; residual sd {statistics.pstdev(resid_line):.3f} "
          f"(a constant 0.8: rms {statistics.fmean([x * x for x in resid_const]) ** 0.5:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
