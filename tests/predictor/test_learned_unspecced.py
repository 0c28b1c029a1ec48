"""The learned correction on a GPU without datasheet figures (no row in profiles/gpus.csv, nor a MIG slice of one):
never the ridge on the median GPU's imputed figures; its own stored runs' factor, else the GPU kind's, and the note says
which."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from advisor.predictor.learned import evaluate
from advisor.schemas import Estimate, Target, TrainingRow, WorkloadInfo

INFO = WorkloadInfo(name="w", param_count=1_000_000, flops_per_sample=1e7)
SPECCED = {"A100-80GB": 1.0, "T4": 2.5, "H100-SXM": 0.7, "A10G": 1.6}  # a factor that follows the datasheet
MYSTERY = "Mystery GPU 9000"


def _history(own: dict[str, tuple[float, int]], specced: int = 60, seed: int = 0) -> list[TrainingRow]:
    """``specced`` runs on the GPUs of ``SPECCED`` at their factor, then ``own``'s runs (name -> factor, runs),
    each with 5% noise."""
    rnd = random.Random(seed)
    names = [rnd.choice(list(SPECCED)) for _ in range(specced)] + [n for n, (_, k) in own.items() for _ in range(k)]
    rows = []
    for i, gpu in enumerate(names):
        size, epochs = int(10 ** rnd.uniform(4, 5)), rnd.randint(1, 3)
        predicted = size * epochs * 1e-4 + 1.0
        factor = SPECCED[gpu] if gpu in SPECCED else own[gpu][0]
        rows.append(TrainingRow(
            recommendation_id=i, outcome_id=i, workload="w", param_count=1_000_000, flops_per_sample=1e7,
            dataset_size=size, epochs=epochs, batch_size=64, tier="single_gpu", gpu=gpu, gpu_count=1, vcpus=None,
            method="scaled", predicted_seconds=predicted,
            actual_seconds=predicted * factor * math.exp(rnd.gauss(0, 0.05))))
    return rows


def _on(gpu: str) -> Estimate:
    return Estimate(target=Target.gpu(gpu, 1), dataset_size=50_000, epochs=2, batch_size=64, seconds=100.0, low=80.0,
                    high=125.0, step_seconds=0.1, steps_per_epoch=782, total_steps=1564, fits_memory=True,
                    per_device_batch_size=64, method="scaled", precision="fp32")


def test_an_unspecced_gpu_with_its_own_runs_gets_its_own_factor_not_the_ridges_guess():
    """The ridge is chosen (the factor follows the datasheet: 48% held out for one GPU factor, 11% for the ridge).
    15 runs of a GPU with no spec row at 3x got x2.27: the ridge read it as the median GPU. Now x3 (the median of its
    own runs), with a note; the specced GPUs keep the ridge's factor."""
    rows = _history({MYSTERY: (3.0, 15)})
    correction = evaluate(rows)
    assert correction.used and correction.description.startswith("Huber-robust ridge")
    out = correction.apply(_on(MYSTERY), INFO)
    own = float(np.median([math.log(r.actual_seconds / r.predicted_seconds) for r in rows if r.gpu == MYSTERY]))
    assert out.seconds == pytest.approx(100.0 * math.exp(own), rel=1e-9)
    assert out.seconds == pytest.approx(300.0, rel=0.05)
    assert out.method == "history" and out.low < out.seconds < out.high
    assert (f"{MYSTERY} has no datasheet figures in profiles/gpus.csv, so the factor reads none: the median of its "
            "own 15 stored runs' actual/predicted") in out.notes[-1]
    t4 = correction.apply(_on("T4"), INFO)
    assert t4.seconds == pytest.approx(250.0, rel=0.12) and "datasheet" not in t4.notes[-1]


def test_a_gpu_without_figures_or_runs_of_its_own_gets_the_gpu_kinds_factor():
    """A GPU with no row, and a MIG slice of one (the A30 has none; a slice of a GPU with a row reads its parent's
    figures scaled: test_learned_gpu_names.py): the per-kind factor (the median of every stored GPU run, x1.08
    here), said in the note, where the ridge gave it the median GPU's guess (x1.00)."""
    rows = _history({MYSTERY: (3.0, 3)})
    correction = evaluate(rows)
    assert correction.description.startswith("Huber-robust ridge")
    kind = float(np.median([math.log(r.actual_seconds / r.predicted_seconds) for r in rows]))
    for gpu in ("NVIDIA A30 MIG 1g.6gb", MYSTERY):  # 3 runs of its own are too few (MIN_RUNS 8)
        out = correction.apply(_on(gpu), INFO)
        assert out.seconds == pytest.approx(100.0 * math.exp(kind), rel=1e-9)
        assert f"{gpu} has no datasheet figures" in out.notes[-1]
        assert f"the per-kind factor, the median of all {len(rows)} stored GPU runs' actual/predicted" in out.notes[-1]


def test_a_history_of_one_unspecced_gpu_is_corrected_by_its_runs_and_says_so():
    """Every stored run on the GPU without a spec row, at 2x: the per-kind factor is chosen; its estimate gets x2
    and the note says which correction it was."""
    rows = _history({MYSTERY: (2.0, 20)}, specced=0)
    correction = evaluate(rows)
    assert correction.used and correction.description.startswith("one factor per kind")
    out = correction.apply(_on(MYSTERY), INFO)
    assert out.seconds == pytest.approx(200.0, rel=0.05)
    assert "the median of its own 20 stored runs' actual/predicted" in out.notes[-1]
