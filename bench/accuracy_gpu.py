"""GPU accuracy: the cross-device predictor ("scaled") against published training throughput.

    .venv/bin/python bench/accuracy_gpu.py [--no-cv] [--data CSV ...] [--calibration JSON]

The workloads are the plain-torch examples (examples/resnet50.py, examples/bert_squad.py with
ADVISOR_BERT_SIZE=base|large: SQuAD span head, sequence 384, ADVISOR_BERT_ATTN=math: the unfused attention of
NVIDIA's BERT that Lambda's harness ran). Each is analysed once per precision (fake
tensors, no GPU needed) and every benchmark row it can express is predicted from the analysis and the GPU's
datasheet (profiles/gpus.csv) with the fitted constants of profiles/calibration.json. Printed (markdown):

1. single-GPU rows of profiles/reference_benchmarks.csv (Lambda 2020-21): measured vs predicted samples/s,
   error, and the median / 90th-percentile absolute error; rows whose GPU lacks a needed datasheet figure
   are "no spec" and excluded (counted); GPU-to-GPU ratios at the same model and precision (every pair,
   and each GPU vs A100-SXM4-40GB and vs V100-32GB);
2. the same for profiles/lambda_current_benchmarks.csv (Lambda's current table, newer NGC software; A100
   80GB, H100, RTX 4090 ...), the second table the constants are fitted on;
3. cross-validation: the constants refitted without one GPU (one model, one table = one software
   generation) and the left-out rows predicted;
4. multi-GPU rows (weak scaling): per-GPU compute from the roofline + advisor.predictor.multigpu.data_parallel
   over the link of the machine each row ran on (bench/lambda_systems.py: NVLink-bridged pairs, cloud VMs),
   total throughput and the K-GPU / 1-GPU ratio;
5. every source together (bench/gpu_rows.py: Lambda's tables and profiles/published_throughput.csv when it
   exists): median / p90 |error| and the signed bias (median of the signed log error, as %) per model family
   and precision and per source, in-sample, leave-one-source-out and leave-one-family-out, and every published
   row beyond Lambda with the shipped constants and "never seen" (constants refitted without its source).

Published rows measure compute throughput with real multi-worker input pipelines, so this compares the compute
model only (roofline / probe_carry). ``advisor predict`` also adds the workload's host side per GPU step
(``advisor.predictor.input_bound``: make_batch or the DataLoader, and the host-to-device copy), which these
figures do not include.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import gpu_rows as G  # noqa: E402

import advisor.predictor.calibration_fit as C  # noqa: E402

ANCHORS = ("A100-SXM4-40GB", "V100-32GB")


def pct(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def stats_line(errors: list[float]) -> str:
    s = C.Evaluation.stats(errors)
    return f"n={s['n']}, median |error| {pct(s['median_abs_error'])}, p90 |error| {pct(s['p90_abs_error'])}"


def anchored(ev: C.Evaluation, anchor: str) -> list[float]:
    """Errors of X / anchor ratios (measured vs predicted), every X at the anchor's model and precision."""
    errs = []
    for a, b, m, p in ev.ratios:
        if b.gpu_model == anchor:
            errs.append(p / m - 1)
        elif a.gpu_model == anchor:
            errs.append(m / p - 1)
    return errs


def row_table(ev: C.Evaluation, title: str) -> None:
    print(f"\n### {title}\n")
    print("| model | precision (source -> advisor) | GPU | batch/GPU | measured /s | predicted /s | error |")
    print("|---|---|---|---:|---:|---:|---:|")
    for r, pred in sorted(ev.rows, key=lambda rp: (rp[0].model, rp[0].source_precision, rp[0].gpu_model)):
        print(f"| {C.SHORT_MODEL.get(r.model, r.model)} | {r.source_precision} -> {r.precision} | {r.gpu_model} "
              f"| {r.batch_size} | {r.throughput:.0f} | {pred:.0f} | {100 * (pred / r.throughput - 1):+.0f}% |")


