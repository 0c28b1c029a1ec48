"""The published JSON Schema of ``recommend --json`` (schemas/recommendation.schema.json): the committed file is
what the pydantic models generate, and real output (a choice, and an infeasible answer) validates against it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.schemas import publish

jsonschema = pytest.importorskip("jsonschema")
PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


def _schema() -> dict:
    return json.loads(publish.SCHEMA_FILE.read_text(encoding="utf-8"))


def test_the_committed_schema_is_current():
    assert publish.SCHEMA_FILE.exists(), "run `python -m advisor.schemas.publish`"
    assert publish.SCHEMA_FILE.read_text(encoding="utf-8") == publish.render(), \
        "schemas/recommendation.schema.json is stale: run `python -m advisor.schemas.publish`"
    assert publish.main(["--check"]) == 0
    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    for field in ("status", "verdict", "best_value", "groups", "skipped", "violations", "chosen", "candidates"):
        assert field in schema["properties"], field
    assert schema["properties"]["status"]["enum"] == ["ok", "at_risk", "infeasible"]


def test_fields_always_printed_are_required():
    # Only six fields were required: a consumer validating against the schema could not rely on `status`.
    schema = _schema()
    for field in ("schema_version", "id", "created_at", "status", "candidates", "verdict", "here", "violations",
                  "safe_choice", "best_per_tier", "notes"):
        assert field in schema["required"], field
    assert set(schema["required"]) == set(schema["properties"])
    candidate = schema["$defs"]["Candidate"]
    for field in ("startup_seconds", "interruptible", "meets_constraints", "spot_cost_usd", "total_seconds"):
        assert field in candidate["required"], field


@pytest.mark.parametrize("extra, code", [([], 0), (["--deadline", "5s"], 3), (["--budget", "0.001"], 3),
                                         (["--batch-size", "4", "--objective", "time"], 0),
                                         (["--spot", "--by", "provider", "--all", "--precision", "bf16"], 0),
                                         (["--dataset-size", "1", "--epochs", "1", "--deadline", "1s"], 3)])
def test_real_output_validates(extra, code):
    result = CliRunner().invoke(build_app(), ["recommend", "--profile", str(PROFILE), "--no-save", "--json",
                                              "--top", "3", *extra])
    assert result.exit_code == code, result.output
    data = json.loads(result.stdout)
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    # ... and a broken document does not
    data["status"] = "fine"
    assert not validator.is_valid(data)


def _force_include() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    return tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["hatch"]["build"]["targets"]["wheel"][
        "force-include"]


def test_the_wheel_ships_the_schema():
    # A wheel install had no schema file, though README points CI pipelines at it.
    assert _force_include()["schemas"] == "advisor/_data/schemas"


def test_outside_a_checkout_publish_prints_the_schema_and_writes_nothing(monkeypatch, tmp_path, capsys):
    """From a wheel, publish wrote site-packages/schemas/recommendation.schema.json, a stray top-level folder."""
    monkeypatch.setattr(publish, "REPO_ROOT", tmp_path)  # no pyproject.toml: what site-packages looks like
    assert publish.main([]) == 0
    assert capsys.readouterr().out == publish.render()
    assert list(tmp_path.iterdir()) == []
    assert publish.main(["--check"]) == 0  # the installation's own copy


def test_publish_writes_where_o_says(tmp_path, capsys):
    target = tmp_path / "s.json"
    assert publish.main(["-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == publish.render()
    assert publish.main(["-o", str(tmp_path / "nope" / "s.json")]) == 1
    assert "cannot write" in capsys.readouterr().err


def test_history_shows_recommendation_validates(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    app = build_app()
    saved = CliRunner().invoke(app, ["recommend", "--profile", str(PROFILE), "--json", "--top", "2"])
    assert saved.exit_code == 0, saved.output
    shown = CliRunner().invoke(app, ["history", "show", str(json.loads(saved.stdout)["id"]), "--json"])
    assert shown.exit_code == 0, shown.output
    validator = jsonschema.Draft202012Validator(_schema())
    errors = list(validator.iter_errors(json.loads(shown.stdout)["recommendation"]))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors[:5]]
