"""A probe raised over others' runnable tasks widens a CPU job's interval by the busy-raised jobs' own floor
(advisor.predictor.raised_load; defect 7 of the intervals audit: a probe raised over a run queue of 15-18 on 2 cores
got an interval barely wider than an idle one's)."""

from __future__ import annotations

import math

import pytest

from advisor.predictor.measured import RUN_TO_RUN_REL, predict_measured
from advisor.predictor.raised_load import IDLE_FLOOR_REL, RAISED_BUSY_SIGMA
from advisor.schemas import CpuInfo, DeviceProfile, HostInfo, JobSpec, Measurement, Profile, WorkloadInfo

Z80 = 1.2816


def _profile(priority_nice=None, run_queue=None, others_cpu_cores=None) -> Profile:
    ms = [Measurement(device="cpu", batch_size=b, threads=2, compute_seconds=0.004 + 0.0002 * b,
                      compute_seconds_samples=[0.004 + 0.0002 * b] * 30, batch_seconds=0.0002 + 0.00001 * b,
                      priority_nice=priority_nice, run_queue=run_queue, others_cpu_cores=others_cpu_cores,
                      steal_fraction=None if others_cpu_cores is None else 0.0)
          for b in (8, 16, 32, 64)]
    dev = DeviceProfile(device="cpu", kind="cpu", name="Test CPU", threads=2, measurements=ms, largest_batch_size=64,
                        startup_seconds=1.0)
    host = HostInfo(cpu=CpuInfo(model_name="Test CPU", arch="x86_64", physical_cores=1, logical_cores=2,
                                torch_threads=2, memory_gib=8.0))
    return Profile(workload=WorkloadInfo(name="synthetic"), host=host, devices=[dev])


def _high_ratio(profile: Profile) -> float:
    est = predict_measured(profile, JobSpec(dataset_size=20_000, epochs=1, batch_size=64))
    return est.high / est.seconds


def test_the_term_is_the_pooled_busy_raised_floor_over_the_idle_one():
    assert IDLE_FLOOR_REL == RUN_TO_RUN_REL["cpu"]
    # 0.12 x sqrt((8.19 / 6.51)^2 - 1): small, under the idle floor itself
    assert RAISED_BUSY_SIGMA == pytest.approx(0.0916, abs=5e-4)


def test_a_raised_probe_beside_a_run_queue_gets_a_wider_interval_than_an_idle_one():
    idle = _high_ratio(_profile())
    assert idle == pytest.approx(math.exp(Z80 * RUN_TO_RUN_REL["cpu"]), rel=1e-3)
    # the audit's case: raised (nice -20) over 16 runnable tasks on 2 cores, the steps themselves steady
    raised = _high_ratio(_profile(priority_nice=-20, run_queue=16.0, others_cpu_cores=0.05))
    assert raised == pytest.approx(math.exp(Z80 * math.hypot(RUN_TO_RUN_REL["cpu"], RAISED_BUSY_SIGMA)), rel=1e-3)
    assert raised > idle * 1.04  # +21% against +17%
    # a raised window that found less than one task of others runnable, or a queue without a raised window
    # (its wait shows in its own steps' spread and clock), adds nothing here
    assert _high_ratio(_profile(priority_nice=-20, run_queue=0.4, others_cpu_cores=0.05)) == pytest.approx(idle)
    assert _high_ratio(_profile(run_queue=16.0)) == pytest.approx(idle)