def multi_gpu(rows: list[C.ReferenceRow], analyses: dict, cal: C.Calibration) -> None:
    from advisor.predictor.multigpu import data_parallel
    from advisor.predictor.roofline import predict_step

    print("\n## Multi-GPU rows (weak scaling, same per-GPU batch)\n")

    singles = {(r.model, r.source_precision, r.gpu_model, r.source): r
               for r in rows if r.gpu_count == 1 and not r.skip_reason}
    multi = [r for r in rows if r.gpu_count > 1]
    usable = [r for r in multi if not r.skip_reason]
    errors, scale_errors = [], []
    print("| model | precision | GPUs | batch/GPU | measured /s | predicted /s | error | measured K/1 "
          "| predicted K/1 |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for r in sorted(usable, key=lambda r: (r.model, r.source_precision, r.gpu_model, r.gpu_count)):
        a = analyses[(r.model, C.trace_precision_for(r.precision))]
        compute = predict_step(a, r.spec, r.batch_size, r.precision, cal).seconds
        link, p2p = G.reference_link(r)  # the benchmarked machine's link (bench/lambda_systems.py)
        dp = data_parallel(compute, a.gradient_bytes, r.gpu_count, link, pcie_p2p=p2p)
        pred = r.gpu_count * r.batch_size / dp.step_seconds
        errors.append(pred / r.throughput - 1)
        one = singles.get((r.model, r.source_precision, r.gpu_model, r.source))
        m_ratio = p_ratio = None
        if one is not None and one.batch_size == r.batch_size:
            m_ratio = r.throughput / one.throughput
            p_ratio = r.gpu_count * compute / dp.step_seconds
            scale_errors.append(p_ratio / m_ratio - 1)
        print(f"| {C.SHORT_MODEL.get(r.model, r.model)} | {r.source_precision} | {r.gpu_count} x {r.gpu_model} "
              f"| {r.batch_size} | {r.throughput:.0f} | {pred:.0f} | {100 * (pred / r.throughput - 1):+.0f}% "
              f"| {'' if m_ratio is None else f'{m_ratio:.2f}'} | {'' if p_ratio is None else f'{p_ratio:.2f}'} |")
    print(f"\nmulti-GPU throughput: {stats_line(errors)}")
    print(f"K GPUs / 1 GPU ratio (same GPU, precision, batch): {stats_line(scale_errors)}")
    print(f"multi-GPU rows without a usable spec: {len(multi) - len(usable)} of {len(multi)}")


def table_section(title: str, ev: C.Evaluation, rows: list[C.ReferenceRow], anchors: tuple[str, ...]) -> None:
    single = [r for r in rows if r.gpu_count == 1]
    skipped = [r for r in single if r.skip_reason]
    print(f"\n## {title}")
    row_table(ev, "Single GPU")
    print(f"\nsingle-GPU rows: {stats_line(ev.row_errors())}")
    print(f"excluded as \"no spec\": {len(skipped)} of {len(single)} single-GPU rows"
          + (f" ({', '.join(sorted({r.gpu_model for r in skipped}))})" if skipped else ""))
    for reason in sorted({r.skip_reason for r in skipped}):
        print(f"  - {reason}")
    print(f"GPU-to-GPU ratios, all pairs: {stats_line(ev.ratio_errors())}")
    for anchor in anchors:
        print(f"GPU-to-GPU ratios, each GPU / {anchor}: {stats_line(anchored(ev, anchor))}")
    by_kind: dict[tuple[str, str], list[float]] = {}
    for r, p in ev.rows:
        by_kind.setdefault((C.SHORT_MODEL.get(r.model, r.model), r.source_precision), []).append(p / r.throughput - 1)
    print("signed median error by model and precision: " + "; ".join(
        f"{m} {prec} {100 * statistics.median(e):+.0f}%" for (m, prec), e in sorted(by_kind.items())))


def group_table(title: str, rows: list[G.Row], preds: dict[int, float], key) -> None:
    """Median / p90 |error| and signed bias per group (``key(row)``) of the predicted rows."""
    print(f"\n### {title}\n")
    print("| group | rows | median abs error | p90 abs error | bias (median signed) |")
    print("|---|---:|---:|---:|---:|")
    groups: dict = {}
    for r in rows:
        if id(r) in preds:
            groups.setdefault(key(r), []).append(math.log(preds[id(r)] / r.measured))
    everything = [e for v in groups.values() for e in v]
    for k in sorted(groups) + ["all"]:
        st = G.stats(everything if k == "all" else groups[k])
        print(f"| {k} | {st['n']} | {pct(st['median'])} | {pct(st['p90'])} | {100 * st['bias']:+.1f}% |")


def all_sources(lambda_rows: list[C.ReferenceRow], lambda_analyses: dict, cal: C.Calibration, cv: bool) -> None:
    """Every source's rows: per family and precision, leave-one-source-out, leave-one-family-out, never seen."""
    rows = G.lambda_rows(lambda_rows) + G.published_rows()
    analyses = G.analyses_for(rows, lambda_analyses)
    print("\n## Every source (Lambda tables + profiles/published_throughput.csv)\n")
    sources = sorted({r.source for r in rows})
    for src in sources:
        mine = [r for r in rows if r.source == src]
        print(f"- {src}: {len(mine)} rows, {sum(1 for r in mine if r.skip)} without a prediction"
              + f" ({sum(1 for r in mine if G.fittable(r))} fitted: single-GPU and NVLink multi-GPU rows)")
    if not G.PUBLISHED.exists():
        print(f"- {G.PUBLISHED.relative_to(REPO)} does not exist yet: Lambda rows only")
    shipped = {id(r): p for r in rows if (p := G.predict(r, analyses, cal)) is not None}
    fam = lambda r: f"{r.family} {r.precision}"  # noqa: E731
    group_table("In-sample (the shipped constants), by family and precision", rows, shipped, fam)
    group_table("In-sample, by source", rows, shipped, lambda r: r.source)
    loso: dict[int, float] = {}
    if cv:
        loso = G.held_out(rows, analyses, "source")
        group_table("Leave-one-source-out (refitted without the row's source), by family and precision",
                    rows, loso, fam)
        group_table("Leave-one-source-out, by source", rows, loso, lambda r: r.source)
        # A family's rows can come from sources of different software eras on the same GPUs (Lambda's 2020-21
        # table against its 2022-23 one): its figure above pools them, this splits them.
        group_table("Leave-one-source-out, by family, precision and source", rows, loso,
                    lambda r: f"{fam(r)} / {r.source}")
        lofo = G.held_out(rows, analyses, "family")
        group_table("Leave-one-family-out (refitted without the row's family), by family and precision",
                    rows, lofo, fam)
    never = [r for r in rows if r.lambda_row is None]
    if never:
        print("\n### Published rows beyond Lambda: shipped constants (every source fitted) and never seen "
              "(constants refitted without the row's source)\n")
        print("| source | model | precision | GPUs | micro-batch x accum | compiled | measured /s | predicted /s "
              "| error | never seen /s | error |")
        print("|---|---|---|---|---:|---|---:|---:|---:|---:|---:|")
        for r in never:
            p, q = shipped.get(id(r)), loso.get(id(r))
            err = f"{100 * (p / r.measured - 1):+.0f}%" if p else (r.skip or "n/a")
            held = f"{q:.1f} | {100 * (q / r.measured - 1):+.0f}%" if q else " | "
            print(f"| {r.source} | {r.model} | {r.precision} | {r.gpu_count} x {r.spec.name if r.spec else '?'} "
                  f"| {r.micro_batch} x {r.grad_accum} | {'yes' if r.compiled else 'no'} | {r.measured:.1f} "
                  f"| {'' if p is None else f'{p:.1f}'} | {err} | {held} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", action="append", default=None,
                    help="benchmark CSV (repeatable; default profiles/reference_benchmarks.csv and "
                    "profiles/lambda_current_benchmarks.csv)")
    ap.add_argument("--calibration", default=None, help="calibration JSON (default profiles/calibration.json)")
    ap.add_argument("--no-cv", action="store_true", help="skip the cross-validation refits (~1-2 min)")
    ns = ap.parse_args(argv)

    cal = C.load_calibration(ns.calibration)
    rows = C.load_fit_rows(ns.data)
    reference = [r for r in rows if r.table == "reference"]
    current = [r for r in rows if r.table == "current"]

    print("# GPU accuracy (method \"scaled\": analysis + datasheet + calibrated roofline)\n")
    print(f"calibration fitted {cal.provenance.get('fitted_on', '?')} on "
          f"{', '.join(cal.provenance.get('data', []))}; free parameters: "
          f"{', '.join(cal.provenance.get('free_parameters', []))}")
    print(f"constants: compute efficiency fp32/tf32/half {cal.compute_eff('matmul', 'fp32'):.3f}/"
          f"{cal.compute_eff('matmul', 'tf32'):.3f}/{cal.compute_eff('matmul', 'half'):.3f}, memory efficiency "
          f"{cal.memory_efficiency:.3f}, operand reuse beyond the tile {cal.operand_reuse:.2f}, K fill "
          f"{cal.gemm_k_fill:.0f}, conv layout passes {cal.conv_layout_passes:.2f}, conv index ops "
          f"{cal.conv_index_ops:.2f}, host/GPU overlap exponent {cal.host_overlap_exponent:.2f}; interval "
          f"half-widths (log): rel_sigma {cal.rel_sigma:.3f}, "
          f"ratio_sigma {cal.ratio_sigma:.3f}")

    t0 = time.perf_counter()
    c0 = time.process_time()
    analyses = C.reference_analyses(rows)
    print(f"\n## Analysis (fake tensors, CPU only): {time.perf_counter() - t0:.1f} s wall, "
          f"{time.process_time() - c0:.1f} s CPU for all six\n")
    print("| model | precision | analysis s | params | fwd GFLOP/sample | fwd+bwd GFLOP/sample | op groups |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (model, prec), a in sorted(analyses.items()):
        print(f"| {C.SHORT_MODEL.get(model, model)} | {prec} | {a.analysis_seconds:.1f} | {a.param_count:,} "
              f"| {a.forward_flops_per_sample / 1e9:.2f} | {a.flops_per_sample / 1e9:.2f} | {len(a.ops)} |")

    if reference:
        table_section("Reference rows (profiles/reference_benchmarks.csv: Lambda 2020-21, NGC 20.01/20.10)",
                      C.evaluate(reference, analyses, cal), reference, ANCHORS)
    if current:
        table_section("Current-table rows (profiles/lambda_current_benchmarks.csv: Lambda, NGC 22.x-23.x)",
                      C.evaluate(current, analyses, cal), current, ("A100-SXM4-80GB", "V100-16GB"))

    if not ns.no_cv:
        print("\n## Cross-validation (constants refitted without the held-out group, its rows predicted)\n")
        for by, label in (("gpu", "leave-one-GPU-out"), ("model", "leave-one-model-out"),
                          ("table", "leave-one-table-out (other software generation)")):
            cv = C.cross_validate(rows, analyses, by)
            ref_cv = C.Evaluation(rows=[(r, p) for r, p in cv.rows if r.table == "reference"],
                                  ratios=[x for x in cv.ratios if x[0].table == "reference"])
            print(f"- {label}: all rows {stats_line(cv.row_errors())}; ratios {stats_line(cv.ratio_errors())}")
            print(f"  - reference rows only: rows {stats_line(ref_cv.row_errors())}; "
                  f"ratios {stats_line(ref_cv.ratio_errors())}")

    multi_gpu(rows, analyses, cal)
    all_sources(rows, analyses, cal, cv=not ns.no_cv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
