"""``python -m advisor.probe.analysis WORKLOAD.py [--batch N] [--precision P]``: print a workload's analysis.

A developer's tool: the totals and the per-kind FLOPs and bytes at one batch size.
"""

from __future__ import annotations

import argparse

from advisor.probe.analysis import analyze, summarize
from advisor.schemas import PRECISIONS


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - a developer's tool
    """python -m advisor.probe.analysis WORKLOAD.py [--batch N] [--precision P]: print the analysis."""
    from advisor.workload import load_workload

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("workload")
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--precision", default="fp32", choices=PRECISIONS)
    ns = ap.parse_args(argv)
    wl = load_workload(ns.workload)
    a = analyze(wl, precision=ns.precision)
    b = ns.batch or wl.batch_size or 32
    print(f"{wl.name}: analysed in {a.analysis_seconds:.2f} s; {a.param_count:,} parameters; "
          f"{a.forward_flops_per_sample / 1e9:.3f} GFLOP forward / sample, {a.flops_per_sample / 1e9:.3f} "
          f"GFLOP forward+backward / sample; optimizer {a.optimizer} ({a.optimizer_state_bytes / 2**20:.1f} MiB "
          f"state); activations {a.activation_bytes_per_sample / 2**20:.1f} MiB/sample + "
          f"{a.activation_bytes_fixed / 2**20:.1f} MiB; {len(a.ops)} op groups")
    print(f"at batch {b}:")
    for kind, d in sorted(summarize(a, b).items(), key=lambda kv: -kv[1]["bytes"]):
        print(f"  {kind:12s} {d['count']:6d} ops  {d['flops'] / 1e9:10.1f} GFLOP  {d['bytes'] / 1e9:8.2f} GB")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
