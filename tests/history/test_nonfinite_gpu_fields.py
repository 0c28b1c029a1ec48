"""A profile's GPU clock and power fields are finite, as its other floats are: NaN or inf in one was accepted,
stored as a bare ``NaN`` token on SQLite, and on PostgreSQL (which refuses that JSON) ended in a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from advisor.cli.app import build_app

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


@pytest.mark.parametrize(("field", "value"), [("sm_clock_mhz", "NaN"), ("memory_clock_mhz", "-Infinity"),
                                              ("power_limit_watts", "Infinity")])
def test_a_non_finite_gpu_clock_or_power_is_refused_and_nothing_is_saved(db_url, tmp_path, monkeypatch, field, value):
    monkeypatch.delenv("ADVISOR_DEBUG", raising=False)
    data = json.loads(PROFILE.read_text())
    data["host"]["gpus"] = [{"index": 0, "name": "Tesla T4", "memory_gib": 15.0, field: f"@{value}@"}]
    bad = tmp_path / "gpu_nan.json"
    bad.write_text(json.dumps(data).replace(f'"@{value}@"', value))  # JSON's NaN/Infinity extension, as json writes
    result = CliRunner().invoke(build_app(), ["recommend", "--profile", str(bad), "--dataset-size", "1000",
                                              "--epochs", "1", "--batch-size", "64", "--top", "1", "--json"])
    assert result.exit_code == 1, result.output
    assert f"not a valid advisor profile: host.gpus.0.{field}: Input should be a finite number" in result.output
    assert "Traceback" not in result.output and "DataError" not in result.output
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM profiles")).scalar() == 0
    engine.dispose()
