"""The learned correction's fit on synthetic histories of known truth: how far its factor moves with the job size,
how much one wild run moves it, and whether its interval holds.

    .venv/bin/python bench/learned_fit.py [--seeds 8] [--runs 30]

Each history is ``--runs`` stored runs of one workload's CPU jobs (10^4 to 10^6 samples, 1 to 10 epochs, 2-8
threads), each taking ``truth(job) x lognormal(0, noise)`` of its prediction:

- ``x2``: twice its prediction, 10% noise;
- ``x2 + one 15x``: the same, and one run at 15x (under the 20x recording guard);
- ``x1.5 growing``: 1.5x at 10^4 samples, growing as the dataset's 0.2 power, 5% noise (a lean the ridge should
  learn), and the same with one run at 15x;
- ``unbiased``: as predicted, 10% noise (the correction should stay off).

For each, three fits of ``advisor.predictor.learned_fit`` on all the runs (the plain least-squares ridge, the
Huber-robust ridge, the per-kind median) and what ``evaluate`` ships (its choice, after cross-validation), each
judged on 24 new jobs (5,000 to 2,000,000 samples, 1 to 20 epochs, 2 and 8 threads): the median absolute error of
the corrected time against the truth, the widest factor over the narrowest (median, and the worst history), and
(what ships only) how many of 400 new jobs drawn alike fall in the corrected 80% interval (median, lowest and
highest), and how many of 400 jobs about 10x bigger than any stored (10^6.8 to 10^7.2 samples x 10 epochs; the
truth carried there as it grows): the band measured on the stored sizes, presented as measured there, and now
widened with the distance (``advisor.predictor.learned_bands``). Median over ``--seeds`` histories. A benchmark,
not a test.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from advisor.predictor.learned import evaluate  # noqa: E402
from advisor.predictor.learned_features import feature_vector, row_features  # noqa: E402
from advisor.predictor.learned_fit import form_of, per_kind, pipeline, robust_ridge  # noqa: E402
from advisor.schemas import Estimate, Target, TrainingRow, WorkloadInfo  # noqa: E402

CASES = {
    "x2": (lambda size: 2.0, 0.10, False),
    "x2 + one 15x": (lambda size: 2.0, 0.10, True),
    "x1.5 growing": (lambda size: 1.5 * (size / 1e4) ** 0.2, 0.05, False),
    "x1.5 growing + one 15x": (lambda size: 1.5 * (size / 1e4) ** 0.2, 0.05, True),
    "unbiased": (lambda size: 1.0, 0.10, False),
}
NEW_JOBS = [(size, epochs, threads) for size in (5_000, 50_000, 500_000, 2_000_000) for epochs in (1, 5, 20)
            for threads in (2, 8)]
INFO = WorkloadInfo(name="mlp", param_count=300_000, flops_per_sample=1.7e6)


def predicted_seconds(size: int, epochs: int) -> float:
    return size * epochs * 2e-4 + 1.0


def history(truth, noise: float, wild: bool, runs: int, seed: int) -> list[TrainingRow]:
    rnd = random.Random(seed)
    rows = []
    for i in range(runs):
        size, epochs = int(10 ** rnd.uniform(4, 6)), rnd.randint(1, 10)
        seconds = predicted_seconds(size, epochs)
        rows.append(TrainingRow(
            recommendation_id=i, outcome_id=i, workload="mlp", param_count=300_000, flops_per_sample=1.7e6,
            dataset_size=size, epochs=epochs, batch_size=256, tier="cpu", gpu=None, gpu_count=0,
            vcpus=rnd.choice([2, 4, 8]), method="measured", predicted_seconds=seconds,
            actual_seconds=seconds * truth(size) * math.exp(rnd.gauss(0, noise))))
    if wild:
        last = rows[-1]
        rows.append(last.model_copy(update={"outcome_id": runs, "recommendation_id": runs,
                                            "actual_seconds": last.predicted_seconds * 15.0}))
    return rows


def job_features(size: int, epochs: int, threads: int = 4) -> list[float]:
    return feature_vector(param_count=300_000, flops_per_sample=1.7e6, batch_size=256, dataset_size=size,
                          epochs=epochs, gpu=None, gpu_count=0, vcpus=threads, method="measured",
                          predicted_seconds=predicted_seconds(size, epochs), measured_seconds_per_sample=None)


def judge(factor_of, truth) -> tuple[float, float]:
    """(median |error| % against the truth, widest / narrowest factor) over ``NEW_JOBS``."""
    factors = [factor_of(size, epochs, threads) for size, epochs, threads in NEW_JOBS]
    errors = [abs(f / truth(size) - 1.0) * 100 for f, (size, _, _) in zip(factors, NEW_JOBS, strict=True)]
    return statistics.median(errors), max(factors) / min(factors)


def estimate(size: int, epochs: int, threads: int = 4) -> Estimate:
    seconds = predicted_seconds(size, epochs)
    steps = max(1, size // 256)
    return Estimate(target=Target.cpu(threads=threads), dataset_size=size, epochs=epochs, batch_size=256,
                    seconds=seconds, low=seconds * 0.8, high=seconds * 1.25, step_seconds=0.01, steps_per_epoch=steps,
                    total_steps=steps * epochs, fits_memory=True, per_device_batch_size=256, method="measured",
                    precision="fp32")


def coverage(correction, truth, noise: float, seed: int, bigger: bool = False) -> float:
    """The share of 400 new jobs, drawn as the history was (``bigger``: about 10x bigger than any stored), whose
    real time falls in the corrected interval."""
    rnd, held = random.Random(seed + 1000), 0
    for _ in range(400):
        size, epochs = (int(10 ** rnd.uniform(6.8, 7.2)), 10) if bigger else (int(10 ** rnd.uniform(4, 6)),
                                                                                rnd.randint(1, 10))
        out = correction.apply(estimate(size, epochs), INFO)
        held += out.low <= predicted_seconds(size, epochs) * truth(size) * math.exp(rnd.gauss(0, noise)) <= out.high
    return held / 400


def cell(judged: list[tuple[float, float]]) -> str:
    """A table cell: the median error, the median spread and the worst."""
    return (f"{statistics.median(e for e, _ in judged):.1f}% / x{statistics.median(s for _, s in judged):.2f} "
            f"(x{max(s for _, s in judged):.2f})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args(argv)
    import numpy as np

    print(f"{args.runs} runs a history, median over {args.seeds} histories; error: the corrected time against the "
          f"truth on {len(NEW_JOBS)} new jobs; spread: widest / narrowest factor over them (the worst history's)")
    print("| history | plain ridge error / spread | robust ridge | per-kind median | shipped (chosen) | used | "
          "interval holds | at 10x |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (truth, noise, wild) in CASES.items():
        cells: dict[str, list[tuple[float, float]]] = {k: [] for k in ("plain", "robust", "kind", "shipped")}
        used, held, bigger = 0, [], []
        for seed in range(args.seeds):
            rows = history(truth, noise, wild, args.runs, seed)
            X = np.asarray([row_features(r) for r in rows], dtype=float)
            y = np.log([r.actual_seconds / r.predicted_seconds for r in rows])
            for key, model in (("plain", pipeline().fit(X, y)), ("robust", robust_ridge(X, y)),
                               ("kind", per_kind(X, y))):
                form = form_of(model)
                cells[key].append(judge(lambda s, e, t, form=form: math.exp(form(job_features(s, e, t))), truth))
            correction = evaluate(rows)
            used += correction.used
            cells["shipped"].append(judge(
                lambda s, e, t, c=correction: c.apply(estimate(s, e, t), INFO).seconds / predicted_seconds(s, e),
                truth))
            held.append(coverage(correction, truth, noise, seed))
            bigger.append(coverage(correction, truth, noise, seed, bigger=True))

        print(f"| {name} | {cell(cells['plain'])} | {cell(cells['robust'])} | {cell(cells['kind'])} | "
              f"{cell(cells['shipped'])} | "
              f"{used}/{args.seeds} | {statistics.median(held):.0%} ({min(held):.0%}-{max(held):.0%}) | "
              f"{statistics.median(bigger):.0%} ({min(bigger):.0%}-{max(bigger):.0%}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
