"""A workload's own interval from the history (``advisor.predictor.learned_bands``): measured at the job sizes its
runs were, and stated as measured only there."""

from __future__ import annotations

import math
import random

import pytest

from advisor.predictor.learned import evaluate
from advisor.schemas import Estimate, Target, TrainingRow, WorkloadInfo

INFO = WorkloadInfo(name="mlp", param_count=300_000, flops_per_sample=1.7e6)


def _runs_between(smallest: int, n: int = 20, seed: int = 5) -> list[TrainingRow]:
    """``n`` CPU runs of mlp, ``smallest`` to twice as many samples (one epoch), each twice its prediction, 10%
    noise."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        size = smallest if i == 0 else 2 * smallest if i == 1 else int(smallest * rnd.uniform(1.0, 2.0))
        predicted = size * 2e-4 + 1.0
        rows.append(TrainingRow(
            recommendation_id=i, outcome_id=i, workload="mlp", param_count=300_000, flops_per_sample=1.7e6,
            dataset_size=size, epochs=1, batch_size=256, tier="cpu", gpu=None, gpu_count=0, vcpus=4,
            method="measured", predicted_seconds=predicted,
            actual_seconds=predicted * 2.0 * math.exp(rnd.gauss(0, 0.10))))
    return rows


def _job(samples: int, epochs: int = 1) -> Estimate:
    seconds = samples * epochs * 2e-4 + 1.0
    steps = max(1, samples // 256)
    return Estimate(target=Target.cpu(threads=4), dataset_size=samples, epochs=epochs, batch_size=256,
                    seconds=seconds, low=seconds * 0.8, high=seconds * 1.25, step_seconds=0.05, steps_per_epoch=steps,
                    total_steps=steps * epochs, fits_memory=True, per_device_batch_size=256, method="measured",
                    precision="fp32")


def test_the_band_is_measured_inside_the_stored_sizes_and_widened_outside_them():
    """20 runs at 100,000-200,000 samples. A job of 150,000 gets their band, as before. A job of 2,000,000 samples
    (10x the most stored; 20 epochs of 100,000 alike) got the same band as if measured there; now the band's log
    limits are doubled (one decade outside) and the note says the job is outside the sizes its history covers; a
    job of 10,000 (1/10 of the fewest) alike."""
    correction = evaluate(_runs_between(100_000))
    assert correction.used, correction.reason
    runs, band_low, band_high = correction.bands[("mlp", False)]
    assert runs == 20 and band_low < 0 < band_high
    assert correction.band_sizes[("mlp", False)] == (100_000, 200_000)

    inside = correction.apply(_job(150_000), INFO)
    assert inside.low == pytest.approx(inside.seconds * math.exp(band_low), rel=1e-9)
    assert inside.high == pytest.approx(inside.seconds * math.exp(band_high), rel=1e-9)
    assert "is what 20 stored runs of this workload, each held out, took" in inside.notes[-1]
    assert "outside the sizes" not in inside.notes[-1]

    for job, beyond in ((_job(2_000_000), "it is 10x the most"), (_job(100_000, epochs=20), "it is 10x the most"),
                        (_job(10_000), "it is 1/10 of the fewest")):
        out = correction.apply(job, INFO)
        assert out.method == "history"
        assert out.low == pytest.approx(out.seconds * math.exp(2 * band_low), rel=1e-9)
        assert out.high == pytest.approx(out.seconds * math.exp(2 * band_high), rel=1e-9)
        assert out.high / out.low > (inside.high / inside.low) ** 1.9
        note = out.notes[-1]
        assert "is outside the sizes its history covers (100,000 to 200,000 samples in 20 stored runs" in note
        assert beyond in note and "widened x2.00" in note and "not measured at this size" in note
        assert "is what 20 stored runs" not in note


def test_a_job_just_past_the_stored_sizes_is_widened_only_a_little():
    """The widening grows with the distance: 1.1x the most stored widens the band's log limits by 4% (log10 1.1)."""
    correction = evaluate(_runs_between(100_000))
    _, band_low, band_high = correction.bands[("mlp", False)]
    out = correction.apply(_job(220_000), INFO)
    widen = 1.0 + math.log10(1.1)
    assert out.low == pytest.approx(out.seconds * math.exp(band_low * widen), rel=1e-9)
    assert out.high == pytest.approx(out.seconds * math.exp(band_high * widen), rel=1e-9)
    assert "it is 1.1x the most" in out.notes[-1] and "widened x1.04" in out.notes[-1]
