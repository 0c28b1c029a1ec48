"""The offline fit of the roofline's constants (:mod:`advisor.predictor.calibration`) on published benchmarks.

A developer tool, not used at prediction time: it analyses the benchmark workloads of a source checkout
(``examples/resnet50.py``, ``examples/bert_squad.py``) with :mod:`advisor.probe.analysis` and writes
``profiles/calibration.json``, which :func:`advisor.predictor.calibration.load_calibration` reads.

``python -m advisor.predictor.calibration_fit --fit`` fits the free ones (``FREE_PARAMETERS``) by least squares on
log(predicted / measured throughput) over the single-GPU rows of two published tables of the same benchmark
harness (Lambda's, NVIDIA DLE code; ResNet-50 and BERT-base/large SQuAD at sequence 384, fp32 and AMP fp16;
the source's "fp32" on Ampere+ ran TF32, NGC's default): ``profiles/reference_benchmarks.csv`` (2020-21,
NGC 20.01/20.10: V100, Turing, the first Ampere software) and ``profiles/lambda_current_benchmarks.csv``
(the current table, NGC 22.x-23.x: A100 80GB, H100, RTX 4090 ...). Both are used so that the constants
describe current software and more GPU generations rather than one table's quirks (early-Ampere software
ran A100s 15-30% slower than later containers). A weak log-normal prior keeps each parameter near its
physical value where the rows say little. Latency, host and step overheads keep their priors: every row runs
a large batch, so the rows cannot see them. It reports leave-one-GPU-out, leave-one-model-out and
leave-one-table-out cross-validation, and writes the fitted values with their provenance.

``bench/accuracy_gpu.py`` prints the same rows and folds in full.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from advisor.data_files import data_dir, data_file
from advisor.environ import restored
from advisor.errors import AdvisorError, PredictionError
from advisor.hardware.specs import load_gpu_specs, resolve_gpu
from advisor.predictor.calibration import (
    EFFICIENCY_KEYS,
    Calibration,
    bounds,
    calibration_path,
    default_calibration,
    load_calibration,
    prior,
)
from advisor.predictor.held_out import refuse_held_out
from advisor.predictor.roofline import check_scalable, is_ampere_or_newer, predict_step
from advisor.schemas import Analysis, GpuSpec

REFERENCE_FILE = "reference_benchmarks.csv"  # Lambda's 2020-21 table (NGC 20.01/20.10), the given reference
CURRENT_FILE = "lambda_current_benchmarks.csv"  # Lambda's current table (NGC 22.x-23.x): newer software, H100
FIT_FILES = (REFERENCE_FILE, CURRENT_FILE)



@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """``env`` set in ``os.environ`` for the block (a benchmark workload's size and attention switches),
    the previous values restored after it."""
    with restored(env):
        os.environ.update(env)
        yield

# ----------------------------------------------------------------------------------- reference data


# The reference rows' models, as the plain-torch workloads under examples/. Lambda's BERT rows ran NVIDIA
# DeepLearningExamples' BERT, whose attention is unfused (PyTorch/LanguageModeling/BERT/modeling.py,
# BertSelfAttention: matmul, scale, additive mask, softmax, dropout, matmul): ADVISOR_BERT_ATTN=math.
REFERENCE_WORKLOADS: dict[str, tuple[str, dict[str, str]]] = {
    "ResNet-50 v1.5": ("resnet50.py", {}),
    "BERT-base (uncased)": ("bert_squad.py", {"ADVISOR_BERT_SIZE": "base", "ADVISOR_BERT_ATTN": "math"}),
    "BERT-large (uncased)": ("bert_squad.py", {"ADVISOR_BERT_SIZE": "large", "ADVISOR_BERT_ATTN": "math"}),
}
SHORT_MODEL = {"ResNet-50 v1.5": "ResNet-50", "BERT-base (uncased)": "BERT-base",
               "BERT-large (uncased)": "BERT-large"}


@dataclass
class ReferenceRow:
    model: str
    source_precision: str  # as the source labels it: "fp32" or "amp_fp16"
    gpu_model: str  # as the source names it
    gpu_count: int
    batch_size: int  # per GPU
    throughput: float  # samples/s, whole system
    source: str
    spec: GpuSpec | None = None  # when the GPU is known and scalable
    precision: str | None = None  # the advisor precision it ran at
    skip_reason: str | None = None
    notes: str = ""  # the table's notes column (it names the benchmarked machine: bench/lambda_systems.py)

    @property
    def label(self) -> str:
        return (f"{SHORT_MODEL.get(self.model, self.model)} {self.source_precision} {self.gpu_model} "
                f"x{self.gpu_count} b{self.batch_size}")

    @property
    def gpu(self) -> str:
        """The physical GPU: the spec name when resolved (both tables' names for one GPU agree), else the raw."""
        return self.spec.name if self.spec is not None else self.gpu_model

    @property
    def table(self) -> str:
        return "current" if "current table" in self.source else "reference"


def reference_path(name: str = REFERENCE_FILE) -> Path:
    return data_dir("profiles") / name


def load_fit_rows(paths: list[str | Path] | None = None) -> list[ReferenceRow]:
    """Rows of every calibration table (default: ``FIT_FILES`` in profiles/)."""
    rows: list[ReferenceRow] = []
    for p in paths or [reference_path(n) for n in FIT_FILES]:
        rows.extend(load_reference_rows(p))
    return rows


def load_reference_rows(path: str | Path | None = None) -> list[ReferenceRow]:
    """Measurements of one table, each resolved to a GPU spec and an advisor precision (or a skip reason)."""
    p = Path(path) if path is not None else reference_path()
    specs = load_gpu_specs()
    rows: list[ReferenceRow] = []
    with p.open(newline="", encoding="utf-8") as fh:
        for raw in csv.DictReader(fh):
            row = ReferenceRow(model=raw["model"], source_precision=raw["precision"], gpu_model=raw["gpu_model"],
                               gpu_count=int(raw["gpu_count"]), batch_size=int(float(raw["batch_size_per_gpu"])),
                               throughput=float(raw["throughput"]), source=raw["source"],
                               notes=raw.get("notes") or "")
            if row.model not in REFERENCE_WORKLOADS:
                row.skip_reason = "no workload"
            else:
                try:
                    spec = resolve_gpu(row.gpu_model, specs)
                    if row.source_precision == "fp32":
                        precision = "tf32" if is_ampere_or_newer(spec) else "fp32"  # NGC containers enable TF32
                    elif row.source_precision in ("amp_fp16", "fp16"):
                        precision = "fp16"
                    elif row.source_precision in ("amp_bf16", "bf16"):
                        precision = "bf16"
                    else:
                        raise PredictionError(f"unknown precision {row.source_precision}")
                    missing = _missing_figures(spec, precision)
                    if missing:
                        row.skip_reason = f"no spec: gpus.csv lacks {spec.name}'s {'/'.join(missing)} figure"
                    else:
                        check_scalable(spec, precision)
                        row.spec, row.precision = spec, precision
                except AdvisorError as exc:
                    row.skip_reason = f"no spec: {exc.message.splitlines()[0]}"
            rows.append(row)
    refuse_held_out(rows, str(p))
    return rows


def _missing_figures(spec: GpuSpec, precision: str) -> list[str]:
    """Datasheet figures a reference row at ``precision`` needs that ``spec`` lacks."""
    needed = {"memory bandwidth": spec.memory_bandwidth_gbs, "FP32": spec.fp32_tflops}
    if precision == "tf32":
        needed["TF32"] = spec.tf32_tflops
    if precision in ("fp16", "bf16"):
        needed["FP16/BF16 tensor"] = spec.fp16_bf16_tflops
    return [k for k, v in needed.items() if v is None]


def trace_precision_for(precision: str) -> str:
    """The precision to trace the analysis at to price ``precision``: fp16 for bf16/fp16 (same byte sizes),
    fp32 for fp32 and tf32 (one analysis serves both)."""
    return "fp16" if precision in ("fp16", "bf16") else "fp32"


def reference_analyses(rows: list[ReferenceRow], examples_dir: str | Path | None = None,
                       verbose: bool = False) -> dict[tuple[str, str], Analysis]:
    """{(model, analysis precision): Analysis} for the rows' workloads (examples/ of a source checkout)."""
    from advisor.probe.analysis import analyze
    from advisor.workload import load_workload

    folder = Path(examples_dir) if examples_dir else Path(__file__).resolve().parents[2] / "examples"
    if not folder.is_dir():
        raise PredictionError(f"the benchmark workloads are not here ({folder} does not exist).",
                              hint="Fix: run the fit and the benchmark from a source checkout of advisor "
                              "(they use examples/resnet50.py and examples/bert_squad.py).")
    out: dict[tuple[str, str], Analysis] = {}
    for row in rows:
        if row.skip_reason or row.precision is None:
            continue
        key = (row.model, trace_precision_for(row.precision))
        if key in out:
            continue
        filename, env = REFERENCE_WORKLOADS[row.model]
        with environment(env):
            out[key] = analyze(load_workload(folder / filename), precision=key[1])
        if verbose:
            print(f"analysed {SHORT_MODEL.get(key[0], key[0])} at {key[1]} in {out[key].analysis_seconds:.1f} s",
                  flush=True)
    return out


def predict_row(row: ReferenceRow, analyses: dict, cal: Calibration) -> float:
    """Predicted single-GPU throughput (samples/s) of a reference row at its per-GPU batch."""
    a = analyses[(row.model, trace_precision_for(row.precision))]
    step = predict_step(a, row.spec, row.batch_size, row.precision, cal)
    return row.batch_size / step.seconds


# ---------------------------------------------------------------------------------------------- fitting

# The parameters the fit moves; the rest keep their priors (the reference rows, all at large batch sizes,
# say nothing about per-kernel latency or host overheads). "compute.all" is one efficiency for every
# kind and precision class (see TIES).
FREE_PARAMETERS = ("compute.fp32", "compute.tf32", "compute.half", "memory_efficiency", "operand_reuse",
                   "conv_layout_passes", "gemm_k_fill", "conv_index_ops", "host_overlap_exponent")
PRIOR_WEIGHT = 1.0
# Names that move several parameters together (one fitted value for all of them).
TIES: dict[str, tuple[str, ...]] = {
    "compute.all": EFFICIENCY_KEYS,
    "compute.fp32": ("matmul.fp32", "conv.fp32"),
    "compute.tf32": ("matmul.tf32", "conv.tf32"),
    "compute.half": ("matmul.half", "conv.half"),
    "matmul.all": ("matmul.fp32", "matmul.tf32", "matmul.half"),
    "conv.all": ("conv.fp32", "conv.tf32", "conv.half"),
    "conv.tensor": ("conv.tf32", "conv.half"),
    "compute.notconvfp32": ("matmul.fp32", "matmul.tf32", "matmul.half", "conv.tf32", "conv.half"),
}


def _members(name: str) -> tuple[str, ...]:
    return TIES.get(name, (name,))


def _values(free: tuple[str, ...], x) -> dict[str, float]:
    out: dict[str, float] = {}
    for n, v in zip(free, x, strict=False):
        for m in _members(n):
            out[m] = math.exp(v)
    return out


def fit(rows: list[ReferenceRow], analyses: dict, base: Calibration | None = None,
        free: tuple[str, ...] = FREE_PARAMETERS, prior_weight: float = PRIOR_WEIGHT) -> Calibration:
    """Least squares on log(predicted / measured) over single-GPU reference rows (see ``fit_general``)."""
    usable = [r for r in rows if not r.skip_reason and r.gpu_count == 1]
    return fit_general(usable, lambda r, cal: predict_row(r, analyses, cal), lambda r: r.throughput,
                       base=base, free=free, prior_weight=prior_weight)


def fit_general(rows: list, predict, measured, base: Calibration | None = None,
                free: tuple[str, ...] = FREE_PARAMETERS, prior_weight: float = PRIOR_WEIGHT,
                weights: list[float] | None = None) -> Calibration:
    """Least squares on log(``predict(row, cal)`` / ``measured(row)``), with a log-normal prior on each free
    parameter; ``weights`` (default 1) weigh each row's residual. A row from a held-out source is refused."""
    import numpy as np
    from scipy.optimize import least_squares

    refuse_held_out(rows, "the calibration fit")
    base = base or default_calibration()
    if not rows:
        raise PredictionError("no usable reference rows to fit on.",
                              hint=f"Fix: check {data_file('profiles', 'reference_benchmarks.csv')} and "
                                   f"{data_file('profiles', 'gpus.csv')}.")
    w = np.sqrt(np.array(weights if weights is not None else [1.0] * len(rows)))
    target = np.log(np.array([measured(r) for r in rows]))
    x0 = np.array([math.log(base.get(_members(n)[0])) for n in free])
    prior_mu = np.array([math.log(prior(_members(n)[0])[0]) for n in free])
    prior_sd = np.array([prior(_members(n)[0])[1] for n in free])
    # The prior is worth ~prior_weight rows per parameter, whatever the number of rows.
    scale = math.sqrt(prior_weight)

    def residuals(x):
        cal = base.with_values(_values(free, x))
        res = w * (np.log(np.array([predict(r, cal) for r in rows])) - target)
        return np.concatenate([res, scale * (x - prior_mu) / prior_sd])

    lower = np.array([math.log(bounds(_members(n)[0])[0]) for n in free])
    upper = np.array([math.log(bounds(_members(n)[0])[1]) for n in free])
    x0 = np.clip(x0, lower + 1e-9, upper - 1e-9)
    sol = least_squares(residuals, x0, bounds=(lower, upper), x_scale=1.0)
    if os.environ.get("ADVISOR_FIT_DEBUG"):
        print("fit:", sol.status, sol.nfev, sol.message, sol.cost)
    return base.with_values(_values(free, sol.x))


@dataclass
class Evaluation:
    """Errors of predicted throughput against the rows: per row, and GPU-to-GPU ratios."""

    rows: list[tuple[ReferenceRow, float]]  # (row, predicted samples/s)
    ratios: list[tuple[ReferenceRow, ReferenceRow, float, float]]  # (a, b, measured a/b, predicted a/b)

    @staticmethod
    def stats(errors: list[float]) -> dict[str, float]:
        import numpy as np

        if not errors:
            return {"n": 0, "median_abs_error": float("nan"), "p90_abs_error": float("nan")}
        a = np.abs(np.array(errors))
        return {"n": int(len(a)), "median_abs_error": float(np.median(a)),
                "p90_abs_error": float(np.percentile(a, 90))}

    def row_errors(self) -> list[float]:
        return [pred / r.throughput - 1 for r, pred in self.rows]

    def ratio_errors(self) -> list[float]:
        return [p / m - 1 for _, _, m, p in self.ratios]

    def log_errors(self) -> list[float]:
        return [math.log(pred / r.throughput) for r, pred in self.rows]

    def ratio_log_errors(self) -> list[float]:
        return [math.log(p / m) for _, _, m, p in self.ratios]


def gpu_pairs(rows: list[ReferenceRow]) -> list[tuple[ReferenceRow, ReferenceRow]]:
    """All pairs of single-GPU rows of different GPUs at the same model and precision in the same table
    (one software stack: a ratio across tables would mix software versions into the GPUs' difference)."""
    single = [r for r in rows if not r.skip_reason and r.gpu_count == 1]
    pairs = []
    for i, a in enumerate(single):
        for b in single[i + 1:]:
            if (a.model == b.model and a.source_precision == b.source_precision and a.source == b.source
                    and a.gpu_model != b.gpu_model):
                pairs.append((a, b))
    return pairs


def evaluate(rows: list[ReferenceRow], analyses: dict, cal: Calibration) -> Evaluation:
    single = [r for r in rows if not r.skip_reason and r.gpu_count == 1]
    preds = {id(r): predict_row(r, analyses, cal) for r in single}
    ratios = [(a, b, a.throughput / b.throughput, preds[id(a)] / preds[id(b)]) for a, b in gpu_pairs(rows)]
    return Evaluation(rows=[(r, preds[id(r)]) for r in single], ratios=ratios)


def cross_validate(rows: list[ReferenceRow], analyses: dict, by: str, base: Calibration | None = None,
                   free: tuple[str, ...] = FREE_PARAMETERS, prior_weight: float = PRIOR_WEIGHT) -> Evaluation:
    """Leave-one-``by``-out (``by`` = "gpu", "model" or "table"): every row predicted by a fit that never saw
    its GPU (model, table). For by="gpu" a ratio's two rows come from two folds, each held out."""
    single = [r for r in rows if not r.skip_reason and r.gpu_count == 1]
    key = {"gpu": lambda r: r.gpu, "model": lambda r: r.model, "table": lambda r: r.table}[by]
    preds: dict[int, float] = {}
    for group in sorted({key(r) for r in single}):
        train = [r for r in single if key(r) != group]
        test = [r for r in single if key(r) == group]
        if not train:
            continue
        cal = fit(train, analyses, base=base, free=free, prior_weight=prior_weight)
        for r in test:
            preds[id(r)] = predict_row(r, analyses, cal)
    held = [r for r in single if id(r) in preds]
    ratios = [(a, b, a.throughput / b.throughput, preds[id(a)] / preds[id(b)]) for a, b in gpu_pairs(held)]
    return Evaluation(rows=[(r, preds[id(r)]) for r in held], ratios=ratios)


def _quantile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.abs(np.array(values)), q)) if values else float("nan")


