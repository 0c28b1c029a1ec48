"""Where advisor's own H200 training steps spend their GPU time, kernel by kernel, against the roofline's split.

The H200 rows (bench/measure_gpu_rows.py, bench/README.md "advisor's own rows on an H200") left CNNs in plain
PyTorch 1.6-3.1x slower than the GPU model predicts and small eager transformers 25-45% slower, with no way to
say which operators took the time. ``--record`` (needs a CUDA GPU; run on a lent one) rebuilds the same jobs
the same way (``measure_gpu_rows.build_step``: eager, autocast, the file's optimizer, ``cudnn.benchmark``, one
resident synthetic batch), times steady steps without the profiler, then runs PyTorch's profiler (CUPTI) over a
few steps and keeps every GPU kernel's time under the chain of operators that launched it:

    python bench/kernel_trace_h200.py --record --out-dir $OUT    # ~3 min on an H200
    python bench/kernel_trace_h200.py                            # the tables, from bench/data/h200_trace_*

The default mode reads the stored trace and prices each job with the shipped calibration on profiles/gpus.csv's
H200 row, then prints measured against predicted milliseconds a step by operator class (convolution forward and
backward, batch norm, element-wise, casts, GEMMs, attention, the optimizer, ...). Nothing here is fitted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
for _p in (REPO, REPO / "bench"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

DATA = REPO / "bench" / "data" / "h200_trace_2026-12-04" / "traces.jsonl"
GPU = "H200"
PROFILED_STEPS = 3
# (label, workload, env, precision, micro-batch): the H200 rows that missed most, and the layout that tests why
TRACES = [
    ("ResNet-18 NCHW", "bench/workloads/resnet.py", "ADVISOR_RESNET_DEPTH=18", "bf16", 512),
    ("ResNet-18 NHWC", "bench/workloads/resnet.py", "ADVISOR_RESNET_DEPTH=18 ADVISOR_CHANNELS_LAST=1", "bf16", 512),
    ("ResNet-50 NCHW", "bench/workloads/resnet.py", "ADVISOR_RESNET_DEPTH=50", "bf16", 256),
    ("ResNet-50 NHWC", "bench/workloads/resnet.py", "ADVISOR_RESNET_DEPTH=50 ADVISOR_CHANNELS_LAST=1", "bf16", 256),
    ("ResNet-50 NCHW", "bench/workloads/resnet.py", "ADVISOR_RESNET_DEPTH=50", "fp16", 256),
    ("BERT-base SDPA", "examples/bert_squad.py", "ADVISOR_BERT_SIZE=base ADVISOR_BERT_ATTN=sdpa", "bf16", 64),
    ("ViT-B/16 SDPA", "bench/workloads/vit.py", "ADVISOR_VIT_MODEL=vit_base_patch16_224 ADVISOR_VIT_ATTN=sdpa",
     "bf16", 256),
    ("GPT-2 124M", "bench/workloads/gpt2_124m.py", "", "bf16", 16),
]
# Traced after ``calibration.BN_PLANE_*`` were read off the ResNet traces above, to judge them: other depths,
# batch sizes and widths, fp32 and TF32 (cuDNN's kernels at twice the bytes), and 1-D batch norm.
CHECKS = [
    ("ResNet-50 NCHW", "bench/workloads/resnet.py", "ADVISOR_RESNET_DEPTH=50 ADVISOR_TF32=0", "fp32", 128),
    ("ResNet-50 NCHW", "bench/workloads/resnet.py", "ADVISOR_RESNET_DEPTH=50", "tf32", 256),
    ("ResNet-50 NCHW b64", "bench/workloads/resnet.py", "ADVISOR_RESNET_DEPTH=50", "bf16", 64),
    ("ResNet-152 NCHW", "bench/workloads/resnet.py", "ADVISOR_RESNET_DEPTH=152", "bf16", 128),
    ("ResNet-101 NCHW", "bench/workloads/resnet.py", "ADVISOR_RESNET_DEPTH=101", "fp16", 256),
    ("conv1d audio", "bench/workloads/conv1d_audio.py", "", "bf16", 4096),
]
CHECK_LABELS = {f"{label} {precision}" for label, _, _, precision, _ in CHECKS}


def _env(workload_env: str) -> dict[str, str]:
    """A job's ``KEY=value ...`` environment as a dict."""
    return dict(kv.split("=", 1) for kv in workload_env.split())


