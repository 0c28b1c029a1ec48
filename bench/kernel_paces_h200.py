"""Single-kernel paces on a lent GPU: LayerNorm, softmax and fused attention across shapes, against a plain stream.

The kernel traces of advisor's own H200 jobs (bench/kernel_trace_h200.py, section "Where the H200's steps go")
left two operator classes slower than the roofline prices them in every transformer: PyTorch's LayerNorm
(1.7x) and cuDNN's fused attention at head size 64 with short sequences (2.5x). A whole model cannot say
which shape, dtype or option sets the pace. ``--record`` (needs a CUDA GPU; run on a lent one) times each
kernel family alone, over the shapes and options that separate the candidate causes:

- a plain streaming copy and a scaled add (the bandwidth this GPU reaches at all);
- LayerNorm forward, its input gradient and its weight/bias gradient (``native_layer_norm_backward`` with one
  output mask, then all three), by row width and dtype, at a fixed element count;
- softmax forward and backward over the last dimension, by row width and dtype;
- ``F.scaled_dot_product_attention`` forward and forward + backward per backend (cuDNN, flash, memory-efficient),
  head size, sequence length, causal or not, with and without an additive mask and in-kernel dropout.

    python bench/kernel_paces_h200.py --record --out $OUT/paces.json    # ~1 min on an H200
    python bench/kernel_paces_h200.py                                   # the tables, from bench/data/
    python bench/kernel_paces_h200.py --priced                          # and attention against the roofline

Each time is the median of 3 stretches of CUDA-event-timed calls, inputs rotated over enough buffers to
stay out of the 50 MB L2. The default mode prints achieved bandwidth (GB/s and the share of the datasheet's)
or achieved TFLOP/s (the FLOPs ``torch.utils.flop_counter`` counts: causal attention counted whole, as the
analysis counts it). Nothing here is fitted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "bench" / "data" / "h200_paces_2026-12-04.json"
L2_BYTES = 50e6  # an H200's L2 (the datasheet's 50 MB): inputs rotate over enough buffers to exceed it 4x
LN_WIDTHS = (256, 512, 768, 1024, 1600, 2048, 4096, 8192)
LN_ELEMENTS = (2**25, 2**23)
SOFTMAX_WIDTHS = (64, 128, 197, 256, 384, 512, 1024, 2048, 4096)
SOFTMAX_ELEMENTS = 2**26
SDPA_TOKENS = 2**16  # batch x sequence, every attention shape
SDPA_SEQS = (128, 197, 256, 384, 512, 1024, 2048, 4096)
SDPA_HEADS = {64: 12, 128: 16}  # head size -> heads (BERT/ViT/GPT-2-base width; a 2048-wide decoder)


def timed(fn, stretches: int = 3, min_seconds: float = 0.02) -> float:
    """Median seconds per call of ``fn`` over ``stretches`` CUDA-event-timed stretches."""
    import torch
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    calls = max(3, min(200, int(min_seconds / max(start.elapsed_time(end) / 1e3, 1e-6))))
    out = []
    for _ in range(stretches):
        start.record()
        for _ in range(calls):
            fn()
        end.record()
        end.synchronize()
        out.append(start.elapsed_time(end) / 1e3 / calls)
    return statistics.median(out)


def rotating(make, nbytes: float):
    """A callable's argument source: enough copies of ``make()`` that one pass over them overflows L2 4x."""
    copies = [make() for _ in range(max(1, int(4 * L2_BYTES / max(nbytes, 1.0)) + 1))]
    state = {"i": 0}

    def nxt():
        state["i"] = (state["i"] + 1) % len(copies)
        return copies[state["i"]]
    return nxt


def record_stream(dev) -> list[dict]:
    import torch
    rows = []
    for dtype in (torch.float32, torch.bfloat16):
        n = 2**28 // (4 if dtype == torch.float32 else 2)
        x, y = torch.randn(n, device=dev, dtype=dtype), torch.empty(n, device=dev, dtype=dtype)
        nbytes = 2 * x.numel() * x.element_size()
        rows.append({"kind": "copy", "dtype": str(dtype).split(".")[-1], "bytes": nbytes,
                     "seconds": timed(lambda x=x, y=y: y.copy_(x))})
        rows.append({"kind": "add", "dtype": str(dtype).split(".")[-1], "bytes": 1.5 * nbytes,
                     "seconds": timed(lambda x=x, y=y: torch.add(x, y, alpha=0.5, out=y))})
    return rows


