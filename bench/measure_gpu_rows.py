"""Training throughput measured on the GPU at hand, as rows of profiles/published_throughput.csv.

Needs a CUDA GPU (CI has none: this is run on a lent GPU machine). Each row is one workload at one
precision, micro-batch and compile setting, run in a fresh process on ``cuda:0`` as a plain-PyTorch user runs
it: the model built by the workload file, its own optimizer, one synthetic batch of the real shapes (copied to
the GPU once, so no input pipeline is timed), forward + loss under autocast, backward, the optimizer every step
(GradScaler for fp16), ``cudnn.benchmark`` on (what timm's and NVIDIA's harnesses set). TF32 is on for
``tf32`` rows and off for ``fp32`` (convolutions included; such rows carry ``ADVISOR_TF32=0`` in their
``workload_env``, which bench/gpu_rows.py analyses them with). After ``--warm-seconds`` of steps, three
stretches of at least ``--stretch-seconds`` each are timed; a row's throughput is their median. The SM clock
and board power are sampled with nvidia-smi during the timed stretches (rows.jsonl; runs before 2026-12-01 sampled the
whole child process, start-up included, and their clocks and power are not kept).

``--micro`` also measures the device itself: a streaming elementwise kernel's achieved bandwidth and a large
GEMM's achieved FLOP/s at each precision, with the clocks during each.

    python bench/measure_gpu_rows.py --out-dir $OUT            # every row of ROWS, ~4-5 min on an H200
    python bench/measure_gpu_rows.py --only resnet --micro

Rows land in ``rows.jsonl`` (one JSON object per row, written as each ends, so a run cut short keeps what it
finished) and ``rows.csv`` in profiles/published_throughput.csv's columns, source ``advisor-<gpu>``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
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

# (family, model, workload, env, precision, micro-batch, compiled)
ROWS = [
    ("resnet", "ResNet-50", "bench/workloads/resnet.py", "ADVISOR_RESNET_DEPTH=50", "bf16", 256, False),
    ("resnet", "ResNet-50", "bench/workloads/resnet.py", "ADVISOR_RESNET_DEPTH=50", "fp16", 256, False),
    ("resnet", "ResNet-50", "bench/workloads/resnet.py", "ADVISOR_RESNET_DEPTH=50", "tf32", 256, False),
    ("resnet", "ResNet-50", "bench/workloads/resnet.py", "ADVISOR_RESNET_DEPTH=50 ADVISOR_TF32=0", "fp32", 128, False),
    ("CNN", "resnet18", "bench/workloads/resnet.py", "ADVISOR_RESNET_DEPTH=18", "bf16", 512, False),
    ("bert", "BERT-base", "examples/bert_squad.py", "ADVISOR_BERT_SIZE=base ADVISOR_BERT_ATTN=sdpa", "bf16", 64, False),
    ("bert", "BERT-base", "examples/bert_squad.py", "ADVISOR_BERT_SIZE=base ADVISOR_BERT_ATTN=sdpa", "fp16", 64, False),
    ("bert", "BERT-base", "examples/bert_squad.py", "ADVISOR_BERT_SIZE=base ADVISOR_BERT_ATTN=math", "bf16", 64, False),
    ("bert", "BERT-base", "examples/bert_squad.py", "ADVISOR_BERT_SIZE=base ADVISOR_BERT_ATTN=sdpa", "tf32", 64, False),
    ("bert", "BERT-large", "examples/bert_squad.py", "ADVISOR_BERT_SIZE=large ADVISOR_BERT_ATTN=sdpa", "bf16", 32,
     False),
    ("ViT", "vit_base_patch16_224", "bench/workloads/vit.py", "ADVISOR_VIT_MODEL=vit_base_patch16_224 "
     "ADVISOR_VIT_ATTN=sdpa", "bf16", 256, False),
    ("ViT", "vit_base_patch16_224", "bench/workloads/vit.py", "ADVISOR_VIT_MODEL=vit_base_patch16_224 "
     "ADVISOR_VIT_ATTN=math", "fp16", 256, False),
    ("decoder-LM", "GPT-2-124M", "bench/workloads/gpt2_124m.py", "", "bf16", 16, False),
    ("decoder-LM", "GPT-2-124M", "bench/workloads/gpt2_124m.py", "", "bf16", 16, True),
    ("decoder-LM", "MPT-350m", "bench/workloads/mpt.py", "ADVISOR_MPT_SIZE=350m ADVISOR_MPT_SEQ_LEN=2048", "bf16", 8,
     False),
    ("decoder-LM", "MPT-1b", "bench/workloads/mpt.py", "ADVISOR_MPT_SIZE=1b ADVISOR_MPT_SEQ_LEN=2048", "bf16", 8,
     False),
]


def build_step(workload_path: str, precision: str, batch_size: int, compiled: bool, device: str = "cuda:0"):
    """(one training step as a plain-PyTorch user runs it, a synchronise, the device) for one row's job."""
    import torch

    from advisor.workload import load_workload, move_to, split_batch
    from advisor.workload.step import train_step

    torch.backends.cudnn.benchmark = True
    tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    dev = torch.device(device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    workload = load_workload(REPO / workload_path)
    model = workload.build_model().to(dev)
    model.train()
    optimizer = workload.build_optimizer(model.parameters())
    stepper = torch.compile(model) if compiled else model
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    scaler = torch.amp.GradScaler(dev.type) if precision == "fp16" else None
    inputs, target = split_batch(workload, workload.make_batch(batch_size))
    inputs, target = move_to(inputs, dev), move_to(target, dev)

    def step() -> None:
        train_step(workload, stepper, optimizer, inputs, target, dtype, dev.type, scaler)

    return step, sync, dev


def run_row(workload_path: str, precision: str, batch_size: int, compiled: bool, warm_seconds: float,
            stretch_seconds: float, device: str = "cuda:0") -> dict:
    """One row in this (fresh) process: steady samples per second, peak memory, the stretches' step times."""
    import torch

    step, sync, dev = build_step(workload_path, precision, batch_size, compiled, device)
    t0 = time.perf_counter()
    warm = 0
    while warm < 3 or time.perf_counter() - t0 < warm_seconds:
        step()
        sync()
        warm += 1
    # Steps per stretch from the warm-up's pace (the first steps include cudnn's search and compilation).
    t1 = time.perf_counter()
    step()
    sync()
    per_step = time.perf_counter() - t1
    n = max(3, int(stretch_seconds / max(per_step, 1e-4)))
    step_seconds = []
    sampler = Sampler() if dev.type == "cuda" else None
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n):
            step()
        sync()
        step_seconds.append((time.perf_counter() - t) / n)
    clocks = sampler.stop() if sampler else {}
    med = statistics.median(step_seconds)
    return {**clocks, "samples_per_second": batch_size / med, "step_seconds": step_seconds, "steps_per_stretch": n,
            "warm_steps": warm,
            "peak_memory_gib": torch.cuda.max_memory_allocated() / 2**30 if dev.type == "cuda" else 0.0,
            "gpu": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu", "torch": torch.__version__}


class Sampler:
    """nvidia-smi's SM clock (MHz) and board power (W), every 200 ms, from start to stop (the timed stretches)."""

    def __init__(self) -> None:
        try:
            self.proc = subprocess.Popen(
                ["nvidia-smi", "--query-gpu=clocks.sm,power.draw,clocks.max.sm", "--format=csv,noheader,nounits",
                 "-lms", "200"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        except OSError:
            self.proc = None

    def stop(self) -> dict:
        if self.proc is None:
            return {}
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=10)
        samples = []
        for line in out.splitlines():
            try:
                samples.append([float(x) for x in line.split(",")])
            except ValueError:
                continue
        if not samples:
            return {}
        return {"sm_clock_mhz": statistics.median(s[0] for s in samples),
                "power_watts": statistics.median(s[1] for s in samples), "max_sm_clock_mhz": samples[0][2]}


def run_row_subprocess(row: tuple, args) -> dict:
    family, model, workload, env, precision, batch, compiled = row
    child_env = dict(os.environ)
    child_env.update(kv.split("=", 1) for kv in env.split() if "=" in kv)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run-row", workload, "--precision", precision,
           "--batch-size", str(batch), "--warm-seconds", str(args.warm_seconds),
           "--stretch-seconds", str(args.stretch_seconds), "--device", args.device]
    cmd += ["--compiled"] if compiled else []
    t = time.perf_counter()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=str(REPO), env=child_env,
                             timeout=args.row_timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {args.row_timeout} s"}
    if out.returncode != 0:
        tail = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"
        return {"error": tail}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {**result, "wall_seconds": time.perf_counter() - t}


def micro(out_dir: Path) -> dict:
    """Achieved bandwidth of a streaming elementwise kernel and achieved FLOP/s of large GEMMs, with clocks."""
    import torch

    results: dict = {"bandwidth": [], "gemm": []}
    dev = torch.device("cuda:0")

    def timed(fn, seconds: float = 1.5) -> float:
        fn()
        torch.cuda.synchronize()
        n, t = 0, time.perf_counter()
        while time.perf_counter() - t < seconds:
            fn()
            n += 1
            if n % 8 == 0:
                torch.cuda.synchronize()
        torch.cuda.synchronize()
        return (time.perf_counter() - t) / n

    for dtype in (torch.float32, torch.bfloat16):
        for mib in (4, 16, 64, 256, 1024, 4096):
            x = torch.empty(mib * 2**20 // x_size(dtype), dtype=dtype, device=dev).normal_()
            y = torch.empty_like(x)
            s = timed(lambda x=x, y=y: torch.mul(x, 1.5, out=y))
            results["bandwidth"].append({"dtype": str(dtype), "mib": mib, "seconds": s,
                                         "gbs": 2 * x.numel() * x.element_size() / s / 1e9})
            del x, y
    for name, dtype, tf32 in (("bf16", torch.bfloat16, False), ("fp16", torch.float16, False),
                              ("tf32", torch.float32, True), ("fp32", torch.float32, False)):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        for size in (2048, 4096, 8192):
            a = torch.randn(size, size, dtype=dtype, device=dev)
            b = torch.randn(size, size, dtype=dtype, device=dev)
            sampler = Sampler()
            s = timed(lambda a=a, b=b: a @ b, seconds=3.0 if size == 8192 else 1.0)
            clocks = sampler.stop()
            results["gemm"].append({"precision": name, "size": size, "seconds": s,
                                    "tflops": 2 * size**3 / s / 1e12, **clocks})
    (out_dir / "micro.json").write_text(json.dumps(results, indent=1))
    return results


def x_size(dtype) -> int:
    import torch

    return torch.tensor([], dtype=dtype).element_size()


def csv_row(row: tuple, result: dict, gpu: str, stamp: str) -> dict:
    family, model, workload, env, precision, batch, compiled = row
    seq = next((kv.split("=")[1] for kv in env.split() if kv.startswith("ADVISOR_MPT_SEQ_LEN=")), "")
    seq = seq or ("1024" if "gpt2" in workload else "384" if "bert" in workload else "")
    return {"source": f"advisor-{gpu}", "url": "bench/measure_gpu_rows.py", "retrieved": stamp, "family": family,
            "model": model, "workload": workload, "workload_env": env, "seq_len": seq, "precision": precision,
            "gpu": gpu, "gpu_count": 1, "micro_batch_per_gpu": batch, "grad_accum_steps": 1,
            "measured_samples_per_second_total": f"{result['samples_per_second']:.2f}", "published_mfu": "",
            "activation_checkpointing": "no", "compiled": "yes" if compiled else "no",
            "notes": f"advisor's own run: torch {result.get('torch')}; {result.get('gpu')}; plain eager PyTorch as the "
                     f"workload file writes it (NCHW); one synthetic batch resident on the GPU; cudnn.benchmark; "
                     f"median of 3 stretches of {result.get('steps_per_stretch')} steps"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default=".", help="where rows.jsonl, rows.csv and micro.json go")
    ap.add_argument("--only", default="", help="comma-separated substrings of workload/model/precision to keep")
    ap.add_argument("--micro", action="store_true", help="also measure bandwidth and GEMM rates")
    ap.add_argument("--gpu", default="H200", help="the profiles/gpus.csv name written in the rows")
    ap.add_argument("--warm-seconds", type=float, default=2.0)
    ap.add_argument("--stretch-seconds", type=float, default=1.5)
    ap.add_argument("--row-timeout", type=float, default=180.0)
    ap.add_argument("--device", default="cuda:0", help="cpu: a smoke test of the rows without a GPU")
    ap.add_argument("--run-row", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--precision", default="bf16", help=argparse.SUPPRESS)
    ap.add_argument("--batch-size", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--compiled", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.run_row:
        print(json.dumps(run_row(args.run_row, args.precision, args.batch_size, args.compiled,
                                 args.warm_seconds, args.stretch_seconds, args.device)))
        return 0
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.date.today().isoformat()
    if args.micro:
        m = micro(out_dir)
        for g in m["gemm"]:
            print(f"gemm {g['precision']} {g['size']}: {g['tflops']:.1f} TFLOP/s, SM {g.get('sm_clock_mhz')} MHz, "
                  f"{g.get('power_watts')} W", flush=True)
        for b in m["bandwidth"]:
            print(f"stream {b['dtype']} {b['mib']} MiB: {b['gbs']:.0f} GB/s", flush=True)
    keep = [s for s in args.only.split(",") if s]
    rows = [r for r in ROWS if not keep or any(k in " ".join(map(str, r)) for k in keep)]
    csv_rows = []
    for row in rows:
        result = run_row_subprocess(row, args)
        with (out_dir / "rows.jsonl").open("a") as fh:
            fh.write(json.dumps({"row": row, **result}) + "\n")
        if "error" in result:
            print(f"{row[1]} {row[4]} b{row[5]}{' compiled' if row[6] else ''}: ERROR {result['error']}", flush=True)
            continue
        print(f"{row[1]} {row[3]} {row[4]} b{row[5]}{' compiled' if row[6] else ''}: "
              f"{result['samples_per_second']:.1f}/s, step {1e3 * statistics.median(result['step_seconds']):.2f} ms, "
              f"{result['peak_memory_gib']:.1f} GiB, SM {result.get('sm_clock_mhz')} MHz, "
              f"{result.get('power_watts')} W, {result['wall_seconds']:.0f} s", flush=True)
        csv_rows.append(csv_row(row, result, args.gpu, stamp))
        with (out_dir / "rows.csv").open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(csv_rows[0]))
            w.writeheader()
            w.writerows(csv_rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
