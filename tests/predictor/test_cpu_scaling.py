from __future__ import annotations

import pytest

from advisor.errors import PredictionError
from advisor.predictor.cpu_scaling import (
    DEFAULT_PARALLEL_FRACTION,
    amdahl_fraction,
    fit_amdahl,
    scale_compute_seconds,
    threads_for_vcpus,
)
from advisor.schemas import CpuSpec, DeviceProfile, Measurement, ThreadPoint


def tp(threads, seconds, batch=32):
    return ThreadPoint(threads=threads, batch_size=batch, compute_seconds=seconds)


def cpu_profile(points, threads=4, measurements=()):
    return DeviceProfile(device="cpu", kind="cpu", name="test cpu", threads=threads,
                         thread_scaling=list(points), measurements=list(measurements))


def test_amdahl_by_hand():
    # t1 = 10, p = 0.9: t(4) = 10 * (0.1 + 0.9 / 4) = 3.25; t(8) = 10 * (0.1 + 0.1125) = 2.125
    assert 10 * amdahl_fraction(0.9, 4) == pytest.approx(3.25)
    assert 10 * amdahl_fraction(0.9, 8) == pytest.approx(2.125)


def test_fit_two_points_recovers_t1_and_p():
    fit = fit_amdahl([tp(1, 10.0), tp(4, 3.25)])
    assert fit.t1_seconds == pytest.approx(10.0)
    assert fit.parallel_fraction == pytest.approx(0.9)
    assert fit.batch_size == 32
    assert fit.seconds(8) == pytest.approx(2.125)
    assert not fit.assumed and not fit.clipped


@pytest.mark.parametrize("unit", [1e-8, 1.0, 1e5])
def test_the_fit_is_the_same_in_any_unit_of_time(unit):
    fit = fit_amdahl([tp(1, 10.0 * unit), tp(4, 3.25 * unit)])
    assert fit.t1_seconds == pytest.approx(10.0 * unit) and fit.parallel_fraction == pytest.approx(0.9)


def test_step_times_the_schema_now_refuses_do_not_divide_by_zero():
    """1 / t^2 of a 1e-200 s step divided by zero (a profile's, before the schema's 1 ns floor): the fit works in
    units of the slowest point."""
    points = [ThreadPoint.model_construct(threads=t, batch_size=32, compute_seconds=s * 1e-200)
              for t, s in ((1, 10.0), (4, 3.25))]
    fit = fit_amdahl(points)
    assert fit.parallel_fraction == pytest.approx(0.9) and fit.t1_seconds == pytest.approx(1e-199)


def test_fit_many_points_uses_medians_and_one_batch():
    points = [tp(t, 10 * amdahl_fraction(0.75, t)) for t in (1, 2, 4, 8)]
    points += [tp(2, 99.0), tp(2, 10 * amdahl_fraction(0.75, 2))]  # an outlier the median ignores
    points += [tp(1, 1.0, batch=8)]  # another batch size, fewer thread counts: ignored
    fit = fit_amdahl(points)
    assert fit.parallel_fraction == pytest.approx(0.75)
    assert fit.t1_seconds == pytest.approx(10.0)
    assert fit.thread_counts == (1, 2, 4, 8)


def test_fit_clips_superlinear_scaling():
    # 8 threads 10x faster than 1: p would exceed 1; clipped to 0.99 and t1 refitted.
    fit = fit_amdahl([tp(1, 10.0), tp(8, 1.0)])
    assert fit.clipped
    assert fit.parallel_fraction == pytest.approx(0.99)
    assert 1.0 < fit.t1_seconds <= 10.0


def test_fit_clips_negative_parallel_fraction():
    fit = fit_amdahl([tp(1, 10.0), tp(4, 12.0)])  # slower with more threads
    assert fit.clipped and fit.parallel_fraction == 0.0
    assert fit.t1_seconds == pytest.approx(11.0, rel=0.1)


def test_fit_single_point_assumes_default_p():
    fit = fit_amdahl([tp(4, 3.25)])
    assert fit.assumed
    assert fit.parallel_fraction == DEFAULT_PARALLEL_FRACTION == 0.9
    assert fit.t1_seconds == pytest.approx(10.0)


def test_fit_without_points_is_an_error():
    with pytest.raises(PredictionError):
        fit_amdahl([])


def test_scale_to_more_threads_by_hand():
    scaling = scale_compute_seconds(cpu_profile([tp(1, 10.0), tp(4, 3.25)], threads=4), 8)
    assert scaling.factor == pytest.approx(2.125 / 3.25)
    assert scaling.parallel_fraction == pytest.approx(0.9)
    assert scaling.probed_threads == 4 and scaling.target_threads == 8
    assert scaling.relative_uncertainty == pytest.approx(0.15 + 0.05)  # two counts + one doubling beyond 4
    assert any("Extrapolated" in n for n in scaling.notes)


