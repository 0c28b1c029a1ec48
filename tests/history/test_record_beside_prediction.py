"""`advisor history record` says the recorded time beside its prediction: a mistyped duration (39m for 3m09s) at
19x the prediction was stored with only "Recorded 39m00s (2340 s) for history id 6"."""

from __future__ import annotations

import json

from history_helpers import candidate, recommendation
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.history.repository import History


def _saved(url: str) -> int:
    cand = candidate(0, seconds=123.0)  # 80% interval 98.4 s-153.75 s
    rec = recommendation("mlp", n=0, excluded=0, candidates=[cand]).model_copy(update={"chosen": cand})
    with History(url) as hist:
        hist.create()
        return hist.save_recommendation(rec)


def test_record_says_the_prediction_and_how_far_the_run_is_from_it(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    rec_id = _saved(url)
    app = build_app()
    typo = CliRunner().invoke(app, ["history", "record", str(rec_id), "--actual-seconds", "39m"])
    assert typo.exit_code == 0, typo.output
    lines = typo.output.splitlines()
    assert lines[0] == (f"Recorded 39m00s (2340 s) for history id {rec_id} (predicted 2m03s, 80% interval "
                        "1m38s–2m34s: 19.0x longer, outside it).")
    assert lines[1] == (f"note: if the duration is mistyped, `advisor history forget {rec_id} --outcome 1` takes it "
                        "back; then record the right one.")
    inside = CliRunner().invoke(app, ["history", "record", str(rec_id), "--actual-seconds", "2m10s"])
    assert inside.output == (f"Recorded 2m10s (130 s) for history id {rec_id} (predicted 2m03s, 80% interval "
                             "1m38s–2m34s: inside it).\n")
    near = CliRunner().invoke(app, ["history", "record", str(rec_id), "--actual-seconds", "3m"])
    assert near.output == (f"Recorded 3m00s (180 s) for history id {rec_id} (predicted 2m03s, 80% interval "
                           "1m38s–2m34s: 1.5x longer, outside it).\n")  # no note: not far enough to be a slip
    as_json = CliRunner().invoke(app, ["history", "record", str(rec_id), "--actual-seconds", "60", "--json"])
    data = json.loads(as_json.stdout)
    assert (data["predicted_seconds"], data["low"], data["high"]) == (123.0, 98.4, 153.75)
    # The same fields in `history show`'s outcomes, and from the Python API.
    shown = json.loads(CliRunner().invoke(app, ["history", "show", str(rec_id), "--json"]).stdout)
    assert [(o["actual_seconds"], o["predicted_seconds"]) for o in shown["outcomes"]] == [
        (2340, 123.0), (130, 123.0), (180, 123.0), (60, 123.0)]
    with History(url) as hist:
        stored = hist.record_outcome(rec_id, 125.0)
    assert (stored.predicted_seconds, stored.low, stored.high) == (123.0, 98.4, 153.75)
