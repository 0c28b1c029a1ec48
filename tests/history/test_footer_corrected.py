"""`recommend`'s footer says which candidates' times the learned correction changed."""

from __future__ import annotations

from history_helpers import candidate, recommendation

from advisor.cli.answer import _footer_lines


def _footer(corrected: set[int]) -> str:
    cands = [candidate(i, method="history" if i in corrected else "scaled",
                       **({"base_seconds": 100.0, "base_method": "scaled"} if i in corrected else {}))
             for i in range(5)]
    rec = recommendation("mlp", candidates=cands).model_copy(update={"chosen": cands[0], "measured_devices": ["cpu"]})
    return next(line for line in _footer_lines(rec, False) if line.startswith("measured here:"))


def test_the_footer_names_the_kind_of_candidate_corrected():
    """Only the CPU candidate corrected (the GPUs had no run to learn from) said "every time corrected"."""
    assert _footer({0}) == ("measured here: cpu; everything else is scaled; CPU times corrected by the history "
                            "(note above).")
    assert _footer({1, 2}).endswith("; GPU times corrected by the history (note above).")
    assert _footer({0, 1, 2, 3, 4}).endswith("; every time corrected by the history (note above).")
    assert _footer(set()) == "measured here: cpu; everything else is scaled."
