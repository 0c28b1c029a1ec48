"""K GPUs that take longer for the user's job (fixed global batch) than one GPU of the kind: said, computed by
pricing one GPU at the same global batch the same way (``GpuOnHost._slower_than_one``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor import api
from advisor.predictor.estimate import EstimateContext, estimate
from advisor.schemas import JobSpec, Target

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


@pytest.fixture(scope="module")
def profile():
    return api.load_profile(str(PROFILE))


def _slower(est) -> list[str]:
    return [n for n in est.notes if "take longer for this job than 1 does" in n]


def _eight_and_one(profile, job: JobSpec) -> tuple:
    """The job's estimates on 8 A100-80GB GPUs and on 1, from one context."""
    ctx = EstimateContext.load()
    return tuple(estimate(profile, job, Target.gpu("A100-80GB", n), context=ctx) for n in (8, 1))


def test_eight_gpus_slower_than_one_say_so_with_both_times(profile):
    # Batch 512 over 8 GPUs: 64 each, a step of the host's kernel launches that the smaller batch hardly shortens,
    # so the all-reduce and DDP's per-step cost make the job longer than on one GPU.
    eight, one = _eight_and_one(profile, JobSpec(dataset_size=1_000_000, epochs=10, batch_size=512))
    assert one.seconds < eight.seconds
    (note,) = _slower(eight)
    from advisor.units import format_duration

    assert note.startswith(f"8 x A100-80GB take longer for this job than 1 does ({format_duration(eight.seconds)} "
                           f"against {format_duration(one.seconds)}): each GPU's step of 64 samples (")
    assert note.endswith("use fewer GPUs or a larger batch.")
    assert eight.notes[0] == note  # first: it decides whether to rent them
    assert not _slower(one)


def test_no_note_where_the_gpus_are_faster(profile):
    eight, one = _eight_and_one(profile, JobSpec(dataset_size=10_000_000, epochs=2, batch_size=65_536))
    assert eight.seconds < one.seconds
    assert not _slower(eight)


def test_the_note_follows_the_job_asked_of_a_kept_model(profile):
    # Another dataset size of the same shape goes through the kept model (a server, recommend's what-ifs): its
    # note gives that job's times, not the first job's.
    ctx = EstimateContext.load()
    small = JobSpec(dataset_size=1_000_000, epochs=10, batch_size=512)
    large = JobSpec(dataset_size=4_000_000, epochs=10, batch_size=512)
    estimate(profile, small, Target.gpu("A100-80GB", 8), context=ctx)
    eight = estimate(profile, large, Target.gpu("A100-80GB", 8), context=ctx)
    one = estimate(profile, large, Target.gpu("A100-80GB", 1), context=ctx)
    from advisor.units import format_duration

    (note,) = _slower(eight)
    assert f"({format_duration(eight.seconds)} against {format_duration(one.seconds)})" in note
