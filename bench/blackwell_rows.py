"""Published Blackwell (B200) rows against the GPU predictor: judged, never fitted.

The calibration has no Blackwell row (profiles/calibration.json's architectures: Volta to Hopper), so what the
predictor says of a B200 rests on the datasheet and on constants fitted on other architectures. This bench
prints what the public record holds about the B200 beside a Hopper GPU, and where the model can price it, what
it predicts. Rows: bench/data/blackwell_rows.csv (sources and retrieval dates in its columns; bench/README.md,
"Blackwell: published rows, judged"). Nothing here feeds a fit: ``bench/gpu_rows.py`` never reads the file, and
no constant was chosen by what this prints.

Two kinds of row:

- ``training``: per-GPU training throughput from one harness on a B200 system and a Hopper system. None of the
  rows found is one the predictor can price (FP8, or a mixture of experts with expert parallelism; advisor
  prices bf16/fp16/tf32/fp32 dense steps), so the table gives the published B200/Hopper ratio beside the
  datasheet ratios of the precision it ran at and the model's bf16 large-GEMM ratio, for context only.
- ``gemm``: an average GEMM throughput over a grid of batched square products. Each product of the grid is
  analysed as bench/workloads/gemm_only.py and priced on the row's GPU (bench/gemm_report.priced), and the
  predicted average is set against the published one.

    .venv/bin/python bench/blackwell_rows.py     # ~1 min (32 single-GEMM analyses)
"""

from __future__ import annotations

import csv
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

ROWS = REPO / "bench" / "data" / "blackwell_rows.csv"
# The grid of the hpc-ai rows: batch x square size, every product n x n x n.
GEMM_BATCHES = (8, 16, 32, 64)
GEMM_SIZES = (1024, 2048, 4096, 8192)
# The square product whose priced pace stands for "a large GEMM" in the training table's context column.
LARGE_GEMM = 8192


@dataclass(frozen=True)
class Row:
    """One published figure (a row of bench/data/blackwell_rows.csv)."""

    source: str
    release: str
    url: str
    kind: str  # training | gemm
    system: str
    gpu: str  # the catalog's name
    gpus: int
    model: str
    precision: str
    parallel: str
    value: float  # per GPU
    unit: str


def load_rows(path: Path = ROWS) -> list[Row]:
    """The rows of ``path``; refuses a row whose source or URL is on the held-out list."""
    from advisor.predictor.held_out import refuse_held_out

    with path.open(newline="") as f:
        rows = [Row(source=r["source"], release=r["release"], url=r["url"], kind=r["kind"], system=r["system"],
                    gpu=r["gpu"], gpus=int(r["gpus"]), model=r["model"], precision=r["precision"],
                    parallel=r["parallel"], value=float(r["per_gpu_value"]), unit=r["unit"])
                for r in csv.DictReader(f)]
    refuse_held_out(rows, str(path))
    return rows


def datasheet_peak(gpu: str, precision: str) -> float | None:
    """The dense peak (TFLOP/s) of ``gpu`` at ``precision`` from profiles/gpus.csv; FP8 as twice the 16-bit
    rate (the Hopper and Blackwell datasheets' dense FP8 is twice their dense FP16/BF16). None if not given."""
    from advisor.hardware.specs import resolve_gpu

    spec = resolve_gpu(gpu)
    half = spec.fp16_bf16_tflops
    if precision == "fp8":
        return 2.0 * half if half else None
    return half


def large_gemm_tflops(gpu: str) -> float:
    """The model's pace of one bf16 ``LARGE_GEMM``-square product on ``gpu`` (TFLOP/s)."""
    from gemm_report import priced

    n = LARGE_GEMM
    (seconds,) = priced([{"m": n, "n": n, "k": n, "batch": 1, "dtype": "bf16"}], gpu=gpu)
    return 2.0 * n ** 3 / seconds / 1e12


def grid_tflops(gpu: str) -> float:
    """The model's average pace over the hpc-ai grid on ``gpu`` (mean of each product's TFLOP/s)."""
    from gemm_report import priced

    cases = [{"m": n, "n": n, "k": n, "batch": b, "dtype": "bf16"} for b in GEMM_BATCHES for n in GEMM_SIZES]
    seconds = priced(cases, gpu=gpu)
    return statistics.mean(2.0 * c["batch"] * c["n"] ** 3 / t / 1e12 for c, t in zip(cases, seconds, strict=True))


