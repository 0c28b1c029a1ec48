"""Rows of every GPU-throughput source for bench/accuracy_gpu.py, predicted one way, with the folds it reports.

A ``Row`` is one published measurement: Lambda's two tables (``profiles/reference_benchmarks.csv``,
``profiles/lambda_current_benchmarks.csv``, via :mod:`advisor.predictor.calibration_fit`) and, once it exists,
``profiles/published_throughput.csv`` (independent sources: llm-foundry, Megatron-LM, Hugging Face / PyTorch
posts), whose workloads live under bench/workloads/. Every row is predicted the same way: the workload's
analysis + datasheet + the calibrated roofline for one GPU's micro-step (``split_step``: forward + backward
every micro-step, the optimizer once per ``grad_accum_steps``), and ``advisor.predictor.multigpu.data_parallel``
for K > 1 GPUs over the link of the machine the row ran on (``machine_link``: a Lambda row's system name, any
other row's GPU datasheet). Rows whose notes say they ran FSDP (llm-foundry's FULL_SHARD, torchtitan's FSDP2) are
priced as plain data parallel in the fit and its folds; ``predict(..., sharded_as_ran=True)`` prices them as advisor
prices a sharded candidate (``accumulated_data_parallel`` with ``gather_bytes``), which ``bench/sharded_rows.py``
judges. Every source's rows are fitted on (``fit_all``); none of them is on the
project's held-out list (NeuSight labels, NVIDIA DeepLearningExamples READMEs, rasbt/LLMs-from-scratch,
nanoGPT figures), which never enter this file: ``published_rows`` and every fit refuse a row whose source or URL
names one (``advisor.predictor.held_out``). ``held_out`` refits without one source (one family) and predicts
it.
"""

from __future__ import annotations

import contextlib
import csv
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from lambda_systems import link_spec, raw_system_name, system_of

import advisor.predictor.calibration_fit as C

REPO = Path(__file__).resolve().parent.parent
PUBLISHED = REPO / "profiles" / "published_throughput.csv"
FAMILY = {"ResNet-50 v1.5": "resnet", "BERT-base (uncased)": "bert", "BERT-large (uncased)": "bert"}


@dataclass
class Row:
    """One published throughput figure and how to predict it."""

    source: str  # "lambda-reference", "lambda-current", or the CSV's source column
    family: str
    model: str
    precision: str  # the advisor precision
    gpu_count: int
    micro_batch: int  # per GPU
    measured: float  # samples/s, all GPUs
    spec: object | None = None
    grad_accum: int = 1
    compiled: bool = False
    workload: str | None = None  # bench/workloads file (published rows); None: a Lambda row
    env: tuple = ()
    lambda_row: C.ReferenceRow | None = None
    skip: str | None = None
    fitted: bool = False  # in the calibration fit's rows (Lambda single-GPU)
    extra: dict = field(default_factory=dict)
    # (a spec carrying the GPU link, PCIe P2P) of the machine the row ran on, read once (``lambda_rows``): a fit
    # predicts each row many times. None: the GPU datasheet's link and P2P guess.
    link: tuple | None = None

    @property
    def sharded(self) -> bool:
        """Whether the row ran sharded data parallel (FSDP), as its notes say."""
        return "FSDP" in (self.extra.get("notes") or "")

    @property
    def label(self) -> str:
        gpu = self.spec.name if self.spec else "?"
        return f"{self.model} {self.precision} {self.gpu_count}x{gpu} b{self.micro_batch}"


def lambda_rows(rows: list[C.ReferenceRow]) -> list[Row]:
    out = []
    for r in rows:
        out.append(Row(source=f"lambda-{r.table}", family=FAMILY.get(r.model, r.model),
                       model=C.SHORT_MODEL.get(r.model, r.model), precision=r.precision or r.source_precision,
                       gpu_count=r.gpu_count, micro_batch=r.batch_size, measured=r.throughput, spec=r.spec,
                       lambda_row=r, skip=r.skip_reason, fitted=not r.skip_reason,
                       link=reference_link(r) if r.spec is not None else None))
    return out


