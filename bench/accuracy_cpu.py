"""CPU accuracy benchmark: does a short probe predict the whole training job on this machine's CPU?

For each example workload:

1. probe it on the CPU with ``advisor.probe.run_profile`` (the probe's wall time is recorded; the target is
   under 15 s per workload);
2. pick a dataset size whose *predicted* job takes about ``--target-seconds`` (never a multiple of the batch
   size, so the epoch's last batch is smaller), and predict it with ``advisor.predictor.measured``;
3. run the real job in a fresh Python process: load the workload, build the model and optimizer, and loop
   epochs x steps of ``make_batch`` + forward + loss + backward + optimizer step (DESIGN.md's step; the last
   batch of each epoch smaller), timed wall-clock from the start of the job function, model build included;
4. print predicted vs actual, the error and whether the 80% interval held.

    python bench/accuracy_cpu.py                  # the three CPU examples, ~50 s jobs
    python bench/accuracy_cpu.py --quick          # ~15 s jobs
    python bench/accuracy_cpu.py --examples tabular_mlp,small_cnn --json-out results.json
    python bench/accuracy_cpu.py --examples path/to/other_model.py   # a workload the project has not seen

``--json-out`` writes each row with the probe's profile in it; ``bench/replay_cpu.py`` predicts those jobs again
from those very probes (another assumed parallel fraction, or the code of a later commit).

It is a benchmark, not a test: it always exits 0 after printing (unless it crashes). The pass mark
(bench/README.md, "CPU accuracy") is every error within 10%.

``--remember`` (with ``--background``) first probes each workload on the idle machine into a fresh history, as
a user's earlier ``recommend`` of the same file would have left it, so that the probe beside the load scales its
one-thread steps with the thread scaling measured then (``advisor.history.remembered``) instead of an assumed one.

``--cpu-clock`` is a diagnostic for a shared machine, where other processes make wall times swing by
tens of percent: probe and job run on one thread and every clock (the probe's and the job's) reads this
thread's CPU time instead of the wall clock, so the comparison checks the probe-to-job model (warm-up,
start-up, last batch, allocator state) and not how busy the machine was. The probe then runs the probe's
own code (``advisor.workload.check_workload`` then ``advisor.probe.measure.DeviceProbe``, what the probe's
child process runs) in a fresh process of its own, with its clock replaced.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

EXAMPLES = ("tabular_mlp", "small_cnn", "tiny_transformer_lm")
# What every disturbed-probe note says (advisor.probe.device_notes.busy_notes: "... during 2 of 4 timed windows"),
# whatever it saw: others' CPU time, steal, or others busy only as a window began.
DISTURBED_NOTE = " timed windows"
_WALL = time.perf_counter  # the wall clock, also under --cpu-clock (the probe's wall time is reported as such)


# ------------------------------------------------------------------------------------- the real job


def run_job(path: str, dataset_size: int, epochs: int, batch_size: int, threads: int | None,
            flush_denormal: bool = False) -> dict:
    """The real training job, in this (fresh) process. Returns wall time and per-step diagnostics.
    ``flush_denormal``: with ``torch.set_flush_denormal(True)`` (bench/subnormal_drift.py's comparison)."""
    import torch

    from advisor.workload import load_workload, move_to, split_batch, train_step

    if threads:
        torch.set_num_threads(threads)
    torch.set_flush_denormal(flush_denormal)
    workload = load_workload(path)  # importing the file is not part of the job
    t0 = time.perf_counter()
    # ---- the job function: model build, optimizer, epochs x steps ----
    model = workload.build_model()
    model.train()
    optimizer = workload.build_optimizer(model.parameters())
    t_built = time.perf_counter()
    steps = math.ceil(dataset_size / batch_size)
    last = dataset_size - (steps - 1) * batch_size
    step_times: list[float] = []
    batch_times: list[float] = []
    epoch_ends: list[float] = []
    for _ in range(epochs):
        for i in range(steps):
            b = batch_size if i < steps - 1 else last
            s0 = time.perf_counter()
            inputs, target = split_batch(workload, workload.make_batch(b))
            inputs, target = move_to(inputs, "cpu"), move_to(target, "cpu")
            s1 = time.perf_counter()
            train_step(workload, model, optimizer, inputs, target)
            s2 = time.perf_counter()
            batch_times.append(s1 - s0)
            step_times.append(s2 - s0)
        epoch_ends.append(time.perf_counter() - t0)
    wall = time.perf_counter() - t0
    full = [t for j, t in enumerate(step_times) if (j % steps) != steps - 1 or last == batch_size]
    steady = full[min(10, len(full) // 10):]
    windows = _window_medians(steady, WINDOW_SECONDS)
    return {
        "window_step_ms": [round(1000 * w, 3) for w in windows],
        "window_cv_pct": 100 * statistics.pstdev(windows) / statistics.fmean(windows) if len(windows) > 1 else 0.0,
        "wall_seconds": wall,
        "build_seconds": t_built - t0,
        "first_step_seconds": step_times[0] if step_times else 0.0,
        "mean_step_seconds": statistics.fmean(steady) if steady else 0.0,
        "median_step_seconds": statistics.median(steady) if steady else 0.0,
        "mean_batch_seconds": statistics.fmean(batch_times) if batch_times else 0.0,
        "sum_steps_seconds": sum(step_times),
        "epoch_end_seconds": epoch_ends,
        "threads": torch.get_num_threads(),
        "steps": len(step_times),
        "last_batch_size": last,
    }


WINDOW_SECONDS = 5.0  # the job's own drift: the median step of each such stretch of its run


def _window_medians(step_seconds: list[float], window_seconds: float) -> list[float]:
    """Median step time of each consecutive ``window_seconds`` of steps (a last, partial one dropped)."""
    out: list[float] = []
    chunk: list[float] = []
    for t in step_seconds:
        chunk.append(t)
        if sum(chunk) >= window_seconds:
            out.append(statistics.median(chunk))
            chunk = []
    return out


def use_cpu_clock() -> None:
    """Every ``time.perf_counter()`` in this process (the probe's, the job's) reads this thread's CPU time."""
    time.perf_counter = time.thread_time


def cpu_clock_probe(path: str, batch_size: int, probe_seconds: float) -> dict:
    """The probe child's work (check, then the device probe) in this process, on one thread, in CPU time."""
    import torch

    from advisor.probe.measure import DeviceProbe, ProbeOptions
    from advisor.probe.startup_clock import PartTime, StartupParts
    from advisor.workload import check_workload, load_workload

    torch.set_num_threads(1)
    workload = load_workload(path)
    t0 = time.perf_counter()
    check_workload(workload, batch_size=2)
    cold = time.perf_counter() - t0
    options = ProbeOptions(batch_size=batch_size, budget_seconds=probe_seconds, threads=1, thread_scaling=False,
                           startup_parts=StartupParts(check=PartTime(cold, cold)))
    return DeviceProbe(workload, "cpu", options).run().model_dump(mode="json")


def _self_command(*args: str, cpu_clock: bool) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args] + (["--cpu-clock"] if cpu_clock else [])


def run_job_subprocess(path: Path, dataset_size: int, epochs: int, batch_size: int, threads: int | None,
                       cpu_clock: bool = False, flush_denormal: bool = False, env: dict | None = None) -> dict:
    """The real job in a fresh process (``env``: variables added to this one's, e.g. glibc's malloc settings)."""
    cmd = _self_command("--run-job", str(path), "--dataset-size", str(dataset_size), "--epochs", str(epochs),
                        "--batch-size", str(batch_size), cpu_clock=cpu_clock)
    cmd += ["--flush-denormal"] if flush_denormal else []
    if threads:
        cmd += ["--threads", str(threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=str(REPO),
                         env={**os.environ, **env} if env else None)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -------------------------------------------------------------------------------------- the benchmark


def choose_dataset_size(profile, batch_size: int, epochs: int, target_seconds: float) -> int:
    """A dataset size whose predicted job is about ``target_seconds``; never a multiple of the batch."""
    from advisor.predictor.measured import predict_measured
    from advisor.workload import JobSpec

    probe_n = batch_size * 50 + batch_size // 3
    est = predict_measured(profile, JobSpec(probe_n, epochs, batch_size))
    per_step = (est.seconds - est.startup_seconds) / est.total_steps
    steps = max(int((target_seconds - est.startup_seconds) / (epochs * per_step)), 2)
    remainder = max(batch_size // 3, 1) if batch_size > 1 else 0
    return (steps - 1) * batch_size + remainder if remainder else steps * batch_size


def _probe(name: str, path: Path, batch_size: int, args):
    """The profile: advisor's probe (a child process), or under --cpu-clock its code in a CPU-time process."""
    from advisor.probe import run_profile
    from advisor.schemas import DeviceProfile, Profile, WorkloadInfo

    if args.cpu_clock:
        out = subprocess.run(_self_command("--cpu-probe", str(path), "--batch-size", str(batch_size),
                                           "--probe-seconds", str(args.probe_seconds), cpu_clock=True),
                             check=True, capture_output=True, text=True, cwd=str(REPO))
        dev = DeviceProfile.model_validate(json.loads(out.stdout.strip().splitlines()[-1]))
        return Profile(workload=WorkloadInfo(name=name, path=str(path)), devices=[dev])
    return run_profile(str(path), devices=["cpu"], batch_size=batch_size, probe_seconds=args.probe_seconds,
                       threads=args.threads, thread_scaling=False,  # the analysis on, as advisor predict runs it
                       raise_priority=not args.normal_priority)


def _progress(r: dict) -> None:
    print(f"[{r['workload']}] predicted {r['predicted_seconds']:.1f} s, actual {r['actual_seconds']:.1f} s "
          f"({r['error_pct']:+.1f}%), probe {r['probe_wall_seconds']:.1f} s", file=sys.stderr, flush=True)


def workload_path(name: str) -> Path:
    """An example's name (``examples/<name>.py``) or a workload file's path (ending in .py)."""
    return Path(name).resolve() if name.endswith(".py") else REPO / "examples" / f"{name}.py"


def bench_one(name: str, args) -> dict:
    from advisor.predictor.fit import fit_step_time
    from advisor.predictor.measured import predict_measured
    from advisor.schemas import JobSpec
    from advisor.workload import load_workload

    path = workload_path(name)
    name = path.stem
    workload = load_workload(path)
    batch_size = args.batch_size or workload.batch_size
    if args.remember:
        # An earlier probe of the same file on the idle machine, as a user's earlier `recommend` left it in the
        # history: it times the thread scaling (1 vs all threads) that a busy probe cannot.
        from advisor.probe import run_profile

        args.remember.save_profile(run_profile(str(path), devices=["cpu"], batch_size=batch_size,
                                               probe_seconds=args.probe_seconds, threads=args.threads))
    with Background(args.background), OthersCpu() as probe_others:
        t0 = _WALL()
        profile = _probe(name, path, batch_size, args)
        probe_wall = _WALL() - t0
    if args.remember:
        from advisor.history.remembered import remember_scaling

        profile = remember_scaling(profile, args.remember)
    dev = profile.device("cpu")
    dataset_size = choose_dataset_size(profile, batch_size, args.epochs, args.target_seconds)
    job = JobSpec(dataset_size, args.epochs, batch_size)
    est = predict_measured(profile, job)
    with OthersCpu() as job_others:
        actual = run_job_subprocess(path, dataset_size, args.epochs, batch_size, dev.threads, args.cpu_clock)
    # The same job again, unchanged: how far this machine's own run-to-run swing goes (the floor under any
    # prediction's error here).
    reruns = [run_job_subprocess(path, dataset_size, args.epochs, batch_size, dev.threads, args.cpu_clock)
              for _ in range(args.reruns)]
    err = (est.seconds - actual["wall_seconds"]) / actual["wall_seconds"]
    runs = [actual["wall_seconds"]] + [r["wall_seconds"] for r in reruns]
    mean_seconds = statistics.fmean(runs)
    return {
        "workload": name,
        "batch_size": batch_size,
        "dataset_size": dataset_size,
        "epochs": args.epochs,
        "predicted_seconds": est.seconds,
        "low": est.low,
        "high": est.high,
        "actual_seconds": actual["wall_seconds"],
        "error_pct": 100 * err,
        "interval_held": est.low <= actual["wall_seconds"] <= est.high,
        "probe_wall_seconds": probe_wall,
        "probe_threads": dev.threads,
        "probe_spread_pct": 100 * fit_step_time([m for m in dev.measurements if not m.oom]).spread_rel,
        "others_cpu_pct": [None if x.share is None else 100 * x.share for x in (probe_others, job_others)],
        "predicted_step_seconds": est.step_seconds,
        "predicted_batch_seconds": est.batch_seconds,
        "predicted_startup_seconds": est.startup_seconds,
        "probed_batch_sizes": sorted(m.batch_size for m in dev.measurements if not m.oom),
        # Timed windows at raised priority over the background (advisor.probe.priority), and all timed windows.
        "raised_windows": [sum(m.priority_nice is not None for m in dev.measurements if not m.oom),
                           sum(not m.oom for m in dev.measurements)],
        "actual": actual,
        "rerun_seconds": runs[1:],
        "rerun_diff_pct": [100 * (r["wall_seconds"] - actual["wall_seconds"]) / actual["wall_seconds"]
                           for r in reruns],
        # The job's expected time is better known from all its runs than from the first: against their mean,
        # a prediction can be closer than one run is to another (the floor a single run sets).
        "runs_mean_seconds": mean_seconds,
        "error_vs_mean_pct": 100 * (est.seconds - mean_seconds) / mean_seconds,
        "runs_in_interval": sum(est.low <= t <= est.high for t in runs),
        **against_each_run(est.seconds, runs),
        "notes": est.notes,
        # The probe as it was, so that `bench/replay_cpu.py` can predict the same job again from it (another
        # scaling tried on the very probe that was judged, paired, without the probe's own swing).
        "profile": profile.model_dump(mode="json"),
    }


def against_each_run(predicted_seconds: float, runs: list[float]) -> dict:
    """The prediction against each run of the job, beside the machine's own floor: each run predicted by the
    mean of the job's other runs (what a predictor that had already run this job here would say). Both are
    medians over the runs of |error| in % of the run; the floor needs two runs or more (else None)."""
    if len(runs) < 2:
        return {"error_each_run_pct": None, "floor_each_run_pct": None}
    pred = [abs(predicted_seconds - t) / t for t in runs]
    floor = [abs(statistics.fmean(runs[:i] + runs[i + 1:]) - t) / t for i, t in enumerate(runs)]
    return {"error_each_run_pct": 100 * statistics.median(pred), "floor_each_run_pct": 100 * statistics.median(floor)}


# What --background starts beside the probe (and stops before the real job, which runs on the idle machine).
BACKGROUNDS = {
    "busy": "while True: pass",
    # A competing small training job on PyTorch's default threads, as a colleague's script would be.
    "torch": ("import torch\nm = torch.nn.Sequential(torch.nn.Linear(512, 512), torch.nn.ReLU(), "
              "torch.nn.Linear(512, 10))\no = torch.optim.AdamW(m.parameters())\nwhile True:\n"
              "    x = torch.randn(256, 512); loss = m(x).square().mean(); o.zero_grad(); loss.backward(); o.step()"),
}


def _die_with_parent() -> None:
    """In the load's process (Linux): stop when the bench does, even a bench killed mid-run, so that no stray
    busy loop slows the next run's real jobs (PR_SET_PDEATHSIG)."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class Background:
    """A background load for the length of a block: None, "busy" or "torch" (BACKGROUNDS)."""

    def __init__(self, kind: str | None) -> None:
        self.kind = kind
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Background:
        if self.kind:
            self.proc = subprocess.Popen([sys.executable, "-c", BACKGROUNDS[self.kind]], preexec_fn=_die_with_parent)
            time.sleep(2.0 if self.kind == "torch" else 0.5)  # torch's import: let it reach its loop first
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            time.sleep(0.5)


class OthersCpu:
    """Share of the machine's CPU time that OTHER processes used while this block ran (Linux; else None).

    All CPUs' busy time from /proc/stat, minus what this process and its finished children used (getrusage),
    over wall time x CPUs. A 2-thread job on a 2-CPU machine competing with others at 50% runs ~2x slower.
    """

    def __enter__(self) -> OthersCpu:
        self.share: float | None = None
        self._start = (_WALL(), _busy_seconds(), _own_cpu_seconds())
        return self

    def __exit__(self, *exc) -> None:
        wall0, busy0, own0 = self._start
        busy1, own1 = _busy_seconds(), _own_cpu_seconds()
        cpus = os.cpu_count() or 1
        elapsed = _WALL() - wall0
        if busy0 is not None and busy1 is not None and elapsed > 0:
            self.share = max(0.0, (busy1 - busy0) - (own1 - own0)) / (elapsed * cpus)


def _busy_seconds() -> float | None:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    ticks = [int(x) for x in fields]
    busy = sum(ticks[:8]) - ticks[3] - ticks[4]  # all but idle and iowait (guest time is inside user)
    return busy / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def render(rows: list[dict]) -> str:
    head = ("workload", "batch", "dataset", "epochs", "predicted s", "80% interval", "actual s", "error %",
            "held", "probe s")
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        lines.append("| " + " | ".join([
            r["workload"], str(r["batch_size"]), f"{r['dataset_size']:,}", str(r["epochs"]),
            f"{r['predicted_seconds']:.1f}", f"{r['low']:.1f}-{r['high']:.1f}", f"{r['actual_seconds']:.1f}",
            f"{r['error_pct']:+.1f}", "yes" if r["interval_held"] else "no", f"{r['probe_wall_seconds']:.1f}",
        ]) + " |")
    lines.append("")
    head2 = ("workload", "probed sizes", "step ms pred / actual", "batch ms pred / actual",
             "start-up s pred / actual build+1st step", "threads", "probe step spread %", "others' CPU % probe / job",
             f"job's {WINDOW_SECONDS:.0f}-s step medians: CV % (min-max ms)", "same job rerun: s (diff %)")
    lines += ["| " + " | ".join(head2) + " |", "|" + "|".join("---" for _ in head2) + "|"]
    for r in rows:
        a = r["actual"]
        lines.append("| " + " | ".join([
            r["workload"], ",".join(map(str, r["probed_batch_sizes"])),
            f"{1000 * r['predicted_step_seconds']:.2f} / {1000 * a['mean_step_seconds']:.2f}",
            f"{1000 * (r['predicted_batch_seconds'] or 0):.2f} / {1000 * a['mean_batch_seconds']:.2f}",
            f"{r['predicted_startup_seconds']:.2f} / {a['build_seconds'] + a['first_step_seconds']:.2f}",
            f"{r['probe_threads']} / {a['threads']}",
            f"{r['probe_spread_pct']:.0f}",
            " / ".join("?" if x is None else f"{x:.0f}" for x in r["others_cpu_pct"]),
            (f"{a['window_cv_pct']:.1f} ({min(a['window_step_ms']):.1f}-{max(a['window_step_ms']):.1f})"
             if a["window_step_ms"] else "-"),
            ", ".join(f"{t:.1f} ({d:+.1f})" for t, d in zip(r["rerun_seconds"], r["rerun_diff_pct"], strict=True))
            or "-",
        ]) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch

    return f"{cpu}, {os.cpu_count()} logical CPUs, torch {torch.__version__}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--examples", default=",".join(EXAMPLES),
                   help="comma-separated example names, or paths of other workload files (ending in .py)")
    p.add_argument("--quick", action="store_true", help="~15 s jobs instead of ~50 s")
    p.add_argument("--target-seconds", type=float, default=None, help="predicted job length to aim for")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=None, help="default: each example's BATCH_SIZE")
    p.add_argument("--probe-seconds", type=float, default=10.0, help="probe budget per workload")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for the probe and the job (default: PyTorch's, as a user's script gets)")
    p.add_argument("--cpu-clock", action="store_true",
                   help="diagnostic for a busy machine: one thread, CPU time instead of wall time (see above)")
    p.add_argument("--reruns", type=int, default=0,
                   help="run each real job this many more times, unchanged: the machine's run-to-run swing")
    p.add_argument("--background", choices=sorted(BACKGROUNDS), default=None,
                   help="start this load before each probe and stop it before the real job (which runs idle): "
                        "busy = a busy loop, torch = a competing small training process")
    p.add_argument("--remember", action="store_true",
                   help="first probe each workload on the idle machine into a fresh history, as an earlier "
                        "recommend would have, so that the probe beside --background uses its thread scaling")
    p.add_argument("--normal-priority", action="store_true",
                   help="probe at the priority the bench was started with, as a user without the right to raise "
                        "it (ADVISOR_PROBE_PRIORITY=normal); by default a busy probe raises it where allowed")
    p.add_argument("--json-out", default=None, help="also write the rows as JSON here")
    # internal: run one real job in this process
    p.add_argument("--run-job", default=None, help=argparse.SUPPRESS)
    p.add_argument("--cpu-probe", default=None, help=argparse.SUPPRESS)
    p.add_argument("--flush-denormal", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--dataset-size", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.cpu_clock:
        use_cpu_clock()
        args.threads = 1
    if args.run_job:
        print(json.dumps(run_job(args.run_job, args.dataset_size, args.epochs, args.batch_size, args.threads,
                                 args.flush_denormal)))
        return 0
    if args.cpu_probe:
        print(json.dumps(cpu_clock_probe(args.cpu_probe, args.batch_size, args.probe_seconds)))
        return 0
    if args.target_seconds is None:
        args.target_seconds = 15.0 if args.quick else 50.0

    names = [n.strip() for n in args.examples.split(",") if n.strip()]
    rows = []
    with contextlib.ExitStack() as stack:
        if args.remember:
            from advisor.history.repository import History

            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            args.remember = stack.enter_context(History(f"sqlite:///{folder / 'history.db'}"))
        for name in names:
            print(f"[{name}] probing, predicting, running the real job ...", file=sys.stderr, flush=True)
            rows.append(bench_one(name, args))
            _progress(rows[-1])
    clock = " (CPU-time diagnostic: 1 thread, thread CPU seconds)" if args.cpu_clock else ""
    load = f", probe beside --background {args.background}" if args.background else ", idle"
    if args.remember:
        load += " (thread scaling remembered from an idle probe of each workload)"
    raised = [sum(r.get("raised_windows", [0, 0])[i] for r in rows) for i in (0, 1)]
    if args.normal_priority:
        load += ", priority not raised (--normal-priority)"
    elif raised[0]:
        load += f", raised priority ({raised[0]} of {raised[1]} timed windows)"
    print(f"CPU accuracy{clock}{load}, {time.strftime('%Y-%m-%d %H:%M')}, {machine()}")
    print()
    print(render(rows))
    worst = max(abs(r["error_pct"]) for r in rows) if rows else 0.0
    errors = sorted(abs(r["error_pct"]) for r in rows)
    if errors:
        print()
        ratio = max(max(r["predicted_seconds"] / r["actual_seconds"], r["actual_seconds"] / r["predicted_seconds"])
                    for r in rows)
        print(f"median |error| {statistics.median(errors):.1f}%; worst ratio predicted/actual {ratio:.2f}x; "
              f"disturbed-probe note in the output: "
              f"{sum(any(DISTURBED_NOTE in n for n in r['notes']) for r in rows)}/{len(rows)}")
    print()
    print(f"worst error {worst:.1f}% (pass mark 10%); interval held {sum(r['interval_held'] for r in rows)}"
          f"/{len(rows)}; slowest probe {max((r['probe_wall_seconds'] for r in rows), default=0):.1f} s "
          "(pass mark 15 s)")
    diffs = [abs(d) for r in rows for d in r["rerun_diff_pct"]]
    if diffs:
        print(f"the same job rerun unchanged differed by up to {max(diffs):.1f}% from its first run "
              f"(median {statistics.median(diffs):.1f}%)")
        vs_mean = sorted(abs(r["error_vs_mean_pct"]) for r in rows)
        runs = sum(1 + len(r["rerun_seconds"]) for r in rows)
        print(f"the prediction against the mean of each job's runs: median |error| {statistics.median(vs_mean):.1f}%, "
              f"worst {vs_mean[-1]:.1f}%; intervals held {sum(r['runs_in_interval'] for r in rows)}/{runs} runs")
        each = [(r["error_each_run_pct"], r["floor_each_run_pct"]) for r in rows if r["floor_each_run_pct"] is not None]
        print(f"each run against the prediction: median |error| {statistics.median(e for e, _ in each):.1f}%; against "
              f"the mean of the job's other runs (the machine's floor): {statistics.median(f for _, f in each):.1f}%")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
