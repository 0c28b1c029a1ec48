"""The tables of bench/gemm_paces.py: each GEMM an H200 timed, against advisor's price for the same product.

Each recorded case is analysed as bench/workloads/gemm_only.py (``x @ W``, or ``torch.bmm`` for a batched case,
at the case's M, N and K) at its precision and priced with :class:`advisor.predictor.roofline.StepModel` on
profiles/gpus.csv's H200: the forward product's seconds, kernel latency included. Nothing is fitted here.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORKLOAD = REPO / "bench" / "workloads" / "gemm_only.py"
# bench/gemm_paces.py's dtype -> (precision the workload is analysed at, precision it is priced at)
PRECISIONS = {"bf16": ("bf16", "bf16"), "fp16": ("fp16", "fp16"), "tf32": ("fp32", "tf32"), "fp32": ("fp32", "fp32")}


def priced(rows: list[dict], cal=None, gpu: str = "H200") -> list[float]:
    """The forward product's predicted seconds for each of ``rows`` (bench/gemm_paces.py's cases)."""
    from kernel_paces_h200 import priced_ops

    from advisor.hardware.specs import resolve_gpu
    from advisor.predictor.calibration import load_calibration

    cal = cal or load_calibration()
    spec = resolve_gpu(gpu)
    out = []
    for r in rows:
        batched = r["batch"] > 1
        env = {"ADVISOR_GEMM_M": str(r["m"]), "ADVISOR_GEMM_N": str(r["n"]), "ADVISOR_GEMM_K": str(r["k"]),
               "ADVISOR_GEMM_BATCHED": "1" if batched else "0"}
        analysis, seconds = priced_ops(WORKLOAD, env, r["batch"] if batched else r["m"], *PRECISIONS[r["dtype"]],
                                       cal, spec)
        out.append(next(float(t) for op, t in zip(analysis.ops, seconds, strict=True)
                        if op.kind == "matmul" and op.phase == "forward"))
    return out


def _label(r: dict) -> str:
    return r.get("name") or f"{r['m']} x {r['n']} x {r['k']}"


def report(path: Path) -> int:
    data = json.loads(path.read_text())
    rows = [r for r in data["rows"] if "seconds" in r]
    print(f"{data['gpu']}, torch {data['torch']}: {len(rows)} GEMMs timed ({path.name}); predicted by advisor's "
          "shipped calibration on profiles/gpus.csv's H200\n")
    predicted = priced(rows)
    print("| kind | case | dtype | batch | M x N x K | measured us | TFLOP/s | predicted us | measured / predicted |")
    print("|---|---|---|---:|---|---:|---:|---:|---:|")
    ratios: dict[tuple[str, str], list[float]] = {}
    for r, p in zip(rows, predicted, strict=True):
        flops = 2.0 * r["batch"] * r["m"] * r["n"] * r["k"]
        ratio = r["seconds"] / p
        ratios.setdefault((r["kind"], r["dtype"]), []).append(ratio)
        print(f"| {r['kind']} | {_label(r)} | {r['dtype']} | {r['batch']} | {r['m']} x {r['n']} x {r['k']} | "
              f"{1e6 * r['seconds']:.1f} | {flops / r['seconds'] / 1e12:.0f} | {1e6 * p:.1f} | {ratio:.2f} |")
    print("\n| kind | dtype | cases | measured / predicted: median (min-max) |\n|---|---|---:|---|")
    for (kind, dtype), v in ratios.items():
        print(f"| {kind} | {dtype} | {len(v)} | {statistics.median(v):.2f} ({min(v):.2f}-{max(v):.2f}) |")
    return 0


if __name__ == "__main__":  # a module: answer --help (and a bare run) with what runs it
    import argparse

    PRINTED_BY = ("A module, not a script: bench/gemm_paces.py prints its tables "
                  "(run `python bench/gemm_paces.py --help`).")
    argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=PRINTED_BY).parse_args()
    print(PRINTED_BY)
