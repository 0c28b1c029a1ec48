from __future__ import annotations

import json
import math
import re

import pytest

from advisor.errors import NoFeasibleCandidateError
from advisor.predictor.targets import needed_targets, offer_target
from advisor.pricing import billed_seconds
from advisor.ranking import rank
from advisor.schemas import Constraints, Estimate, Offer, Recommendation, Target, WorkloadSummary
from advisor.units import parse_duration_seconds

STARTUP_CPU, STARTUP_GPU = 120.0, 300.0


def no_lookup(provider, instance_type):
    return None, None


def offer(provider, instance_type, price, *, gpu=None, count=0, vcpus=8, memory=32.0, gpu_memory=None, spot=None,
          region="r1"):
    return Offer(provider=provider, instance_type=instance_type, region=region, vcpus=vcpus, memory_gib=memory,
                 gpu=gpu, gpu_count=count, gpu_memory_gib=gpu_memory, price_usd_per_hour=price,
                 spot_price_usd_per_hour=spot, billing="per_second", min_billed_seconds=60)


def estimate(target, seconds, *, spread=0.2, fits=True, peak=None, capacity=None, precision="fp32",
             max_batch=None):
    return Estimate(target=target, dataset_size=1000, epochs=1, batch_size=32, seconds=seconds,
                    low=seconds * (1 - spread), high=seconds * (1 + spread), step_seconds=seconds / 100,
                    steps_per_epoch=100, total_steps=100, fits_memory=fits, peak_memory_gib=peak,
                    memory_capacity_gib=capacity, per_device_batch_size=32, method="scaled", precision=precision,
                    max_batch_size_per_device=max_batch)


CPU = offer("aws", "c7i.4xlarge", 0.714, vcpus=16, memory=32)
A100 = offer("lambda", "gpu_1x_a100", 1.99, gpu="A100-40GB", count=1, gpu_memory=40)
A100X8 = offer("lambda", "gpu_8x_a100", 15.92, gpu="A100-40GB", count=8, gpu_memory=40)
T4 = offer("gcp", "n1-standard-8+1xT4", 0.73, gpu="T4", count=1, gpu_memory=16, spot=0.30)
OFFERS = [CPU, A100, A100X8, T4]


def key(o):
    return offer_target(o, no_lookup)


def estimates(cpu=20000.0, a100=3000.0, a100x8=500.0, t4=9000.0, **t4_kw):
    return {key(CPU): estimate(offer_target(CPU, no_lookup), cpu),
            key(A100): estimate(offer_target(A100, no_lookup), a100),
            key(A100X8): estimate(offer_target(A100X8, no_lookup), a100x8),
            key(T4): estimate(offer_target(T4, no_lookup), t4, **t4_kw)}


def priced(offers, ests):
    """(offer, estimate) pairs as predictor.targets.estimate_offers gives them."""
    return [(o, ests.get(key(o))) for o in offers]


def run(constraints=None, ests=None, offers=OFFERS, alternatives=None, **kw):
    ests = ests if ests is not None else estimates()
    what_ifs = {label: priced(offers, alt) for label, alt in (alternatives or {}).items()}
    return rank(priced(offers, ests), constraints or Constraints(), workload=WorkloadSummary(name="test"),
                dataset_size=1000, epochs=1, batch_size=32, startup_seconds_cpu=STARTUP_CPU,
                startup_seconds_gpu=STARTUP_GPU, what_ifs=what_ifs, **kw)


def names(cands):
    return [c.instance_type for c in cands]


def cost(o, seconds, startup):
    return billed_seconds(o, seconds + startup) / 3600 * o.price_usd_per_hour


# costs with these figures: CPU 0.714*(20120/3600)=3.99, A100 1.99*(3300/3600)=1.82,
# 8xA100 15.92*(800/3600)=3.54, T4 0.73*(9300/3600)=1.89


# ---------------------------------------------------------------------------------------------- targets


def test_targets_and_keys():
    assert offer_target(A100X8) == Target.gpu("A100-40GB", 8)
    cpu = offer_target(CPU, no_lookup)
    assert (cpu.kind, cpu.threads, cpu.cpu_name) == ("cpu", 8, None)  # 16 vCPUs = 8 cores with SMT
    no_smt = offer_target(offer("aws", "m7a.4xlarge", 0.9, vcpus=16), lambda p, i: ("aws-epyc-9r14", 1))
    assert (no_smt.threads, no_smt.cpu_name) == (16, "aws-epyc-9r14")
    assert no_smt == Target.cpu(16, "aws-epyc-9r14")
    twin = offer("aws", "c7i.4xlarge-b", 0.8, vcpus=16)
    assert needed_targets([A100X8, CPU, twin, A100], no_lookup) == \
        [Target.cpu(8), Target.gpu("A100-40GB", 1), Target.gpu("A100-40GB", 8)]


def test_default_cpu_lookup_uses_the_instance_family_table():
    m7a = offer_target(offer("aws", "m7a.4xlarge", 0.9, vcpus=16))
    assert m7a.threads == 16 and m7a.cpu_name  # profiles/cpu_families.csv: one vCPU per core on m7a
    assert offer_target(CPU).threads == 8


# ---------------------------------------------------------------------------------------------- ranking


def test_cheapest_by_default_with_costs_from_billing():
    rec = run()
    assert rec.chosen.instance_type == "gpu_1x_a100"
    assert names(rec.candidates) == ["gpu_1x_a100", "n1-standard-8+1xT4", "gpu_8x_a100", "c7i.4xlarge"]
    c = rec.chosen
    assert c.seconds == 3000 and c.startup_seconds == STARTUP_GPU
    assert c.cost_usd == pytest.approx(cost(A100, 3000, STARTUP_GPU))
    assert c.billed_seconds == 3300
    assert rec.candidates[-1].cost_usd == pytest.approx(cost(CPU, 20000, STARTUP_CPU))
    assert rec.candidates[1].spot_cost_usd == pytest.approx(0.30 * 9300 / 3600)
    assert "cheapest of 4 candidates" in c.reason
    assert c.total_seconds == 3300 and (c.total_low, c.total_high) == (2700, 3900)  # start-up + job


def test_fastest():
    rec = run(Constraints(objective="time"))
    assert names(rec.candidates) == ["gpu_8x_a100", "gpu_1x_a100", "n1-standard-8+1xT4", "c7i.4xlarge"]
    assert rec.chosen.reason.startswith("the fastest of 4")


def test_deadline_picks_the_cheapest_that_is_fast_enough():
    rec = run(Constraints(deadline_seconds=1800))  # start-up included: only 8 x A100 (500 + 300 s) makes it
    assert rec.chosen.instance_type == "gpu_8x_a100"
    assert "meets the 30m00s deadline with 16m40s to spare" in rec.chosen.reason
    others = {c.instance_type: c for c in rec.candidates}
    assert not others["gpu_1x_a100"].meets_constraints
    assert "takes 55m00s with start-up: misses the 30m00s deadline by 25m00s" in others["gpu_1x_a100"].reason
    assert names(rec.candidates)[1:] == ["gpu_1x_a100", "n1-standard-8+1xT4", "c7i.4xlarge"]  # nearest miss first


def test_budget_with_time_objective():
    rec = run(Constraints(objective="time", budget_usd=2.0))
    assert rec.chosen.instance_type == "gpu_1x_a100"  # 8 x A100 costs 3.54
    assert "within the $2.00 budget" in rec.chosen.reason
    eight = next(c for c in rec.candidates if c.instance_type == "gpu_8x_a100")
    assert not eight.meets_constraints and "over the $2.00 budget by $1.54" in eight.reason
    # 8 x A100 is 2.75x faster and over the budget: not "a near-tie (within 2%)" with the choice
    assert "near-tie" not in rec.chosen.reason and "gpu_8x_a100" not in rec.chosen.reason


def test_a_budget_the_fastest_choice_meets_does_not_change_it():
    """The audit's --objective time case: the near-tie band was anchored on the fastest machine that met the
    constraints. Unconstrained, the GH200 (3370.86 s) anchored it, up to 3438.28 s: the H100 (3408.59 s, $1.71) won
    it and the RTX 5090 (3438.56 s, $0.42) was 0.28 s outside. A $1.72 budget removed only the GH200 ($2.18), the
    band re-anchored on the H100 and took in the RTX 5090, which then won: a limit the choice met flipped it."""
    from types import SimpleNamespace

    from advisor.ranking.scoring import best_meeting

    gh200 = offer("lambda", "gpu_1x_gh200", 2.33, gpu="GH200", count=1, gpu_memory=96)
    h100 = offer("vast", "1x-H100_SXM", 1.81, gpu="H100-SXM", count=1, gpu_memory=80)
    rtx = offer("vast", "1x-RTX_5090", 0.44, gpu="RTX-5090", count=1, gpu_memory=32)
    offers = [gh200, h100, rtx]
    ests = {key(o): estimate(offer_target(o, no_lookup), job - STARTUP_GPU)
            for o, job in ((gh200, 3370.86), (h100, 3408.59), (rtx, 3438.56))}
    fastest = run(Constraints(objective="time"), ests, offers=offers)
    assert fastest.chosen.instance_type == "1x-H100_SXM" and round(fastest.chosen.cost_usd, 2) == 1.71
    for budget in (1.72, 2.0, 100.0):
        rec = run(Constraints(objective="time", budget_usd=budget), ests, offers=offers)
        assert rec.chosen.instance_type == "1x-H100_SXM", budget
        limits = Constraints(objective="time", budget_usd=budget)
        # a what-if's search gives the same answer, from all the estimates or from lower bounds (branch and bound)
        bounded = SimpleNamespace(offers=offers, low_seconds=[ests[key(o)].seconds * 0.9 for o in offers],
                                  resolve=lambda i: ests[key(offers[i])])
        for priced_offers in ([(o, ests[key(o)]) for o in offers], bounded):
            what_if = best_meeting(priced_offers, limits, STARTUP_CPU, STARTUP_GPU)
            assert what_if.cand.instance_type == "1x-H100_SXM", (budget, priced_offers)
    assert "near-tie" not in run(Constraints(objective="time", budget_usd=1.72), ests, offers=offers).chosen.reason
    # A budget the choice does not meet still chooses within what it leaves: the RTX 5090, alone in its band.
    assert run(Constraints(objective="time", budget_usd=1.0), ests, offers=offers).chosen.instance_type == \
        "1x-RTX_5090"


def test_deadline_at_risk_is_flagged():
    ests = estimates(a100x8=1400.0)  # 1400 + 300 = 1700 <= 1800, but high = 1680 + 300 > 1800
    rec = run(Constraints(deadline_seconds=1800), ests)
    assert rec.chosen.instance_type == "gpu_8x_a100"
    assert "at risk: at the slow end of its estimate it misses the 30m00s deadline by 3m00s" in rec.chosen.reason
    assert rec.chosen.meets_constraints  # ranked on the point estimate
    assert rec.status == "at_risk"
    assert "at risk" not in rec.verdict.why and rec.verdict.why.startswith(
        "the only candidate meeting the constraints")  # not "the cheapest of 1 candidates"
    assert rec.verdict.warnings == ["at risk: at the slow end of its estimate it misses the 30m00s deadline by 3m00s",
                                    "no candidate meets the constraints at the slow end of its estimate"]
    assert rec.safe_choice is None


def test_an_at_risk_choice_names_the_cheapest_that_is_safe_at_the_slow_end():
    # 1 x A100: 3300 s total, 3900 s at the slow end, $1.82 (at risk); 8 x A100: 800 s, 900 s at most, $3.54 (safe)
    rec = run(Constraints(deadline_seconds=3500))
    assert rec.status == "at_risk" and rec.chosen.instance_type == "gpu_1x_a100"
    assert rec.safe_choice.instance_type == "gpu_8x_a100" and rec.safe_choice.total_high <= 3500
    assert ("the cheapest candidate that meets the constraints even at the slow end of its estimate: 8 x A100-40GB "
            "(lambda gpu_8x_a100), 13m20s total (at most 15m00s), $3.54") in rec.verdict.warnings
    assert run(Constraints(deadline_seconds=5000)).safe_choice is None  # not at risk: no field


