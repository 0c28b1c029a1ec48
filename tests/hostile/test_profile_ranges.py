"""Profiles from strangers are range-checked by the schema: one clear message, exit 1, nothing saved."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, inspect


def _set(data: dict, path: str, value) -> dict:
    node = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node[key]
    node[keys[-1]] = value
    return data


@pytest.mark.parametrize(("field", "value", "why"), [
    ("devices.0.measurements.0.batch_size", 0, "greater than or equal to 1"),
    ("devices.0.measurements.0.compute_seconds", 1e308, "less than or equal to"),
    ("devices.0.measurements.0.compute_seconds", -0.5, "greater than 0"),
    ("devices.0.measurements.0.compute_seconds", "NaN", "finite number"),
    ("devices.0.measurements.0.compute_seconds_samples", [0.01, "-Infinity"], "finite number"),
    ("schema_version", "2", "valid integer"),
    ("schema_version", 0, "greater than or equal to 1"),
    ("analysis.batch_sizes", [4, 4], "must differ"),
])
def test_out_of_range_profile_values_are_refused(invoke, tmp_path, history_url, profile_data, field, value, why):
    bad = tmp_path / "bad.json"
    # json.dumps writes NaN/Infinity as JSON's extension, which the loader must refuse as values, not crash on
    text = json.dumps(_set(profile_data, field, value)).replace('"NaN"', "NaN").replace('"-Infinity"', "-Infinity")
    bad.write_text(text)
    result = invoke("recommend", "--profile", bad, "--dataset-size", "1000", "--epochs", "1", "--batch-size", "64")
    assert result.exit_code == 1, result.output
    assert "not a valid advisor profile" in result.output and why in result.output
    assert "Traceback" not in result.output
    engine = create_engine(history_url)
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        rows = conn.execute(text("SELECT count(*) FROM recommendations")).scalar() if "recommendations" in tables \
            else 0
    assert rows == 0