def published_rows(path: Path = PUBLISHED) -> list[Row]:
    """Rows of profiles/published_throughput.csv (empty when the file does not exist yet). A row whose source or
    url is a held-out source raises ``PredictionError`` (``advisor.predictor.held_out``)."""
    from advisor.errors import AdvisorError
    from advisor.hardware.specs import load_gpu_specs, resolve_gpu
    from advisor.predictor.held_out import refuse_held_out

    if not path.exists():
        return []
    specs = load_gpu_specs()
    out = []
    with path.open(newline="", encoding="utf-8") as fh:
        for raw in csv.DictReader(fh):
            words = (raw.get("workload_env") or "").replace(",", " ").replace(";", " ").split()
            env = tuple(sorted(tuple(kv.split("=", 1)) for kv in words if "=" in kv))
            prec = (raw.get("precision") or "").strip().lower().replace("amp_", "")
            row = Row(source=raw["source"], family=raw["family"], model=raw["model"], precision=prec,
                      gpu_count=int(float(raw["gpu_count"])), micro_batch=int(float(raw["micro_batch_per_gpu"])),
                      measured=float(raw["measured_samples_per_second_total"]),
                      grad_accum=int(float(raw.get("grad_accum_steps") or 1)),
                      compiled=(raw.get("compiled") or "").strip().lower() in ("1", "true", "yes"),
                      workload=raw["workload"], env=env, extra=raw, fitted=True)
            try:
                row.spec = resolve_gpu(raw["gpu"], specs)
                C.check_scalable(row.spec, prec)
            except AdvisorError as exc:
                row.skip = f"no spec: {exc.message.splitlines()[0]}"
            if not (REPO / row.workload).exists():
                row.skip = f"no workload {row.workload}"
            row.fitted = row.skip is None
            out.append(row)
    refuse_held_out(out, str(path))
    return out


def analyses_for(rows: list[Row], lambda_analyses: dict) -> dict:
    """{key: Analysis} for every usable row (Lambda's from calibration_fit, the others analysed here)."""
    from advisor.probe.analysis import analyze
    from advisor.workload import load_workload

    out = dict(lambda_analyses)
    for row in rows:
        if row.skip or row.workload is None:
            continue
        key = analysis_key(row)
        if key in out:
            continue
        try:
            with C.environment(dict(row.env)), harness_tf32_switches(dict(row.env)):
                out[key] = analyze(load_workload(REPO / row.workload), precision=key[2])
        except Exception as exc:  # noqa: BLE001 - a workload that cannot be analysed is reported, not fatal
            row.skip = f"analysis failed: {exc}"
    return out


@contextlib.contextmanager
def harness_tf32_switches(env: dict):
    """torch's TF32 switches as the row's harness set them before loading the workload (the analysis records
    them, and ``--precision fp32`` is priced with them): off where the row's env says ``ADVISOR_TF32=0``
    (bench/measure_gpu_rows.py's fp32 rows), else PyTorch's defaults; back to PyTorch's defaults afterwards,
    so that neither a row's harness nor its workload's own switches leak into anything else in this process."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = env.get("ADVISOR_TF32") != "0"
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = True


def analysis_key(row: Row) -> tuple:
    if row.lambda_row is not None:
        return (row.lambda_row.model, C.trace_precision_for(row.precision))
    return (row.workload, row.env, C.trace_precision_for(row.precision))


def predict(row: Row, analyses: dict, cal: C.Calibration, *, sharded_as_ran: bool = False) -> float | None:
    """Predicted samples/s of the whole system (None when the row cannot be predicted); ``sharded_as_ran``: a row
    that ran FSDP priced sharded (``Row.sharded``), as advisor prices a sharded candidate."""
    from advisor.predictor.multigpu import accumulated_data_parallel, data_parallel
    from advisor.predictor.roofline import split_step
    from advisor.predictor.sharded import gather_bytes_of

    a = analyses.get(analysis_key(row))
    if row.skip or a is None:
        return None
    ph = split_step(a, row.spec, row.micro_batch, row.precision, cal, compiled=row.compiled)
    micro = ph["forward"] + ph["backward"] + ph["overhead"]
    # One optimizer step: A micro-steps, one optimizer update (and, across GPUs, one all-reduce).
    compute = row.grad_accum * micro + ph["optimizer"]
    step = compute
    if row.gpu_count > 1 and row.sharded and sharded_as_ran:
        link, p2p = machine_link(row)
        _, average = accumulated_data_parallel(micro + ph["optimizer"], ph["optimizer"], a.gradient_bytes,
                                               row.gpu_count, link, row.grad_accum, pcie_p2p=p2p, nodes=1,
                                               gather_bytes=gather_bytes_of(a, row.precision))
        step = average * row.grad_accum
    elif row.gpu_count > 1:
        link, p2p = machine_link(row)
        step = data_parallel(compute, a.gradient_bytes, row.gpu_count, link, pcie_p2p=p2p).step_seconds
    return row.gpu_count * row.micro_batch * row.grad_accum / step


def machine_link(row: Row) -> tuple[object, bool | None]:
    """(a spec carrying the GPU link, PCIe peer-to-peer or None for the spec's own guess) of the machine the row
    ran on: a Lambda row's system name says (``reference_link``, kept in ``Row.link``), any other row's GPU
    datasheet does."""
    return row.link if row.link is not None else (row.spec, None)


def reference_link(ref: C.ReferenceRow) -> tuple[object, bool | None]:
    """``machine_link`` of one row of Lambda's tables: the link of the machine its system name names (an
    NVLink-bridged pair, a cloud VM without P2P: ``lambda_systems``), on the GPU's own datasheet figures."""
    from advisor.hardware.specs import resolve_gpu

    system = system_of(raw_system_name(ref.notes, ref.gpu_model), ref.gpu_model, ref.gpu_count)
    if system is None or ref.gpu_count == 1:
        return ref.spec, None
    spec, _ = link_spec(system, resolve_gpu)
    return ref.spec.model_copy(update={"intra_node_link": spec.intra_node_link,
                                       "intra_node_bandwidth_gbs": spec.intra_node_bandwidth_gbs}), system.p2p


