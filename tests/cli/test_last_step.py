"""An epoch's last, smaller batch in ``predict``: 513 samples at batch 512 are one step of 512 and one of 1 per
epoch. The output said "2 steps of 512" and gave no last step's time, so step_seconds x total_steps came to 1.7x
the job's steps; the JSON's ``last_batch_size`` and ``last_step_seconds`` now add up to ``seconds``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


def _predict(app, dataset_size: int, *more: str):
    return run(app, "predict", "--profile", PROFILE, "--dataset-size", dataset_size, "--epochs", 1000,
               "--batch-size", 512, "--device", "cpu", "--no-save", *more)


@pytest.mark.parametrize("dataset_size, last", [(513, 1), (10_000, 272), (1024, 512)])
def test_the_json_parts_add_up_to_the_job(app, dataset_size, last):
    result = _predict(app, dataset_size, "--json")
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["last_batch_size"] == last
    if last == 512:
        assert d["last_step_seconds"] == d["step_seconds"]
    else:
        assert 0 < d["last_step_seconds"] < d["step_seconds"]
    steps = d["epochs"] * ((d["steps_per_epoch"] - 1) * d["step_seconds"] + d["last_step_seconds"])
    extras = sum(d[k] or 0 for k in ("eval_seconds", "epoch_restart_seconds", "subnormal_seconds"))
    assert d["startup_seconds"] + steps + extras == pytest.approx(d["seconds"], rel=1e-9)


def test_the_table_says_the_last_step_apart(app, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    result = _predict(app, 513)
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "1,000 epochs x 1 full step of 512 and 1 of 1 (513 samples per epoch)" in text
    assert "2 steps of 512" not in text
    assert "; the last of each epoch (batch 1) " in text


def test_a_job_of_full_batches_reads_as_before(app, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    result = _predict(app, 1024)
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "1,000 epochs x 2 steps of 512 (1,024 samples)" in text and "the last of each epoch" not in text
