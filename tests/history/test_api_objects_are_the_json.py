"""The history objects the Python API returns are what the CLI's ``--json`` prints, as README says (an audit:
``History.show`` lacked the CLI's ``schema_version`` and ``History.compare`` its ``n_runs`` too, which the CLI
added as it printed, so a Python caller could not have the count of all runs)."""

from __future__ import annotations

import json

from history_helpers import recommendation
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.history.repository import History
from advisor.schemas import Comparison


def _cli(*args: str) -> dict:
    result = CliRunner().invoke(build_app(), list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _dump(obj) -> dict:
    return obj.model_dump(mode="json", by_alias=True)


def test_show_and_compare_are_what_the_cli_prints(db_url):
    with History(db_url) as hist:
        ids = [hist.save_recommendation(recommendation(f"w{i}", chosen=1)) for i in range(3)]
        for i, rec_id in enumerate(ids):
            hist.record_outcome(rec_id, 1000.0 + i)
        shown, compared = _dump(hist.show(ids[0])), _dump(hist.compare())
    assert shown == _cli("history", "show", str(ids[0]), "--json")
    assert shown["schema_version"] == 1
    assert compared == _cli("history", "compare", "--json")
    assert (compared["schema_version"], compared["n_runs"], len(compared["rows"])) == (1, 3, 3)
    # The latest --limit rows, the count of all of them
    latest = _cli("history", "compare", "--limit", "1", "--json")
    assert (latest["n_runs"], [r["recommendation_id"] for r in latest["rows"]]) == (3, [ids[-1]])


def test_a_comparison_without_its_count_counts_its_rows():
    """What a server older than ``n_runs`` sends (all its rows): the count is theirs; none, none."""
    assert Comparison.model_validate({}).n_runs == 0
    row = {"recommendation_id": 1, "outcome_id": 1, "recorded_at": "2026-11-01T00:00:00Z", "workload": "w",
           "instance_type": "g5.xlarge", "device": "A10G", "tier": "single_gpu", "method": "scaled",
           "predicted_seconds": 10.0, "low": 8.0, "high": 12.0, "actual_seconds": 11.0, "error_pct": -9.1,
           "abs_error_pct": 9.1, "within_interval": True}
    assert Comparison.model_validate_json(json.dumps({"rows": [row, row]})).n_runs == 2
    assert Comparison.model_validate({"rows": [row, row], "n_runs": 7}).n_runs == 7