def stats(log_errors: list[float]) -> dict[str, float]:
    """n, median and p90 |error| (as ratios, exp(|log e|) - 1) and the signed bias (median log error, as %)."""
    if not log_errors:
        return {"n": 0, "median": math.nan, "p90": math.nan, "bias": math.nan}
    a = sorted(abs(e) for e in log_errors)
    p90 = a[min(len(a) - 1, max(0, math.ceil(0.9 * len(a)) - 1))]
    return {"n": len(a), "median": math.expm1(statistics.median(a)), "p90": math.expm1(p90),
            "bias": math.expm1(statistics.median(log_errors))}


def fittable(row: Row) -> bool:
    """Rows the constants are fitted on: single-GPU rows, and multi-GPU rows of GPUs whose datasheet link is
    NVLink (SXM boards: their all-reduce mostly hides behind backward). Multi-GPU rows over PCIe, and pairs of
    PCIe cards joined by an NVLink bridge (``machine_link``), measure the interconnect model
    (``advisor.predictor.multigpu``, not fitted here) more than the roofline: they are predicted, not fitted."""
    if row.skip:
        return False
    return row.gpu_count == 1 or getattr(row.spec, "intra_node_link", None) == "nvlink"


def fit_all(rows: list[Row], analyses: dict, keep=lambda r: True, base: C.Calibration | None = None
            ) -> C.Calibration:
    """The free constants fitted on every predictable row that ``keep(row)`` admits (single- and multi-GPU,
    every source). Each source weighs as much as ~sqrt(its rows) rows times 4 (so Lambda's ~250 rows do not
    drown the others), spread evenly over its rows."""
    usable = [r for r in rows if fittable(r) and keep(r) and analysis_key(r) in analyses]
    per_source: dict[str, int] = {}
    for r in usable:
        per_source[r.source] = per_source.get(r.source, 0) + 1
    weights = [4.0 * math.sqrt(per_source[r.source]) / per_source[r.source] for r in usable]
    return C.fit_general(usable, lambda r, cal: predict(r, analyses, cal), lambda r: r.measured,
                         base=base, weights=weights, free=C.FREE_PARAMETERS + arch_parameters(usable))


def arch_parameters(rows: list[Row]) -> tuple[str, ...]:
    """"arch.<architecture>.half" for every GPU architecture with a 16-bit row among ``rows``: an architecture
    the rows never ran on keeps the shared efficiency (its factor stays 1), also in a leave-one-out fold."""
    from advisor.predictor.calibration import ARCH_CLASSES, ARCH_PREFIX

    archs = sorted({r.spec.architecture for r in rows if r.spec is not None and r.spec.architecture
                    and r.precision in ("fp16", "bf16")})
    return tuple(f"{ARCH_PREFIX}{a}.{c}" for a in archs for c in ARCH_CLASSES)


def held_out(rows: list[Row], analyses: dict, by: str) -> dict[int, float]:
    """Leave-one-``by``-out predictions (by = "source" or "family"): {id(row): predicted}, every group
    predicted by constants refitted on all the other groups' rows."""
    preds: dict[int, float] = {}
    for group in sorted({getattr(r, by) for r in rows}):
        members = [r for r in rows if getattr(r, by) == group and not r.skip]
        if not members:
            continue
        cal = fit_all(rows, analyses, lambda r, g=group: getattr(r, by) != g)
        for r in members:
            p = predict(r, analyses, cal)
            if p is not None:
                preds[id(r)] = p
    return preds