def test_scale_to_fewer_threads_interpolates():
    scaling = scale_compute_seconds(cpu_profile([tp(1, 10.0), tp(2, 5.5), tp(4, 3.25)], threads=4), 2)
    assert scaling.factor == pytest.approx(5.5 / 3.25)
    assert scaling.relative_uncertainty == pytest.approx(0.10)


def test_same_threads_is_the_measurement():
    scaling = scale_compute_seconds(cpu_profile([tp(1, 10.0), tp(4, 3.25)]), 4)
    assert scaling.factor == 1.0
    assert scaling.relative_uncertainty == pytest.approx(0.05)


def test_single_thread_count_widens_the_interval():
    scaling = scale_compute_seconds(cpu_profile([], threads=4, measurements=[
        Measurement(device="cpu", batch_size=32, threads=4, compute_seconds=3.25)]), 2)
    # default p = 0.9: (0.1 + 0.45) / (0.1 + 0.225)
    assert scaling.factor == pytest.approx(0.55 / 0.325)
    assert scaling.relative_uncertainty >= 0.30
    assert any("assumed a parallel fraction" in n for n in scaling.notes)


def test_measurements_join_the_thread_points_at_their_batch():
    device = cpu_profile([tp(1, 10.0)], threads=4, measurements=[
        Measurement(device="cpu", batch_size=32, threads=4, compute_seconds=3.25),
        Measurement(device="cpu", batch_size=64, threads=4, compute_seconds=6.4)])
    scaling = scale_compute_seconds(device, 8)
    assert scaling.parallel_fraction == pytest.approx(0.9)
    assert scaling.fit.thread_counts == (1, 4)


FAST = CpuSpec(name="fast", turbo_ghz=3.0, fp32_flops_per_cycle_per_core=64)
SLOW = CpuSpec(name="slow", turbo_ghz=2.0, fp32_flops_per_cycle_per_core=32)
NO_FLOPS = CpuSpec(name="unknown-width", turbo_ghz=3.7)


def test_other_cpu_with_both_specs_scales_by_per_core_speed():
    device = cpu_profile([tp(1, 10.0), tp(4, 3.25)])
    scaling = scale_compute_seconds(device, 4, target_cpu=FAST, local_cpu=SLOW)
    # local 2.0 x 32 = 64 GFLOP/s/core, target 3.0 x 64 = 192: the target takes a third of the time
    assert scaling.speed_ratio == pytest.approx(1 / 3)
    assert scaling.factor == pytest.approx(1 / 3)
    assert scaling.relative_uncertainty == pytest.approx(0.05 + 0.15)


def test_other_cpu_without_figures_keeps_ratio_one_and_says_so():
    device = cpu_profile([tp(1, 10.0), tp(4, 3.25)])
    for local in (None, SLOW):
        scaling = scale_compute_seconds(device, 4, target_cpu=NO_FLOPS, local_cpu=local)
        assert scaling.speed_ratio == 1.0 and scaling.factor == 1.0
        assert scaling.relative_uncertainty == pytest.approx(0.05 + 0.30)
        assert any("as fast as the probed machine" in n for n in scaling.notes)


def test_same_cpu_family_needs_no_ratio():
    scaling = scale_compute_seconds(cpu_profile([tp(1, 10.0), tp(4, 3.25)]), 4, target_cpu=FAST, local_cpu=FAST)
    assert scaling.speed_ratio == 1.0 and scaling.relative_uncertainty == pytest.approx(0.05)


def test_threads_for_vcpus():
    assert threads_for_vcpus(8) == 4  # SMT: two vCPUs per core
    assert threads_for_vcpus(2) == 1
    assert threads_for_vcpus(1) == 1
    assert threads_for_vcpus(16, threads_per_core=1) == 16  # e.g. AWS m7a
    assert threads_for_vcpus(16, threads_per_core=None) == 8
    with pytest.raises(PredictionError):
        threads_for_vcpus(0)


def test_errors():
    with pytest.raises(PredictionError):
        scale_compute_seconds(DeviceProfile(device="cuda:0", kind="gpu", name="x", threads=1), 4)
    with pytest.raises(PredictionError):
        scale_compute_seconds(cpu_profile([tp(1, 1.0)]), 0)
    with pytest.raises(PredictionError):
        scale_compute_seconds(DeviceProfile(device="cpu", kind="cpu", name="x"), 4)