def _chain(evt) -> str:
    """The operators above a kernel's launching event, outermost first (the profiler's step marker dropped)."""
    names = []
    while evt is not None:
        if not evt.name.startswith("ProfilerStep#"):
            names.append(evt.name)
        evt = evt.cpu_parent
    return " > ".join(reversed(names))


def _outer_shapes(evt) -> str:
    """The input shapes of the outermost aten operator in the launching chain (which convolution it was)."""
    outer = None
    while evt is not None:
        if evt.name.startswith("aten::"):
            outer = evt
        evt = evt.cpu_parent
    shapes = getattr(outer, "input_shapes", None) if outer is not None else None
    return str([list(s) for s in shapes if s]) if shapes else ""


def record_one(workload: str, precision: str, batch_size: int, device: str) -> dict:
    """One job in this (fresh) process: steady step time without the profiler, then every kernel of a few steps."""
    import torch
    from measure_gpu_rows import build_step
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    step, sync, dev = build_step(workload, precision, batch_size, False, device)
    t0 = time.perf_counter()
    warm = 0
    while warm < 3 or time.perf_counter() - t0 < 2.0:
        step()
        sync()
        warm += 1
    stretch = []
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(10):
            step()
        sync()
        stretch.append((time.perf_counter() - t) / 10)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == "cuda" else [])
    with profile(activities=activities, record_shapes=True) as prof:
        for _ in range(PROFILED_STEPS):
            step()
        sync()
    device_us = sum(e.time_range.elapsed_us() for e in prof.events() if e.device_type == DeviceType.CUDA)
    kernels: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for evt in prof.events():
        for k in evt.kernels:
            row = kernels[(_chain(evt), _outer_shapes(evt), k.name)]
            row[0] += 1
            row[1] += k.duration  # microseconds
    return {"step_seconds": stretch, "profiled_steps": PROFILED_STEPS, "device_us_total": device_us, "warm_steps": warm,
            "gpu": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu", "torch": torch.__version__,
            "kernels": [{"chain": c, "shapes": s, "kernel": n, "count": v[0], "us": v[1]}
                        for (c, s, n), v in sorted(kernels.items(), key=lambda kv: -kv[1][1])]}


