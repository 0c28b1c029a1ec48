"""The two factors a GPU probe's ladder fits (its GPU work and its host's launches against the roofline)."""

from __future__ import annotations

import pytest

from advisor.predictor.calibration import load_calibration
from advisor.predictor.probe_carry import fit_carry
from advisor.predictor.roofline import StepPrediction, overlapped


def _step(gpu_seconds: float, host_seconds: float, batch: int) -> StepPrediction:
    return StepPrediction(seconds=max(gpu_seconds, host_seconds), compute_bound_seconds=gpu_seconds,
                          memory_bound_seconds=0.0, overhead_seconds=0.0, per_kind={}, gpu="X", batch_size=batch,
                          precision="bf16", gpu_seconds=gpu_seconds, host_seconds=host_seconds)


def _levels(model, batches, gpu_factor: float, host_factor: float, cal) -> dict[int, float]:
    return {b: overlapped(gpu_factor * model(b).gpu_seconds, host_factor * model(b).host_seconds,
                          cal.host_overlap_exponent) + cal.step_overhead_seconds for b in batches}


def test_a_ladder_from_launch_bound_to_gpu_bound_recovers_both_factors():
    cal = load_calibration()

    def model(b):  # 20 ms of launches; 2 ms of GPU work a sample
        return _step(0.002 * b, 0.020, b)

    carry = fit_carry(_levels(model, (1, 2, 4, 8, 16, 32), 1.3, 0.6, cal), model, cal)
    assert carry.gpu_factor == pytest.approx(1.3, rel=0.03)
    assert carry.host_factor == pytest.approx(0.6, rel=0.05)
    assert carry.residual == pytest.approx(1.0, abs=0.02)


def test_a_ladder_that_never_leaves_the_launch_floor_leaves_the_gpu_part_near_the_roofline():
    cal = load_calibration()

    def model(b):  # the GPU's work under a tenth of the launches' at every batch measured
        return _step(0.0002 * b, 0.020, b)

    carry = fit_carry(_levels(model, (1, 2, 4, 8), 1.5, 0.8, cal), model, cal)
    assert carry.host_factor == pytest.approx(0.8, rel=0.03)
    assert 0.95 < carry.gpu_factor < 1.05  # nothing in the ladder says otherwise: the prior holds it


def test_the_ladders_largest_step_is_carried_exactly():
    cal = load_calibration()

    def model(b):
        return _step(0.002 * b, 0.020, b)

    levels = _levels(model, (1, 2, 4, 8, 16), 1.0, 1.0, cal)
    levels[16] *= 1.1  # the top ran 10% slower than anything the factors explain
    carry = fit_carry(levels, model, cal)
    assert carry.seconds(model(16)) == pytest.approx(levels[16], rel=1e-9)
    assert 1.0 < carry.residual < 1.1  # the GPU factor takes part of it


def test_no_level_is_an_error():
    cal = load_calibration()
    with pytest.raises(ValueError):
        fit_carry({}, lambda b: _step(0.001, 0.001, b), cal)


def test_a_ladder_whose_larger_batches_ran_faster_keeps_the_factors_within_their_bounds():
    """Warm-up left in a ladder (40, 30, 25, 20 ms at 1-8) asked for a GPU factor of 0.34: an H200 at 134% MFU."""
    from advisor.predictor.probe_carry import GPU_FACTOR_BOUNDS, HOST_FACTOR_BOUNDS

    cal = load_calibration()

    def model(b):
        return _step(0.004 * b, 0.020, b)

    carry = fit_carry({1: 0.040, 2: 0.030, 4: 0.025, 8: 0.020}, model, cal)
    assert GPU_FACTOR_BOUNDS[0] <= carry.gpu_factor <= GPU_FACTOR_BOUNDS[1]
    assert HOST_FACTOR_BOUNDS[0] <= carry.host_factor <= HOST_FACTOR_BOUNDS[1]
    assert carry.seconds(model(8)) == pytest.approx(0.020, rel=1e-9)
