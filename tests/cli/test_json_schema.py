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


@pytest.mark.parametrize("extra, code", [([], 0), (["--deadline", "5s"], 3), (["--budget", "0.001"], 3),
                                         (["--batch-size", "4", "--objective", "time"], 0)])
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
