"""Every machine the answer showed can be recorded: the table's rows (the best of each of the top kinds of
machine), the best value and the best of each tier and provider are stored beside the top ranked candidates, and
``history show`` prints the table that ``recommend`` printed. On SQLite and on PostgreSQL (the ``history``
fixture); a real ranking of the CPU profile the README's example uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor import api
from advisor.errors import HistoryError

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


@pytest.fixture(scope="module")
def rec():
    return api.recommend(api.load_profile(PROFILE), top=5, save=False)


def test_a_shown_row_outside_the_top_candidates_is_recorded_against_its_estimate(history, rec):
    rec_id = history.save_recommendation(rec)
    top = {c.instance_type for c in rec.candidates}
    shown = [g.best for g in rec.groups[:5]]
    outside = [c for c in shown if c.instance_type not in top]
    # the fixture is only a test of this where near-identical offers fill the top ranks (as they do here)
    assert outside, "every table row is among the top candidates"
    # one run on each machine (a machine shown twice, as a row and the best value, is run once: twice is refused)
    machines = {c.instance_type: c for c in [*outside, rec.best_value.candidate, *rec.best_per_tier.values()]}
    for cand in machines.values():
        out = history.record_outcome(rec_id, cand.seconds * 1.1, instance_type=cand.instance_type)
        assert out.instance_type == cand.instance_type
    predicted = {r.instance_type: r.predicted_seconds for r in history.compare().rows}
    for cand in outside:
        assert predicted[cand.instance_type] == pytest.approx(cand.seconds)
    # a machine that was ranked but never shown is still refused, with the choice named
    never = {c.instance_type for c in rec.all_candidates} - top - {c.instance_type for c in shown} - {
        c.instance_type for c in (rec.best_value.candidate, *rec.best_per_tier.values(),
                                  *rec.best_per_provider.values())}
    with pytest.raises(HistoryError, match="is not a candidate of recommendation"):
        history.record_outcome(rec_id, 60.0, instance_type=sorted(never)[0])


def test_show_gives_back_the_table_that_was_printed(history, rec):
    rec_id = history.save_recommendation(rec)
    stored = history.show(rec_id).recommendation
    assert [(g.label, g.count, g.best.instance_type, g.best.seconds) for g in stored.groups] == [
        (g.label, g.count, g.best.instance_type, g.best.seconds) for g in rec.groups[:5]]
    assert [c.instance_type for c in stored.candidates] == [c.instance_type for c in rec.candidates]
    assert stored.chosen.instance_type == rec.chosen.instance_type


def _ranked(offers, objective):
    """The ranking's own test offers (lambda A100s: name, $/h, GPUs, seconds, each +-20%), a 3500-s deadline,
    --top 1."""
    from advisor.predictor.targets import offer_target
    from advisor.ranking import rank
    from advisor.schemas import Constraints, Estimate, Offer, WorkloadSummary

    def priced(name, price, count, seconds):
        o = Offer(provider="lambda", instance_type=name, region="r1", vcpus=8, memory_gib=32.0, gpu="A100-40GB",
                  gpu_count=count, gpu_memory_gib=40, price_usd_per_hour=price)
        return o, Estimate(target=offer_target(o, lambda *_: (None, None)), dataset_size=1000, epochs=1,
                           batch_size=32, seconds=seconds, low=seconds * 0.8, high=seconds * 1.2,
                           step_seconds=seconds / 100, steps_per_epoch=100, total_steps=100, fits_memory=True,
                           per_device_batch_size=32, method="scaled", precision="fp32")

    return rank([priced(*row) for row in offers], Constraints(objective=objective, deadline_seconds=3500, top=1),
                workload=WorkloadSummary(name="t"), dataset_size=1000, epochs=1, batch_size=32,
                startup_seconds_cpu=120.0, startup_seconds_gpu=300.0)


def test_the_safe_alternative_to_an_at_risk_best_value_is_recorded_against_its_estimate(history):
    """The safe alternative an at-risk best value names is a machine the answer showed: a run on it is recorded
    against its estimate, not refused as "not a candidate" (the ranking's own test offers, --top 1)."""
    rec = _ranked([("gpu_1x_a100", 1.99, 1, 3000.0), ("gpu_8x_a100", 15.92, 8, 500.0),
                   ("gpu_4x_a100", 7.96, 4, 1000.0)], objective="time")
    bv = rec.best_value
    assert bv.at_risk and bv.safe_alternative.instance_type == "gpu_4x_a100"
    assert "gpu_4x_a100" not in {c.instance_type for c in (*rec.candidates, bv.candidate, *rec.best_per_tier.values(),
                                                             *rec.best_per_provider.values())}
    rec_id = history.save_recommendation(rec)
    out = history.record_outcome(rec_id, 1100.0, instance_type="gpu_4x_a100")
    assert out.instance_type == "gpu_4x_a100"
    predicted = {r.instance_type: r.predicted_seconds for r in history.compare().rows}
    assert predicted["gpu_4x_a100"] == pytest.approx(1000.0)


def test_the_safe_choice_beside_an_at_risk_choice_is_recorded_against_its_estimate(history):
    """The safe choice the warning names beside an at-risk top choice ("to be safe, take ...") is a machine the
    answer showed: a run on it is recorded against its estimate, not refused as "not a candidate"."""
    # the cheapest (3000 s, at most 3600) is at risk of the 3500-s deadline; the cheapest safe one is another
    # single GPU, neither the best value (8 GPUs) nor the best of its tier or provider
    rec = _ranked([("gpu_1x_a100", 1.99, 1, 3000.0), ("gpu_8x_a100", 15.92, 8, 500.0),
                   ("gpu_1x_a100_b", 3.0, 1, 2500.0)], objective="cost")
    safe = rec.safe_choice.instance_type
    assert safe == "gpu_1x_a100_b"
    assert safe not in {c.instance_type for c in (*rec.candidates, rec.best_value.candidate,
                                                  *rec.best_per_tier.values(), *rec.best_per_provider.values())}
    rec_id = history.save_recommendation(rec)
    out = history.record_outcome(rec_id, 2600.0, instance_type=safe)
    assert out.instance_type == safe
    predicted = {r.instance_type: r.predicted_seconds for r in history.compare().rows}
    assert predicted[safe] == pytest.approx(2500.0)