def test_budget_at_risk_is_flagged():
    rec = run(Constraints(budget_usd=1.9))  # 1 x A100: $1.82 at the point estimate, 3900 s -> $2.16 at the slow end
    assert rec.chosen.instance_type == "gpu_1x_a100"
    assert "at risk: at the slow end of its estimate it costs $2.16, over the $1.90 budget" in rec.chosen.reason


def test_a_spot_runs_slow_end_is_priced_at_the_spot_rate_against_the_budget():
    # $10/h on demand, $3/h spot; the job 3,600 s (2,880-4,320 s), start-up 300 s: the slow end is 4,620 s, $3.85 at
    # the spot rate ($12.83 on demand). Ranked cost $3.25.
    g = offer("p", "g", 10.0, gpu="A100-80GB", count=1, gpu_memory=80, spot=3.0)
    ests = {key(g): estimate(key(g), 3600.0)}
    assert run(Constraints(budget_usd=4.0, spot=True), ests=ests, offers=[g]).status == "ok"
    tight = run(Constraints(budget_usd=3.5, spot=True), ests=ests, offers=[g])
    assert tight.status == "at_risk" and tight.chosen.interruptible
    assert "at risk: at the slow end of its estimate it costs $3.85, over the $3.50 budget" in tight.verdict.warnings


def test_nothing_feasible_raises_with_nearest_misses():
    with pytest.raises(NoFeasibleCandidateError) as info:
        run(Constraints(deadline_seconds=600, budget_usd=1.0))
    err = info.value
    assert err.exit_code == 3
    assert err.recommendation is not None and err.recommendation.chosen is None
    # relative misses: 8xA100 800/600 -> +33% time, 3.54/1 -> +254% cost; 1xA100 +450% time ...
    assert [c.instance_type for c in err.nearest][0] == "gpu_8x_a100"
    assert len(err.nearest) == 3
    assert "Nearest misses" in str(err) and "8 x A100-40GB (lambda gpu_8x_a100)" in str(err)
    assert "Fix:" in str(err)


def test_hint_names_the_constraint_that_would_work():
    with pytest.raises(NoFeasibleCandidateError) as info:
        run(Constraints(deadline_seconds=600))
    assert "--deadline 14m" in str(info.value)  # 8 x A100: 800 s with start-up, rounded up to the minute


def test_memory_exclusion():
    ests = estimates(fits=False, peak=20.0, capacity=16.0)
    rec = run(ests=ests)
    assert "n1-standard-8+1xT4" not in names(rec.candidates)
    (t4,) = rec.excluded
    assert t4.instance_type == "n1-standard-8+1xT4" and not t4.fits_memory
    assert t4.reason == "needs 20 GiB per GPU, has 16"


def test_a_peak_just_over_the_memory_reads_as_more_than_it():
    """4.012 GiB on a 4 GiB machine read "needs 4.0 GiB of memory, has 4.0": the figures get the digits that
    tell them apart."""
    ests = estimates()
    ests[key(CPU)] = estimate(offer_target(CPU, no_lookup), 20000.0, peak=32.012)
    rec = run(ests=ests)
    assert [c.reason for c in rec.excluded] == ["needs 32.01 GiB of memory, has 32.00"]
    ests = estimates(fits=False, peak=16.04, capacity=16.0)
    (t4,) = run(ests=ests).excluded
    assert t4.reason == "needs 16.04 GiB per GPU, has 16.00"
    ests = estimates(fits=False, peak=16.4, capacity=16.0)
    (t4,) = run(ests=ests).excluded
    assert t4.reason == "needs 16.4 GiB per GPU, has 16.0"


def test_cpu_memory_exclusion_uses_the_instance_memory():
    ests = estimates()
    ests[key(CPU)] = estimate(offer_target(CPU, no_lookup), 20000.0, peak=48.0)
    rec = run(ests=ests)
    assert [c.reason for c in rec.excluded] == ["needs 48 GiB of memory, has 32"]


def test_pareto_flags():
    rec = run()
    pareto = {c.instance_type for c in rec.candidates if c.pareto}
    # times with start-up: 8xA100 800 s $3.54; 1xA100 3300 s $1.82; T4 9300 s $1.89; CPU 20120 s $3.99
    assert pareto == {"gpu_8x_a100", "gpu_1x_a100"}


def test_an_equal_cost_slower_offer_is_not_on_the_pareto_front():
    # per-hour billing: both runs (400 s and 500 s with start-up) are billed one hour at $1/h, so the faster one
    # dominates the slower
    fast, slow = (offer("p", name, 1.0, gpu=gpu, count=1, gpu_memory=80).model_copy(update={"billing": "per_hour"})
                  for name, gpu in (("fast", "A100-80GB"), ("slow", "H100")))
    rec = run(Constraints(objective="time"), ests={key(fast): estimate(key(fast), 100.0),
                                                   key(slow): estimate(key(slow), 200.0)}, offers=[fast, slow])
    assert [(c.instance_type, c.cost_usd, c.pareto) for c in rec.all_candidates] == [
        ("fast", 1.0, True), ("slow", 1.0, False)]


def test_best_per_tier():
    rec = run(Constraints(deadline_seconds=1800))
    assert {t: c.instance_type for t, c in rec.best_per_tier.items()} == {
        "cpu": "c7i.4xlarge", "single_gpu": "gpu_1x_a100", "multi_gpu": "gpu_8x_a100"}
    assert list(rec.best_per_tier) == ["cpu", "single_gpu", "multi_gpu"]


def test_reasons_are_relative_to_the_choice():
    rec = run()
    eight = next(c for c in rec.candidates if c.instance_type == "gpu_8x_a100")
    # whole runs against whole runs: 800 s vs 3300 s, $3.54 vs $1.82
    assert eight.reason == "4.1x faster, 1.9x the cost"
    cpu = next(c for c in rec.candidates if c.instance_type == "c7i.4xlarge")
    assert cpu.reason.startswith("6.1x slower, 2.2x the cost")


def test_advice_when_another_precision_is_much_better():
    bf16 = {k: e.model_copy(update={"seconds": e.seconds / 2, "low": e.low / 2, "high": e.high / 2,
                                    "precision": "bf16"}) for k, e in estimates().items()}
    same = estimates()
    rec = run(alternatives={"--precision bf16": bf16, "--batch-size 64": same})
    assert len(rec.advice) == 1
    line = rec.advice[0]
    # halved times: T4 4500 + 300 s at $0.73/h = $0.97 beats the A100's 1800 + 300 s at $1.99/h = $1.16;
    # every time is a total (start-up + job), like the table's
    assert line.startswith("with --precision bf16: 1 x T4 (gcp n1-standard-8+1xT4), 1h20m total, $0.97")
    assert line.endswith("instead of 55m00s, $1.82")
    assert rec.verdict.could_be_better == [line]


def test_advice_when_nothing_is_feasible_says_what_would_be():
    bf16 = {k: e.model_copy(update={"seconds": e.seconds / 4, "low": e.low / 4, "high": e.high / 4})
            for k, e in estimates().items()}
    with pytest.raises(NoFeasibleCandidateError) as info:
        run(Constraints(deadline_seconds=600), alternatives={"--precision bf16": bf16})
    assert "with --precision bf16: 8 x A100-40GB (lambda gpu_8x_a100)" in str(info.value)
    assert info.value.recommendation.advice


def test_top_limits_the_list_only():
    ests = estimates(fits=False, peak=20.0, capacity=16.0)
    rec = run(Constraints(top=1), ests)
    assert names(rec.candidates) == ["gpu_1x_a100"]
    assert len(rec.all_candidates) == 3 and len(rec.excluded) == 1
    assert set(rec.best_per_tier) == {"cpu", "single_gpu", "multi_gpu"}
    assert "all_candidates" not in rec.model_dump(mode="json")


def test_a_recommendation_read_back_from_its_json_equals_it():
    """``all_candidates`` is kept out of the JSON: it counted in ``==``, so a pipeline's answer sent through JSON
    (the CLI's ``--json`` among them) no longer equalled itself. A recommendation is what its JSON holds."""
    rec = run(Constraints(top=1), estimates(fits=False, peak=20.0, capacity=16.0))
    for text in (rec.model_dump_json(), json.dumps(rec.model_dump(mode="json", by_alias=True))):
        back = Recommendation.model_validate_json(text)
        assert (len(rec.all_candidates), len(back.all_candidates)) == (3, 0)
        assert back == rec and rec == back and not back != rec and rec in [back]
    other = rec.model_copy(update={"candidates": rec.all_candidates[1:2]})
    assert other != rec and rec != other
    assert "all_candidates" not in repr(rec)


def test_spot_ranking():
    rec = run(Constraints(spot=True))
    assert rec.chosen.instance_type == "n1-standard-8+1xT4"  # $0.78 on spot beats the A100's $1.82
    assert rec.chosen.interruptible
    assert not next(c for c in rec.candidates if c.instance_type == "gpu_1x_a100").interruptible
    assert any("spot prices" in n for n in rec.notes)


def test_a_spot_choice_under_a_deadline_weighs_a_reclaim_against_its_slack():
    """A spot choice said only "can be taken back at any time, so checkpoint", even with a deadline it could not
    survive one reclaim under (another start-up plus the lost work), and gave no date for the spot price."""
    rec = run(Constraints(spot=True, deadline_seconds=10000))  # T4 on spot: 9300 s total, 700 s to spare
    assert rec.chosen.instance_type == "n1-standard-8+1xT4" and rec.chosen.interruptible
    (spot,) = [w for w in rec.verdict.warnings if w.startswith("the price is a spot price")]
    assert spot.startswith("the price is a spot price (undated in the catalog; spot prices move daily)")
    assert ("against the 2h46m40s deadline it has 11m40s to spare, and each reclaim costs another 5m00s start-up plus "
            "the work since the last checkpoint: for one reclaim to fit, checkpoint at least every 6m40s") in spot
    tight = run(Constraints(spot=True, deadline_seconds=9500))  # 200 s to spare, less than a start-up
    assert any(w.endswith("one reclaim would miss the deadline (on demand it cannot be taken back)")
               for w in tight.verdict.warnings)
    dated = T4.model_copy(update={"snapshot_date": "2026-05-20"})
    rec = run(Constraints(spot=True), offers=[CPU, A100, A100X8, dated])
    assert "the price is a spot price (as of 2026-05-20; spot prices move daily): the instance can be taken back " \
           "at any time, so checkpoint" in rec.verdict.warnings
    # A row whose spot price the catalog marks undated (its snapshot_date is the on-demand price's) is not dated.
    from advisor.schemas.results import SPOT_UNDATED_NOTE

    undated = dated.model_copy(update={"notes": SPOT_UNDATED_NOTE})
    rec = run(Constraints(spot=True), offers=[CPU, A100, A100X8, undated])
    assert any(w.startswith("the price is a spot price (undated in the catalog;") for w in rec.verdict.warnings)


def test_a_spot_price_that_is_the_cheapest_zones_says_another_zone_may_charge_more():
    """The catalog's AWS and GCP CPU spot prices are the minimum over the region's zones; a spot choice did not
    say that the zone the instance lands in may charge more."""
    from advisor.schemas.results import SPOT_ZONE_MIN_NOTE

    zone_min = T4.model_copy(update={"notes": SPOT_ZONE_MIN_NOTE})
    rec = run(Constraints(spot=True), offers=[CPU, A100, A100X8, zone_min])
    assert rec.chosen.instance_type == "n1-standard-8+1xT4" and rec.chosen.interruptible
    assert ("the spot price of gcp n1-standard-8+1xT4 is the lowest across r1's availability zones in the "
            "catalog: the zone the instance is given may charge more, so check that zone's spot price before "
            "renting") in rec.verdict.warnings
    assert ("the spot prices of 1 listed row (gcp r1) are the lowest across the region's availability zones: in the "
            "zone an instance is given the spot price may be higher") in rec.notes
    for plain in (run(Constraints(spot=True)), run(offers=[CPU, A100, A100X8, zone_min])):  # one zone's; on demand
        assert not any("availability zones" in t for t in [*plain.notes, *plain.verdict.warnings])


