"""GPU accuracy against real runs: advisor's GPU predictions beside the same job run for real on this GPU.

Needs a CUDA GPU that advisor has a spec for (CI has none: this bench is run on a lent GPU machine). For each
``example[:precision]`` (``examples/<example>.py``, or a path ending in .py):

1. probe it on ``cuda:0`` with ``advisor.api.profile`` at the job's precision (the analysis included);
2. predict the job two ways, with ``advisor.api.predict``:
   - **measured**: from that probe (what a user with this GPU gets);
   - **analysis**: from the same profile with its probes removed, so the roofline over the spec sheet and the
     calibration alone predicts this GPU (what a user who does not have it gets);
3. pick a dataset size whose measured prediction steps for about ``--target-seconds`` past its start-up (never
   a multiple of the batch);
4. run the real job in a fresh Python process: CUDA's start, model build, ``torch.compile`` when the job
   compiles, then epochs x micro-steps of ``make_batch`` + copy + forward/loss under autocast + backward, the
   optimizer once every ``grad_accum_steps`` micro-steps; timed wall-clock, synchronised at the end; and the
   steady step time (the stretch after the first ``--warm-steps`` micro-steps).

Each job runs eagerly, and again compiled where the workload says ``COMPILE = True`` or with ``--compile-too``
(the analysis predicts the compiled steps; a probe runs eagerly, and its steps are scaled by the analysis'
compiled/eager ratio; both add the compile's modelled time, ``advisor.predictor.compile_time``, to the start-up).

    python bench/accuracy_gpu_real.py --examples tabular_mlp,bert_squad:bf16 --target-seconds 15
    python bench/accuracy_gpu_real.py --examples nanogpt_gpt2 --batch-size 12 --grad-accum-steps 40

It always exits 0 after printing (unless it crashes); the rows are also written as JSON with --json-out after
every job, so a run cut short keeps what it finished.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


# ------------------------------------------------------------------------------------- the real job


def run_job(path: str, dataset_size: int, epochs: int, batch_size: int, precision: str, compiled: bool,
            accum: int, warm_steps: int, device: str = "cuda:0") -> dict:
    """The real job on ``device``, in this (fresh) process. The clock starts before CUDA's first call."""
    import torch

    from advisor.workload import load_workload, move_to, split_batch
    from advisor.workload.step import call_model, compute_loss

    workload = load_workload(path)  # importing the file is not part of the job
    dev = torch.device(device)

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize()

    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    t0 = time.perf_counter()
    model = workload.build_model().to(dev)
    model.train()
    optimizer = workload.build_optimizer(model.parameters())
    stepper = torch.compile(model) if compiled else model
    scaler = torch.amp.GradScaler("cuda") if precision == "fp16" else None
    steps = math.ceil(dataset_size / batch_size)
    last = dataset_size - (steps - 1) * batch_size
    sync()
    t_built = time.perf_counter()
    total = epochs * steps
    micro, t_warm, first_step, n_warm = 0, None, None, total
    t_last, n_last = None, total
    for _ in range(epochs):
        for i in range(steps):
            b = batch_size if i < steps - 1 else last
            if micro == total - 1 and micro > n_warm:
                sync()  # the job's last batch is apart: smaller, it recompiles a compiled model
                t_last, n_last = time.perf_counter(), micro
            inputs, target = split_batch(workload, workload.make_batch(b))
            inputs, target = move_to(inputs, dev), move_to(target, dev)
            with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
                loss = compute_loss(workload, call_model(stepper, inputs), target) / accum
            (scaler.scale(loss) if scaler else loss).backward()
            micro += 1
            if micro % accum == 0 or micro == total:
                if scaler:
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            if micro == 1:
                sync()
                first_step = time.perf_counter() - t_built
            if micro == min(warm_steps, max(total // 4, 1)):
                sync()
                t_warm, n_warm = time.perf_counter(), micro
    sync()
    t_end = time.perf_counter()
    # Full batches after the warm-up (the last, smaller batch of any earlier epoch is a small part of it).
    steady = ((t_last or t_end) - t_warm) / max(n_last - n_warm, 1)
    return {"wall_seconds": t_end - t0, "build_seconds": t_built - t0, "first_step_seconds": first_step,
            "steady_step_seconds": steady, "last_batch_seconds": None if t_last is None else t_end - t_last,
            "micro_steps": micro, "last_batch_size": last,
            "peak_memory_gib": torch.cuda.max_memory_allocated() / 2**30 if dev.type == "cuda" else 0.0,
            "gpu": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu", "torch": torch.__version__}


def run_job_subprocess(path: Path, dataset_size: int, epochs: int, batch_size: int, precision: str,
                       compiled: bool, accum: int, warm_steps: int, device: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run-job", str(path), "--dataset-size", str(dataset_size),
           "--epochs", str(epochs), "--batch-size", str(batch_size), "--precision", precision,
           "--grad-accum-steps", str(accum), "--warm-steps", str(warm_steps), "--device", device]
    cmd += ["--compiled"] if compiled else []
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=str(REPO))
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


# -------------------------------------------------------------------------------------- the benchmark


def _estimates(prof, job: dict, gpu_name: str, compiled: bool) -> dict:
    """The measured and the analysis-only prediction of one job on this GPU."""
    from advisor import api
    from advisor.schemas import Target

    common = dict(dataset_size=job["dataset_size"], epochs=job["epochs"], batch_size=job["batch_size"],
                  target=Target.gpu(gpu_name), precision=job["precision"], compile=compiled,
                  grad_accum_steps=job["accum"], eval_every=10**9, eval_steps=1, use_history=False,
                  vcpus=os.cpu_count())
    measured = api.predict(prof, **common)
    analysis = api.predict(prof.model_copy(update={"devices": []}), **common)
    return {"measured": measured, "analysis": analysis}


def bench_one(spec: str, args) -> list[dict]:
    from advisor import api
    from advisor.hardware.devices import local_gpu_target
    from advisor.workload import load_workload

    name, _, precision = spec.partition(":")
    path = Path(name).resolve() if name.endswith(".py") else REPO / "examples" / f"{name}.py"
    workload = load_workload(path)
    precision = precision or workload.precision or "fp32"
    compiled_file = bool(workload.compile) or args.compile_too
    accum = args.grad_accum_steps or workload.grad_accum_steps or 1
    batch_size = args.batch_size or workload.batch_size
    device = "cpu" if args.smoke_gpu else "cuda:0"
    gpu_name = args.smoke_gpu or local_gpu_target(device, api._visible_gpus()).gpu_name
    t0 = time.perf_counter()
    prof = api.profile(str(path), devices=[device], batch_size=batch_size, probe_seconds=args.probe_seconds,
                       precision=precision)
    probe_wall = time.perf_counter() - t0
    if args.profiles_out:
        api.save_profile(prof, Path(args.profiles_out) / f"{path.stem}-{precision}.json")
    job = {"dataset_size": batch_size * 50 + batch_size // 3, "epochs": 1, "batch_size": batch_size,
           "precision": precision, "accum": accum}
    first = _estimates(prof, job, gpu_name, False)["measured"]
    per_step = (first.seconds - first.startup_seconds) / first.total_steps
    steps = max(int(args.target_seconds / per_step), 8)
    job["dataset_size"] = (steps - 1) * batch_size + max(batch_size // 3, 1)
    rows = []
    for compiled in ([False, True] if compiled_file else [False]):
        est = _estimates(prof, job, gpu_name, compiled)
        actual = run_job_subprocess(path, job["dataset_size"], 1, batch_size, precision, compiled, accum,
                                    args.warm_steps, device)
        rows.append({"workload": path.stem, "gpu": gpu_name, "precision": precision, "compiled": compiled,
                     "batch_size": batch_size, "accum": accum, "dataset_size": job["dataset_size"],
                     "probe_wall_seconds": probe_wall, "actual": actual,
                     **{k: _row_of(e, actual) for k, e in est.items()}})
        print(_line(rows[-1]), file=sys.stderr, flush=True)
    return rows


def _row_of(est, actual: dict) -> dict:
    real = actual.get("wall_seconds")
    step = actual.get("steady_step_seconds")
    return {"method": est.method, "seconds": est.seconds, "low": est.low, "high": est.high,
            "startup_seconds": est.startup_seconds, "step_seconds": est.step_seconds, "mfu": est.mfu,
            "peak_memory_gib": est.peak_memory_gib, "notes": est.notes,
            "error_pct": None if real is None else 100 * (est.seconds - real) / real,
            "step_error_pct": None if not step else 100 * (est.step_seconds - step) / step,
            "held": None if real is None else est.low <= real <= est.high}


def _line(r: dict) -> str:
    a = r["actual"]
    if "error" in a:
        return f"[{r['workload']}] the real job failed: {a['error']}"
    m, s = r["measured"], r["analysis"]
    how = f"{r['precision']}{' compiled' if r['compiled'] else ''}"
    return (f"[{r['workload']} {how}] actual {a['wall_seconds']:.1f} s "
            f"(step {1000 * a['steady_step_seconds']:.1f} ms); measured {m['seconds']:.1f} s ({m['error_pct']:+.1f}%), "
            f"analysis {s['seconds']:.1f} s ({s['error_pct']:+.1f}%)")


def render(rows: list[dict]) -> str:
    head = ("workload", "precision", "compiled", "batch x accum", "micro-steps", "actual s (build+1st step)",
            "actual step ms", "actual last batch s", "measured: s, error %, held", "measured step ms",
            "analysis: s, error %, held",
            "analysis step ms", "MFU measured / analysis", "peak GiB actual / predicted", "probe s")
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        a, m, s = r["actual"], r["measured"], r["analysis"]
        if "error" in a:
            lines.append(f"| {r['workload']} | {r['precision']} | {r['compiled']} | failed: {a['error']} |")
            continue

        def pred(e: dict) -> str:
            return f"{e['seconds']:.1f}, {e['error_pct']:+.1f}, {'yes' if e['held'] else 'no'}"

        lines.append("| " + " | ".join([
            r["workload"], r["precision"], "yes" if r["compiled"] else "no", f"{r['batch_size']} x {r['accum']}",
            str(a["micro_steps"]), f"{a['wall_seconds']:.1f} ({a['build_seconds'] + a['first_step_seconds']:.1f})",
            f"{1000 * a['steady_step_seconds']:.2f}",
            "-" if a.get("last_batch_seconds") is None else f"{a['last_batch_seconds']:.2f}",
            pred(m), f"{1000 * m['step_seconds']:.2f}", pred(s),
            f"{1000 * s['step_seconds']:.2f}",
            " / ".join("-" if e["mfu"] is None else f"{100 * e['mfu']:.0f}%" for e in (m, s)),
            f"{a['peak_memory_gib']:.1f} / {m['peak_memory_gib'] or 0:.1f}", f"{r['probe_wall_seconds']:.0f}",
        ]) + " |")
    return "\n".join(lines)


def summary(rows: list[dict]) -> str:
    out = []
    for kind in ("measured", "analysis"):
        errs = [r[kind]["error_pct"] for r in rows if r[kind]["error_pct"] is not None]
        steps = [r[kind]["step_error_pct"] for r in rows if r[kind]["step_error_pct"] is not None]
        if errs:
            out.append(f"{kind}: median |error| {statistics.median(abs(e) for e in errs):.1f}% of the whole job, "
                       f"{statistics.median(abs(e) for e in steps):.1f}% of the steady step; signed median "
                       f"{statistics.median(errs):+.1f}%; interval held {sum(bool(r[kind]['held']) for r in rows)}"
                       f"/{len(errs)}")
    return "\n".join(out)


# The stored runs on lent H200s whose rows carry the measured path's steady step (runs 4-7 of bench/README.md
# "GPU against real runs"; runs 1-3 were kept as tables only).
STORED_RUNS = ("bench/data/h200_2026-11-30/real_bert_bf16.json",
               "bench/data/h200_trace_2026-12-04/accuracy_gpu_real.json", "bench/data/h200_real_2026-12-04_run6.json",
               "bench/data/h200_real_2026-12-04_run7.json")


def _eager_logs(paths, predicted_key: str, actual_key: str) -> list[float]:
    logs = []
    for path in paths:
        for r in json.loads((REPO / path).read_text()):
            predicted, actual = r["measured"].get(predicted_key), r["actual"].get(actual_key)
            if not r.get("compiled") and predicted and actual:
                logs.append(math.log(predicted / actual))
    return logs


def _rms(logs: list[float]) -> tuple[float, int]:
    return math.sqrt(sum(x * x for x in logs) / len(logs)), len(logs)


def measured_step_rms(paths=STORED_RUNS) -> tuple[float, int]:
    """(RMS log error of the measured path's steady step against the real job's, rows): every eager row of the
    stored runs (a compiled row's step is the eager probe's times the analysis' ratio, another model)."""
    return _rms(_eager_logs(paths, "step_seconds", "steady_step_seconds"))


def measured_job_rms(paths=STORED_RUNS) -> tuple[float, int]:
    """(RMS log error of the measured path's whole job against the real job's wall time, rows), the same rows:
    the steps and the start-up together, which is what the whole-job interval covers. What
    ``advisor.predictor.measured.RUN_TO_RUN_REL["gpu"]`` is read from."""
    return _rms(_eager_logs(paths, "seconds", "wall_seconds"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--examples", default="tabular_mlp,bert_squad:bf16",
                   help="comma-separated example[:precision] names, or paths of workload files (ending in .py)")
    p.add_argument("--target-seconds", type=float, default=15.0,
                   help="the measured prediction's stepping time to aim each job at (its start-up excluded)")
    p.add_argument("--probe-seconds", type=float, default=15.0, help="probe budget per workload")
    p.add_argument("--batch-size", type=int, default=None, help="default: each example's BATCH_SIZE")
    p.add_argument("--grad-accum-steps", type=int, default=None, help="default: each example's GRAD_ACCUM_STEPS")
    p.add_argument("--warm-steps", type=int, default=20, help="micro-steps before the steady stretch is timed")
    p.add_argument("--compile-too", action="store_true",
                   help="also run every job compiled (by default only a workload with COMPILE = True)")
    p.add_argument("--json-out", default=None, help="also write the rows as JSON here (after every job)")
    p.add_argument("--profiles-out", default=None, help="a folder to save each workload's probed profile in")
    p.add_argument("--run-job", default=None, help=argparse.SUPPRESS)
    p.add_argument("--dataset-size", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--epochs", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--precision", default="fp32", help=argparse.SUPPRESS)
    p.add_argument("--compiled", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--device", default="cuda:0", help=argparse.SUPPRESS)
    # A check of this script without a GPU: the probe and the jobs on the CPU, the predictions for this GPU.
    p.add_argument("--smoke-gpu", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.run_job:
        print(json.dumps(run_job(args.run_job, args.dataset_size, args.epochs, args.batch_size, args.precision,
                                 args.compiled, args.grad_accum_steps or 1, args.warm_steps, args.device)))
        return 0
    rows: list[dict] = []
    for spec in [s.strip() for s in args.examples.split(",") if s.strip()]:
        print(f"[{spec}] probing on cuda:0, predicting, running the real job ...", file=sys.stderr, flush=True)
        try:
            rows += bench_one(spec, args)
        except Exception as exc:  # one workload's failure must not lose the others' rows
            print(f"[{spec}] failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(rows, indent=2, default=str))
    print(f"GPU accuracy against real runs, {time.strftime('%Y-%m-%d %H:%M')}")
    print()
    print(render(rows))
    print()
    print(summary([r for r in rows if "error" not in r["actual"]]))
    (job_rms, n), (step_rms, _) = measured_job_rms(), measured_step_rms()
    print(f"stored runs, {n} eager jobs: the measured path's whole job against the real one, RMS log error "
          f"{job_rms:.3f} (advisor's RUN_TO_RUN_REL['gpu']); its steady step against the real job's, {step_rms:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
