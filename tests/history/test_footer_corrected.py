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


def test_the_footer_counts_the_table_rows_below_the_top_candidates():
    """The top candidates were all corrected CPUs, and the table's GPU rows below them were not: the footer said
    "every time corrected by the history" beside the note that the GPU candidates were not corrected."""
    from advisor.schemas.results import CandidateGroup

    cpu = [candidate(0, method="history", base_seconds=100.0, base_method="scaled") for _ in range(3)]
    gpu = candidate(1)  # uncorrected: no GPU run to learn from
    groups = [CandidateGroup(label="32 vCPU", tier="cpu", count=3, best=cpu[0], cost_usd_max=1.0),
              CandidateGroup(label="1 x A10G", tier="single_gpu", count=1, best=gpu, cost_usd_max=1.0)]
    rec = recommendation("mlp", candidates=cpu).model_copy(
        update={"chosen": cpu[0], "measured_devices": ["cpu"], "groups": groups})
    footer = next(line for line in _footer_lines(rec, False) if line.startswith("measured here:"))
    assert footer == "measured here: cpu; everything else is scaled; CPU times corrected by the history (note above)."
    ranked = rec.model_copy(update={"groups": [], "all_candidates": [*cpu, gpu]})  # a fresh answer: every ranked one
    footer = next(line for line in _footer_lines(ranked, False) if line.startswith("measured here:"))
    assert footer.endswith("; CPU times corrected by the history (note above).")
