"""fit_step_time: the robust line, the local correction at measured sizes, fallbacks, uncertainty."""

from __future__ import annotations

import math

import numpy as np
import pytest

from advisor.errors import PredictionError
from advisor.predictor.fit import (
    SINGLE_POINT_OVERHEAD_FRACTION,
    fit_memory,
    fit_step_time,
    robust_level,
    steady_state,
)
from advisor.schemas import Measurement


def _m(b, samples, batch_seconds=None, peak=None, oom=False):
    samples = [float(s) for s in samples]
    return Measurement(
        device="cpu", batch_size=b, compute_seconds=float(np.median(samples)) if samples else None,
        compute_seconds_samples=samples, batch_seconds=batch_seconds, peak_memory_gib=peak, oom=oom,
    )


def _ladder(overhead, per_sample, sizes=(8, 16, 32, 64, 128), n=20, noise=0.0, seed=0, batch=None):
    rng = np.random.default_rng(seed)
    out = []
    for b in sizes:
        t = overhead + per_sample * b
        s = t * (1 + noise * rng.standard_normal(n)) if noise else np.full(n, t)
        bs = None if batch is None else batch[0] + batch[1] * b
        out.append(_m(b, s, batch_seconds=bs))
    return out


def test_exact_line_recovered():
    # t(B) = 2 ms + 0.1 ms/sample, noise-free: both coefficients come back.
    fit = fit_step_time(_ladder(0.002, 0.0001, batch=(0.0005, 0.00001)))
    assert fit.overhead_seconds == pytest.approx(0.002, rel=1e-3)
    assert fit.per_sample_seconds == pytest.approx(0.0001, rel=1e-3)
    assert fit.batch_overhead_seconds == pytest.approx(0.0005, rel=1e-3)
    assert fit.batch_per_sample_seconds == pytest.approx(0.00001, rel=1e-3)
    # unmeasured sizes on the line: 2 ms + 100 * 0.1 ms = 12 ms; batch 0.5 ms + 100 * 0.01 ms = 1.5 ms
    assert fit.compute_seconds(100) == pytest.approx(0.012, rel=1e-3)
    assert fit.batch_seconds(100) == pytest.approx(0.0015, rel=1e-3)
    assert fit.step_seconds(100) == pytest.approx(0.0135, rel=1e-3)
    assert (fit.min_batch, fit.max_batch, fit.n_points, fit.n_samples) == (8, 128, 5, 100)
    assert fit.residual_rel_sigma == pytest.approx(0.0, abs=1e-6)


def test_noisy_line_recovered_within_a_few_percent():
    fit = fit_step_time(_ladder(0.005, 0.0002, noise=0.05, n=40, seed=1))
    assert fit.overhead_seconds == pytest.approx(0.005, rel=0.1)
    assert fit.per_sample_seconds == pytest.approx(0.0002, rel=0.05)
    # per-step spread is the 5% noise, estimated robustly
    assert fit.spread_rel == pytest.approx(0.05, rel=0.3)
    # the standard error of a 40-sample level is about 5% / sqrt(40) = 0.8%
    assert fit.level_rel_sigma == pytest.approx(0.05 / math.sqrt(40), rel=0.35)


def test_outliers_do_not_move_the_fit():
    clean = _ladder(0.002, 0.0001, noise=0.01, seed=2)
    dirty = []
    for m in clean:
        s = list(m.compute_seconds_samples)
        s[0] *= 20  # a context switch
        s[5] *= 8
        dirty.append(_m(m.batch_size, s))
    a, b = fit_step_time(clean), fit_step_time(dirty)
    assert b.per_sample_seconds == pytest.approx(a.per_sample_seconds, rel=0.02)
    assert b.overhead_seconds == pytest.approx(a.overhead_seconds, rel=0.05)
    assert b.compute_seconds(64) == pytest.approx(a.compute_seconds(64), rel=0.01)


