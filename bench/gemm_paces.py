"""GEMM paces on a lent GPU: how a matmul's time depends on its M, N and K, against how advisor prices it.

The op-class model prices a tensor-core GEMM as its FLOPs at one fitted efficiency of the datasheet peak,
scaled by the K loop's fill (``1 + k_fill / K``), beside the operands staged through the SMs (``tile_reuse``)
(:mod:`advisor.predictor.gemm`, :mod:`advisor.predictor.optable`). Both were fitted on whole training steps
of published rows, never on a single kernel, and bench/README.md ("What is still off") left two open
questions about them on Hopper: large GEMMs priced at 56-64% of the dense peak against 63-67% measured, and
whether the fill is the same in elements of K on every GPU. ``--record`` (needs a CUDA GPU) times
``torch.matmul``/``torch.bmm`` alone over the shapes that separate them:

- a K sweep at M = N = 8192 (bf16, fp16, TF32) and 4096 (FP32): the fill;
- square GEMMs from 512 to 16384: the main loop's pace and the fixed cost per kernel;
- narrow outputs (N from 16 to 2048 at M = 32768, K = 4096): the operands' reuse per tile;
- the linear layers, their two gradients and the attention products of BERT-base, GPT-2 124M and ViT-B/16 at
  the batches of advisor's own H200 rows.

    python bench/gemm_paces.py --record --out $OUT/gemm.json    # ~1 min on an H200
    python bench/gemm_paces.py --data FILE                      # the tables: measured against priced

Each time is the median of 3 CUDA-event-timed stretches (bench/kernel_paces_h200.py's timer), inputs rotated
over enough buffers to stay out of L2. The calls are launched from Python back to back, so a product shorter than
eager dispatch (about 13-15 us a call on the H200's host) is timed at the launch rate, not the GPU's. Nothing
here is fitted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
if str(REPO) not in sys.path:
    sys.path.insert(1, str(REPO))

from kernel_paces_h200 import rotating, timed  # noqa: E402  (a sibling bench script, not a package)

K_SWEEP = (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
SQUARES = (512, 1024, 2048, 4096, 8192, 16384)
NARROW = (16, 32, 64, 128, 256, 512, 1024, 2048)
# (name, batch, M, N, K): the forward products of advisor's H200 rows' layers (tokens x width), their data
# gradient (M x K over N) and weight gradient (N x K over the tokens) come from ``_with_gradients``.
LAYERS = (
    ("bert-base qkv", 1, 32 * 384, 2304, 768), ("bert-base out", 1, 32 * 384, 768, 768),
    ("bert-base fc1", 1, 32 * 384, 3072, 768), ("bert-base fc2", 1, 32 * 384, 768, 3072),
    ("gpt2 qkv", 1, 12 * 1024, 2304, 768), ("gpt2 fc1", 1, 12 * 1024, 3072, 768),
    ("gpt2 fc2", 1, 12 * 1024, 768, 3072), ("gpt2 lm-head 50257", 1, 12 * 1024, 50257, 768),
    ("gpt2 lm-head 50304", 1, 12 * 1024, 50304, 768),
    ("vit-b16 qkv", 1, 192 * 197, 2304, 768), ("vit-b16 fc1", 1, 192 * 197, 3072, 768),
    ("vit-b16 fc2", 1, 192 * 197, 768, 3072),
)
# (name, batch x heads, M, N, K): attention's two products, Q @ K^T (K = head size) and P @ V (K = tokens).
ATTENTION = (
    ("bert-base QK^T", 32 * 12, 384, 384, 64), ("bert-base PV", 32 * 12, 384, 64, 384),
    ("vit-b16 QK^T", 192 * 12, 197, 197, 64), ("vit-b16 PV", 192 * 12, 197, 64, 197),
    ("gpt2 QK^T", 12 * 12, 1024, 1024, 64), ("gpt2 PV", 12 * 12, 1024, 64, 1024),
)
DTYPES = ("bf16", "fp16", "tf32", "fp32")


def _with_gradients(layers):
    for name, batch, m, n, k in layers:
        yield name + " fwd", batch, m, n, k
        yield name + " dgrad", batch, m, k, n
        yield name + " wgrad", batch, n, k, m


def cases() -> list[dict]:
    """Every (kind, dtype, batch, M, N, K) the recording times, in order."""
    out = [{"kind": "k_sweep", "dtype": d, "batch": 1, "m": s, "n": s, "k": k}
           for d in DTYPES for s in ((4096,) if d == "fp32" else (8192,)) for k in K_SWEEP
           if not (d == "fp32" and k > 4096)]
    out += [{"kind": "square", "dtype": d, "batch": 1, "m": s, "n": s, "k": s}
            for d in ("bf16", "tf32") for s in SQUARES]
    out += [{"kind": "narrow", "dtype": d, "batch": 1, "m": 32768, "n": n, "k": 4096}
            for d in ("bf16", "tf32") for n in NARROW]
    out += [{"kind": "layer", "name": name, "dtype": d, "batch": b, "m": m, "n": n, "k": k}
            for d in ("bf16", "tf32") for name, b, m, n, k in _with_gradients(LAYERS)]
    out += [{"kind": "attention", "name": name, "dtype": d, "batch": b, "m": m, "n": n, "k": k}
            for d in ("bf16", "fp16") for name, b, m, n, k in ATTENTION]
    return out


def _time_case(dev, case: dict) -> float:
    import torch
    torch.backends.cuda.matmul.allow_tf32 = case["dtype"] == "tf32"
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(case["dtype"], torch.float32)
    b, m, n, k = case["batch"], case["m"], case["n"], case["k"]
    shape_a, shape_b = ((b, m, k), (b, k, n)) if b > 1 else ((m, k), (k, n))
    nbytes = (b * (m * k + k * n + m * n)) * torch.tensor([], dtype=dtype).element_size()

    def make():
        return (torch.randn(shape_a, device=dev, dtype=dtype), torch.randn(shape_b, device=dev, dtype=dtype))
    sets = rotating(make, nbytes)
    if b > 1:
        return timed(lambda: torch.bmm(*sets()))
    return timed(lambda: torch.matmul(*sets()))


def record(out: Path) -> int:
    import torch
    dev = torch.device("cuda:0")
    result = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
              "cublas": getattr(torch._C, "_cuda_getCompiledVersion", lambda: None)(), "rows": []}
    for i, case in enumerate(cases(), start=1):
        row = dict(case)
        try:
            row["seconds"] = _time_case(dev, case)
        except (RuntimeError, torch.cuda.OutOfMemoryError) as exc:  # keep the other cases
            row["error"] = str(exc)[:200]
        result["rows"].append(row)
        torch.cuda.empty_cache()
        if i % 20 == 0:  # a run cut short keeps what it timed
            out.write_text(json.dumps(result))
            print(f"{i} cases", flush=True)
    out.write_text(json.dumps(result))
    print(f"{len(result['rows'])} cases", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", action="store_true", help="time the GEMMs on cuda:0 (needs a CUDA GPU)")
    ap.add_argument("--out", default="gemm.json", help="--record: where to write the JSON")
    ap.add_argument("--data", default=None, help="the recorded JSON to print")
    args = ap.parse_args(argv)
    if args.record:
        return record(Path(args.out))
    from gemm_report import report  # the tables need the advisor package; the recording does not
    return report(Path(args.data))


if __name__ == "__main__":
    raise SystemExit(main())
