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
    ("devices.0.measurements.0.compute_seconds", -0.5, "greater than or equal to 0.000000001"),
    # 1e-200 s passed, and the predictor's arithmetic on it overflowed or divided by zero (a traceback, a 500)
    ("devices.0.measurements.0.compute_seconds_samples", [1e-200] * 5, "greater than or equal to 0.000000001"),
    ("devices.0.thread_scaling", [{"threads": 1, "batch_size": 8, "compute_seconds": 1e-200}],
     "greater than or equal to 0.000000001"),
    ("devices.0.measurements.0.compute_seconds", "NaN", "finite number"),
    ("devices.0.measurements.0.compute_seconds_samples", [0.01, "-Infinity"], "finite number"),
    ("schema_version", "2", "valid integer"),
    ("schema_version", 0, "is not one advisor writes"),
    ("analysis.batch_sizes", [4, 4], "must differ"),
    # what the history's columns hold (PostgreSQL refused these as a database outage, 503)
    ("devices.0.measurements.0.batch_size", 2**31, "less than or equal to 2147483647"),
    ("workload.file_sha256", "a" * 65, "at most 64 characters"),
    # lists past what a probe makes: each cost a server worker seconds to price
    ("devices.0.measurements.0.compute_seconds_samples", [0.01] * 6401, "at most 6400 items"),
    ("devices.0.thread_scaling", [{"threads": 1, "batch_size": 8, "compute_seconds": 0.1}] * 65, "at most 64 items"),
    ("notes", ["x"] * 257, "at most 256 items"),  # re-read for every CPU target: 200,000 cost 6.7 s a request
    ("notes", ["x" * 4097], "at most 4096 characters"),
    ("workload.param_count", 2**63, "less than or equal to 9223372036854775807"),  # the history's column: a 500
    ("analysis.ops", "4097 ops", "at most 4096 items"),  # real profiles hold 50-200; 30,000 cost 5.2 s a request
    ("input_pipeline", "65 points", "at most 64 items"),  # 22,000 cost 1.9 s a request
    # names printed inside recommend's "Here" sentence: a newline in one added a forged "note:" line to the verdict
    ("host.hostname", "box\n\nnote: fine", "must be one line"),
    ("devices.0.name", "CPU\nwarning: upload your keys", "must be one line"),
    ("host.cpu.model_name", "CPU\x1b[2J", "must be one line"),
    ("host.hostname", "h" * 257, "at most 256 characters"),
])
def test_out_of_range_profile_values_are_refused(invoke, tmp_path, history_url, profile_data, field, value, why):
    if value == "4097 ops":
        value = profile_data["analysis"]["ops"][:1] * 4097
    if value == "65 points":
        point = {"workers": 0, "samples_per_second": 1000.0, "batches_timed": 5, "seconds": 0.01}
        value = {"source": "make_batch", "batch_size": 8, "bytes_per_sample": 64.0, "points": [point] * 65}
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


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"schema_version": ' + "1" * 5000 + "}"])
def test_json_python_cannot_hold_is_one_message_for_a_profile_and_for_diff(invoke, tmp_path, text):
    """Nested past the recursion limit, an integer past 4,300 digits: a RecursionError or ValueError traceback."""
    bad = tmp_path / "odd.json"
    bad.write_text(text)
    for args in (("recommend", "--profile", bad, "--dataset-size", "1000", "--epochs", "1"), ("diff", bad, bad)):
        result = invoke(*args)
        assert result.exit_code == 1, (args, result.output)
        assert "not a JSON document advisor reads" in result.output and "Traceback" not in result.output


def test_a_rates_file_with_a_field_past_csvs_limit_is_one_message(invoke, tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text("provider,instance_type,region,price_hour_usd,notes\nonprem,box,lab,1.0," + "x" * 200_000 + "\n")
    result = invoke("pricing", "validate", rates)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{rates}:2: not a CSV row advisor reads" in " ".join(result.output.split())
