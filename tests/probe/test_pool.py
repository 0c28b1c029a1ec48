"""advisor.probe.pool: the twins' timings of one batch size pooled into one measurement."""

from __future__ import annotations

import pytest

from advisor.predictor.fit import fit_step_time
from advisor.probe.pool import pool_profiles
from advisor.schemas import DeviceProfile, Measurement


def _profile(samples, *, clock="wall", threads=2, startup=0.5, others=None, busiest=None, oom=False,
             batch_size=64, faults=None, peak=None):
    m = Measurement(device="cpu", batch_size=batch_size, threads=threads, oom=oom, clock=clock,
                    compute_seconds=None if oom else sorted(samples)[len(samples) // 2],
                    compute_seconds_samples=[] if oom else list(samples), batch_seconds=None if oom else 0.001,
                    others_cpu_cores=others, busiest_other=busiest, page_faults_per_step=faults,
                    peak_memory_gib=peak)
    return DeviceProfile(device="cpu", kind="cpu", name="test cpu", threads=threads, measurements=[m],
                         startup_seconds=startup, probe_seconds=3.0)


def test_two_processes_keep_every_step_in_order_and_say_how_many_each_timed():
    a, b = [0.010, 0.011, 0.010, 0.012], [0.014, 0.015, 0.014]
    pooled = pool_profiles([_profile(a, startup=0.4, faults=100.0, peak=1.0),
                            _profile(b, startup=0.6, faults=300.0, peak=1.5)])
    (m,) = pooled.measurements
    assert m.compute_seconds_samples == a + b
    assert m.process_samples == [4, 3] and m.processes_left_out == 0
    assert m.compute_seconds == pytest.approx(0.012)  # the median of all seven steps
    assert m.page_faults_per_step == pytest.approx(200.0)
    assert m.peak_memory_gib == pytest.approx(1.5)
    assert pooled.startup_seconds == pytest.approx(0.5)  # what one fresh job pays, not both
    assert pooled.probe_seconds == pytest.approx(6.0)


def test_the_busiest_other_process_seen_by_either_twin_is_named():
    pooled = pool_profiles([_profile([0.01] * 4, others=0.05, busiest="a (pid 1, 5% CPU)"),
                            _profile([0.01] * 4, others=0.2, busiest="b (pid 2, 20% CPU)")])
    (m,) = pooled.measurements
    assert m.busiest_other == "b (pid 2, 20% CPU)" and m.others_cpu_cores == pytest.approx(0.125)


def test_a_twin_on_another_clock_is_left_out_and_the_wall_clock_one_kept():
    wall = _profile([0.02] * 5)
    busy = _profile([0.03] * 5, clock="thread_cpu", threads=1, others=1.0)
    for order in ([wall, busy], [busy, wall]):
        pooled = pool_profiles(order)
        (m,) = pooled.measurements
        assert m.clock == "wall" and m.compute_seconds_samples == [0.02] * 5 and m.process_samples == []
        assert m.processes_left_out == 1


def test_an_out_of_memory_first_twin_stands_as_the_limit():
    oom = _profile([], oom=True)
    assert pool_profiles([oom, _profile([0.01] * 4)]) is oom


def test_one_profile_is_returned_as_it_is():
    only = _profile([0.01, 0.02, 0.03])
    assert pool_profiles([only]) is only
    with pytest.raises(ValueError):
        pool_profiles([])


def test_the_fit_cuts_each_process_transient_not_a_slower_first_process():
    # The first process settles at 12 ms, the second at 10 ms. Per process, each loses its own first slow steps
    # and the level is the mean of the 18 steady steps (6 x 12 ms, 12 x 10 ms). Pooled as one sequence, the MSER
    # rule would take the whole first process for a transient and fit the second's 10 ms alone.
    first = [0.030, 0.020] + [0.012] * 6
    second = [0.025] + [0.010] * 12
    pooled = pool_profiles([_profile(first), _profile(second)]).measurements[0]
    assert fit_step_time([pooled]).levels[64] == pytest.approx((6 * 0.012 + 12 * 0.010) / 18, rel=1e-6)
    unsplit = pooled.model_copy(update={"process_samples": []})
    assert fit_step_time([unsplit]).levels[64] == pytest.approx(0.010, rel=1e-6)


def test_advisor_profile_names_each_fresh_process_median(capsys):
    from advisor.cli.render import profile_summary
    from advisor.schemas import Profile, WorkloadInfo

    pooled = pool_profiles([_profile([0.010, 0.011, 0.012]), _profile([0.014, 0.015, 0.016, 0.017])])
    profile_summary(Profile(workload=WorkloadInfo(name="w"), devices=[pooled]))
    assert "cpu, batch size 64: timed in 2 fresh processes, their medians 11.00, 15.50 ms" in capsys.readouterr().out


def test_advisor_profile_says_a_twin_was_left_out(capsys):
    from advisor.cli.render import profile_summary
    from advisor.schemas import Profile, WorkloadInfo

    busy = _profile([0.03] * 5, clock="thread_cpu", threads=1, others=1.0)
    profile_summary(Profile(workload=WorkloadInfo(name="w"), devices=[pool_profiles([_profile([0.02] * 5), busy])]))
    out = capsys.readouterr().out
    assert "cpu, batch size 64: 1 more fresh process timed it on another clock or thread count" in out
    assert "and was left out" in out
    assert "timed in 2 fresh processes" not in out
