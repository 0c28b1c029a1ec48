"""`history list` put the chosen machine's prediction beside the latest run even where that run was on another
machine: 16m40s on e2-standard-4 beside e2-standard-2's 16m32s read as a 1% hit where its own prediction, 9m10s,
was 45% off. The row now gives the run's own machine's prediction and the error against it."""

from __future__ import annotations

import json

from history_helpers import candidate, recommendation
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.history.repository import History


def test_a_run_on_another_machine_is_shown_with_that_machines_prediction(db_url):
    chosen, other = candidate(0, seconds=1000.0), candidate(1, seconds=550.0)
    rec = recommendation("mlp", n=0, excluded=0, candidates=[chosen, other]).model_copy(update={"chosen": chosen})
    with History(db_url) as hist:
        elsewhere = hist.save_recommendation(rec)
        hist.record_outcome(elsewhere, 1000.0, instance_type=other.instance_type)
        there = hist.save_recommendation(rec)
        hist.record_outcome(there, 990.0)  # on the chosen machine: its prediction is the one beside it
        entries = {e.id: e for e in hist.list()}
    assert (entries[elsewhere].predicted_seconds, entries[elsewhere].outcome_predicted_seconds) == (1000.0, 550.0)
    assert entries[there].outcome_predicted_seconds == 1000.0
    runner = CliRunner()
    table = runner.invoke(build_app(), ["history", "list"], env={"COLUMNS": "300"})
    assert table.exit_code == 0, table.output
    cells = " ".join(table.output.replace("│", " ").split())  # a long cell wraps onto the row's next line
    assert f"16m40s on {other.instance_type} (predicted 9m10s there, -45.0%)" in cells
    assert "16m30s │" in table.output  # the run on the chosen machine: nothing added
    data = json.loads(runner.invoke(build_app(), ["history", "list", "--json"]).output)
    listed = {e["id"]: e for e in data["entries"]}
    assert listed[elsewhere]["outcome_predicted_seconds"] == 550.0
