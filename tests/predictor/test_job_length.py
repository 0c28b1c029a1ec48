"""A whole job far longer than the jobs the interval was checked on says so (advisor.predictor.job_length): a
probe's minute carried to a 159-year job kept a 100-s job's interval and notes, on the CPU and the GPU alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cpu_roofline import profile as roofline_profile

import advisor
from advisor import api
from advisor.predictor.caveats import caveats
from advisor.predictor.cpu_roofline import cpu_fallback_estimate
from advisor.predictor.job_length import ABSURD_JOB_SECONDS, LONG_JOB_SECONDS, long_job_notes
from advisor.schemas import JobSpec, Target

TABULAR = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
LONG = "far longer than the jobs its 80% interval was checked on"


def test_a_day_or_less_says_nothing_longer_says_the_interval_leaves_out_a_long_jobs_troubles():
    assert long_job_notes(3600.0) == [] and long_job_notes(LONG_JOB_SECONDS) == []
    (note,) = long_job_notes(3 * 86_400.0)
    assert note.startswith("this job runs 3d00h, " + LONG)
    assert "does not include a long job's drift, thermal throttling, checkpointing, failures and restarts" in note
    assert caveats([note]) == []  # how far to trust the figure, not a thing to check before acting on it


def test_over_a_year_is_likely_a_typo_and_says_which_flags_to_check():
    assert ABSURD_JOB_SECONDS == pytest.approx(365.25 * 86_400.0)
    absurd, long = long_job_notes(5.02e9)
    assert absurd == ("this would take 159 years: check --dataset-size and --epochs (samples per epoch and passes "
                      "over them).")
    assert long.startswith("this job runs 159 years, ")
    assert long_job_notes(2 * ABSURD_JOB_SECONDS)[0].startswith("this would take 2.0 years: ")
    assert caveats([absurd, long]) == [absurd]  # printed where an estimate's own notes are not (predict --gpus)


@pytest.mark.parametrize("target", ["cpu", "H100-SXM"])
def test_the_measured_cpu_and_a_gpu_from_the_datasheet_note_an_enormous_job(target):
    prof = api.load_profile(TABULAR)
    short = advisor.predict(prof, dataset_size=300_000, epochs=1, batch_size=512, target=target)
    assert short.seconds < LONG_JOB_SECONDS and not any(LONG in n for n in short.notes)
    huge = advisor.predict(prof, dataset_size=1_000_000_000, epochs=100_000, batch_size=512, target=target)
    assert huge.seconds > ABSURD_JOB_SECONDS
    assert [n for n in huge.notes if n.startswith("this would take ")] == [long_job_notes(huge.seconds)[0]]
    assert sum(LONG in n for n in huge.notes) == 1


def test_a_cpu_priced_from_its_analysis_notes_an_enormous_job():
    est = cpu_fallback_estimate(roofline_profile(), JobSpec(dataset_size=10**9, epochs=100, batch_size=4),
                                Target.cpu())
    assert est.seconds > ABSURD_JOB_SECONDS
    assert est.notes[-2:] == long_job_notes(est.seconds)