def record(out_dir: Path, device: str, only: list[str], timeout_seconds: float) -> int:
    """Each of TRACES in a fresh child; one JSON line per job lands in out_dir/traces.jsonl as it ends."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for label, workload, env, precision, batch in TRACES + CHECKS:
        if only and not any(o in f"{label} {precision}" for o in only):
            continue
        child_env = {**os.environ, **_env(env)}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--record-one", workload, "--precision", precision,
               "--batch-size", str(batch), "--device", device]
        t = time.perf_counter()
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, cwd=str(REPO), env=child_env,
                                 timeout=timeout_seconds)
            result = (json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0
                      else {"error": (out.stderr.strip().splitlines() or [f"exit {out.returncode}"])[-1]})
        except subprocess.TimeoutExpired:
            result = {"error": f"timed out after {timeout_seconds} s"}
        row = {"label": label, "workload": workload, "workload_env": env, "precision": precision,
               "batch_size": batch, "wall_seconds": time.perf_counter() - t, **result}
        with (out_dir / "traces.jsonl").open("a") as fh:
            fh.write(json.dumps(row) + "\n")
        if "error" in result:
            print(f"{label} {precision} b{batch}: ERROR {result['error']}", flush=True)
            continue
        gpu_ms = sum(k["us"] for k in result["kernels"]) / 1e3 / result["profiled_steps"]
        print(f"{label} {precision} b{batch}: step {1e3 * statistics.median(result['step_seconds']):.1f} ms, "
              f"kernels {gpu_ms:.1f} ms a step, {len(result['kernels'])} kernel rows, {row['wall_seconds']:.0f} s",
              flush=True)
    return 0


# ----------------------------------------------------------------------------------------------- the tables

CLASSES = ("convolution", "batch norm", "layer norm", "GEMM", "attention", "element-wise", "pooling", "softmax/loss",
           "casts", "optimizer")


def _class(names: list[str], optimizer: bool) -> str:
    """One operator class for a chain of operator names (a kernel's launchers, or one analysed op)."""
    text = " ".join(names)
    rules = (("optimizer", optimizer), ("casts", "_to_copy" in text), ("attention", "scaled_dot_product" in text
             or "attention" in text), ("batch norm", "batch_norm" in text), ("layer norm", "layer_norm" in text),
             ("convolution", "convolution" in text or "conv2d" in text), ("pooling", "pool" in text),
             ("softmax/loss", "softmax" in text or "nll_loss" in text or "cross_entropy" in text),
             ("GEMM", any(f"aten::{g}" in text or f"aten.{g}." in text
                          for g in ("mm", "addmm", "bmm", "linear", "matmul", "baddbmm"))))
    return next((name for name, hit in rules if hit), "element-wise")


def _launched(row: dict) -> list[dict]:
    """The trace's kernels under the aten operator that launched them. The profiler also hangs a kernel on
    CUPTI's own events ("Command Buffer Full", "Activity Buffer Request") when a launch waits on a full queue:
    counted there too, the kernel would be counted twice (ResNet-50 NCHW: 113.5 against 104.4 ms a step)."""
    return [k for k in row["kernels"] if k["chain"].split(" > ")[-1].startswith("aten::")]


# A kernel each channels-first batch-norm call launches once: (library, direction) -> kernel name prefix
PLANE_CALL_KERNEL = {("native", "forward"): "void at::native::batch_norm_collect_statistics_kernel",
                     ("native", "backward"): "void at::native::batch_norm_backward_kernel",
                     ("cudnn", "forward"): "void cudnn::bn_fw", ("cudnn", "backward"): "void cudnn::bn_bw"}


def plane_calls(rows: list[dict]) -> dict[tuple[str, str], list[tuple[int, float, float]]]:
    """{(library, direction): [(channels, plane elements, seconds a call)]} of the channels-first batch norms
    traced (every kernel the call launched, over the calls of that shape)."""
    out: dict[tuple[str, str], list[tuple[int, float, float]]] = defaultdict(list)
    for r in rows:
        if ("CHANNELS_LAST=1" in r["workload_env"] or f"{r['label']} {r['precision']}" in CHECK_LABELS
                or "batch_norm" not in str(r["kernels"][:400])):
            continue
        library = "native" if r["precision"] == "bf16" else "cudnn"
        shapes: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for k in _launched(r):
            if "batch_norm" not in k["chain"] or not k["shapes"].startswith("[["):
                continue
            direction = "backward" if "Backward" in k["chain"] else "forward"
            dims = [int(x) for x in k["shapes"][2:].split("]", 1)[0].split(",")]
            acc = shapes[(direction, dims[1], math.prod(dims) / dims[1])]
            acc[0] += k["us"]
            acc[1] += k["count"] if k["kernel"].startswith(PLANE_CALL_KERNEL[(library, direction)]) else 0
        for (direction, channels, elements), (us, calls) in shapes.items():
            if calls:
                out[(library, direction)].append((channels, elements, us / 1e6 / calls))
    return out


def layout_table(priced: list[tuple[dict, object]], conv_layout_passes: float) -> None:
    """The derivation of the prior of ``conv_layout_passes``: cuDNN's NCHW <-> NHWC transpose kernels of the
    channels-first 16-bit jobs against one pass over their convolutions' bytes at the roofline's bandwidth
    (``priced``: each traced job with the report's predicted step of it)."""
    print("\ncuDNN's layout transposes of channels-first 16-bit convolutions (kernels named nchwToNhwc / "
          "nhwcToNchw):\n")
    print("| job | precision | batch | transposes ms a step | one pass over the convolutions' bytes, ms | passes |")
    print("|---|---|---:|---:|---:|---:|")
    for r, step in priced:
        if "NCHW" not in r["label"] or r["precision"] not in ("bf16", "fp16"):
            continue
        transposes = sum(k["us"] for k in _launched(r) if "nchwToNhwc" in k["kernel"] or "nhwcToNchw" in k["kernel"])
        one_pass = step.layout_seconds / conv_layout_passes
        ms = transposes / 1e3 / r["profiled_steps"]
        print(f"| {_job(r)} | {r['precision']} | {r['batch_size']} | {ms:.1f} | {1e3 * one_pass:.2f} "
              f"| {ms / (1e3 * one_pass):.2f} |")


def plane_table(rows: list[dict]) -> None:
    """The derivation of ``calibration.BN_PLANE_SECONDS`` and ``BN_PLANE_BLOCKS_PER_SM`` from the trace."""
    from advisor.hardware.specs import resolve_gpu
    from advisor.predictor.optable import PLANE_SM_CLOCK_HZ, sm_clock_flops

    sm_equivalents = sm_clock_flops(resolve_gpu(GPU)) / (128.0 * PLANE_SM_CLOCK_HZ)
    print("\nChannels-first batch norm, one call (all its kernels) against its channel count and plane size (the "
          "calibration traces; not the checks):\n")
    print("| library | direction | calls (shapes) | ns per plane element, <= 128 channels (median) | blocks per "
          "SM-equivalent where calls queue (median, > 2 per SM-equivalent) |")
    print("|---|---|---:|---:|---:|")
    pooled = []
    for (library, direction), calls in sorted(plane_calls(rows).items()):
        alone = [s / e for c, e, s in calls if c <= 128]
        per_element = statistics.median(alone)
        queued = [c * per_element * e / (s * sm_equivalents) for c, e, s in calls if c > 2 * sm_equivalents]
        pooled += queued
        print(f"| {library} | {direction} | {len(calls)} | {1e9 * per_element:.2f} "
              f"| {statistics.median(queued) if queued else float('nan'):.2f} |")
    print(f"| all | | | | {statistics.median(pooled):.2f} (the one value the roofline uses) |")


def measured_classes(row: dict) -> dict[str, float]:
    """{class: measured GPU ms a step} of one traced job."""
    out: dict[str, float] = defaultdict(float)
    for k in _launched(row):
        chain = [n for n in k["chain"].split(" > ") if n.startswith(("aten::", "Optimizer."))]
        out[_class(chain, k["chain"].startswith("Optimizer."))] += k["us"] / 1e3 / row["profiled_steps"]
    return out


def step_model(row: dict, cal):
    """The shipped ``StepModel`` of a traced job on the H200, with the calibration ``cal``."""
    from gpu_rows import harness_tf32_switches

    import advisor.predictor.calibration_fit as C
    from advisor.hardware.specs import resolve_gpu
    from advisor.predictor.roofline import StepModel
    from advisor.probe.analysis import analyze
    from advisor.workload import load_workload

    env = _env(row["workload_env"])
    with C.environment(env), harness_tf32_switches(env):  # ADVISOR_TF32=0: TF32 off, as the job ran
        analysis = analyze(load_workload(REPO / row["workload"]), precision=row["precision"])
    return StepModel(analysis, resolve_gpu(GPU), row["precision"], cal)


def predicted(row: dict, model):
    """(``model``'s step at the job's batch, {class: predicted GPU ms a step}); ``model``: ``step_model(row, cal)``."""
    from per_op_profile import per_operator

    step = model(row["batch_size"])
    out: dict[str, float] = defaultdict(float)
    for r, seconds, _, _ in per_operator(model, row["batch_size"]):
        out[_class([r.op], False)] += 1e3 * seconds
    out["optimizer"] += 1e3 * step.per_phase.get("optimizer", 0.0)
    return step, out


# A GEMM kernel's thread-block tile in its name: cuDNN/cuBLAS's xmma ("tilesize128x128x32"), cuBLAS's nvjet
# ("sm90_tst_192x192_64x4"), CUTLASS's ("s16816gemm_bf16_256x128_64x3_nn").
TILE_IN_NAME = re.compile(r"tilesize(\d+)x(\d+)x\d+|_tst_(\d+)x(\d+)_|_(\d+)x(\d+)_\d+x\d+_(?:nn|nt|tn|tt)_")
TILE_JOBS = ("ResNet-50 NCHW",)  # the job whose pointwise convolutions the tile table reads, at every precision


def gemm_tile(kernel: str) -> str | None:
    """The thread-block tile (e.g. "128x128") in a GEMM kernel's name; None for any other kernel."""
    m = TILE_IN_NAME.search(kernel)
    return None if m is None else "x".join([g for g in m.groups() if g][:2])


def pointwise_forwards(row: dict) -> dict[tuple[int, int, int], tuple[str, float]]:
    """{(M, N, K): (tile, seconds a call)} of a traced job's stride-1 1x1 forward convolutions: implicit GEMMs
    with M = batch x height x width, N the output and K the input channels. ResNet v1.5's only strided 1x1
    convolutions are the projection shortcuts that double the channels (N = 2K): left out, their M is a quarter."""
    out: dict[tuple[int, int, int], list] = {}
    for k in _launched(row):
        tile = gemm_tile(k["kernel"])
        if tile is None or k["chain"].split(" > ")[-1] != "aten::cudnn_convolution":
            continue
        shapes = json.loads(k["shapes"])
        if len(shapes) != 2 or shapes[1][2:] != [1, 1] or shapes[1][0] == 2 * shapes[1][1]:
            continue
        (n, c, h, w), (k_out, _, _, _) = shapes
        acc = out.setdefault((n * h * w, k_out, c), [tile, 0.0, 0, 0.0])
        acc[1] += k["us"] / 1e6
        acc[2] += k["count"]
        if k["us"] > acc[3]:  # the tile of the kernel that took most of the time
            acc[0], acc[3] = tile, k["us"]
    return {shape: (tile, seconds / calls) for shape, (tile, seconds, calls, _) in out.items()}


def priced_forwards(model, batch: int) -> dict[tuple[int, int, int], tuple[float, float, float]]:
    """{(M, N, K): (priced seconds a call, that call's layout seconds, its price with no index work and no
    layout)} of a ``StepModel``'s forward convolutions at ``batch``. The layout passes are separate kernels in the
    trace (cuDNN's NCHW <-> NHWC transposes), and the index work is an implicit GEMM's gather, which a 1x1
    convolution that cuDNN runs as a plain GEMM does not do. The last figure is priced again with
    ``conv_index_ops`` at 0: where staging or memory binds, the index work hides under them, so subtracting it
    would understate the price."""
    import dataclasses

    from advisor.predictor.roofline import StepModel

    bare = StepModel(model.analysis, model.spec, model.precision,
                     dataclasses.replace(model.calibration, conv_index_ops=0.0))
    b0, b1 = model.analysis.batch_sizes
    at = np.array([float(batch)])
    seconds, _, _, _, layout, _ = model.table.op_seconds(at)
    bare_seconds, _, _, _, _, _ = bare.table.op_seconds(at)
    out = {}
    for i, r in enumerate(model.analysis.ops):
        if r.kind != "conv" or r.phase != "forward" or r.gemm is None:
            continue
        g0, g1 = r.gemm
        m = g0[0] + (g1[0] - g0[0]) * (batch - b0) / (b1 - b0)
        out[(round(m), round(g0[1]), round(g0[2]))] = (seconds[0, i] / r.count, layout[0, i],
                                                      bare_seconds[0, i] / r.count - layout[0, i])
    return out


def tile_table(modelled: list[tuple[dict, object]]) -> None:
    """Which tiles the H200's libraries ran ResNet-50's pointwise convolutions with, per precision, the rate
    they reached and the roofline's price of the same call (without its layout passes and index work too).
    ``modelled``: each traced job with its ``step_model``."""
    print("\nResNet-50's stride-1 1x1 forward convolutions (implicit GEMMs M x N x K) on the H200: the tile of the "
          "GEMM kernel that ran, its rate, and the roofline's price of the call, then without its layout passes "
          "(separate transpose kernels in the trace) and its index work (a 1x1 convolution run as a plain GEMM "
          "gathers nothing):\n")
    print("| precision | batch | M x N x K | tile | measured us | TFLOP/s | priced us (layout us) "
          "| priced without layout and index, us | measured / that |")
    print("|---|---:|---|---|---:|---:|---:|---:|---:|")
    for r, model in modelled:
        if r["label"] not in TILE_JOBS:
            continue
        priced = priced_forwards(model, r["batch_size"])
        ratios = []
        for (m, n, k), (tile, seconds) in sorted(pointwise_forwards(r).items(), key=lambda kv: kv[0][2]):
            total, layout, bare = priced[(m, n, k)]
            ratios.append(seconds / bare)
            print(f"| {r['precision']} | {r['batch_size']} | {m:,} x {n:,} x {k:,} | {tile} | {1e6 * seconds:.1f} "
                  f"| {2 * m * n * k / seconds / 1e12:.0f} | {1e6 * total:.1f} ({1e6 * layout:.1f}) "
                  f"| {1e6 * bare:.1f} | {ratios[-1]:.2f} |")
        print(f"| {r['precision']} | | median | | | | | | **{statistics.median(ratios):.2f}** |")


def _job(r: dict) -> str:
    """A traced job's label, marked where it only judges the batch-norm constants (``CHECKS``)."""
    return r["label"] + (" (check)" if f"{r['label']} {r['precision']}" in CHECK_LABELS else "")


def report(trace: Path) -> int:
    from advisor.predictor.calibration import load_calibration

    cal = load_calibration()
    rows = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if "error" not in r]
    print(f"# Kernel traces of advisor's own jobs on an {GPU} against the roofline's split (never fitted)\n")
    print(f"Trace: {trace.relative_to(REPO) if trace.is_relative_to(REPO) else trace} ({rows[0]['gpu']}, torch "
          f"{rows[0]['torch']}); predicted: the shipped calibration on profiles/gpus.csv's {GPU} row.\n")
    print("| job | precision | batch | step ms (no profiler) | GPU kernels ms | predicted step ms | predicted GPU ms "
          "| predicted host ms | step predicted / measured |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    split, modelled = [], [(r, step_model(r, cal)) for r in rows]  # each job analysed once, for every table
    for r, model in modelled:
        step, classes = predicted(r, model)
        measured = measured_classes(r)
        wall_ms = 1e3 * statistics.median(r["step_seconds"])
        kernels_ms = sum(measured.values())
        split.append((r, step, measured, classes))
        print(f"| {_job(r)} | {r['precision']} | {r['batch_size']} | {wall_ms:.1f} | {kernels_ms:.1f} "
              f"| {1e3 * step.seconds:.1f} | {1e3 * step.gpu_seconds:.1f} | {1e3 * step.host_seconds:.1f} "
              f"| {1e3 * step.seconds / wall_ms:.2f} |")
    print("\nBy operator class, measured / predicted GPU ms a step (kernels by the operator chain that launched them; "
          "convolution includes cuDNN's layout transposes):\n")
    print("| job | precision | " + " | ".join(CLASSES) + " |")
    print("|---|---|" + "---:|" * len(CLASSES))
    for r, _, measured, classes in split:
        cells = [f"{measured.get(c, 0.0):.1f} / {classes.get(c, 0.0):.1f}" for c in CLASSES]
        print(f"| {_job(r)} | {r['precision']} | " + " | ".join(cells) + " |")
    plane_table(rows)
    layout_table([(r, step) for r, step, _, _ in split], cal.conv_layout_passes)
    tile_table(modelled)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--record", action="store_true", help="trace the jobs on this machine's GPU")
    p.add_argument("--out-dir", default=".", help="with --record: where traces.jsonl goes")
    p.add_argument("--only", default="", help="with --record: comma-separated substrings of the labels to keep")
    p.add_argument("--device", default="cuda:0", help="with --record: cpu runs a smoke test without a GPU")
    p.add_argument("--timeout", type=float, default=120.0, help="with --record: seconds per job")
    p.add_argument("--trace", default=str(DATA), help="the traces.jsonl the tables read")
    p.add_argument("--record-one", default=None, help=argparse.SUPPRESS)
    p.add_argument("--precision", default="bf16", help=argparse.SUPPRESS)
    p.add_argument("--batch-size", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.record_one:
        print(json.dumps(record_one(args.record_one, args.precision, args.batch_size, args.device)))
        return 0
    if args.record:
        return record(Path(args.out_dir), args.device, [o for o in args.only.split(",") if o], args.timeout)
    return report(Path(args.trace))


if __name__ == "__main__":
    raise SystemExit(main())