def test_one_outlying_batch_size_does_not_bend_the_line():
    ms = _ladder(0.002, 0.0001, sizes=(8, 16, 32, 64, 128, 256), noise=0.005, seed=3)
    # batch 32 measured 60% slow (another process was busy then)
    ms[2] = _m(32, np.asarray(ms[2].compute_seconds_samples) * 1.6)
    fit = fit_step_time(ms)
    assert fit.per_sample_seconds == pytest.approx(0.0001, rel=0.05)
    assert fit.overhead_seconds == pytest.approx(0.002, rel=0.2)
    # ...and the prediction at that measured size is its measurement, as measured
    assert fit.compute_seconds(32) == pytest.approx(fit.levels[32], rel=1e-9)


def test_measured_size_predicts_its_own_level_even_when_the_curve_bends():
    # Concave curve: per-sample cost falls with batch (better GEMM efficiency): t = 1 ms + 0.4 ms * B^0.8
    sizes = (16, 32, 64, 128, 256)
    ms = [_m(b, np.full(10, 0.001 + 0.0004 * b ** 0.8)) for b in sizes]
    fit = fit_step_time(ms)
    for b in sizes:
        assert fit.compute_seconds(b) == pytest.approx(0.001 + 0.0004 * b ** 0.8, rel=1e-9)
    # between measured sizes the correction keeps the prediction close to the true curve (< 3%)
    for b in (24, 100, 200):
        assert fit.compute_seconds(b) == pytest.approx(0.001 + 0.0004 * b ** 0.8, rel=0.03)


def test_level_is_the_mean_without_gross_outliers():
    # mean of 1..9 ms is 5 ms; the 1 s sample is a gross outlier and is dropped
    samples = [0.001 * i for i in range(1, 10)] + [1.0]
    assert robust_level(samples) == pytest.approx(0.005)
    # a skewed but plausible sample stays in: (1+1+1+1.3)/4
    assert robust_level([1.0, 1.0, 1.0, 1.3]) == pytest.approx(1.075)


def test_single_point_ladder():
    fit = fit_step_time([_m(64, np.full(10, 0.032), batch_seconds=0.004)])
    assert fit.n_points == 1
    assert fit.compute_seconds(64) == pytest.approx(0.032)
    assert fit.overhead_seconds == pytest.approx(SINGLE_POINT_OVERHEAD_FRACTION * 0.032)
    # half the batch: 30% fixed + 70% / 2 = 65% of the time
    assert fit.compute_seconds(32) == pytest.approx(0.032 * (0.3 + 0.35))
    assert fit.batch_seconds(64) == pytest.approx(0.004)
    assert any("one batch size" in n for n in fit.notes)
    assert fit.relative_uncertainty(32) > fit.relative_uncertainty(64)


def test_single_sample_measurements_without_sample_lists():
    ms = [Measurement(device="cpu", batch_size=b, compute_seconds=0.01 + 0.001 * b) for b in (4, 8, 16)]
    fit = fit_step_time(ms)
    assert fit.per_sample_seconds == pytest.approx(0.001, rel=1e-3)
    assert fit.batch_seconds(8) == 0.0
    assert any("batch creation" in n for n in fit.notes)


def test_negative_slope_falls_back_to_constant():
    ms = [_m(8, np.full(5, 0.0102)), _m(16, np.full(5, 0.0100)), _m(32, np.full(5, 0.0099))]
    fit = fit_step_time(ms)
    assert fit.per_sample_seconds == 0.0
    assert fit.overhead_seconds == pytest.approx(0.0100)
    assert fit.compute_seconds(16) == pytest.approx(0.0100)
    assert any("negative" in n for n in fit.notes)


def test_negative_intercept_falls_back_to_origin_line():
    # super-linear: t = B^2 * 1e-5 -> the line has a negative intercept
    ms = [_m(b, np.full(5, 1e-5 * b * b)) for b in (10, 20, 40)]
    fit = fit_step_time(ms)
    assert fit.overhead_seconds == 0.0 and fit.per_sample_seconds > 0
    assert fit.compute_seconds(20) == pytest.approx(0.004)
    assert all(fit.compute_seconds(b) >= 0 for b in (1, 5, 80))


def test_oom_and_empty_measurements_are_skipped_or_refused():
    ms = _ladder(0.002, 0.0001, sizes=(8, 16)) + [_m(1024, [], oom=True)]
    assert fit_step_time(ms).max_batch == 16
    with pytest.raises(PredictionError):
        fit_step_time([_m(1024, [], oom=True)])