def ratio_log_errors(rows: list[Row], preds: dict[int, float]) -> list[float]:
    """log(predicted ratio / measured ratio) of every pair of different GPUs at the same source, model and
    precision (what a probe-carried prediction's interval covers: a probe on one GPU scaled to another)."""
    groups: dict[tuple, list[Row]] = {}
    for r in rows:
        groups.setdefault((r.source, r.model, r.precision), []).append(r)
    out = []
    for members in groups.values():
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if a.spec is not None and b.spec is not None and a.spec.name != b.spec.name:
                    out.append(math.log(preds[id(a)] / a.measured) - math.log(preds[id(b)] / b.measured))
    return out


# Fewer fitted rows than this in a kind split by precision class: no figure is written for the split, and its
# jobs take the kind's (calibration._per_kind). The smallest split written today has 13.
MIN_PRECISION_SPLIT_ROWS = 10


def sigma_by_kind(rows: list[Row], analyses: dict, loso: dict[int, float]) -> dict[str, dict[str, float]]:
    """``rel_sigma`` and ``ratio_sigma`` (as ``write_calibration`` computes them) and the median signed
    leave-one-source-out log error (``bias``, as the time's: > 0 ran slower than predicted) over the rows of each
    kind of job (``advisor.predictor.calibration.workload_kind`` of the row's analysis and GPU), and of each kind
    at each precision class (``workload_kind`` with the row's precision) and of that split on each GPU
    architecture (``"<split>@<architecture>"``) that has ``MIN_PRECISION_SPLIT_ROWS``."""
    from advisor.predictor.calibration import architecture_split, workload_kind

    out = {}
    keyed = [r for r in rows if analysis_key(r) in analyses and r.spec is not None]
    kinds = {id(r): workload_kind(analyses[analysis_key(r)], r.spec) for r in keyed}
    splits = {id(r): workload_kind(analyses[analysis_key(r)], r.spec, r.precision) for r in keyed}
    # Each precision split again by the GPU's architecture, where that has the rows: the same kind leans apart by
    # architecture (16-bit rows on GA10x cards ran a fifth faster than predicted, Volta's slower: bench/README.md
    # "What is still off"), and a user of one should be told that architecture's lean, not the class's.
    archs = {id(r): key for r in keyed if (key := architecture_split(splits[id(r)], r.spec))}
    # A probe scales from any GPU, of either class: a kind's ratios are every pair of its op kind.
    op_ratios = {op: ratio_log_errors([r for r in rows if kinds.get(id(r), "").split("/")[0] == op
                                       and id(r) in loso and r.gpu_count == 1], loso)
                 for op in {k.split("/")[0] for k in kinds.values()}}
    coarse = set(kinds.values())
    for kind in sorted(coarse | set(splits.values()) | set(archs.values())):
        mine = [r for r in rows if kind in (kinds.get(id(r)), splits.get(id(r)), archs.get(id(r))) and id(r) in loso]
        errs = [math.log(loso[id(r)] / r.measured) for r in mine if fittable(r)]
        ratios = op_ratios[kind.split("/")[0]]
        if kind not in coarse and len(errs) < MIN_PRECISION_SPLIT_ROWS:
            continue
        if errs:
            out[kind] = {"rel_sigma": C.interval_sigma(errs, C.REL_SIGMA_FLOOR),
                         "ratio_sigma": C.interval_sigma(ratios, C.RATIO_SIGMA_FLOOR) if ratios else None,
                         "bias": round(statistics.median(errs), 4), "rows": len(errs)}
    return out


