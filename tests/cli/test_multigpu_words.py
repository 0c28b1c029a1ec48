"""What ``advisor predict --gpus K`` says of a multi-GPU step: the scaling efficiency with the per-GPU batch it
compares at (weak scaling, not the job's speed-up)."""

from __future__ import annotations

from pathlib import Path

import pytest

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
JOB = ("--dataset-size", 100_000_000, "--epochs", 10, "--batch-size", 4096, "--gpu", "A100-80GB", "--no-save")


@pytest.fixture(scope="module")
def eight(app):
    wide = {"COLUMNS": "400"}
    text = run_wide(app, wide, "predict", "--profile", PROFILE, *JOB, "--gpus", 8)
    data = run_wide(app, wide, "predict", "--profile", PROFILE, *JOB, "--gpus", 8, "--json")
    import json

    return text, json.loads(data)


def run_wide(app, env, *args) -> str:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, [str(a) for a in args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_scaling_efficiency_says_it_is_at_the_per_gpu_batch_not_the_jobs_speedup(eight):
    text, est = eight
    assert est["per_device_batch_size"] == 512
    line = next(ln for ln in text.splitlines() if "scaling efficiency" in ln)
    assert (f"{est['scaling_efficiency']:.0%} (at 512 per GPU against one GPU at 512: each GPU's compute over the "
            "8-GPU step; not this job's speed-up over one GPU)") in line

