"""bench/replay_cpu.py: accuracy_cpu.py's jobs predicted again from the probes it recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench_scripts import bench_modules

from advisor.predictor import cpu_scaling
from advisor.predictor.measured import predict_measured
from advisor.schemas import JobSpec, Profile

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


@pytest.fixture(scope="module")
def replay_cpu():
    return bench_modules("replay_cpu")[0]


def _row(profile: dict, actual_seconds: float = 20.0) -> dict:
    return {"workload": "tabular_mlp", "dataset_size": 200_003, "epochs": 2, "batch_size": 512,
            "actual_seconds": actual_seconds, "error_pct": 1.5, "profile": profile}


def _busy(profile: dict) -> dict:
    """The same probe as a busy machine leaves it: every step timed on one of the two threads, no scaling."""
    busy = json.loads(json.dumps(profile))
    device = busy["devices"][0]
    device["thread_scaling"] = []
    for m in device["measurements"]:
        m["threads"] = 1
    return busy


def test_a_replayed_job_is_the_prediction_its_profile_gives(replay_cpu):
    profile = json.loads(PROFILE.read_text())
    est = predict_measured(Profile.model_validate(profile), JobSpec(200_003, 2, 512))
    again = replay_cpu.replay(_row(profile, actual_seconds=est.seconds / 1.25))
    assert again["predicted_seconds"] == pytest.approx(est.seconds)
    assert again["error_pct"] == pytest.approx(25.0)
    assert again["recorded_error_pct"] == 1.5
    assert again["interval_held"] == (est.low <= est.seconds / 1.25 <= est.high)


def test_another_busy_fraction_scales_a_busy_probes_steps_and_is_put_back(replay_cpu):
    row = _row(_busy(json.loads(PROFILE.read_text())))
    shipped = replay_cpu.replay(row)
    lower = replay_cpu.replay(row, fraction=0.6)
    # One thread to two: x (1 - p / 2), 0.6 at the shipped 0.8 and 0.7 at 0.6, on the measured compute; the
    # predicted step also holds a little the thread count does not scale, so the ratio is near 7/6, not exact.
    assert cpu_scaling.BUSY_PARALLEL_FRACTION == 0.8
    assert lower["step_seconds"] / shipped["step_seconds"] == pytest.approx(0.7 / 0.6, rel=0.01)
    assert lower["predicted_seconds"] > shipped["predicted_seconds"]


def test_rows_without_a_profile_and_impossible_fractions_are_refused(replay_cpu):
    row = _row(json.loads(PROFILE.read_text()))
    with pytest.raises(ValueError, match="has no profile"):
        replay_cpu.replay({k: v for k, v in row.items() if k != "profile"})
    with pytest.raises(ValueError, match="between 0 and 0.99"):
        replay_cpu.replay(row, fraction=1.2)
    assert cpu_scaling.BUSY_PARALLEL_FRACTION == 0.8


def test_the_table_sets_the_recorded_error_beside_the_new_one(replay_cpu):
    rows = [("busy1", {"workload": "a", "actual_seconds": 10.0, "recorded_error_pct": -30.0,
                       "predicted_seconds": 11.0, "error_pct": 10.0, "interval_held": True}),
            ("busy1", {"workload": "b", "actual_seconds": 20.0, "recorded_error_pct": 4.0,
                       "predicted_seconds": 15.0, "error_pct": -25.0, "interval_held": False})]
    lines = replay_cpu.table(rows).splitlines()
    assert lines[2] == "| busy1 | a | 10.0 | -30.0 | 11.0 | +10.0 | yes |"
    assert lines[3] == "| busy1 | b | 20.0 | +4.0 | 15.0 | -25.0 | no |"
    assert lines[-1] == ("median |error|: recorded 17.0%, predicted again 17.5%; within 20% again: 1/2; "
                         "intervals held again: 1/2")