# Floors of the intervals' log half-widths: no validation set is big enough to claim less.
REL_SIGMA_FLOOR = 0.15
RATIO_SIGMA_FLOOR = 0.10


def interval_sigma(log_errors: list[float], floor: float) -> float:
    """An interval's log half-width from validation errors: their 90th percentile |log error|, at least
    ``floor``, rounded as the calibration file stores it."""
    return round(max(_quantile(log_errors, 90), floor), 4)


# How run_fit fits, as its calibration file's provenance says. The legacy Lambda table's "fp16" rows are labelled
# amp_fp16 and priced as autocast, though they ran none (bench/README.md, "What is still off").
FIT_METHOD = ("least squares on log(predicted/measured throughput), log-normal priors "
              "(advisor.predictor.calibration.PRIORS); single-GPU rows; source 'fp32' on Ampere+ = tf32 (NGC default), "
              "'amp_fp16' priced as fp16 autocast, the precision a user runs (Lambda's 2020-21 'fp16' rows ran no "
              "autocast: ResNet-50 pure fp16, DLE --fp16 --static-loss-scale 256, network_to_half; BERT apex O2, the "
              "model in fp16 with fp32 master weights)")


def run_fit(paths: list[str | Path] | None = None, out: str | Path | None = None,
            verbose: bool = True) -> Calibration:
    """Fit, cross-validate and write the calibration file; returns the fitted calibration."""
    import datetime

    rows = load_fit_rows(paths)
    analyses = reference_analyses(rows, verbose=verbose)
    cal = fit(rows, analyses)
    fitted = evaluate(rows, analyses, cal)
    cv_gpu = cross_validate(rows, analyses, "gpu")
    cv_model = cross_validate(rows, analyses, "model")
    cv_table = cross_validate(rows, analyses, "table")
    single = [r for r in rows if r.gpu_count == 1]
    skipped = sorted({f"{r.gpu_model} {r.source_precision}: {r.skip_reason}" for r in single if r.skip_reason})
    # The interval: the 90th percentile of the cross-validated |log error| (all kinds of fold together).
    folds = (cv_gpu, cv_model, cv_table)
    rel_sigma = interval_sigma([e for f in folds for e in f.log_errors()], REL_SIGMA_FLOOR)
    ratio_sigma = interval_sigma([e for f in folds for e in f.ratio_log_errors()], RATIO_SIGMA_FLOOR)
    sources = sorted({r.source for r in rows})
    cal = replace(cal, rel_sigma=rel_sigma, ratio_sigma=ratio_sigma,
                  provenance={
                      "data": [f"profiles/{n}" for n in FIT_FILES] if paths is None else [str(p) for p in paths],
                      "sources": sources,
                      "fitted_on": datetime.date.today().isoformat(),
                      "method": FIT_METHOD,
                      "free_parameters": [f"{n} ({', '.join(_members(n))})" if n in TIES else n
                                          for n in FREE_PARAMETERS],
                      "rows_used": len(fitted.rows),
                      "rows_skipped": len(single) - len(fitted.rows),
                      "skipped_gpus": skipped,
                      "gpus": sorted({r.gpu for r, _ in fitted.rows}),
                      "models": sorted({SHORT_MODEL.get(r.model, r.model) for r, _ in fitted.rows}),
                      "fit_error": {"rows": Evaluation.stats(fitted.row_errors()),
                                    "ratios": Evaluation.stats(fitted.ratio_errors())},
                      "cv_leave_one_gpu_out": {"rows": Evaluation.stats(cv_gpu.row_errors()),
                                               "ratios": Evaluation.stats(cv_gpu.ratio_errors())},
                      "cv_leave_one_model_out": {"rows": Evaluation.stats(cv_model.row_errors()),
                                                 "ratios": Evaluation.stats(cv_model.ratio_errors())},
                      "cv_leave_one_table_out": {"rows": Evaluation.stats(cv_table.row_errors()),
                                                 "ratios": Evaluation.stats(cv_table.ratio_errors())},
                      "rel_sigma": "p90 of cross-validated |log(pred/measured)|, floor 0.15",
                      "ratio_sigma": "p90 of cross-validated |log error| of GPU-to-GPU ratios, floor 0.10",
                  })
    cal = replace(cal, compute_efficiency={k: round(v, 4) for k, v in cal.compute_efficiency.items()},
                  memory_efficiency=round(cal.memory_efficiency, 4),
                  operand_reuse=round(cal.operand_reuse, 3), gemm_k_fill=round(cal.gemm_k_fill, 1),
                  conv_layout_passes=round(cal.conv_layout_passes, 4),
                  half_memory_efficiency=round(cal.half_memory_efficiency, 4))
    target = Path(out) if out is not None else calibration_path()
    target.write_text(json.dumps(cal.to_json(), indent=2) + "\n", encoding="utf-8")
    if verbose:
        print(json.dumps(cal.to_json(), indent=2))
        print(f"wrote {target}")
    return cal


def _main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m advisor.predictor.calibration_fit",
                                 description="Fit the roofline's constants on published benchmarks.")
    ap.add_argument("--fit", action="store_true", help="fit and write profiles/calibration.json")
    ap.add_argument("--data", action="append", default=None,
                    help="a benchmark CSV to fit on (repeatable; default profiles/" + " + profiles/".join(FIT_FILES)
                    + ")")
    ap.add_argument("--out", default=None, help="output file (default profiles/calibration.json)")
    ns = ap.parse_args(argv)
    if not ns.fit:
        print(json.dumps(load_calibration().to_json(), indent=2))
        return 0
    run_fit(ns.data, ns.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
