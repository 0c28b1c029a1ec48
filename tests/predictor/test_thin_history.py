"""predict and recommend say so when some runs are stored but fewer than a correction needs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "history"))


def _stored_history():
    """(a function that stores ``recs`` recommendations of ``runs`` outcomes each, one that reads predict's history
    notes)."""
    from history_helpers import candidate, recommendation

    import advisor
    from advisor import api
    from advisor.history.repository import History

    prof = api.load_profile(Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json")
    workload = {"name": prof.workload.name, "params": prof.workload.param_count,
                "flops_per_sample": prof.workload.flops_per_sample, "file_sha256": prof.workload.file_sha256}

    def store(recs: int, runs: int) -> None:
        with History(os.environ["ADVISOR_DATABASE_URL"]) as hist:
            hist.create()
            for _ in range(recs):
                cand = candidate(0, seconds=100.0, method="measured", instance_type="e2-standard-2", provider="gcp",
                                 vcpus=2)
                rec = recommendation(prof.workload.name, n=0, excluded=0, workload=workload, candidates=[cand])
                rec_id = hist.save_recommendation(rec.model_copy(update={"chosen": cand}))
                for j in range(runs):
                    hist.record_outcome(rec_id, 150.0 + j)

    def notes() -> list[str]:
        return [n for n in advisor.predict(prof, dataset_size=50_000, epochs=1, target=advisor.Target.cpu(2),
                                           save=False).notes if n.startswith("history:")]

    return store, notes


def test_a_history_below_the_minimum_is_noted_and_one_at_it_is_not():
    """6 runs of 2 recommendations: predict said nothing of the history; now a note says 6 of the 8 runs from 2 of
    the 3 recommendations. At 8 runs from 3 the note goes (the correction is fitted, used or not)."""
    store, notes = _stored_history()
    store(2, 3)
    assert notes() == ["history: 6 of the 8 runs a correction needs, from 2 of the 3 recommendations it needs; "
                       "nothing is corrected yet (`advisor history calibration` says more)"]
    store(1, 2)
    assert notes() == []


def test_a_minimum_already_met_is_not_counted_as_short():
    """5 runs from 5 recommendations read "5 of the 8 runs a correction needs, from 5 of the 3 recommendations it
    needs": the note counted the recommendations against their minimum though there were more than enough."""
    store, notes = _stored_history()
    store(5, 1)
    assert notes() == ["history: 5 of the 8 runs a correction needs, from 5 recommendations; nothing is corrected "
                       "yet (`advisor history calibration` says more)"]


def test_enough_runs_from_too_few_recommendations_says_only_what_is_short():
    store, notes = _stored_history()
    store(2, 5)
    assert notes() == ["history: 10 runs, from 2 of the 3 recommendations a correction needs; nothing is corrected "
                       "yet (`advisor history calibration` says more)"]


def test_enough_runs_but_on_neither_kind_enough_is_noted():
    """5 CPU runs and 5 GPU runs, from 4 recommendations: enough for a correction, but a kind of device needs 8 runs
    from 3 recommendations of its own (one GPU run at 10x gave every GPU x5.00). predict says why nothing is
    corrected rather than nothing at all."""
    from history_helpers import candidate, recommendation

    from advisor.history.repository import History

    store, notes = _stored_history()
    store(2, 2)  # 4 CPU runs of 2 recommendations at 1.5x (e2-standard-2 predicted 100 s)
    with History(os.environ["ADVISOR_DATABASE_URL"]) as hist:
        for i in range(2):
            cand = candidate(1, seconds=100.0)  # a g5.xlarge (A10G)
            rec = recommendation("tabular_mlp", n=0, excluded=0, candidates=[cand]).model_copy(update={"chosen": cand})
            rec_id = hist.save_recommendation(rec)
            for j in range(3 if i else 2):
                hist.record_outcome(rec_id, 150.0 + j)
    assert notes() == ["history: no kind of device has enough runs of its own: only 4 stored runs, from 2 "
                       "recommendations, were on a CPU (a kind of device needs 8, from 3); only 5 stored runs, from 2 "
                       "recommendations, were on a GPU (a kind of device needs 8, from 3); nothing is corrected yet "
                       "(`advisor history calibration` says more)"]


def test_an_empty_history_says_nothing():
    """With no run stored, every CLI prediction read "history: no kind of device has enough runs of its own: ;
    nothing is corrected yet": the per-kind check ran on no runs at all."""
    store, notes = _stored_history()
    store(0, 0)
    assert notes() == []
    store(1, 0)  # a recommendation with no outcome recorded: no run either
    assert notes() == []
