"""assemble_job: the last-batch arithmetic, overheads, and the 80% interval."""

from __future__ import annotations

import math

import pytest

from advisor.predictor.job import Z80, assemble_job, combine_sigma, interval
from advisor.schemas import JobSpec


def test_last_batch_arithmetic():
    # dataset 1000 at batch 300: 4 steps per epoch, the last on 100 samples
    job = JobSpec(dataset_size=1000, epochs=3, batch_size=300)
    assert (job.steps_per_epoch, job.last_batch_size, job.total_steps) == (4, 100, 12)
    step = lambda b: 0.01 + 0.001 * b  # noqa: E731  300 -> 0.31 s, 100 -> 0.11 s
    batch = lambda b: 0.0001 * b  # noqa: E731  300 -> 0.03 s, 100 -> 0.01 s
    jt = assemble_job(job, step, batch_seconds_at=batch, startup_seconds=5.0, per_epoch_seconds=2.0)
    # per epoch: 3 x (0.31 + 0.03) + (0.11 + 0.01) = 1.02 + 0.12 = 1.14; + 2 per epoch; x 3 epochs; + 5
    assert jt.seconds == pytest.approx(5.0 + 3 * (1.14 + 2.0))
    assert jt.step_seconds == pytest.approx(0.34)
    assert jt.batch_seconds == pytest.approx(0.03)
    assert jt.compute_seconds == pytest.approx(0.31)
    assert jt.last_step_seconds == pytest.approx(0.12)
    assert (jt.steps_per_epoch, jt.total_steps, jt.last_batch_size) == (4, 12, 100)
    assert jt.startup_seconds == 5.0
    assert jt.train_seconds == pytest.approx(3 * 3.14)


def test_even_division_has_no_small_batch():
    calls = []

    def step(b):
        calls.append(b)
        return 0.5

    jt = assemble_job(JobSpec(1200, 2, 300), step)
    assert jt.seconds == pytest.approx(2 * 4 * 0.5)
    assert set(calls) == {300}
    assert jt.low == jt.high == jt.seconds  # no uncertainty given


def test_single_step_epoch():
    jt = assemble_job(JobSpec(50, 4, 300), lambda b: 0.001 * b)
    # one step of 50 samples per epoch: 4 x 0.05
    assert jt.seconds == pytest.approx(0.2)
    assert jt.step_seconds == pytest.approx(0.3) and jt.last_step_seconds == pytest.approx(0.05)


def test_interval_is_lognormal_80_percent():
    jt = assemble_job(JobSpec(1000, 1, 100), lambda b: 1.0, rel_sigma=0.1)
    assert jt.seconds == pytest.approx(10.0)
    assert jt.low == pytest.approx(10.0 * math.exp(-Z80 * 0.1))
    assert jt.high == pytest.approx(10.0 * math.exp(Z80 * 0.1))
    assert jt.low < jt.seconds < jt.high
    assert Z80 == pytest.approx(1.2816, abs=1e-4)


def test_per_step_noise_averages_out_but_systematic_does_not():
    short = assemble_job(JobSpec(400, 1, 100), lambda b: 1.0, step_noise_rel=0.2)  # 4 steps
    long = assemble_job(JobSpec(40_000, 1, 100), lambda b: 1.0, step_noise_rel=0.2)  # 400 steps
    assert short.rel_sigma == pytest.approx(0.2 / 2)
    assert long.rel_sigma == pytest.approx(0.2 / 20)
    sys_short = assemble_job(JobSpec(400, 1, 100), lambda b: 1.0, rel_sigma=0.05)
    sys_long = assemble_job(JobSpec(40_000, 1, 100), lambda b: 1.0, rel_sigma=0.05)
    assert sys_short.rel_sigma == sys_long.rel_sigma == pytest.approx(0.05)
    assert combine_sigma(0.03, 0.04, 1) == pytest.approx(0.05)


def test_bad_inputs_rejected():
    with pytest.raises(ValueError):
        assemble_job(JobSpec(10, 1, 5), lambda b: -1.0)
    with pytest.raises(ValueError):
        assemble_job(JobSpec(10, 1, 5), lambda b: 1.0, startup_seconds=-1)
    with pytest.raises(ValueError):
        interval(1.0, -0.1)


def test_a_batch_memo_keeps_the_full_batch_and_a_bounded_number_of_others():
    from advisor.predictor.job import BatchMemo

    calls: list[int] = []

    def square(b: int) -> int:
        calls.append(b)
        return b * b

    memo = BatchMemo(square, keep=512, limit=8)
    assert memo(512) == 512 * 512 and memo(512) == 512 * 512 and calls == [512]
    for b in range(1, 100):  # the last batches of 99 other dataset sizes
        assert memo(b) == b * b
        assert len(memo) <= 9 + 1
    calls.clear()
    assert memo(512) == 512 * 512 and calls == []  # the full batch is never forgotten
    assert memo(99) == 99 * 99 and calls == []  # a recent one is still there
