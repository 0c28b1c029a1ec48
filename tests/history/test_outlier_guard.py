"""The 20x guard of ``History.record_outcome`` judges a run against the prediction the learned correction's fit
reads: the uncorrected (base) time of a candidate the correction changed."""

from __future__ import annotations

import pytest
from history_helpers import candidate, recommendation

from advisor.errors import HistoryError
from advisor.history.repository import History
from advisor.predictor.learned import fit_correction


def _corrected_rec(hist: History, seconds: float, base_seconds: float) -> int:
    cand = candidate(0, seconds=seconds, method="history", base_seconds=base_seconds, base_method="scaled")
    rec = recommendation("mlp", n=0, excluded=0, candidates=[cand]).model_copy(update={"chosen": cand})
    return hist.save_recommendation(rec)


def test_a_run_the_fit_would_leave_out_is_refused_and_one_it_would_use_is_stored(tmp_path):
    """A candidate corrected x1.5 (base 183.5 s, shown 274.9 s): 4,600 s is 16.7x the corrected time but 25x the
    base. It was stored without --force and then silently left out of the fit; now it is refused, the message
    naming the uncorrected prediction. A x0.6 candidate (base 183.5 s, shown 110.1 s): 2,936 s is 26.7x the
    corrected time but 16x the base; it was refused, though the fit would use it; now it is stored."""
    with History(f"sqlite:///{tmp_path / 'h.db'}") as hist:
        hist.create()
        up = _corrected_rec(hist, 274.9, 183.5)
        with pytest.raises(HistoryError) as err:
            hist.record_outcome(up, 4600)
        assert ("1h17m is 25x longer than the uncorrected prediction (before the history's correction; what it "
                "learns against) 3m04s (the job alone)") in err.value.message
        assert "the learned correction will leave it out" in err.value.hint
        down = _corrected_rec(hist, 110.1, 183.5)
        stored = hist.record_outcome(down, 2936)
        assert stored.actual_seconds == 2936
        rows = hist.training_rows()
        assert [(r.predicted_seconds, r.actual_seconds) for r in rows] == [(183.5, 2936.0)]
        # The fit keeps it: nothing left out (16x is inside its 20x).
        assert "left out of the fit" not in (fit_correction(rows) or type("R", (), {"reason": ""})).reason


def test_a_forced_outlier_is_said_to_be_left_out_of_learning(tmp_path, monkeypatch):
    """`history record --force` of a run 92x from its prediction said only "Recorded 1.0s"; the fit then left it
    out unsaid. Now the CLI adds a note (stderr under --json), and the Python API issues ``OutlierRecorded``; a run
    within 20x, forced or not, gets neither."""
    import warnings

    from typer.testing import CliRunner

    from advisor import OutlierRecorded
    from advisor.cli.app import build_app

    url = f"sqlite:///{tmp_path / 'h.db'}"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    with History(url) as hist:
        hist.create()
        rec_id = _corrected_rec(hist, 150.0, 92.0)
        with pytest.warns(OutlierRecorded, match=r"1.0s is 92x shorter than the uncorrected prediction"):
            hist.record_outcome(rec_id, 1.0, force=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error", OutlierRecorded)
            hist.record_outcome(rec_id, 100.0, force=True)
    result = CliRunner().invoke(build_app(), ["history", "record", str(rec_id), "--actual-seconds", "2", "--force"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (f"Recorded 2.0s (2 s) for history id {rec_id} (predicted 2m30s, 80% interval 2m00s–3m08s: "
                        "75.0x shorter, outside it).")
    note = " ".join(lines[1:])
    assert note.startswith("note: recorded with force: 2.0s is 46x shorter than the uncorrected prediction")
    assert "so the learned correction leaves it out" in note
    assert f"`advisor history forget {rec_id} --outcome 3` removes it." in note
    calm = CliRunner().invoke(build_app(), ["history", "record", str(rec_id), "--actual-seconds", "90"])
    assert calm.exit_code == 0 and "note:" not in calm.output


def test_the_export_carries_the_uncorrected_prediction_of_a_corrected_run(tmp_path):
    """The export had only the corrected predicted_seconds of a run the history had corrected, so calibration's
    "before" errors (read against the base time) could not be recomputed from it. Now base_seconds and
    base_method are columns: the base of a corrected run, empty for an uncorrected one and for a recommendation
    without an outcome."""
    import json

    from advisor.history.export import EXPORT_COLUMNS

    with History(f"sqlite:///{tmp_path / 'h.db'}") as hist:
        hist.create()
        corrected = _corrected_rec(hist, 274.9, 183.5)
        hist.record_outcome(corrected, 270.0)
        plain = hist.save_recommendation(recommendation("mlp"))
        rows = json.loads(hist.export("json"))
    assert EXPORT_COLUMNS.index("base_seconds") == EXPORT_COLUMNS.index("high") + 1
    by_rec = {r["recommendation_id"]: r for r in rows}
    ran = by_rec[corrected]
    assert (ran["method"], ran["predicted_seconds"], ran["base_seconds"], ran["base_method"]) == (
        "history", 274.9, 183.5, "scaled")
    assert ran["error_pct"] == (274.9 - 270.0) / 270.0 * 100.0
    assert (by_rec[plain]["base_seconds"], by_rec[plain]["base_method"]) == (None, None)