def test_uncertainty_grows_off_the_ladder():
    fit = fit_step_time(_ladder(0.002, 0.0001, noise=0.02, seed=4))
    at = fit.relative_uncertainty(64)
    between = fit.relative_uncertainty(100)
    beyond = fit.relative_uncertainty(512)
    far = fit.relative_uncertainty(4096)
    assert at <= between < beyond < far
    # two doublings beyond 128 add 2 x 10% in quadrature
    assert beyond == pytest.approx(math.sqrt(between ** 2 + 0.2 ** 2), rel=1e-6)
    assert fit.in_range(100) and not fit.in_range(512) and fit.is_measured(64) and not fit.is_measured(100)


def test_extrapolation_follows_the_line():
    fit = fit_step_time(_ladder(0.002, 0.0001))
    assert fit.compute_seconds(1024) == pytest.approx(0.002 + 0.1024, rel=1e-3)
    assert fit.compute_seconds(1) == pytest.approx(0.0021, rel=1e-3)


def test_bad_batch_size_rejected():
    fit = fit_step_time(_ladder(0.002, 0.0001))
    with pytest.raises(ValueError):
        fit.compute_seconds(0)


def test_fit_memory_line():
    ms = [_m(b, [0.01], peak=0.5 + 0.01 * b) for b in (8, 16, 32)]
    fixed, per = fit_memory(ms)
    assert fixed == pytest.approx(0.5) and per == pytest.approx(0.01)
    assert fit_memory([_m(8, [0.01])]) is None
    assert fit_memory([_m(8, [0.01], peak=0.4)]) == (0.0, pytest.approx(0.05))


def test_initial_transient_is_cut_off():
    # 6 settling steps at 15 ms, then steady 12 ms steps with 1% noise: the level is the steady 12 ms
    rng = np.random.default_rng(5)
    samples = [0.016, 0.0155, 0.015, 0.0148, 0.0145, 0.0142] + list(0.012 * (1 + 0.01 * rng.standard_normal(24)))
    rest = steady_state(samples)
    assert len(rest) == pytest.approx(24, abs=1)
    fit = fit_step_time([_m(512, samples)])
    assert fit.compute_seconds(512) == pytest.approx(0.012, rel=0.01)
    # a stationary series keeps (almost) all its samples; short ones are left alone
    flat = list(0.01 * (1 + 0.02 * rng.standard_normal(30)))
    assert len(steady_state(flat)) >= 24
    assert len(steady_state([0.02, 0.01, 0.01])) == 3


def test_job_uncertainty_is_the_time_weighted_mix_and_its_memo_follows_the_job():
    fit = fit_step_time(_ladder(0.002, 0.0005, noise=0.05, seed=3))
    for batch, last, full in ((64, 17, 99), (64, 17, 5), (64, 64, 10), (300, 1, 7), (64, 17, 99)):
        t_full, t_last = fit.step_seconds(batch), fit.step_seconds(last)
        expected = ((full * t_full * fit.relative_uncertainty(batch) + t_last * fit.relative_uncertainty(last))
                    / (full * t_full + t_last))
        assert fit.job_uncertainty(batch, last, full) == pytest.approx(expected, rel=1e-12)
    # another job of the same batch and last batch but more steps weights the last batch less
    assert fit.job_uncertainty(64, 3, 1) != fit.job_uncertainty(64, 3, 1000)


def test_a_level_of_thousands_of_samples_is_fitted_from_as_many_as_a_probe_keeps():
    """6,400 samples a level (a profile from anyone) cost a server worker seconds in the Huber fit: the line is
    fitted from at most MAX_STEP_SAMPLES of them, spread over their sorted values, and comes out the same."""
    from advisor.predictor.fit import _thinned
    from advisor.schemas.profile import MAX_STEP_SAMPLES

    rng = np.random.default_rng(7)
    many = rng.lognormal(np.log(0.05), 0.05, 6400)
    kept = _thinned(many)
    assert kept.size == MAX_STEP_SAMPLES and kept.min() == many.min() and kept.max() == many.max()
    assert np.median(kept) == pytest.approx(np.median(many), rel=0.01)
    assert _thinned(many[:300]).size == 300  # a level a probe makes is fitted whole