def test_without_spot_the_spot_column_is_said_to_be_interruptible_and_the_cheapest_zones():
    """Without --spot the table's spot column showed the cheapest zone's spot price beside the on-demand cost,
    with nothing to say that it is a zone minimum or that the instance can be taken back."""
    from advisor.schemas.results import SPOT_ZONE_MIN_NOTE

    zone_min = T4.model_copy(update={"notes": SPOT_ZONE_MIN_NOTE})
    rec = run(offers=[CPU, A100, A100X8, zone_min])
    t4 = next(c for c in rec.all_candidates if c.instance_type == "n1-standard-8+1xT4")
    assert t4.spot_zone_min and not t4.interruptible and t4.spot_cost_usd is not None
    assert not any(c.spot_zone_min for c in rec.all_candidates if c is not t4)
    assert ("spot column: interruptible (can be taken back at any time), not ranked on (--spot ranks on it); gcp "
            "spot prices are the cheapest availability zone's (the zone you are given may charge more)") in rec.notes
    # one zone's spot price: interruptible only; no spot price at all: no spot column to explain
    assert ("spot column: interruptible (can be taken back at any time), not ranked on (--spot ranks on it)"
            in run().notes)
    assert not any(n.startswith("spot column") for n in run(offers=[CPU, A100, A100X8]).notes)
    assert not any(n.startswith("spot column") for n in run(Constraints(spot=True), offers=[CPU, zone_min]).notes)
    assert rec.model_dump(mode="json")["candidates"][[c.instance_type for c in rec.candidates].index(
        "n1-standard-8+1xT4")]["spot_zone_min"] is True


def test_under_spot_best_value_and_cpu_vs_gpu_say_their_costs_are_spot_costs():
    spot = [o.model_copy(update={"spot_price_usd_per_hour": p}) for o, p in
            zip((CPU, A100, A100X8, T4), (0.3, 0.8, 6.0, 0.3), strict=True)]
    rec = run(Constraints(spot=True), offers=spot)
    assert rec.chosen.instance_type == "gpu_1x_a100" and rec.best_value.candidate.interruptible
    assert rec.best_value.text.endswith("(lambda gpu_8x_a100): 13m20s total, $1.33 at its spot price")
    text = rec.verdict.cpu_vs_gpu.text
    assert "($0.73 at its spot price, 55m00s, against $1.68 at its spot price, 5h35m)" in text
    assert "spot" not in run().best_value.text and "spot" not in run().verdict.cpu_vs_gpu.text


def test_under_spot_the_cpu_vs_gpu_price_ratio_is_of_the_spot_rates():
    # on demand $4/h against $1/h (4.0x); on spot $1.00/h against $0.50/h (2.0x); the GPU runs the job 10x faster
    cpu, gpu = offer("p", "c", 1.0, vcpus=16, spot=0.5), offer("p", "g", 4.0, gpu="A100-80GB", count=1, spot=1.0)
    ests = {key(cpu): estimate(key(cpu), 36000.0), key(gpu): estimate(key(gpu), 3600.0)}
    versus = run(Constraints(spot=True), ests=ests, offers=[cpu, gpu]).verdict.cpu_vs_gpu
    assert (versus.price_ratio, versus.speedup, versus.per_epoch_ratio) == (2.0, 10.0, 0.2)
    assert versus.text.startswith("the best GPU (1 x A100-80GB, p g) costs 2.0x per hour what the best CPU (16 vCPU, "
                                  "p c) costs and runs the job 10x faster: on the job alone it is 5.0x cheaper.")
    assert run(ests=ests, offers=[cpu, gpu]).verdict.cpu_vs_gpu.price_ratio == 4.0


def test_infeasible_names_the_cheaper_of_a_near_tie_as_the_nearest():
    """An 8 x H200 0.14 s sooner than an 8 x H100 at 39% more was named "the fastest" and listed first among
    the nearest misses: within 2% (--objective time's band) the cheaper one is named, and the other said."""
    dear = offer("lambda", "gpu_8x_h100", 22.0, gpu="A100-80GB", count=8, gpu_memory=80)
    ests = {**estimates(), key(dear): estimate(offer_target(dear, no_lookup), 499.9)}
    with pytest.raises(NoFeasibleCandidateError) as info:
        run(Constraints(deadline_seconds=600), ests, offers=[*OFFERS, dear])
    (v,) = info.value.recommendation.violations
    # "the fastest is X (Y is 0.1s sooner ...)" contradicted itself: X is the nearest, the cheaper of a near-tie
    assert v.message == ("no candidate finishes within 10m00s with start-up; the nearest is 8 x A100-40GB (lambda "
                         "gpu_8x_a100) at 13m20s, the cheaper of a near-tie within 2%: 8 x A100-80GB (lambda "
                         "gpu_8x_h100) is 0.1s sooner, for $4.89 against $3.54")
    assert "fastest" not in v.message
    assert v.nearest == pytest.approx(799.9)  # the best reached; the text names the cheaper near-tie
    assert [c.instance_type for c in info.value.nearest][:2] == ["gpu_8x_a100", "gpu_8x_h100"]
    assert str(info.value).index("gpu_8x_a100") < str(info.value).index("gpu_8x_h100")


def test_offers_without_estimate_are_skipped_with_the_reason_and_fix():
    from advisor.errors import PredictionError

    b200 = offer("lambda", "gpu_8x_b200", 53.52, gpu="B200", count=8, gpu_memory=180)
    b200x1 = offer("lambda", "gpu_1x_b200", 6.69, gpu="B200", count=1, gpu_memory=180)
    why = PredictionError("cannot scale to B200: no FP32 figure.", hint="Fix: add the datasheet figure.")
    pairs = [*priced(OFFERS, estimates()), (b200, why), (b200.model_copy(update={"instance_type": "other"}), why),
             (b200x1, why), (offer("x", "mystery", 1.0), None)]
    rec = rank(pairs, Constraints(), workload=WorkloadSummary(name="test"), dataset_size=1000, epochs=1,
               batch_size=32, startup_seconds_cpu=STARTUP_CPU, startup_seconds_gpu=STARTUP_GPU)
    assert "gpu_8x_b200" not in names(rec.all_candidates)
    first, second = rec.skipped
    assert (first.target, first.count, first.reason, first.fix) == (
        "1/8 x B200", 3, "cannot scale to B200: no FP32 figure.", "Fix: add the datasheet figure.")
    assert (second.target, second.count, second.reason) == ("CPU instances", 1, "no estimate for this target")


def test_no_offer_priced_is_explained_in_the_infeasible_document():
    # Every offer skipped (a profile with nothing timed and no analysis): the exit-3 document gave no reason at all
    # (why "", advice []) and blamed "the constraints", which there were none of.
    from advisor.errors import PredictionError

    why = PredictionError("the profile has no cpu measurements.", hint="Fix: re-run `advisor profile`.")
    with pytest.raises(NoFeasibleCandidateError) as info:
        rank([(o, why) for o in OFFERS], Constraints(), workload=WorkloadSummary(name="test"), dataset_size=1000,
             epochs=1, batch_size=32, startup_seconds_cpu=STARTUP_CPU, startup_seconds_gpu=STARTUP_GPU)
    rec = info.value.recommendation
    assert rec.status == "infeasible"
    assert rec.verdict.recommendation == "No offer could be priced from this profile."
    assert rec.verdict.why.startswith("no prediction for any of the 4 offers (e.g. ")
    assert "the profile has no cpu measurements." in rec.verdict.why
    assert rec.advice == rec.verdict.could_be_better == ["re-run `advisor profile`."]
    assert info.value.message.startswith("No prediction for any of the 4 offers")


def test_no_offer_to_rank_is_explained_in_the_infeasible_document():
    with pytest.raises(NoFeasibleCandidateError) as info:
        run(offers=[])
    rec = info.value.recommendation
    assert rec.verdict.recommendation == "No offer to rank."
    assert rec.verdict.why == "the provider/region filters leave no offer to rank"
    assert rec.advice == ["drop or widen --providers/--region (see `advisor pricing list`)."]


def test_deterministic_tie_break():
    twin = A100.model_copy(update={"instance_type": "gpu_1x_a100_sxm4"})
    first = run(offers=[twin, *OFFERS])
    second = run(offers=[*OFFERS, twin])
    assert names(first.candidates) == names(second.candidates)
    assert names(first.candidates)[:2] == ["gpu_1x_a100", "gpu_1x_a100_sxm4"]
    assert first.model_dump(exclude={"created_at"}) == second.model_dump(exclude={"created_at"})


def test_empty_offer_list_is_infeasible():
    with pytest.raises(NoFeasibleCandidateError, match="filters leave none"):
        run(offers=[])


def test_nothing_fits():
    ests = {k: e.model_copy(update={"fits_memory": False, "peak_memory_gib": 500.0})
            for k, e in estimates().items()}
    with pytest.raises(NoFeasibleCandidateError, match="does not fit in memory on any of the 4"):
        run(ests=ests)


@pytest.mark.parametrize(("precision", "job_precision", "mixed"), [("fp32", None, True), ("bf16", None, False),
                                                                  ("fp16", "fp16", False), ("fp32", "fp32", True)])
def test_nothing_fits_offers_accumulation_and_mixed_precision_only_to_a_job_not_16_bit(precision, job_precision,
                                                                                        mixed):
    """The fix said "a smaller --batch-size ... or mixed precision" to a job already in bf16, and never the
    gradient accumulation that keeps the training the same with a smaller batch."""
    ests = {k: e.model_copy(update={"fits_memory": False, "peak_memory_gib": 500.0, "precision": precision})
            for k, e in estimates().items()}
    with pytest.raises(NoFeasibleCandidateError) as caught:
        run(Constraints(precision=job_precision), ests=ests)
    hint = caught.value.hint
    assert hint.startswith("Fix: a smaller --batch-size with more --grad-accum-steps to keep the 32 samples per "
                           "optimizer update (--batch-size 16 --grad-accum-steps 2)")
    assert hint.endswith("), a GPU with more memory (--providers), or mixed precision (--precision bf16)." if mixed
                         else ") or a GPU with more memory (--providers).")


def test_a_listed_suspect_price_is_noted():
    suspect = A100.model_copy(update={"suspect_price": True, "notes": "accelerator row looks wrong"})
    rec = run(offers=[CPU, suspect, A100X8, T4])
    assert any("gpu_1x_a100: its price is flagged as suspect" in n for n in rec.notes)
    assert not any("suspect" in n for n in run().notes)


# ------------------------------------------------------------------------------- the answer on top


def test_one_time_throughout_total_is_startup_plus_job():
    rec = run()
    for c in rec.all_candidates:
        assert c.total_seconds == pytest.approx(c.seconds + c.startup_seconds)
    assert (rec.startup_seconds_cpu, rec.startup_seconds_gpu) == (STARTUP_CPU, STARTUP_GPU)
    assert rec.verdict.recommendation == ("Rent lambda gpu_1x_a100 (1 x A100-40GB, r1): 55m00s total (50m00s job + "
                                          "5m00s start-up), $1.82")
    assert "start-up 2m00s on CPU instances, 5m00s on GPU instances" in rec.verdict.assumptions
    assert "--startup-cpu / --startup-gpu" in rec.verdict.assumptions


