"""The count flags (--dataset-size, --epochs, --batch-size, --grad-accum-steps...) read 1e6 as --deadline 1e3 is
read, and refuse what is not a whole number in the command's words (exit 1), not as click's usage error (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
JOB = ("--epochs", "1", "--batch-size", "512", "--device", "cpu", "--no-save", "--json")


@pytest.mark.parametrize("written", ["1e6", "1E6", "1_000_000", "1000000.0"])
def test_a_whole_count_in_scientific_notation_is_taken(app, written):
    result = run(app, "predict", "--profile", PROFILE, "--dataset-size", written, *JOB)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["dataset_size"] == 1_000_000


@pytest.mark.parametrize("flag, written, message", [
    ("--epochs", "2.7", "epochs must be a positive whole number, got 2.7 (--epochs).\n"
                        "Fix: pass --epochs with a whole number of 1 or more, e.g. --epochs 3."),
    ("--dataset-size", "abc", "dataset size must be a positive whole number, got 'abc' (--dataset-size)."),
    ("--dataset-size", "1e30", "dataset size 1e+30 (--dataset-size) is more than 10^12, beyond any real job."),
    ("--grad-accum-steps", "2.5", "--grad-accum-steps must be a whole number from 1 to 10^12, got 2.5."),
])
def test_a_count_that_is_not_whole_is_one_message_and_exit_1(app, flag, written, message):
    job = {"--dataset-size": "1000", "--epochs": "1", "--batch-size": "512", flag: written}
    args = [word for pair in job.items() for word in pair]
    result = run(app, "predict", "--profile", PROFILE, *args, "--device", "cpu", "--no-save")
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
