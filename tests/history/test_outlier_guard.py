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