def test_best_value_is_the_knee_of_the_front():
    rec = run()
    bv = rec.best_value
    # the only faster point on the front: 8 x A100, 800 s for $3.54 against 3300 s for $1.82
    assert bv.candidate.instance_type == "gpu_8x_a100"
    assert bv.extra_cost_usd == pytest.approx(15.92 * 800 / 3600 - 1.99 * 3300 / 3600)
    assert bv.seconds_saved == pytest.approx(2500)
    assert bv.text == ("+$1.71 (94%) finishes 41m40s sooner on 8 x A100-40GB (lambda gpu_8x_a100): 13m20s total, "
                       "$3.54")
    assert rec.verdict.best_value == bv.text


def test_best_value_picks_the_knee_not_the_extreme():
    # a front of 1 x A100 (3300 s, $1.82), 2 x A100 (1800 s, $1.99: much faster for a little more) and 8 x A100
    a100x2 = offer("lambda", "gpu_2x_a100", 3.98, gpu="A100-40GB", count=2, gpu_memory=40)
    ests = estimates()
    ests[key(a100x2)] = estimate(offer_target(a100x2, no_lookup), 1500.0)
    rec = run(ests=ests, offers=[*OFFERS, a100x2])
    assert rec.best_value.candidate.instance_type == "gpu_2x_a100"


def test_best_value_with_the_time_objective_is_cheaper_and_slower():
    rec = run(Constraints(objective="time"))
    assert rec.chosen.instance_type == "gpu_8x_a100"
    bv = rec.best_value
    assert bv.candidate.instance_type == "gpu_1x_a100"
    assert bv.extra_cost_usd < 0 and bv.seconds_saved == pytest.approx(-2500)
    assert bv.text.startswith("-$1.71 (48%) if 41m40s later is fine, on 1 x A100-40GB")


def test_a_best_value_that_misses_the_deadline_at_its_slow_end_is_marked_at_risk():
    """The chosen candidate was marked at risk where its slow end missed the deadline, the best value beside it
    never: a user who switched to it was not warned."""
    # 8 x A100 chosen (800 s, 900 s at most); 1 x A100 the best value: 3300 s, 3900 s at the slow end > 3500 s
    rec = run(Constraints(objective="time", deadline_seconds=3500))
    assert rec.status == "ok" and rec.chosen.instance_type == "gpu_8x_a100"
    bv = rec.best_value
    assert bv.candidate.instance_type == "gpu_1x_a100" and bv.at_risk
    assert "$1.82; at risk: at the slow end of its estimate it misses the 58m20s deadline by 6m40s; " in bv.text
    assert rec.verdict.best_value == bv.text
    safe = run(Constraints(objective="time", deadline_seconds=4000)).best_value  # 3900 s at most: safe
    assert safe.candidate.instance_type == "gpu_1x_a100" and not safe.at_risk and "at risk" not in safe.text
    # Under the cost objective the best value is dearer: its slow end can break the budget the choice keeps.
    wide = {**estimates(), key(A100X8): estimate(offer_target(A100X8, no_lookup), 500.0, spread=0.5)}
    over = run(Constraints(budget_usd=3.8), wide).best_value  # $3.54; 1050 s at the slow end: $4.64
    assert over.candidate.instance_type == "gpu_8x_a100" and over.at_risk
    assert "at risk: at the slow end of its estimate it costs $4.64, over the $3.80 budget" in over.text


def test_an_at_risk_best_value_names_the_best_alternative_that_is_safe_or_says_there_is_none():
    """A best value marked at risk named nothing to take instead: a user with a hard deadline or budget was left
    to search the table for an alternative that holds even at the slow end of its estimate."""
    # --objective time, deadline 3500 s: the knee is 1 x A100 (3900 s at most: at risk); 4 x A100 (1300 s, $2.87,
    # 1500 s at most) is cheaper than the chosen 8 x A100 too, and safe.
    a100x4 = offer("lambda", "gpu_4x_a100", 7.96, gpu="A100-40GB", count=4, gpu_memory=40)
    ests = {**estimates(), key(a100x4): estimate(offer_target(a100x4, no_lookup), 1000.0)}
    rec = run(Constraints(objective="time", deadline_seconds=3500), ests, offers=[*OFFERS, a100x4])
    bv = rec.best_value
    assert rec.chosen.instance_type == "gpu_8x_a100" and bv.candidate.instance_type == "gpu_1x_a100" and bv.at_risk
    assert bv.safe_alternative.instance_type == "gpu_4x_a100"
    assert bv.text.endswith("it misses the 58m20s deadline by 6m40s; safe even at its slow end: 4 x A100-40GB "
                            "(lambda gpu_4x_a100), 21m40s total (at most 25m00s), $2.87")
    assert rec.verdict.best_value == bv.text
    assert rec.model_dump(mode="json")["best_value"]["safe_alternative"]["instance_type"] == "gpu_4x_a100"
    # None safe: 1 x A100 is the only cheaper candidate that meets the deadline, and the text says so.
    alone = run(Constraints(objective="time", deadline_seconds=3500)).best_value
    assert alone.at_risk and alone.safe_alternative is None
    assert alone.text.endswith("6m40s; no cheaper alternative worth the extra time is safe at the slow end of its "
                               "estimate")
    # Under the cost objective the alternatives are faster: the budget's slow end, none safe.
    wide = {**estimates(), key(A100X8): estimate(offer_target(A100X8, no_lookup), 500.0, spread=0.5)}
    over = run(Constraints(budget_usd=3.8), wide).best_value
    assert over.at_risk and over.safe_alternative is None and over.text.endswith(
        "over the $3.80 budget; no faster alternative worth the extra cost is safe at the slow end of its estimate")
    # A best value that is not at risk names no other.
    assert run(Constraints(objective="time", deadline_seconds=4000)).best_value.safe_alternative is None


def test_cpu_vs_gpu_in_the_seeds_terms():
    v = run().verdict.cpu_vs_gpu
    assert (v.cpu.instance_type, v.gpu.instance_type) == ("c7i.4xlarge", "gpu_1x_a100")
    assert v.price_ratio == pytest.approx(1.99 / 0.714)
    assert v.speedup == pytest.approx(20000 / 3000)
    assert v.compute_cost_ratio == pytest.approx(1.99 / 0.714 / (20000 / 3000))
    assert v.total_cost_ratio == pytest.approx((1.99 * 3300) / (0.714 * 20120))
    assert v.winner == "gpu" and not v.decided_by_startup
    # GPU minus CPU cost = (1.99 x 300 - 0.714 x 120) + T x (1.99 / 6.67 - 0.714), per 3600: zero at T = 1231 s
    flip = (1.99 * 300 - 0.714 * 120) / (0.714 - 1.99 / (20000 / 3000))
    assert v.break_even_job_seconds == pytest.approx(flip)
    assert v.break_even_epochs == pytest.approx(flip / 20000)
    assert "costs 2.8x per hour what the best CPU" in v.text and "runs the job 6.7x faster" in v.text
    assert "on the job alone it is 2.4x cheaper" in v.text
    assert "For jobs under" not in v.text  # 20m31s is far from this 5h33m job: not worth a sentence
    near = run(ests=estimates(cpu=3000.0, a100=450.0)).verdict.cpu_vs_gpu  # the same speed-up, a shorter job
    assert near.winner == "gpu" and near.break_even_job_seconds == pytest.approx(flip)
    assert "For jobs under 20m31s on the CPU machine (about 0.41 epochs of this job) the CPU would win" in near.text


def test_the_break_even_is_said_from_a_tenth_of_the_cpu_job_up():
    # the same 20m31s break-even: 0.154 of an 8,000 s CPU job is said; 0.095 of a 13,000 s one is not
    near = run(ests=estimates(cpu=8000.0, a100=1200.0)).verdict.cpu_vs_gpu
    assert near.text.endswith("For jobs under 20m31s on the CPU machine (about 0.154 epochs of this job) the CPU "
                              "would win (start-up: 5m00s on GPU, 2m00s on CPU).")
    far = run(ests=estimates(cpu=13000.0, a100=1950.0)).verdict.cpu_vs_gpu
    assert far.break_even_job_seconds == pytest.approx(near.break_even_job_seconds)
    assert far.text.endswith("($1.24, 37m30s, against $2.60, 3h39m).")


def test_cpu_vs_gpu_says_when_start_up_decides_the_tier():
    ests = estimates(cpu=600.0, a100=90.0, a100x8=15.0, t4=2000.0)
    rec = run(ests=ests)
    v = rec.verdict.cpu_vs_gpu
    assert rec.chosen.tier == "cpu" and v.gpu.instance_type == "gpu_1x_a100"
    assert v.winner == "cpu" and v.decided_by_startup
    assert v.compute_cost_ratio < 1 < v.total_cost_ratio  # cheaper on the job alone, dearer with start-up
    flip = (1.99 * 300 - 0.714 * 120) / (0.714 - 1.99 / (600 / 90))
    assert v.break_even_job_seconds == pytest.approx(flip)
    assert v.break_even_epochs == pytest.approx(flip / 600)  # one epoch of 600 s here
    assert ("Start-up decides the tier (5m00s on GPU, 2m00s on CPU): beyond them an epoch is 2.4x cheaper on the GPU, "
            "so a GPU wins for jobs over 20m31s") in v.text
    assert v.per_epoch_ratio == pytest.approx(1.99 * 90 / (0.714 * 600))


def test_start_up_deciding_the_tier_names_the_jobs_own_start_the_job_alone_included():
    """The tabular job read "on the job alone it is 11x dearer" and then "Start-up decides the tier": the job
    alone includes its own fixed start (8 s of CUDA and model build on the GPU), which the decision counts as a
    fixed cost. The sentence names it, and what an epoch costs past it."""
    cpu, gpu = offer("aws", "c7i.large", 0.09, vcpus=2, memory=4), T4
    ests = {key(cpu): estimate(offer_target(cpu, no_lookup), 1.0 + 5.0 * 2),  # 5 s an epoch, 1 s fixed
            key(gpu): estimate(offer_target(gpu, no_lookup), 8.0 + 0.25 * 2)}  # 20x faster an epoch, 8 s fixed
    ests = {k: e.model_copy(update={"startup_seconds": 1.0 if e.target.kind == "cpu" else 8.0})
            for k, e in ests.items()}
    v = rank(priced([cpu, gpu], ests), Constraints(), workload=WorkloadSummary(name="test"), dataset_size=1000,
             epochs=2, batch_size=32, startup_seconds_cpu=STARTUP_CPU,
             startup_seconds_gpu=STARTUP_GPU).verdict.cpu_vs_gpu
    assert v.decided_by_startup and v.compute_cost_ratio > 1  # dearer on the job alone, its own start included
    assert v.per_epoch_ratio == pytest.approx(0.73 / 20 / 0.09)
    assert ("the job's own start, its process and model build: 8.0s on the GPU, 1.0s on the CPU): beyond them an "
            "epoch is 2.5x cheaper on the GPU, so a GPU wins for jobs over") in v.text