def _pairs(rows: list[Row]) -> list[tuple[Row, Row]]:
    """(B200 row, Hopper row) of the same source, release, model and precision."""
    out = []
    for b in rows:
        if b.kind != "training" or b.gpu != "B200":
            continue
        out += [(b, h) for h in rows if h.kind == "training" and h.gpu != "B200"
                and (h.source, h.release, h.model, h.precision) == (b.source, b.release, b.model, b.precision)]
    return out


def training_table(rows: list[Row], gemm_pace: dict[str, float]) -> None:
    """Print the training pairs: published B200/Hopper ratio, datasheet ratios, the model's GEMM ratio."""
    print("| source | model | precision | B200 (GPUs, layout) | Hopper (GPUs, layout) | published B200 / Hopper "
          "per GPU | dense peak ratio | model's bf16 large-GEMM ratio | priced? |")
    print("|---|---|---|---|---|---:|---:|---:|---|")
    for b, h in _pairs(rows):
        peak_b, peak_h = datasheet_peak(b.gpu, b.precision), datasheet_peak(h.gpu, h.precision)
        peaks = f"{peak_b / peak_h:.2f}x" if peak_b and peak_h else "-"
        gemm = f"{gemm_pace[b.gpu] / gemm_pace[h.gpu]:.2f}x"
        why = "no: FP8" if b.precision == "fp8" else "no: mixture of experts, expert parallel"
        print(f"| {b.source} {b.release} | {b.model} | {b.precision} | {b.value:.0f} {b.unit} ({b.gpus}, "
              f"{b.parallel}) | {h.gpu} {h.value:.0f} ({h.gpus}, {h.parallel}) | {b.value / h.value:.2f}x | "
              f"{peaks} | {gemm} | {why} |")


def gemm_table(rows: list[Row]) -> dict[str, float]:
    """Print the GEMM-grid rows, published against predicted; returns the predicted averages by GPU."""
    predicted = {}
    print("| source | GPU | published average TFLOP/s | predicted average TFLOP/s | error | published % of dense "
          "16-bit peak | predicted % |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in (r for r in rows if r.kind == "gemm"):
        predicted[r.gpu] = p = grid_tflops(r.gpu)
        peak = datasheet_peak(r.gpu, "bf16")
        print(f"| {r.source} | {r.gpu} | {r.value:.0f} | {p:.0f} | {100 * (p / r.value - 1):+.0f}% | "
              f"{100 * r.value / peak:.0f}% | {100 * p / peak:.0f}% |")
    gpus = [g for g in ("B200", "H200") if g in predicted]
    if len(gpus) == 2:
        published = {r.gpu: r.value for r in rows if r.kind == "gemm"}
        print(f"\nB200 / H200 over the grid: published {published['B200'] / published['H200']:.2f}x, predicted "
              f"{predicted['B200'] / predicted['H200']:.2f}x (dense 16-bit peaks "
              f"{datasheet_peak('B200', 'bf16') / datasheet_peak('H200', 'bf16'):.2f}x)")
    return predicted


def main(argv: list[str] | None = None) -> int:
    import argparse

    argparse.ArgumentParser(description="Published B200 rows against the predictor (judged, never fitted); "
                                        "fits and writes nothing.").parse_args(argv)
    rows = load_rows()
    print("# Blackwell rows: judged, never fitted (bench/data/blackwell_rows.csv)\n")
    print("## A GEMM grid (batched square products), published average against the model's\n")
    gemm_table(rows)
    pace = {g: large_gemm_tflops(g) for g in sorted({r.gpu for r in rows})}
    print(f"\nThe model's bf16 {LARGE_GEMM}-square GEMM: "
          + ", ".join(f"{g} {t:.0f} TFLOP/s ({100 * t / datasheet_peak(g, 'bf16'):.0f}% of peak)"
                      for g, t in pace.items()))
    print("\n## Training, per GPU: one harness on a B200 and a Hopper system (not priceable; context)\n")
    training_table(rows, pace)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