def fit_calibration() -> C.Calibration:
    """Fit the free constants on every source (``fit_all``), with ``rel_sigma`` the 90th percentile of the
    leave-one-source-out |log error| over the fitted rows (floor 0.15) and ``ratio_sigma`` that of the
    GPU-to-GPU ratios of its single-GPU rows (floor 0.10). Writes nothing."""
    import datetime
    from dataclasses import replace

    lam = C.load_fit_rows()
    rows = lambda_rows(lam) + published_rows()
    analyses = analyses_for(rows, C.reference_analyses(lam))
    cal = fit_all(rows, analyses)
    used = [r for r in rows if fittable(r) and analysis_key(r) in analyses]  # the rows fit_all fits on
    loso = held_out(rows, analyses, "source")
    errs = [math.log(loso[id(r)] / r.measured) for r in rows if fittable(r) and id(r) in loso]
    ratio_errs = ratio_log_errors([r for r in rows if r.gpu_count == 1 and id(r) in loso], loso)
    cal = replace(
        cal, rel_sigma=C.interval_sigma(errs, C.REL_SIGMA_FLOOR),
        ratio_sigma=C.interval_sigma(ratio_errs, C.RATIO_SIGMA_FLOOR),
        sigma_by_kind=sigma_by_kind(rows, analyses, loso),
        compute_efficiency={k: round(v, 4) for k, v in cal.compute_efficiency.items()},
        arch_efficiency={k: round(v, 4) for k, v in sorted(cal.arch_efficiency.items())},
        memory_efficiency=round(cal.memory_efficiency, 4), operand_reuse=round(cal.operand_reuse, 3),
        gemm_k_fill=round(cal.gemm_k_fill, 1), conv_layout_passes=round(cal.conv_layout_passes, 4),
        conv_index_ops=round(cal.conv_index_ops, 3), host_overlap_exponent=round(cal.host_overlap_exponent, 3),
        provenance={
            "data": [f"profiles/{n}" for n in C.FIT_FILES] + [str(PUBLISHED.relative_to(REPO))],
            "sources": sorted({r.source for r in rows if fittable(r)}),
            "fitted_on": datetime.date.today().isoformat(),
            "method": "bench/gpu_rows.py fit_all: least squares on log(predicted/measured), log-normal priors; "
                      "single-GPU rows of every source and multi-GPU rows over NVLink (multigpu.data_parallel; "
                      "llm-foundry FSDP priced as data parallel); each source weighted 4*sqrt(rows); one 16-bit "
                      "tensor factor per GPU architecture with rows (prior 1, log-sd 0.2); tensor-core convolutions' "
                      "im2col index work on the CUDA cores (conv_index_ops, prior 4, log-sd 1); host and GPU time "
                      "combined as a p-norm (host_overlap_exponent, prior 3, log-sd 1); Lambda's "
                      "BERT rows with ADVISOR_BERT_ATTN=math (NVIDIA DLE BERT: unfused attention); "
                      "'amp_fp16' priced as fp16 autocast, the precision a user runs (Lambda's 2020-21 'fp16' rows "
                      "ran no autocast: "
                      "ResNet-50 pure fp16, DLE --fp16 --static-loss-scale 256, network_to_half; BERT apex O2, the "
                      "model in fp16 with fp32 master weights)",
            "free_parameters": list(C.FREE_PARAMETERS) + list(arch_parameters(used)),
            "rows_used": len(used),
            "loso_median_abs_log_error": round(statistics.median(abs(e) for e in errs), 4),
            "rel_sigma": "p90 of leave-one-source-out |log error| over fitted rows, floor 0.15",
            "ratio_sigma": "p90 of leave-one-source-out |log error| of single-GPU GPU-to-GPU ratios (same source, "
                           "model, precision), floor 0.10",
            "sigma_by_kind": "rel_sigma, ratio_sigma (same floors; ratios: every GPU pair of the op kind, "
                             "either class) and the median signed LOSO log error (bias; "
                             "throughput's sign: > 0 predicted too fast) over the rows of one kind of job "
                             "(calibration.workload_kind: conv when convolutions do at least half the matrix FLOPs, "
                             "/tensor-heavy on a GPU whose 16-bit tensor rate is >= 10x its FP32 rate), and of each "
                             f"kind at each precision class (/16-bit, /32-bit) and of that on each GPU architecture "
                             f"(@Ampere-GA10x ...) with {MIN_PRECISION_SPLIT_ROWS}+ rows",
        })
    return cal


def write_calibration(out: Path | None = None) -> C.Calibration:
    """``fit_calibration`` written to ``out`` (default profiles/calibration.json) and printed."""
    import json

    cal = fit_calibration()
    target = out or REPO / "profiles" / "calibration.json"
    target.write_text(json.dumps(cal.to_json(), indent=2) + "\n", encoding="utf-8")
    print(json.dumps(cal.to_json(), indent=2))
    print(f"wrote {target}")
    return cal


def main(argv: list[str] | None = None) -> int:
    """Refit on every source and print the calibration; write it only when asked (--write or --out)."""
    import argparse
    import json
    import sys

    ap = argparse.ArgumentParser(
        description="Refit advisor's GPU calibration on every published-throughput source (about 2.5 min) and "
                    "print it. Nothing is written unless --write or --out is given.")
    ap.add_argument("--write", action="store_true", help="replace profiles/calibration.json with the refit")
    ap.add_argument("--out", type=Path, metavar="FILE", help="write the refit to FILE (not the shipped file)")
    args = ap.parse_args(argv)
    if args.write or args.out:
        write_calibration(args.out)
        return 0
    print(json.dumps(fit_calibration().to_json(), indent=2))
    print("not written: pass --write to replace profiles/calibration.json, or --out FILE", file=sys.stderr)
    return 0


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