def test_a_billing_minimum_that_decides_the_tier_is_said_and_no_break_even_is_claimed():
    """Start-ups 0, a CPU job of 2.4 s billed as the provider's 60 s minimum, a GPU with no minimum: the GPU won
    on the billed costs while the text said "with start-up" and "for jobs under 3.0s the CPU would win", which the
    2.4 s CPU job itself contradicted (the break-even came from rate x seconds, not the billed time)."""
    cpu = offer("aws", "c7i.large", 0.5, vcpus=2, memory=4)
    gpu = offer("vast", "1x-T4", 0.2, gpu="T4", count=1, gpu_memory=16).model_copy(update={"min_billed_seconds": 0})
    ests = {key(cpu): estimate(offer_target(cpu, no_lookup), 2.4).model_copy(update={"startup_seconds": 1.0}),
            key(gpu): estimate(offer_target(gpu, no_lookup), 7.3).model_copy(update={"startup_seconds": 7.0})}
    rec = rank(priced([cpu, gpu], ests), Constraints(), workload=WorkloadSummary(name="test"), dataset_size=1000,
               epochs=1, batch_size=32, startup_seconds_cpu=0.0, startup_seconds_gpu=0.0)
    v = rec.verdict.cpu_vs_gpu
    assert rec.chosen.instance_type == "1x-T4" and v.winner == "gpu" and rec.chosen.billed_seconds == 8.0
    assert v.break_even_job_seconds is None and v.break_even_epochs is None
    assert "For jobs under" not in v.text and "wins for jobs over" not in v.text
    assert "With start-up, as billed, the whole run is" in v.text
    assert ("Billing decides it: aws bills per second, at least 60 s, so the CPU's 2.4s run is billed as "
            "1m00s.") in v.text


def test_a_break_even_of_hundreds_of_epochs_is_written_as_a_number():
    v = run(ests=estimates(cpu=0.6, a100=0.09, a100x8=0.015)).verdict.cpu_vs_gpu
    assert v.break_even_epochs == pytest.approx(2052, abs=1)
    assert "(about 2,051 epochs of this job)" in v.text and "e+" not in v.text  # not "2.05e+03"


@pytest.mark.parametrize(("epochs", "words"), [(2051.4, "2,051 epochs"), (0.41, "0.41 epochs"), (1.0004, "1 epoch"),
                                               (0.9996, "1 epoch"), (1.2, "1.2 epochs"), (12.0, "12 epochs")])
def test_a_break_even_of_one_epoch_is_in_the_singular(epochs, words):
    from advisor.ranking.verdict import epochs_words

    assert epochs_words(epochs) == words


def test_the_break_even_is_where_the_two_runs_really_cost_the_same():
    """Each job has a part that does not grow with it (the GPU's 8 s of CUDA start and model build against the
    CPU's 1 s): the break-even is taken on the parts that grow, and priced again at 0.9x and 1.1x of it the
    winner flips. With the whole jobs' speed-up (fixed parts in) it came out 3x too far on a short job."""
    cpu, gpu = offer("aws", "c7i.large", 0.09, vcpus=2, memory=4), T4

    def verdict_at(epochs):
        ests = {key(cpu): estimate(offer_target(cpu, no_lookup), 1.0 + 5.0 * epochs),  # 5 s an epoch
                key(gpu): estimate(offer_target(gpu, no_lookup), 8.0 + 0.25 * epochs)}  # 20x faster an epoch
        ests = {k: e.model_copy(update={"startup_seconds": e.seconds - (5.0 if e.target.kind == "cpu" else 0.25)
                                        * epochs}) for k, e in ests.items()}
        return rank(priced([cpu, gpu], ests), Constraints(), workload=WorkloadSummary(name="test"),
                    dataset_size=1000, epochs=epochs, batch_size=32, startup_seconds_cpu=STARTUP_CPU,
                    startup_seconds_gpu=STARTUP_GPU).verdict.cpu_vs_gpu

    v = verdict_at(10)
    assert v.winner == "cpu" and v.decided_by_startup
    # GPU minus CPU cost per 3600: (0.73 x (300 + 8) - 0.09 x (120 + 1)) + x (0.73 / 20 - 0.09), x the CPU's
    # growing seconds: zero at x = 3,999 s, 800 epochs of 5 s.
    grown = (0.73 * (STARTUP_GPU + 8.0) - 0.09 * (STARTUP_CPU + 1.0)) / (0.09 - 0.73 / 20)
    assert v.break_even_job_seconds == pytest.approx(1.0 + grown)
    assert v.break_even_epochs == pytest.approx(grown / 5.0)
    assert verdict_at(int(grown / 5.0 * 0.9)).winner == "cpu"
    assert verdict_at(int(grown / 5.0 * 1.1)).winner == "gpu"


def test_cpu_vs_gpu_under_a_deadline_no_gpu_meets_says_it_compares_the_nearest_miss():
    """A short CPU job and a deadline inside the GPUs' 5-minute start-up: every GPU misses, and the one compared
    is the nearest miss (the fastest), not the cheapest GPU; it read "the best GPU", as if no cheaper one existed."""
    ests = estimates(cpu=60.0, a100=20.0, a100x8=10.0, t4=40.0)
    rec = run(Constraints(deadline_seconds=240.0), ests)
    v = rec.verdict.cpu_vs_gpu
    assert rec.chosen.tier == "cpu" and v.gpu.instance_type == "gpu_8x_a100"
    assert v.text.startswith("No GPU meets the deadline: the nearest (8 x A100-40GB, lambda gpu_8x_a100) costs")
    assert "what the best CPU (" in v.text
    met = run(ests=ests).verdict.cpu_vs_gpu
    assert met.text.startswith("the best GPU (")


def test_cpu_vs_gpu_names_the_nearest_cpu_and_its_miss_in_one_bracket():
    """A long job and a deadline no CPU meets: the CPU compared is the nearest miss, and the machine and the miss
    share one bracket (it read "the nearest CPU (none meets the deadline) (16 vCPU, ...)", two brackets)."""
    rec = run(Constraints(deadline_seconds=4000.0), estimates())
    v = rec.verdict.cpu_vs_gpu
    assert rec.chosen.tier != "cpu" and v.cpu.instance_type == CPU.instance_type
    assert (f"what the nearest CPU ({CPU.vcpus} vCPU, {CPU.provider} {CPU.instance_type}; none meets the deadline) "
            "costs and runs the job") in v.text
    assert v.text.startswith("the best GPU (") and ") (" not in v.text


def test_time_objective_treats_near_ties_as_ties_and_takes_the_cheaper():
    a100x4 = offer("aws", "p4-quarter", 7.96, gpu="A100-40GB", count=4, gpu_memory=40)
    ests = estimates()
    ests[key(a100x4)] = estimate(offer_target(a100x4, no_lookup), 508.0)  # 808 s total: 1% slower than 800 s
    rec = run(Constraints(objective="time"), ests, offers=[*OFFERS, a100x4])
    assert rec.chosen.instance_type == "p4-quarter"
    assert names(rec.candidates)[:2] == ["p4-quarter", "gpu_8x_a100"]
    assert "8 x A100-40GB (lambda gpu_8x_a100) is 8.0s faster, a near-tie (within 2%), for $3.54" in rec.chosen.reason
    # 820 s: past the fastest's 2%, so ranked below the choice, though cheaper and 1.5% slower than it; "as
    # fast" would make the choice look like the worse deal
    a100x4_cheap = offer("gcp", "a2-quarter", 7.0, gpu="A100-80GB", count=4, gpu_memory=80)
    ests[key(a100x4_cheap)] = estimate(offer_target(a100x4_cheap, no_lookup), 520.0)
    rec = run(Constraints(objective="time"), ests, offers=[*OFFERS, a100x4, a100x4_cheap])
    assert names(rec.candidates)[:3] == ["p4-quarter", "gpu_8x_a100", "a2-quarter"]
    assert rec.candidates[2].reason.startswith("1.5% slower, 0.89x the cost")


def test_time_objective_bands_near_ties_all_the_way_down_so_a_tiers_best_is_the_cheaper():
    """Past the fastest's 2%, each next fastest opens its own band: two single GPUs that run the job within
    microseconds of each other are a tie the cheaper wins, as the best of the tier and in the table."""
    fast_dear = offer("aws", "p5-one", 6.88, gpu="H100-SXM", count=1, gpu_memory=80)
    slow_cheap = offer("vast", "3060ti", 0.11, gpu="RTX-3060-Ti", count=1, gpu_memory=8)
    ests = estimates(a100x8=100.0)  # 8 x A100 is fastest by far: the first band is its alone
    ests[key(fast_dear)] = estimate(offer_target(fast_dear, no_lookup), 2999.99997)
    ests[key(slow_cheap)] = estimate(offer_target(slow_cheap, no_lookup), 3000.00003)
    rec = run(Constraints(objective="time"), ests, offers=[*OFFERS, fast_dear, slow_cheap])
    assert rec.chosen.instance_type == "gpu_8x_a100"
    assert rec.best_per_tier["single_gpu"].instance_type == "3060ti"
    assert names(rec.candidates)[1:4] == ["3060ti", "gpu_1x_a100", "p5-one"]  # 3,300 s each: cheapest first
    assert names(rec.candidates)[4:] == ["n1-standard-8+1xT4", "c7i.4xlarge"]  # 9,300 s and 20,120 s: slower


def test_groups_by_hardware_and_best_per_provider():
    twin = A100.model_copy(update={"instance_type": "gpu_1x_a100_b", "price_usd_per_hour": 2.49})
    other = A100.model_copy(update={"provider": "runpod", "instance_type": "a100", "price_usd_per_hour": 2.20})
    rec = run(offers=[*OFFERS, twin, other])
    assert [(g.label, g.count) for g in rec.groups] == [("1 x A100-40GB", 3), ("1 x T4", 1), ("8 x A100-40GB", 1),
                                                        ("16 vCPU", 1)]
    first = rec.groups[0]
    assert first.best.instance_type == "gpu_1x_a100" and first.providers == ["lambda", "runpod"]
    assert first.cost_usd_max == pytest.approx(2.49 * 3300 / 3600)
    assert sum(g.count for g in rec.groups) == len(rec.all_candidates) == 6
    assert "(4 kinds of machine)" in rec.chosen.reason
    assert {p: c.instance_type for p, c in rec.best_per_provider.items()} == {
        "lambda": "gpu_1x_a100", "gcp": "n1-standard-8+1xT4", "runpod": "a100", "aws": "c7i.4xlarge"}
    assert list(rec.best_per_provider) == ["lambda", "gcp", "runpod", "aws"]  # ranking order


def test_status_and_violations_say_what_would_pass():
    assert run().status == "ok" and run().violations == []
    assert run(Constraints(deadline_seconds=1800), estimates(a100x8=1400.0)).status == "at_risk"
    with pytest.raises(NoFeasibleCandidateError) as info:
        run(Constraints(deadline_seconds=600))
    rec = info.value.recommendation
    assert rec.status == "infeasible"
    (v,) = rec.violations
    assert (v.constraint, v.limit, v.nearest, v.would_pass, v.flag) == ("deadline", 600, 800, 840, "--deadline 14m")
    assert rec.verdict.recommendation == "Nothing meets the constraints."
    assert "--deadline 14m would pass" in rec.verdict.why


def test_a_suggested_deadline_of_days_passes_when_taken():
    # 190,315.7 s: format_duration writes "2d04h", 52 minutes short, and the suggestion led back to itself.
    slow = estimates(cpu=10**7, a100=10**7, a100x8=190315.7 - STARTUP_GPU, t4=10**7)
    with pytest.raises(NoFeasibleCandidateError) as info:
        run(Constraints(deadline_seconds=86400), slow)
    (v,) = info.value.recommendation.violations
    assert v.flag == "--deadline 2d04h52m" and v.would_pass == 190320
    assert parse_duration_seconds(v.flag.split()[1]) >= v.nearest
    assert run(Constraints(deadline_seconds=parse_duration_seconds(v.flag.split()[1])), slow).status != "infeasible"


def test_both_constraints_violated_give_two_ways_out():
    with pytest.raises(NoFeasibleCandidateError) as info:
        run(Constraints(deadline_seconds=900, budget_usd=1.0))
    by = {v.constraint: v for v in info.value.recommendation.violations}
    # nothing costs $1 or less, and 8 x A100 (800 s) meets the 15 min: the budget alone blocks, --budget 3.54
    assert by["budget"].flag == "--budget 3.54" and by["budget"].nearest == pytest.approx(15.92 * 800 / 3600)
    assert set(by) == {"budget"}  # 8 x A100 meets the deadline, so only the budget needs relaxing
    assert "--budget 3.54 would do" in str(info.value)
    with pytest.raises(NoFeasibleCandidateError) as info:
        run(Constraints(deadline_seconds=1000, budget_usd=1.9))
    by = {v.constraint: v for v in info.value.recommendation.violations}
    # within $1.90 the fastest is 1 x A100 (55 min); within 1000 s the cheapest is 8 x A100 ($3.54)
    assert (by["deadline"].flag, by["budget"].flag) == ("--deadline 55m", "--budget 3.54")
    assert "no candidate within the budget finishes within 16m40s" in by["deadline"].message
    assert "--deadline 55m or --budget 3.54 would do" in str(info.value)


