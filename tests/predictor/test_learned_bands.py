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


def _stored_runs(tmp_path, chosen: dict, n: int = 15, factor: float = 2.0) -> list[TrainingRow]:
    """``n`` runs of mlp stored in a real SQLite history, each on the ``chosen`` machine (a candidate's fields) at
    ``factor`` x its predicted 1,000 s, 3% noise, over 5 recommendations; the history's training rows."""
    import sys
    from pathlib import Path

    from advisor.history.repository import History

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "history"))
    from history_helpers import candidate, recommendation

    rnd = random.Random(3)
    with History(f"sqlite:///{tmp_path / 'h.db'}") as hist:
        hist.create()
        for _ in range(5):
            cand = candidate(0, seconds=1000.0, **chosen)
            rec = recommendation("mlp", n=0, excluded=0, dataset_size=50_000, epochs=10, batch_size=256,
                                 candidates=[cand]).model_copy(update={"chosen": cand})
            rec_id = hist.save_recommendation(rec)
            for _ in range(n // 5):
                hist.record_outcome(rec_id, 1000.0 * factor * math.exp(rnd.uniform(-0.03, 0.03)))
        return hist.training_rows()


def _estimate(target: Target, seconds: float = 1000.0) -> Estimate:
    return Estimate(target=target, dataset_size=50_000, epochs=10, batch_size=256, seconds=seconds,
                    low=seconds * 0.48, high=seconds * 2.07, step_seconds=0.05, steps_per_epoch=195,
                    total_steps=1950, fits_memory=True, per_device_batch_size=256, method="scaled", precision="fp32")


def test_the_band_is_given_as_measured_only_to_targets_like_the_machines_run(tmp_path):
    """15 stored runs, all on 1 x RTX-3060-Ti at 2x (+-3%): the same GPU model and count gets their narrow band, as
    before. 8 x H100 (never run) got the same +-3% band in place of its base -52%/+107%; now it keeps its base
    interval (the wider per side) and the note says the band's runs were on other machines."""
    rows = _stored_runs(tmp_path, dict(provider="vast", instance_type="1x-RTX_3060_Ti", tier="single_gpu",
                                       gpu="RTX-3060-Ti", gpu_count=1, vcpus=8))
    correction = evaluate(rows)
    assert correction.used, correction.reason
    runs, band_low, band_high = correction.bands[("mlp", True)]
    assert runs == 15 and -0.1 < band_low < 0 < band_high < 0.1
    info = WorkloadInfo(name="mlp", param_count=300_000, flops_per_sample=1.7e6)

    same = correction.apply(_estimate(Target.gpu("rtx-3060-ti")), info)
    assert same.method == "history" and same.seconds == pytest.approx(2000, rel=0.05)
    assert same.low == pytest.approx(same.seconds * math.exp(band_low), rel=1e-9)
    assert same.high == pytest.approx(same.seconds * math.exp(band_high), rel=1e-9)
    assert "is what 15 stored runs of this workload, each held out, took" in same.notes[-1]

    for target in (Target.gpu("H100", 8), Target.gpu("RTX-3060-Ti", 4), Target.gpu("A10G")):
        other = correction.apply(_estimate(target), info)
        assert other.method == "history"
        f = other.seconds / 1000.0
        assert other.low == pytest.approx(480.0 * f, rel=1e-9) and other.high == pytest.approx(2070.0 * f, rel=1e-9)
        note = other.notes[-1]
        assert "is what 15 stored runs" not in note
        assert "which were on other machines (1 x rtx-3060-ti), not on this one" in note
        assert "its 80% interval (-52% to +107%)" in note


def test_a_cpu_band_holds_only_within_the_thread_counts_run(tmp_path):
    """15 runs on a 2-vCPU e2-standard-2 (1 thread: 2 vCPUs over 2 threads per core, as the history stores it): a
    1-thread target gets the band; 64 threads keeps its base interval, with the note saying the runs were on CPUs of
    1 thread."""
    rows = _stored_runs(tmp_path, dict(provider="gcp", instance_type="e2-standard-2", vcpus=2), factor=1.5)
    correction = evaluate(rows)
    assert correction.used, correction.reason
    _, band_low, band_high = correction.bands[("mlp", False)]
    info = WorkloadInfo(name="mlp", param_count=300_000, flops_per_sample=1.7e6)
    two = correction.apply(_estimate(Target.cpu(threads=1)), info)
    assert two.low == pytest.approx(two.seconds * math.exp(band_low), rel=1e-9)
    many = correction.apply(_estimate(Target.cpu(threads=64)), info)
    f = many.seconds / 1000.0
    assert many.low == pytest.approx(480.0 * f, rel=1e-9) and many.high == pytest.approx(2070.0 * f, rel=1e-9)
    assert "which were on other machines (CPUs of 1 thread), not on this one" in many.notes[-1]
