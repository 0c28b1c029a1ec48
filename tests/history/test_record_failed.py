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


def _one_recommendation(tmp_path, monkeypatch) -> tuple[str, int]:
    """A SQLite history (ADVISOR_DATABASE_URL) holding one recommendation predicted at an hour: its URL and id."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    cand = candidate(0, seconds=3600.0)
    rec = recommendation("mlp", n=0, excluded=0, candidates=[cand]).model_copy(update={"chosen": cand})
    with History(url) as hist:
        hist.create()
        return url, hist.save_recommendation(rec)


def test_a_crash_recorded_by_hand_is_stored_as_failed_and_not_learned_from(tmp_path, monkeypatch):
    url, rec_id = _one_recommendation(tmp_path, monkeypatch)
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


def test_a_run_that_failed_at_once_is_recorded_at_0_s_and_a_completed_one_is_not(tmp_path, monkeypatch):
    # README: "an outcome of 1 ms to 1e9 s (one recorded as failed, 0 s to 1e9 s)"; the history took 0 s for a
    # failed run, but `history record --actual-seconds 0 --failed` and api.record_outcome(id, 0, failed=True) said
    # "must be a positive duration".
    url, rec_id = _one_recommendation(tmp_path, monkeypatch)
    app = build_app()
    at_once = CliRunner().invoke(app, ["history", "record", str(rec_id), "--actual-seconds", "0", "--failed", "--json"])
    assert at_once.exit_code == 0, at_once.output
    assert json.loads(at_once.stdout)["actual_seconds"] == 0 and json.loads(at_once.stdout)["status"] == "failed"
    # a second crash at once: --force, as for any outcome the run already has
    assert api.record_outcome(rec_id, 0, failed=True, force=True,
                              settings=Settings(database_url=url)).actual_seconds == 0
    completed = CliRunner().invoke(app, ["history", "record", str(rec_id), "--actual-seconds", "0"])
    assert completed.exit_code == 1
    assert "--actual-seconds must be a positive duration, got '0' (0 only for a run recorded as failed, --failed)." \
        in completed.output
    negative = CliRunner().invoke(app, ["history", "record", str(rec_id), "--actual-seconds", "-1", "--failed"])
    assert negative.exit_code == 1 and "must be a positive duration" in negative.output
    with History(url) as hist:
        assert [o.actual_seconds for o in hist.show(rec_id).outcomes] == [0, 0]
