"""Bad flags and settings: one message saying what is wrong and how to fix it, exit 1, no traceback."""

from __future__ import annotations

import pytest

JOB = ["--dataset-size", "1000", "--epochs", "1", "--batch-size", "16"]


def test_unknown_precision_in_recommend(user_error, invoke, profile_file):
    user_error(invoke("recommend", "--profile", profile_file, *JOB, "--precision", "fp8", "--no-save"),
                "Unknown precision 'fp8'", "Fix:")


@pytest.mark.parametrize(("name", "value"), [("ADVISOR_STARTUP_SECONDS_CPU", "-60"),
                                             ("ADVISOR_STARTUP_SECONDS_GPU", "nan"),
                                             ("ADVISOR_STARTUP_SECONDS_GPU", "1e300")])
def test_bad_start_up_seconds(user_error, invoke, profile_file, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    user_error(invoke("recommend", "--profile", profile_file, *JOB, "--no-save"), name, "Fix:")


def test_bad_probe_priority(user_error, invoke, profile_file, monkeypatch):
    monkeypatch.setenv("ADVISOR_PROBE_PRIORITY", "high")
    user_error(invoke("recommend", "--profile", profile_file, *JOB, "--no-save"),
               "ADVISOR_PROBE_PRIORITY='high' is not one of raised, normal", "Fix:")


def test_more_gpus_than_samples_per_step(user_error, invoke, profile_file):
    user_error(invoke("predict", "--profile", profile_file, *JOB, "--gpu", "A100-80GB", "--gpus", "1000"),
                "batch size 16 cannot be split over 1000 GPUs", "a --batch-size of 1000 or more, or at most 16 GPUs")


def test_more_gpus_than_the_whole_dataset_asks_for_a_larger_dataset(user_error, invoke, profile_file):
    """A --batch-size past the dataset is capped to it: a larger batch would change nothing."""
    user_error(invoke("predict", "--profile", profile_file, "--dataset-size", "2000", "--epochs", "1",
                      "--batch-size", "1000000", "--gpu", "T4", "--gpus", "4096", "--no-save"),
               "batch size 2000 cannot be split over 4096 GPUs",
               "a --dataset-size of 4096 or more (the batch is the whole dataset), or at most 2000 GPUs")