def test_both_constraints_missed_by_every_candidate_need_both_flags_together():
    with pytest.raises(NoFeasibleCandidateError) as info:
        run(Constraints(deadline_seconds=60, budget_usd=0.01))
    rec = info.value.recommendation
    by = {v.constraint: v for v in rec.violations}
    assert set(by) == {"deadline", "budget"} and not by["deadline"].alone and not by["budget"].alone
    together = f"{by['deadline'].flag} and {by['budget'].flag} together would do"
    assert together in str(info.value) and f"{by['deadline'].flag} and {by['budget'].flag} together would pass" \
        in rec.verdict.why
    deadline, budget = by["deadline"].would_pass, by["budget"].would_pass
    # the two values come from one candidate, so both together pass, and neither does alone
    assert run(Constraints(deadline_seconds=deadline, budget_usd=budget)).chosen is not None
    for alone in (Constraints(deadline_seconds=deadline, budget_usd=0.01),
                  Constraints(deadline_seconds=60, budget_usd=budget)):
        with pytest.raises(NoFeasibleCandidateError):
            run(alone)
    # either flag alone still passes where each constraint has candidates within the other (the "or" case)
    with pytest.raises(NoFeasibleCandidateError) as info:
        run(Constraints(deadline_seconds=1000, budget_usd=1.9))
    assert all(v.alone for v in info.value.recommendation.violations)


def test_a_marketplace_choice_is_marked_and_warned():
    vast = offer("vast", "1x-A100", 0.9, gpu="A100-40GB", count=1, gpu_memory=40).model_copy(
        update={"notes": "marketplace: cheapest listing of this type in snapshot, host/region vary"})
    ests = estimates()
    rec = run(ests=ests, offers=[*OFFERS, vast])
    assert rec.chosen.instance_type == "1x-A100" and rec.chosen.marketplace
    assert "marketplace listing" in rec.verdict.recommendation
    (warning,) = [w for w in rec.verdict.warnings if "marketplace listing: the host and region vary" in w]
    assert warning.endswith("; the best offer that is not a marketplace listing: 1 x A100-40GB (lambda gpu_1x_a100), "
                            "55m00s total, $1.82")
    assert not next(c for c in rec.candidates if c.instance_type == "gpu_1x_a100").marketplace
    # ranked on spot: the alternative's cost is its spot cost, and says so (T4: 0.30 x 9,300 s)
    vast_cheap = vast.model_copy(update={"price_usd_per_hour": 0.2})
    rec = run(Constraints(spot=True), ests, offers=[*OFFERS, vast_cheap])
    (warning,) = [w for w in rec.verdict.warnings if "marketplace listing: the host and region vary" in w]
    assert warning.endswith("the best offer that is not a marketplace listing: 1 x T4 (gcp n1-standard-8+1xT4), "
                            "2h35m total, $0.78 at its spot price")


def test_a_deadline_shorter_than_start_up_is_warned():
    with pytest.raises(NoFeasibleCandidateError) as info:
        run(Constraints(deadline_seconds=5))
    warnings = info.value.recommendation.verdict.warnings
    assert any("the 5.0s deadline leaves little or no time after start-up" in w for w in warnings)


def test_diff_of_two_recommendations():
    from advisor.ranking.diff import diff

    old = run()
    cheaper_8x = A100X8.model_copy(update={"price_usd_per_hour": 7.0})
    new = run(offers=[CPU, A100, cheaper_8x, T4], ests=estimates())
    d = diff(old, new)
    chosen = d.rows[0]
    # 8 x A100 at $7/h for 800 s = $1.56 now beats 1 x A100's $1.82
    assert new.chosen.instance_type == "gpu_8x_a100" and chosen.changed
    assert chosen.total_seconds_delta == pytest.approx(800 - 3300)
    assert chosen.cost_usd_delta == pytest.approx(7.0 * 800 / 3600 - 1.99 * 3300 / 3600)
    assert [r.label for r in d.rows] == ["chosen", "best CPU", "best 1 GPU", "best multi-GPU"]
    assert not d.rows[1].changed and d.rows[1].cost_usd_delta == 0
    assert d.summary.startswith("the choice moved from lambda gpu_1x_a100 to lambda gpu_8x_a100: -41m40s, -$0.27")


@pytest.mark.parametrize("objective", ["cost", "time"])
@pytest.mark.parametrize("spot", [False, True])
def test_a_what_ifs_best_is_the_full_rankings_first_that_meets(objective, spot):
    """``best_meeting`` (a what-if builds one candidate, not one per offer) answers what ranking every offer
    does, over random catalogs with near-ties, memory misses, spot prices, deadlines and budgets; from lower
    bounds on the offers' times too (``Bounded``: branch and bound), where it makes fewer estimates."""
    import random

    from advisor.ranking.scoring import best_meeting, ranked, score

    rng = random.Random(7)
    resolved = offered = 0
    for trial in range(60):
        offers, ests = [], {}
        for i in range(rng.randint(1, 25)):
            gpu = rng.random() < 0.6
            o = offer(rng.choice(["aws", "gcp", "lambda"]), f"i{i}", round(rng.uniform(0.1, 20), 2),
                      gpu="A100-40GB" if gpu else None, count=rng.choice([1, 2, 8]) if gpu else 0,
                      gpu_memory=40 if gpu else None, vcpus=rng.choice([4, 8, 16]),
                      spot=round(rng.uniform(0.05, 5), 2) if rng.random() < 0.5 else None)
            offers.append(o)
            # near-ties: totals from a few values, so the time objective's 2% window and the name order matter
            seconds = rng.choice([900.0, 910.0, 3000.0, 3030.0, rng.uniform(100, 20000)])
            ests[id(o)] = estimate(offer_target(o, no_lookup), seconds, fits=rng.random() > 0.1)
        pairs = [(o, ests[id(o)]) for o in offers]
        constraints = Constraints(objective=objective, spot=spot,
                                  deadline_seconds=rng.choice([None, 1500.0, 5000.0]),
                                  budget_usd=rng.choice([None, 0.5, 5.0]))
        scored = score(pairs, constraints, STARTUP_CPU, STARTUP_GPU)[0]
        want = next((s for s in ranked(scored, objective) if s.meets), None)
        # the pairs themselves, and the same made on demand from lower bounds (some unknown, some exact)
        lows = [None if r < 0.15 else e.seconds * (1.0 if r > 0.85 else r) for (_, e), r in
                zip(pairs, (rng.random() for _ in pairs), strict=True)]
        bounded = _Bounded(pairs, lows)
        for got in (best_meeting(pairs, constraints, STARTUP_CPU, STARTUP_GPU),
                    best_meeting(bounded, constraints, STARTUP_CPU, STARTUP_GPU)):
            assert (got is None) == (want is None), trial
            if want is not None:
                assert got.cand == want.cand and (got.elapsed, got.cost) == (want.elapsed, want.cost), trial
        resolved += len(bounded.asked)
        offered += len(pairs)
    assert resolved < 0.8 * offered  # the bounds spared estimates (they would all be made without them)


class _Bounded:
    """``ranking.scoring.Bounded`` over known pairs: each estimate handed out when asked for, and counted."""

    def __init__(self, pairs, lows):
        self.offers, self.low_seconds, self._pairs, self.asked = [o for o, _ in pairs], lows, pairs, set()

    def resolve(self, i):
        self.asked.add(i)
        return self._pairs[i][1]


@pytest.mark.parametrize("objective", ["cost", "time"])
def test_a_bounded_what_if_keeps_exact_ties_in_the_name_order(objective):
    """Two offers alike but for their names, their bounds exact: the one first in name order wins, as in the
    full ranking, though the other is first in the catalog (a bound equal to the best found is still tried)."""
    from advisor.ranking.scoring import best_meeting

    first_listed = offer("lambda", "zz-later-name", 1.0, gpu="A100-40GB", count=1, gpu_memory=40)
    second_listed = offer("lambda", "aa-earlier-name", 1.0, gpu="A100-40GB", count=1, gpu_memory=40)
    pairs = [(o, estimate(key(o), 1000.0)) for o in (first_listed, second_listed)]
    bounded = _Bounded(pairs, [1000.0, 1000.0])
    got = best_meeting(bounded, Constraints(objective=objective), STARTUP_CPU, STARTUP_GPU)
    assert got.cand.instance_type == "aa-earlier-name" == best_meeting(
        pairs, Constraints(objective=objective), STARTUP_CPU, STARTUP_GPU).cand.instance_type
    assert bounded.asked == {0, 1}


def test_diff_names_only_the_constraints_that_changed():
    from advisor.ranking.diff import diff

    old = run(Constraints(top=5))
    assert not [n for n in diff(old, run(Constraints(top=10))).notes if "constraints" in n]  # a display option
    new = run(Constraints(deadline_seconds=7200, budget_usd=50, providers=["aws", "lambda"]))
    (note,) = [n for n in diff(old, new).notes if "constraints" in n]
    assert note == ("the constraints changed: deadline none -> 2h00m; budget none -> $50.00; "
                    "providers none -> aws,lambda")
    # a budget below a dollar keeps two significant digits, as every other amount (units.format_usd)
    cheap, cheaper = (old.model_copy(update={"constraints": Constraints(budget_usd=b)}) for b in (0.005, 0.0042))
    (note,) = [n for n in diff(cheap, cheaper).notes if "constraints" in n]
    assert note == "the constraints changed: budget $0.0050 -> $0.0042"


def test_diff_says_when_the_status_changes_though_the_choice_stays():
    # 1 x A100 stays the choice (3300 s, 3900 s at the slow end); a 3500 s deadline makes it at risk. The summary
    # read "the choice stays ...: +0.0s, +$0.00" and the chosen row had no caveat: "nothing changed".
    from advisor.cli import answer
    from advisor.ranking.diff import diff

    old, new = run(), run(Constraints(deadline_seconds=3500))
    assert (old.status, new.status) == ("ok", "at_risk")
    d = diff(old, new)
    assert d.summary == "the choice stays lambda gpu_1x_a100: +0.0s, +$0.00; status ok -> at_risk"
    assert (d.rows[0].old_caveats, d.rows[0].new_caveats) == ([], ["may miss the deadline at the slow end"])
    assert answer.diff_markdown(d).startswith("### advisor diff: the choice stays lambda gpu\\_1x\\_a100: +0.0s, "
                                              "+$0.00; status ok -&gt; at\\_risk\n")
    assert diff(new, new).summary == "the choice stays lambda gpu_1x_a100: +0.0s, +$0.00"  # no change: not said
    # at risk on the budget: the slow end's cost is not in the document, the status says it
    budget = run(Constraints(budget_usd=1.9))
    assert budget.status == "at_risk" and budget.chosen.instance_type == "gpu_1x_a100"
    assert diff(old, budget).rows[0].new_caveats == ["may go over the budget at the slow end"]
    assert diff(old, budget).rows[2].new_caveats == []  # the same machine as best 1 GPU: only the choice is judged


