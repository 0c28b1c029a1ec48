"""The CPU-vs-GPU sentence's speed words: a ratio within 5% reads "about as fast", as the head's speed-up does.
The whole run's ratio read "1.0x slower" (the audit's "10m45s on the GPU against 10m43s on the CPU (1.0x
slower)"), slower and the same at once."""

from __future__ import annotations

import pytest

from advisor.schemas import Constraints
from tests.test_ranking import estimates, run


def test_a_whole_run_within_five_percent_reads_about_as_fast():
    # 12m45s on the CPU (645 s + 2m00s start-up) against 12m47s on the GPU (467 s + 5m00s)
    v = run(Constraints(objective="time"), estimates(cpu=645.0, a100=467.0, a100x8=460.0, t4=2000.0)).verdict.cpu_vs_gpu
    assert v.gpu.instance_type == "gpu_1x_a100" and v.total_time_ratio == pytest.approx(767 / 765)
    assert "With start-up the whole run takes 12m47s on the GPU against 12m45s on the CPU (about as fast)." in v.text
    assert "1.0x" not in v.text


@pytest.mark.parametrize("cpu, gpu_total, words", [(645.0, 1000.0, "1.3x slower"), (645.0, 600.0, "1.3x faster"),
                                                  (645.0, 750.0, "about as fast"), (645.0, 805.0, "1.1x slower")])
def test_a_whole_run_further_apart_reads_as_a_ratio(cpu, gpu_total, words):
    ests = estimates(cpu=cpu, a100=gpu_total - 300.0, a100x8=gpu_total, t4=5000.0)
    v = run(Constraints(objective="time"), ests).verdict.cpu_vs_gpu
    assert f"on the CPU ({words})." in v.text, v.text


def test_the_pace_words():
    from advisor.ranking.verdict import _pace

    assert [_pace(r) for r in (0.41, 0.96, 1.0, 1.049, 1.05, 1.3, 12.0)] == [
        "2.4x faster", "about as fast", "about as fast", "about as fast", "1.1x slower", "1.3x slower", "12x slower"]


@pytest.mark.parametrize("apart, words, figures", [
    (1.019, "about the same cost", "($0.0142, 21m40s, against $0.0140, 5h35m)"),
    (0.99, "$0.00014 cheaper (within 2%)", "($0.0138, 21m40s, against $0.0140, 5h35m)"),
    (1.04, "4% dearer", "($0.015, 21m40s, against $0.014, 5h35m)"),
    (1.3, "1.3x dearer", "($0.018, 21m40s, against $0.014, 5h35m)")])
def test_a_whole_run_near_a_cost_tie_shows_costs_that_differ_and_the_rows_words(apart, words, figures):
    """A whole run 1.9% dearer on the GPU read "about the same on the GPU ($0.014, ..., against $0.014, ...)": the
    costs rounded alike, and "about the same" reached 5%, where the rows' words and the near-tie band stop at 2%."""
    from tests.test_ranking_cost_tie import CPU_JOB, GPU_JOB, ests, offer

    cpu = offer("gcp", "e2-standard-2", 0.0025, vcpus=2, memory=8)
    gpu = offer("vast", "1x-RTX_3060_Ti", 0.0025 * 20120 / 1300 * apart, gpu="RTX-3060-Ti", count=1, gpu_memory=8)
    v = run(Constraints(objective="cost"), ests([cpu, gpu], [CPU_JOB, GPU_JOB]), offers=[cpu, gpu]).verdict.cpu_vs_gpu
    assert v.total_cost_ratio == pytest.approx(apart)
    assert f"With start-up the whole run is {words} on the GPU {figures}." in v.text, v.text


@pytest.mark.parametrize("apart, words", [(1.04, "4% dearer"), (1 / 1.04, "4% cheaper"), (1.015, "about the same cost"),
                                          (1.3, "1.3x dearer")])
def test_the_job_alone_is_worded_in_the_rows_bands(apart, words):
    """The job alone 4% dearer on the GPU read "on the job alone it is about the same" ("about the same" reached
    5%), while a row's "about the same cost" stops at 2% and past it says "4% dearer"."""
    from tests.test_ranking_cost_tie import CPU_JOB, GPU_JOB, ests, offer

    cpu = offer("gcp", "e2-standard-2", 0.01, vcpus=2, memory=8)
    gpu = offer("vast", "1x-RTX_3060_Ti", 0.01 * CPU_JOB / GPU_JOB * apart, gpu="RTX-3060-Ti", count=1, gpu_memory=8)
    v = run(Constraints(objective="cost"), ests([cpu, gpu], [CPU_JOB, GPU_JOB]), offers=[cpu, gpu]).verdict.cpu_vs_gpu
    assert v.compute_cost_ratio == pytest.approx(apart)
    assert f"runs the job 20x faster: on the job alone it is {words}." in v.text, v.text
