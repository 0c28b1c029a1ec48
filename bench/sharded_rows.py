"""The published rows that ran sharded data parallel (llm-foundry's FSDP FULL_SHARD, torchtitan's FSDP2), priced
both ways with the shipped constants: as plain data parallel (how the calibration fit and its folds price them) and
as advisor prices a sharded candidate (``advisor.predictor.sharded``: two 16-bit weight all-gathers and an fp32
reduce-scatter every micro-step, overlapping the forward and the backward, the optimizer over 1/K). Judged, never
fitted: nothing here changes a constant.

    .venv/bin/python bench/sharded_rows.py [--calibration FILE]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gpu_rows as G  # noqa: E402

from advisor.predictor.calibration import load_calibration  # noqa: E402


def _summary(label: str, errors: list[float]) -> str:
    signed = [100 * (math.exp(e) - 1) for e in errors]
    absolute = sorted(abs(x) for x in signed)
    p90 = absolute[min(len(absolute) - 1, math.ceil(0.9 * len(absolute)) - 1)]
    return (f"| {label} | {len(errors)} | {statistics.median(absolute):.1f}% | {p90:.1f}% | "
            f"{statistics.median(signed):+.1f}% |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calibration", type=Path, default=None, help="calibration JSON (default: the shipped one)")
    args = ap.parse_args(argv)
    cal = load_calibration(args.calibration)
    rows = [r for r in G.published_rows() if r.sharded and r.gpu_count > 1 and not r.skip]
    analyses = G.analyses_for(rows, {})
    print("| source | model | GPUs | micro-batch x accum | measured /s | as DDP /s | error | sharded /s | error |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    ddp_errors, sharded_errors = [], []
    by_source: dict[str, tuple[list[float], list[float]]] = {}
    for r in rows:
        ddp = G.predict(r, analyses, cal)
        sharded = G.predict(r, analyses, cal, sharded_as_ran=True)
        if ddp is None or sharded is None:
            continue
        e_ddp, e_sh = math.log(ddp / r.measured), math.log(sharded / r.measured)
        ddp_errors.append(e_ddp)
        sharded_errors.append(e_sh)
        pair = by_source.setdefault(r.source, ([], []))
        pair[0].append(e_ddp)
        pair[1].append(e_sh)
        print(f"| {r.source} | {r.model} | {r.gpu_count} x {r.spec.name} | {r.micro_batch} x {r.grad_accum} | "
              f"{r.measured:.1f} | {ddp:.1f} | {100 * (ddp / r.measured - 1):+.0f}% | {sharded:.1f} | "
              f"{100 * (sharded / r.measured - 1):+.0f}% |")
    print("\nthroughput error, > 0 predicted too fast (shipped constants, in-sample)\n")
    print("| priced as | rows | median abs error | p90 abs error | bias (median signed) |")
    print("|---|---:|---:|---:|---:|")
    for source, (d, s) in sorted(by_source.items()):
        print(_summary(f"DDP, {source}", d))
        print(_summary(f"sharded, {source}", s))
    print(_summary("DDP, all", ddp_errors))
    print(_summary("sharded, all", sharded_errors))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