def test_diff_cost_delta_is_the_change_of_cost_usd_and_the_ranked_delta_is_apart():
    # Under --spot, cost_usd_delta was the change of the ranked (spot) costs while each side's cost_usd is
    # on-demand: -$1.22 against cost_usd +$0.00, a sign a script could not reconcile with the figures beside it.
    from advisor.cli import answer
    from advisor.ranking.diff import diff

    spot = [o.model_copy(update={"spot_price_usd_per_hour": o.price_usd_per_hour / 3}) for o in OFFERS]
    d = diff(run(), run(Constraints(spot=True), offers=spot))
    chosen = d.rows[0]
    assert chosen.new.interruptible and not chosen.old.interruptible
    assert chosen.cost_usd_delta == pytest.approx(chosen.new.cost_usd - chosen.old.cost_usd) == 0
    assert chosen.cost_pct_delta == 0
    assert chosen.ranked_cost_usd_delta == pytest.approx(chosen.new.spot_cost_usd - chosen.old.cost_usd)
    assert chosen.ranked_cost_usd_delta == pytest.approx(-1.99 * 3300 / 3600 * 2 / 3)
    assert chosen.ranked_cost_pct_delta == pytest.approx(-100 * 2 / 3)
    assert d.summary == "the choice stays lambda gpu_1x_a100: +0.0s, -$1.22"  # the costs the text shows
    assert "| +0.0s | -$1.22 (-67%) |" in answer.diff_markdown(d)


def test_diff_names_the_precision_a_job_ran_at_without_the_flag():
    from advisor.ranking.diff import diff

    old = run()
    new = old.model_copy(update={"constraints": Constraints(precision="bf16")})
    (note,) = [n for n in diff(old, new).notes if "constraints" in n]
    assert note == "the constraints changed: precision fp32 (not set) -> bf16"
    (note,) = [n for n in diff(new, old).notes if "constraints" in n]
    assert note == "the constraints changed: precision bf16 -> fp32 (not set)"


def test_no_best_value_where_the_time_saved_is_not_worth_the_money():
    # the only faster offer: 5% sooner for 50x the cost (a short job that start-up dominates) is no best value
    fast = offer("lambda", "gpu_8x_a100", 1.99 * 50, gpu="A100-40GB", count=8, gpu_memory=40)
    ests = estimates()
    ests[key(fast)] = estimate(offer_target(fast, no_lookup), 2800.0)  # 3100 s in all against 3300 s
    rec = run(ests=ests, offers=[o for o in OFFERS if o.instance_type != "gpu_8x_a100"] + [fast])
    assert rec.chosen.instance_type == "gpu_1x_a100"
    assert rec.best_value is None and rec.verdict.best_value is None


def _chosen_and_faster(faster_total_seconds, cost_ratio):
    """The cheapest offer, 1,000 s in all (700 s + 300 s start-up) for $2.00, and a faster one at ``cost_ratio``
    times its cost."""
    a = offer("p", "a", 7.2, gpu="A100-80GB", count=1, gpu_memory=80)
    price = 7.2 * cost_ratio * 1000 / faster_total_seconds
    b = offer("p", "b", price, gpu="H100", count=1, gpu_memory=80)
    rec = run(ests={key(a): estimate(key(a), 700.0), key(b): estimate(key(b), faster_total_seconds - STARTUP_GPU)},
              offers=[a, b])
    assert rec.chosen.instance_type == "a"
    return rec.best_value


def test_a_best_value_saves_at_least_5pct_of_the_total_time():
    # 52 s of 1,000 (5.2%) for 10% more is offered; 48 s (4.8%) for the same is not
    assert _chosen_and_faster(948.0, 1.1).text == ("+$0.20 (10%) finishes 52.0s sooner on 1 x H100 (p b): 15m48s "
                                                   "total, $2.20")
    assert _chosen_and_faster(952.0, 1.1) is None


def test_a_best_value_buys_its_time_at_no_worse_than_the_minimum_return():
    # 10% sooner: log(1/0.9) = 0.105 of gain; at 2.7x the cost (log 0.99) that is over a tenth of the loss, at 3.0x
    # (log 1.10) under it
    assert _chosen_and_faster(900.0, 2.7).text == ("+$3.40 (2.7x the cost) finishes 1m40s sooner on 1 x H100 (p b): "
                                                   "15m00s total, $5.40")
    assert _chosen_and_faster(900.0, 3.0) is None


def test_a_job_over_the_measured_headroom_says_so_rather_than_needs_less_than_it_has():
    ests = estimates()
    ests[key(CPU)] = estimate(offer_target(CPU, no_lookup), 20000.0, fits=False, peak=29.4, capacity=32.0)
    rec = run(ests=ests)
    (dropped,) = [c for c in rec.excluded if c.instance_type == "c7i.4xlarge"]
    assert dropped.reason == "needs 29 GiB of memory, more than the 90% of its 32 a measured job may use"
    ests[key(CPU)] = estimate(offer_target(CPU, no_lookup), 20000.0, fits=False, peak=40.0, capacity=32.0)
    (dropped,) = [c for c in run(ests=ests).excluded if c.instance_type == "c7i.4xlarge"]
    assert dropped.reason == "needs 40 GiB of memory, has 32"


def test_a_job_bounded_by_the_probes_out_of_memory_says_so_rather_than_the_headroom():
    # 12 GiB on a 40 GiB A100 is within every headroom rule: the batch is over one the probe ran out of memory at
    ests = estimates()
    ests[key(A100)] = estimate(offer_target(A100, no_lookup), 3000.0, fits=False, peak=12.0, capacity=40.0,
                               max_batch=23)
    (dropped,) = [c for c in run(ests=ests).excluded if c.instance_type == "gpu_1x_a100"]
    assert dropped.reason == ("batch 32 per GPU is over 23, the largest below a batch that ran out of memory in the "
                              "probe (the line of its peaks gives 12 GiB of 40)")


def test_a_peak_over_the_usable_share_is_said_so_before_the_probes_out_of_memory_cap():
    def reason(peak, max_batch):
        ests = estimates()
        ests[key(A100)] = estimate(offer_target(A100, no_lookup), 3000.0, fits=False, peak=peak, capacity=40.0,
                                   max_batch=max_batch)
        (dropped,) = [c for c in run(ests=ests).excluded if c.instance_type == "gpu_1x_a100"]
        return dropped.reason

    # 37 GiB of 40 is over the 90% (36 GiB) a measured job may use: that, though the batch is over the probe's cap
    assert reason(37.0, 23) == "needs 37 GiB per GPU, more than the 90% of its 40 a measured job may use"
    # 35 GiB is within it: the cap bounds the job
    assert reason(35.0, 23) == ("batch 32 per GPU is over 23, the largest below a batch that ran out of memory in the "
                                "probe (the line of its peaks gives 35 GiB of 40)")
    # all of the GPU's memory is still over the usable share, not "needs 40 GiB, has 40"
    assert reason(40.0, None) == "needs 40.000 GiB per GPU, more than the 90% of its 40.000 a measured job may use"


@pytest.mark.parametrize(("ratio", "text"), [(0.0, "far cheaper"), (float("inf"), "far dearer"),
                                             (0.25, "4.0x cheaper"), (1.0, "about the same cost")])
def test_the_verdict_words_a_zero_or_infinite_cost_ratio_without_dividing_by_it(ratio, text):
    from advisor.ranking.verdict import _cheaper

    assert _cheaper(ratio) == text


def test_the_verdict_says_about_the_same_only_within_5pct():
    from advisor.ranking.verdict import _cheaper, _pace

    # costs in the rows' bands (reasons.cost_text): the same only within 2%, percentages within 10%
    assert [_cheaper(r) for r in (1.04, 1 / 1.04, 1.08, 1 / 1.08, 1.015, 1 / 1.015)] == [
        "4% dearer", "4% cheaper", "8% dearer", "7% cheaper", "about the same cost", "about the same cost"]
    assert [_pace(r) for r in (1.04, 1 / 1.04, 1.08, 1 / 1.08)] == [
        "about as fast", "about as fast", "1.1x slower", "1.1x faster"]


def test_diff_marks_a_side_that_misses_the_constraints_or_is_a_spot_price(capsys, monkeypatch):
    from rich.console import Console

    from advisor.cli import answer
    from advisor.ranking.diff import diff

    spot = [o.model_copy(update={"spot_price_usd_per_hour": o.price_usd_per_hour / 3}) for o in OFFERS]
    d = diff(run(Constraints()), run(Constraints(deadline_seconds=3600, budget_usd=1.0, spot=True), offers=spot))
    rows = {r.label: r for r in d.rows}
    assert (rows["best CPU"].old_caveats, rows["best CPU"].new_caveats) == ([], ["misses the deadline",
                                                                                "over the budget", "spot"])
    # 1 x A100 on spot: 55m00s within the 1h00m deadline, but 1h05m at the slow end
    assert rows["best 1 GPU"].new_caveats == ["may miss the deadline at the slow end", "spot"]
    assert rows["best 1 GPU"].new.ranked_cost_usd == rows["best 1 GPU"].new.spot_cost_usd  # the meaning is kept
    md = answer.diff_markdown(d)
    assert "5h35m (4h29m–6h42m), $1.33 (misses the deadline; over the budget; spot) |" in md
    assert "| best CPU | 16 vCPU (aws c7i.4xlarge), 5h35m (4h29m–6h42m), $3.99 |" in md  # no caveat where none applies
    assert "Total time (start-up + job, 80% interval) and cost, old -> new." in md  # what the ranges are
    monkeypatch.setattr(answer, "out", lambda: Console(width=400, soft_wrap=False))  # one line per table row
    answer.diff(d)
    shown = capsys.readouterr().out
    assert re.search(r"5h35m \(4h29m–6h42m\), \$1\.33 \(misses the deadline; over the budget; spot\) +│", shown)
    assert "total time (start-up + job, 80% interval) and cost, old -> new" in shown


def test_budget_texts_tell_a_budget_from_a_cost_that_prints_alike_and_suggest_a_budget_near_the_cost():
    """A $0.00428 budget read "no candidate costs $0.0043 or less; the cheapest is ... at $0.0043: --budget 0.01
    would pass" (2.3x the cost); a $50 budget "($50.00 to spare)", as if the job were free."""
    from advisor.ranking.reasons import budget_that_passes, usd_apart

    assert usd_apart(0.00428, 0.004281194) == ("$0.004280", "$0.004281")
    assert usd_apart(50.0, 50.0 - 0.0043) == ("$50.000", "$49.996")
    assert usd_apart(0.5, 0.25) == ("$0.50", "$0.25")  # apart already: as format_usd writes them
    assert budget_that_passes(0.004281194) == (0.0043, "0.0043")
    assert budget_that_passes(0.0043) == (0.0043, "0.0043")
    assert budget_that_passes(3.5378) == (3.54, "3.54") and budget_that_passes(0.82001) == (0.83, "0.83")
    a100 = cost(A100, 3000.0, STARTUP_GPU)  # the cheapest: $1.824
    with pytest.raises(NoFeasibleCandidateError) as info:
        run(Constraints(budget_usd=round(a100, 2) - 0.001))
    (v,) = info.value.recommendation.violations
    assert v.flag == f"--budget {math.ceil(a100 * 100) / 100:.2f}"
    assert "costs $1.819 or less; the cheapest is 1 x A100-40GB (lambda gpu_1x_a100) at $1.824" in v.message
    rec = run(Constraints(budget_usd=50.0))
    assert "within the $50.00 budget ($48.18 to spare)" in rec.chosen.reason
    rec = run(Constraints(budget_usd=a100))
    assert "nothing to spare: it costs the whole budget" in rec.chosen.reason