def _layer_norm_case(dev, dtype, tokens: int, width: int) -> dict:
    import torch
    size = tokens * width * (4 if dtype == torch.float32 else 2)
    w = torch.randn(width, device=dev, dtype=dtype)
    b = torch.randn(width, device=dev, dtype=dtype)

    def make():
        x = torch.randn(tokens, width, device=dev, dtype=dtype)
        _, mean, rstd = torch.ops.aten.native_layer_norm(x, [width], w, b, 1e-5)
        return x, torch.randn_like(x), mean, rstd
    sets = rotating(make, 2 * size)

    def forward():
        return torch.ops.aten.native_layer_norm(sets()[0], [width], w, b, 1e-5)

    def backward(mask):
        x, dy, mean, rstd = sets()
        return torch.ops.aten.native_layer_norm_backward(dy, x, [width], mean, rstd, w, b, mask)
    return {"kind": "layer_norm", "dtype": str(dtype).split(".")[-1], "rows": tokens, "width": width,
            "tensor_bytes": size, "forward_seconds": timed(forward),
            "grad_input_seconds": timed(lambda: backward([True, False, False])),
            "grad_weight_seconds": timed(lambda: backward([False, True, True])),
            "backward_seconds": timed(lambda: backward([True, True, True]))}


def record_layer_norm(dev) -> list[dict]:
    import torch
    return [_layer_norm_case(dev, dtype, elements // width, width)
            for dtype in (torch.float32, torch.bfloat16) for elements in LN_ELEMENTS for width in LN_WIDTHS]


def _softmax_case(dev, dtype, tokens: int, width: int) -> dict:
    import torch
    size = tokens * width * (4 if dtype == torch.float32 else 2)

    def make():
        x = torch.randn(tokens, width, device=dev, dtype=dtype)
        return x, torch.softmax(x, -1), torch.randn_like(x)
    sets = rotating(make, 2 * size)

    def backward():
        _, y, dy = sets()
        return torch.ops.aten._softmax_backward_data(dy, y, -1, dtype)
    return {"kind": "softmax", "dtype": str(dtype).split(".")[-1], "rows": tokens, "width": width,
            "tensor_bytes": size, "forward_seconds": timed(lambda: torch.softmax(sets()[0], -1)),
            "backward_seconds": timed(backward)}


def record_softmax(dev) -> list[dict]:
    import torch
    return [_softmax_case(dev, dtype, SOFTMAX_ELEMENTS // width, width)
            for dtype in (torch.float32, torch.bfloat16, torch.float16) for width in SOFTMAX_WIDTHS]


def _sdpa_case(dev, backend, head: int, seq: int, causal: bool, mask: bool, dropout: float) -> dict:
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import sdpa_kernel
    from torch.utils.flop_counter import sdpa_backward_flop_count, sdpa_flop_count
    heads = SDPA_HEADS[head]
    batch = max(1, SDPA_TOKENS // seq)
    shape = (batch, heads, seq, head)
    q, k, v = (torch.randn(shape, device=dev, dtype=torch.bfloat16, requires_grad=True) for _ in range(3))
    bias = torch.zeros(batch, 1, 1, seq, device=dev, dtype=torch.bfloat16) if mask else None
    if bias is not None:
        bias[:, :, :, seq - seq // 8:] = -1e4  # padded keys, as a BERT batch masks them
    row = {"kind": "sdpa", "backend": backend.name, "head": head, "heads": heads, "batch": batch, "seq": seq,
           "causal": causal, "mask": mask, "dropout": dropout,
           "forward_flops": sdpa_flop_count(shape, shape, shape),
           "backward_flops": sdpa_backward_flop_count(shape, shape, shape, shape)}
    try:
        with sdpa_kernel([backend]):
            def fwd():
                return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=dropout, is_causal=causal)
            out = fwd()
            grad = torch.randn_like(out)
            row["forward_seconds"] = timed(fwd)

            def both():  # autograd.grad: no accumulation into q.grad & co. to time with it
                torch.autograd.grad(fwd(), (q, k, v), grad)
            row["forward_backward_seconds"] = timed(both)
    except RuntimeError as exc:  # a backend that does not take this case (a mask on flash, ...)
        row["error"] = str(exc).splitlines()[0][:200]
    return row


def record_sdpa(dev) -> list[dict]:
    from torch.nn.attention import SDPBackend
    rows = []
    for backend in (SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION):
        for head in SDPA_HEADS:
            for seq in SDPA_SEQS:
                for causal in (False, True):
                    rows.append(_sdpa_case(dev, backend, head, seq, causal, False, 0.0))
            for seq in (128, 197, 384, 512):
                rows.append(_sdpa_case(dev, backend, head, seq, False, True, 0.0))
                rows.append(_sdpa_case(dev, backend, head, seq, False, False, 0.1))
                rows.append(_sdpa_case(dev, backend, head, seq, False, True, 0.1))
            rows.append(_sdpa_case(dev, backend, head, 1024, True, False, 0.1))
    return rows


def record(out: Path) -> int:
    import torch
    dev = torch.device("cuda:0")
    torch.backends.cuda.matmul.allow_tf32 = False
    result = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
              "cudnn": torch.backends.cudnn.version(), "rows": []}
    for part in (record_stream, record_layer_norm, record_softmax, record_sdpa):
        try:
            result["rows"] += part(dev)
        except (RuntimeError, torch.cuda.OutOfMemoryError) as exc:  # keep the other parts' rows
            result.setdefault("errors", []).append(f"{part.__name__}: {exc}")
            print(f"{part.__name__}: ERROR {exc}", flush=True)
        torch.cuda.empty_cache()
        out.write_text(json.dumps(result))
        print(f"{part.__name__}: {len(result['rows'])} rows so far", flush=True)
    return 0


# ----------------------------------------------------------------------------------------------- the tables

def _gbs(nbytes: float, seconds: float) -> float:
    return nbytes / seconds / 1e9


def report(path: Path, bandwidth_gbs: float) -> int:
    data = json.loads(path.read_text())
    rows = data["rows"]
    print(f"# Kernel paces on one {data['gpu']} (torch {data['torch']}, cuDNN {data['cudnn']}); datasheet "
          f"bandwidth {bandwidth_gbs:.0f} GB/s\n")
    print("| stream | dtype | GB/s | share of datasheet |\n|---|---|---:|---:|")
    for r in rows:
        if r["kind"] in ("copy", "add"):
            g = _gbs(r["bytes"], r["seconds"])
            print(f"| {r['kind']} | {r['dtype']} | {g:.0f} | {g / bandwidth_gbs:.2f} |")
    print("\nLayerNorm: bytes moved as one pass each over x and y (forward), dy, x and dx (input gradient), dy and "
          "x (weight gradient); GB/s\n")
    print("| dtype | rows | width | forward | input grad | weight grad | backward (all three) | forward us |"
          "\n|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if r["kind"] == "layer_norm":
            t = r["tensor_bytes"]
            print(f"| {r['dtype']} | {r['rows']} | {r['width']} | {_gbs(2 * t, r['forward_seconds']):.0f} | "
                  f"{_gbs(3 * t, r['grad_input_seconds']):.0f} | {_gbs(2 * t, r['grad_weight_seconds']):.0f} | "
                  f"{_gbs(5 * t, r['backward_seconds']):.0f} | {1e6 * r['forward_seconds']:.1f} |")
    print("\nSoftmax over the last dimension: forward reads x and writes y, backward reads dy and y and writes dx; "
          "GB/s\n")
    print("| dtype | rows | width | forward | backward |\n|---|---:|---:|---:|---:|")
    for r in rows:
        if r["kind"] == "softmax":
            t = r["tensor_bytes"]
            print(f"| {r['dtype']} | {r['rows']} | {r['width']} | {_gbs(2 * t, r['forward_seconds']):.0f} | "
                  f"{_gbs(3 * t, r['backward_seconds']):.0f} |")
    print("\nFused attention, bf16, batch x sequence = 65,536 tokens; TFLOP/s of the FLOPs the analysis counts "
          "(causal counted whole)\n")
    print("| backend | head | seq | causal | mask | dropout | forward TFLOP/s | backward TFLOP/s | forward us |"
          "\n|---|---:|---:|---|---|---:|---:|---:|---:|")
    for r in rows:
        if r["kind"] != "sdpa":
            continue
        if "error" in r:
            print(f"| {r['backend']} | {r['head']} | {r['seq']} | {r['causal']} | {r['mask']} | {r['dropout']} | "
                  f"not run: {r['error'][:60]} | | |")
            continue
        bwd = _directions(r)["backward"]
        print(f"| {r['backend']} | {r['head']} | {r['seq']} | {r['causal']} | {r['mask']} | {r['dropout']} | "
              f"{r['forward_flops'] / r['forward_seconds'] / 1e12:.0f} | "
              f"{r['backward_flops'] / max(bwd, 1e-9) / 1e12:.0f} | {1e6 * r['forward_seconds']:.0f} |")
    print("\nWhat in-kernel dropout and an additive mask add per score (batch x heads x queries x keys), the median "
          f"over head sizes 64 and 128 and sequences {', '.join(map(str, PACE_SEQS))} (advisor's "
          "``calibration.ATTENTION_SCORE_SECONDS``):\n")
    print("| backend | " + " | ".join(f"{o}.{d} ps" for o in ("dropout", "mask") for d in ("forward", "backward"))
          + " |\n|---|---:|---:|---:|---:|")
    for backend in ("CUDNN_ATTENTION", "FLASH_ATTENTION", "EFFICIENT_ATTENTION"):
        paces = attention_paces(rows, backend)
        cells = [f"{1e12 * paces[k]:.2f}" if k in paces else "-" for k in
                 (f"{o}.{d}" for o in ("dropout", "mask") for d in ("forward", "backward"))]
        print(f"| {backend} | " + " | ".join(cells) + " |")
    rate, fill = backward_fit(rows)
    print(f"\nThe backward's time per FLOP over the forward's, rate + fill / sequence (medians of the cuDNN and "
          f"FlashAttention-2 fits at head sizes 64 and 128): rate {rate:.3f}, fill {fill:.1f} tokens")
    return 0


# The sequences the attention paces are read at: multiples of the kernels' 64-row tiles (197 pads to 256 and
# runs another, slower masked path: printed, not used).
PACE_SEQS = (128, 384, 512)


def _directions(r: dict) -> dict[str, float]:
    """{"forward": seconds, "backward": seconds} of one attention case (the backward: its forward + backward less
    the forward)."""
    return {"forward": r["forward_seconds"], "backward": r["forward_backward_seconds"] - r["forward_seconds"]}


def attention_paces(rows: list[dict], backend: str = "CUDNN_ATTENTION") -> dict[str, float]:
    """{"<option>.<direction>": seconds per score (batch x heads x queries x keys)} that in-kernel dropout or an
    additive mask adds to one fused attention call of ``backend``: each case's time less the same shape's
    without the option, per score, the median over head sizes and ``PACE_SEQS``."""
    plain = {(r["head"], r["seq"]): _directions(r) for r in rows
             if r["kind"] == "sdpa" and r["backend"] == backend and "error" not in r and not r["causal"]
             and not r["mask"] and not r["dropout"]}
    extra: dict[str, list[float]] = {}
    for r in rows:
        if (r["kind"] != "sdpa" or r["backend"] != backend or "error" in r or r["causal"] or r["seq"] not in PACE_SEQS
                or bool(r["mask"]) == bool(r["dropout"])):
            continue
        option = "mask" if r["mask"] else "dropout"
        scores = r["batch"] * r["heads"] * r["seq"] * r["seq"]
        for direction, seconds in _directions(r).items():
            extra.setdefault(f"{option}.{direction}", []).append(
                (seconds - plain[(r["head"], r["seq"])][direction]) / scores)
    return {k: statistics.median(v) for k, v in sorted(extra.items())}


def backward_fit(rows: list[dict]) -> tuple[float, float]:
    """(rate, fill): the backward's time per FLOP over the forward's as ``rate + fill / sequence``, fitted by least
    squares per backend (cuDNN, FlashAttention-2) and head size (64, 128) over the plain calls (no mask, dropout or
    causal mask) at multiples of 64 tokens; the medians of the four fits (advisor's
    ``optable.ATTENTION_BACKWARD_RATE`` and ``_FILL``)."""
    import numpy as np
    fits = []
    for backend in ("CUDNN_ATTENTION", "FLASH_ATTENTION"):
        for head in SDPA_HEADS:
            seqs, ratios = [], []
            for r in rows:
                if (r["kind"] == "sdpa" and r["backend"] == backend and "error" not in r and r["head"] == head
                        and not (r["causal"] or r["mask"] or r["dropout"]) and r["seq"] % 64 == 0):
                    bwd = _directions(r)["backward"]
                    seqs.append(float(r["seq"]))
                    ratios.append(bwd / r["forward_seconds"] / (r["backward_flops"] / r["forward_flops"]))
            s = np.array(seqs)
            (rate, fill), *_ = np.linalg.lstsq(np.vstack([np.ones_like(s), 1.0 / s]).T, np.array(ratios), rcond=None)
            fits.append((float(rate), float(fill)))
    return statistics.median(f[0] for f in fits), statistics.median(f[1] for f in fits)


def priced_ops(workload: Path, env: dict[str, str], batch_size: int, analysed_at: str, priced_at: str, cal, spec):
    """(the analysis, each of its ops' predicted seconds in one step): ``workload`` analysed at ``analysed_at``
    with ``env`` set, priced on ``spec`` at ``priced_at`` and ``batch_size`` with ``cal``. The single kernels
    this file and bench/gemm_paces.py time are priced this way."""
    import numpy as np

    import advisor.predictor.calibration_fit as C
    from advisor.predictor.roofline import StepModel
    from advisor.probe.analysis import analyze
    from advisor.workload import load_workload

    with C.environment(env):
        analysis = analyze(load_workload(workload), precision=analysed_at)
    seconds = StepModel(analysis, spec, priced_at, cal).table.op_seconds(np.array([float(batch_size)]))[0][0]
    return analysis, seconds


def priced_attention(rows: list[dict], cal=None) -> list[tuple[dict, float, float]]:
    """[(cuDNN row, predicted forward seconds, predicted backward seconds)]: each measured case analysed as
    bench/workloads/attention_only.py and priced on profiles/gpus.csv's H200 with ``cal`` (default: shipped)."""
    from advisor.hardware.specs import resolve_gpu
    from advisor.predictor.calibration import load_calibration

    cal = cal or load_calibration()
    spec = resolve_gpu("H200")
    out = []
    for r in rows:
        if r["kind"] != "sdpa" or r["backend"] != "CUDNN_ATTENTION" or "error" in r:
            continue
        env = {"ADVISOR_ATTN_HEAD": str(r["head"]), "ADVISOR_ATTN_HEADS": str(r["heads"]),
               "ADVISOR_ATTN_SEQ": str(r["seq"]), "ADVISOR_ATTN_CAUSAL": str(int(r["causal"])),
               "ADVISOR_ATTN_MASK": str(int(r["mask"])), "ADVISOR_ATTN_DROPOUT": str(r["dropout"])}
        analysis, seconds = priced_ops(REPO / "bench" / "workloads" / "attention_only.py", env, r["batch"], "bf16",
                                       "bf16", cal, spec)
        phases = {"forward": 0.0, "backward": 0.0}
        for op, t in zip(analysis.ops, seconds, strict=True):
            if "attention" in op.op:
                phases[op.phase] += float(t)
        out.append((r, phases["forward"], phases["backward"]))
    return out


def priced_table(rows: list[dict]) -> None:
    print("\ncuDNN's fused attention on the H200, measured / predicted microseconds a call (the shipped calibration; "
          "bench/workloads/attention_only.py analysed at each shape):\n")
    print("| head | seq | causal | mask | dropout | forward meas / pred (ratio) | backward meas / pred (ratio) |"
          "\n|---:|---:|---|---|---:|---|---|")
    for r, fwd, bwd in priced_attention(rows):
        mf, mb = _directions(r).values()
        print(f"| {r['head']} | {r['seq']} | {r['causal']} | {r['mask']} | {r['dropout']} | {1e6 * mf:.0f} / "
              f"{1e6 * fwd:.0f} ({mf / fwd:.2f}) | {1e6 * mb:.0f} / {1e6 * bwd:.0f} ({mb / bwd:.2f}) |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", action="store_true", help="time the kernels on cuda:0 (needs a CUDA GPU)")
    ap.add_argument("--out", default=None, help="--record: where to write the JSON")
    ap.add_argument("--data", default=str(DATA), help="the recorded JSON to print")
    ap.add_argument("--bandwidth-gbs", type=float, default=4800.0, help="the GPU's datasheet bandwidth (H200)")
    ap.add_argument("--priced", action="store_true", help="also price each cuDNN attention case (~30 s)")
    args = ap.parse_args(argv)
    if args.record:
        return record(Path(args.out or DATA))
    report(Path(args.data), args.bandwidth_gbs)
    if args.priced:
        priced_table(json.loads(Path(args.data).read_text())["rows"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
