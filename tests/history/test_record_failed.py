"""`advisor history record --failed`: a run that crashed, recorded by hand, is stored as failed and never learned
from. Before, only ``advisor.track`` stored a failed run; a crash recorded with `history record` was learned as a
completed run that long."""

from __future__ import annotations

import json

from history_helpers import candidate, recommendation
from typer.testing import CliRunner

from advisor import api
from advisor.cli.app import build_app
from advisor.history.repository import History
from advisor.settings import Settings


def test_a_crash_recorded_by_hand_is_stored_as_failed_and_not_learned_from(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    cand = candidate(0, seconds=3600.0)
    rec = recommendation("mlp", n=0, excluded=0, candidates=[cand]).model_copy(update={"chosen": cand})
    with History(url) as hist:
        hist.create()
        rec_id = hist.save_recommendation(rec)
    app = build_app()
    crashed = CliRunner().invoke(app, ["history", "record", str(rec_id), "--actual-seconds", "2m", "--failed"])
    assert crashed.exit_code == 0, crashed.output
    # 30x shorter than the prediction, yet not refused: a crash may come at any time; no "mistyped" note either.
    assert crashed.output == (f"Recorded a failed run of 2m00s (120 s) for history id {rec_id}: listed, never "
                              "compared nor learned from.\n")
    as_json = json.loads(CliRunner().invoke(app, ["history", "record", str(rec_id), "--actual-seconds", "5m",
                                                  "--failed", "--json"]).stdout)
    assert as_json["status"] == "failed" and as_json["actual_seconds"] == 300
    stored = api.record_outcome(rec_id, "1h", failed=True, settings=Settings(database_url=url))
    assert stored.status == "failed"
    with History(url) as hist:
        assert [o.status for o in hist.show(rec_id).outcomes] == ["failed", "failed", "failed"]
        assert list(hist.training_rows()) == [] and hist.compare().rows == []