def test_a_budget_reads_as_given_and_a_cost_over_it_never_reads_alike():
    """A $0.1753 budget read "$0.18" in the header, the reasons and the exit-3 error: "$0.18 (over the $0.18 budget by
    $0.000033)", and "--budget 0.18 would do" next to it, as if that were not the budget given."""
    from advisor.cli.answer import _header
    from advisor.ranking.reasons import budget_that_passes, over_budget, usd_apart

    assert usd_apart(0.1753, 0.19, exact=True) == ("$0.1753", "$0.19")
    assert usd_apart(0.1753, 0.17533, exact=True) == ("$0.17530", "$0.17533")
    assert over_budget(0.17533, 0.1753) == "over the $0.1753 budget by $0.000030"  # the cost reads $0.18: above
    assert over_budget(0.18004, 0.18) == "costs $0.18004, over the $0.18000 budget by $0.000040"
    # a cost a hair over 0.18 rounded down onto 0.18: that flag would not pass (scoring's cost / budget - 1 > 0)
    assert budget_that_passes(0.18 * (1 + 1e-9)) == (0.19, "0.19")
    with pytest.raises(NoFeasibleCandidateError) as info:
        run(Constraints(budget_usd=1.8241))  # 1 x A100, the cheapest: $1.824167
    rec = info.value.recommendation
    assert str(info.value).startswith("No candidate meets the $1.8241 budget. Nearest misses:\n  1 x A100-40GB (lambda "
                                      "gpu_1x_a100): 55m00s with start-up, $1.82 (costs $1.8242, over the $1.8241 "
                                      "budget by $0.000067)")
    assert "Fix: relax the constraints (--budget 1.83 would do)" in info.value.hint
    assert _header(rec).endswith("— cheapest within budget $1.8241")
    (v,) = rec.violations
    assert v.would_pass > 1.8241 and "costs $1.8241 or less" in v.message
    ok = run(Constraints(budget_usd=1234.5))
    assert _header(ok).endswith("within budget $1,234.50") and "within the $1,234.50 budget" in ok.chosen.reason


def test_a_deadline_past_two_days_and_its_spare_read_in_one_format():
    from advisor.units import durations_alike

    assert durations_alike(172800, 172800 - 240) == ("48h00m", "47h56m")  # not "2d00h ... 47h56m"
    assert durations_alike(172800, 90000 + 86400) == ("2d00h", "2d01h")
    assert durations_alike(1800, 1000) == ("30m00s", "16m40s")
    rec = run(Constraints(deadline_seconds=172800))
    assert "meets the 48h00m deadline with 47h05m to spare" in rec.chosen.reason  # 1 x A100: 55m00s total


def test_a_run_that_barely_misses_or_meets_a_deadline_reads_apart_from_it():
    """Truncated durations printed "takes 1h05m with start-up: misses the 1h05m deadline by 1.2s", and the
    recommendation's total was "1h01m" for 56m56s of job and 5m00s of start-up."""
    rec = run(Constraints(deadline_seconds=9299.5))  # T4: 9000 s job + 300 s start-up, 0.5 s past it
    t4 = next(c for c in rec.candidates if c.instance_type == "n1-standard-8+1xT4")
    assert "takes 2h35m00.0s with start-up: misses the 2h34m59.5s deadline by 0.5s" in t4.reason
    rec = run(Constraints(deadline_seconds=3300.4))  # 1 x A100: 3300 s in all
    assert rec.chosen.instance_type == "gpu_1x_a100"
    assert "meets the 55m00.4s deadline with 0.4s to spare" in rec.chosen.reason
    rec = run(Constraints(deadline_seconds=3943), ests=estimates(a100=3416.36))
    assert rec.verdict.recommendation.startswith(
        "Rent lambda gpu_1x_a100 (1 x A100-40GB, r1): 1h02m total (56m56s job + 5m00s start-up)")
    assert "meets the 1h05m43s deadline with 3m47s to spare" in rec.chosen.reason  # 1h05m43s - 3m47s = 1h01m56s
    with pytest.raises(NoFeasibleCandidateError) as err:
        run(Constraints(deadline_seconds=3715), ests=estimates(a100=3416.36, a100x8=4000.0), offers=[A100, A100X8])
    assert str(err.value).startswith("No candidate meets the 1h01m55s deadline. Nearest misses:\n  1 x A100-40GB "
                                     "(lambda gpu_1x_a100): 1h02m with start-up, $2.05 (takes 1h01m56s with start-up: "
                                     "misses the 1h01m55s deadline by 1.4s)")


def test_a_cost_billed_for_more_than_the_run_says_the_billed_time():
    """e2e bills whole hours: "$2.80" for a 5m18s run at $2.80/h could not be checked from what was shown."""
    hourly = A100.model_copy(update={"provider": "e2e", "instance_type": "A100-x1", "billing": "per_hour",
                                     "min_billed_seconds": 0, "price_usd_per_hour": 1.0})
    rec = run(offers=[CPU, hourly, A100X8, T4])  # 1 x A100: 3300 s, billed as 3600 s, $1.00
    assert rec.chosen.instance_type == "A100-x1" and rec.chosen.billed_seconds == 3600
    assert rec.verdict.recommendation.endswith("$1.00 (billed as 1h00m: e2e bills whole hours)")
    assert ("e2e bills whole hours: the listed A100-x1's 55m00s run is billed as 1h00m; the cost is the billed "
            "time x the hourly rate") in rec.notes
    plain = run()
    assert "billed as" not in plain.verdict.recommendation and not any("billed as" in n for n in plain.notes)



def test_a_chosen_price_older_than_the_staleness_limit_is_warned_about():
    """The catalog's prices were 7-10 months old on the machine's date, and nothing said so."""
    from datetime import date

    old = A100.model_copy(update={"snapshot_date": "2026-05-20"})
    warning = ("the price of lambda gpu_1x_a100 is from the catalog's 2026-05-20 snapshot, 200 days old: check the "
               "provider's current price before renting")
    assert warning in run(offers=[CPU, old, A100X8, T4], today=date(2026, 12, 6)).verdict.warnings
    assert warning not in run(offers=[CPU, old, A100X8, T4]).verdict.warnings  # no date given: no check
    fresh = run(offers=[CPU, old, A100X8, T4], today=date(2026, 6, 1)).verdict.warnings  # 12 days: fine
    undated = run(today=date(2026, 12, 6)).verdict.warnings  # undated: the footer says so
    assert not any("days old" in w for w in fresh + undated)
    spot = T4.model_copy(update={"snapshot_date": "2026-05-20"})
    rec = run(Constraints(spot=True), offers=[CPU, A100, A100X8, spot], today=date(2026, 6, 30))  # 41 days
    assert any(w.startswith("the spot price of gcp n1-standard-8+1xT4 is from the catalog's 2026-05-20 snapshot, "
                            "41 days old") for w in rec.verdict.warnings)


def test_the_notes_on_listed_rows_describe_the_grouped_rows_the_table_lists():
    """The suspect-price, spot-zone and billing notes were built from the first --top rows of the ungrouped ranking:
    a listed group's suspect price went unflagged, and a row the grouped table does not show was counted."""
    from advisor.schemas.results import SPOT_ZONE_MIN_NOTE

    t4_too = T4.model_copy(update={"provider": "aws", "instance_type": "g4dn.2xlarge", "price_usd_per_hour": 0.74,
                                   "spot_price_usd_per_hour": 0.31, "notes": SPOT_ZONE_MIN_NOTE})
    suspect = A100X8.model_copy(update={"suspect_price": True})
    offers = [CPU, A100, suspect, T4, t4_too]
    # By cost: A100 $1.82, T4 $1.89, its twin on aws $1.91 (the T4 group), 8 x A100 $3.54, CPU $3.99.
    rec = run(Constraints(top=3), offers=offers)
    assert [g.best.instance_type for g in rec.groups[:3]] == ["gpu_1x_a100", "n1-standard-8+1xT4", "gpu_8x_a100"]
    assert "lambda gpu_8x_a100: its price is flagged as suspect in the catalog (pricing/README.md)" in rec.notes
    # The aws twin's cheapest-zone spot price is not a listed row's: the group lists gcp's T4.
    spot = run(Constraints(top=3, spot=True), offers=offers)
    assert names(g.best for g in spot.groups[:2]) == ["n1-standard-8+1xT4", "gpu_1x_a100"]
    assert not any("availability zones: in the zone" in n for n in spot.notes), spot.notes


def test_an_undated_chosen_price_is_warned_about_as_of_unknown_age():
    """aws c7i.large's price, from a snapshot whose date is not retrievable, got no warning, while a 200-day-old
    price did."""
    from datetime import date

    rec = run(today=date(2026, 12, 6))  # lambda gpu_1x_a100, no snapshot_date
    assert rec.chosen.instance_type == "gpu_1x_a100"
    assert ("the price of lambda gpu_1x_a100 is undated in the catalog: check the provider's current price before "
            "renting") in rec.verdict.warnings
    assert not any("undated" in w for w in run().verdict.warnings)  # no date given: no check
    mine = A100.model_copy(update={"source": "user file prices.csv"})  # the user's own price: theirs to know
    assert not any("undated" in w for w in run(offers=[CPU, mine, A100X8, T4], today=date(2026, 12, 6))
                   .verdict.warnings)


def test_an_undated_spot_price_is_not_dated_by_its_rows_on_demand_date():
    """AWS spot prices from the undated SkyPilot snapshot (flagged spot_undated: the row's date is the on-demand
    price's) were warned "from the catalog's 2026-01-21 snapshot, 319 days old" beside "undated in the catalog"."""
    from datetime import date

    from advisor.schemas.results import SPOT_UNDATED_NOTE

    undated = T4.model_copy(update={"snapshot_date": "2026-01-21", "notes": SPOT_UNDATED_NOTE})
    rec = run(Constraints(spot=True), offers=[CPU, A100, A100X8, undated], today=date(2026, 12, 6))
    assert rec.chosen.instance_type == "n1-standard-8+1xT4" and rec.chosen.interruptible
    assert not any("2026-01-21" in w or "days old" in w for w in rec.verdict.warnings), rec.verdict.warnings
    assert sum("undated in the catalog" in w for w in rec.verdict.warnings) == 1


def test_each_table_has_the_notes_on_its_own_rows():
    """``--by provider`` and ``--all`` printed the grouped table's notes on its rows: a suspect price of a row they
    did not list, and none for a row they did."""
    suspect_t4 = T4.model_copy(update={"suspect_price": True})
    suspect_8x = A100X8.model_copy(update={"suspect_price": True})
    # By cost: A100 $1.82, T4 $1.89, 8 x A100 $3.54, CPU $3.99; the groups' bests are the same rows.
    rec = run(Constraints(top=1), offers=[CPU, A100, suspect_8x, suspect_t4])
    t4_note = "gcp n1-standard-8+1xT4: its price is flagged as suspect in the catalog (pricing/README.md)"
    a100x8_note = "lambda gpu_8x_a100: its price is flagged as suspect in the catalog (pricing/README.md)"
    assert t4_note not in rec.notes and a100x8_note not in rec.notes  # the default table lists the 1 x A100 only
    assert rec.row_notes["hardware"] == [] and rec.notes_for("hardware") == rec.notes
    # By provider, the first --top providers' bests: lambda's 1 x A100 alone at --top 1; then gcp's T4 and aws's
    # CPU (the 8 x A100 is not lambda's best).
    assert rec.row_notes["provider"] == [] and rec.notes_for("provider") == rec.notes
    two = run(Constraints(top=2), offers=[CPU, A100, suspect_8x, suspect_t4])
    assert two.row_notes["provider"] == [t4_note] and a100x8_note not in two.notes_for("provider")
    assert rec.notes_for("all") == [rec.notes[0], t4_note, a100x8_note, *rec.notes[1:]]  # in ranking order
    # A note of the default table's rows is not another table's where that table does not list the row.
    top3 = run(Constraints(top=3), offers=[CPU, A100, suspect_8x, T4])
    assert top3.row_notes["hardware"] == [a100x8_note] and top3.notes[1] == a100x8_note
    assert a100x8_note not in top3.notes_for("provider") and a100x8_note in top3.notes_for("all")
    assert [n for n in top3.notes_for("provider") if n not in top3.notes] == []
