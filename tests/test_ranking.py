from __future__ import annotations

import pytest

from advisor.errors import NoFeasibleCandidateError
from advisor.predictor.targets import needed_targets, offer_target
from advisor.pricing import billed_seconds
from advisor.ranking import rank
from advisor.schemas import Constraints, Estimate, Offer, Target, WorkloadSummary

STARTUP_CPU, STARTUP_GPU = 120.0, 300.0


def no_lookup(provider, instance_type):
    return None, None


def offer(provider, instance_type, price, *, gpu=None, count=0, vcpus=8, memory=32.0, gpu_memory=None, spot=None,
          region="r1"):
    return Offer(provider=provider, instance_type=instance_type, region=region, vcpus=vcpus, memory_gib=memory,
                 gpu=gpu, gpu_count=count, gpu_memory_gib=gpu_memory, price_usd_per_hour=price,
                 spot_price_usd_per_hour=spot, billing="per_second", min_billed_seconds=60)


def estimate(target, seconds, *, spread=0.2, fits=True, peak=None, capacity=None, precision="fp32"):
    return Estimate(target=target, dataset_size=1000, epochs=1, batch_size=32, seconds=seconds,
                    low=seconds * (1 - spread), high=seconds * (1 + spread), step_seconds=seconds / 100,
                    steps_per_epoch=100, total_steps=100, fits_memory=fits, peak_memory_gib=peak,
                    memory_capacity_gib=capacity, per_device_batch_size=32, method="scaled", precision=precision)


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


def test_fastest():
    rec = run(Constraints(objective="time"))
    assert names(rec.candidates) == ["gpu_8x_a100", "gpu_1x_a100", "n1-standard-8+1xT4", "c7i.4xlarge"]
    assert rec.chosen.reason.startswith("fastest of 4")


def test_deadline_picks_the_cheapest_that_is_fast_enough():
    rec = run(Constraints(deadline_seconds=1800))  # start-up included: only 8 x A100 (500 + 300 s) makes it
    assert rec.chosen.instance_type == "gpu_8x_a100"
    assert "meets the 30m00s deadline with 16m40s to spare" in rec.chosen.reason
    others = {c.instance_type: c for c in rec.candidates}
    assert not others["gpu_1x_a100"].meets_constraints
    assert "misses the 30m00s deadline by 25m00s" in others["gpu_1x_a100"].reason
    assert names(rec.candidates)[1:] == ["gpu_1x_a100", "n1-standard-8+1xT4", "c7i.4xlarge"]  # nearest miss first


def test_budget_with_time_objective():
    rec = run(Constraints(objective="time", budget_usd=2.0))
    assert rec.chosen.instance_type == "gpu_1x_a100"  # 8 x A100 costs 3.54
    assert "within the $2.00 budget" in rec.chosen.reason
    eight = next(c for c in rec.candidates if c.instance_type == "gpu_8x_a100")
    assert not eight.meets_constraints and "over the $2.00 budget by $1.54" in eight.reason


def test_deadline_at_risk_is_flagged():
    ests = estimates(a100x8=1400.0)  # 1400 + 300 = 1700 <= 1800, but high = 1680 + 300 > 1800
    rec = run(Constraints(deadline_seconds=1800), ests)
    assert rec.chosen.instance_type == "gpu_8x_a100"
    assert "at risk: at the slow end of its estimate it misses the 30m00s deadline by 3m00s" in rec.chosen.reason
    assert rec.chosen.meets_constraints  # ranked on the point estimate


def test_budget_at_risk_is_flagged():
    rec = run(Constraints(budget_usd=1.9))  # 1 x A100: $1.82 at the point estimate, 3900 s -> $2.16 at the slow end
    assert rec.chosen.instance_type == "gpu_1x_a100"
    assert "at risk: at the slow end of its estimate it costs $2.16, over the $1.90 budget" in rec.chosen.reason


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
    assert "--deadline 14m00s" in str(info.value)  # 8 x A100: 800 s with start-up, rounded up to the minute


def test_memory_exclusion():
    ests = estimates(fits=False, peak=20.0, capacity=16.0)
    rec = run(ests=ests)
    assert "n1-standard-8+1xT4" not in names(rec.candidates)
    (t4,) = rec.excluded
    assert t4.instance_type == "n1-standard-8+1xT4" and not t4.fits_memory
    assert t4.reason == "needs 20 GiB per GPU, has 16"


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


def test_best_per_tier():
    rec = run(Constraints(deadline_seconds=1800))
    assert {t: c.instance_type for t, c in rec.best_per_tier.items()} == {
        "cpu": "c7i.4xlarge", "single_gpu": "gpu_1x_a100", "multi_gpu": "gpu_8x_a100"}
    assert list(rec.best_per_tier) == ["cpu", "single_gpu", "multi_gpu"]


def test_reasons_are_relative_to_the_choice():
    rec = run()
    eight = next(c for c in rec.candidates if c.instance_type == "gpu_8x_a100")
    assert eight.reason == "4.1x faster than 1 x A100-40GB (lambda gpu_1x_a100) for 1.9x the cost"
    cpu = next(c for c in rec.candidates if c.instance_type == "c7i.4xlarge")
    assert cpu.reason.startswith("6.1x slower than 1 x A100-40GB (lambda gpu_1x_a100) for 2.2x the cost")


def test_advice_when_another_precision_is_much_better():
    bf16 = {k: e.model_copy(update={"seconds": e.seconds / 2, "low": e.low / 2, "high": e.high / 2,
                                    "precision": "bf16"}) for k, e in estimates().items()}
    same = estimates()
    rec = run(alternatives={"--precision bf16": bf16, "--batch-size 64": same})
    assert len(rec.advice) == 1
    line = rec.advice[0]
    # halved times: T4 4500 + 300 s at $0.73/h = $0.97 beats the A100's 1800 + 300 s at $1.99/h = $1.16
    assert line.startswith("with --precision bf16: 1 x T4 (gcp n1-standard-8+1xT4), 1h15m, $0.97")
    assert line.endswith("instead of 50m00s, $1.82")


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


def test_spot_ranking():
    rec = run(Constraints(spot=True))
    assert rec.chosen.instance_type == "n1-standard-8+1xT4"  # $0.78 on spot beats the A100's $1.82
    assert rec.chosen.interruptible
    assert not next(c for c in rec.candidates if c.instance_type == "gpu_1x_a100").interruptible
    assert any("spot prices" in n for n in rec.notes)


def test_offers_without_estimate_are_skipped_and_counted():
    b200 = offer("lambda", "gpu_8x_b200", 53.52, gpu="B200", count=8, gpu_memory=180)
    rec = run(offers=[*OFFERS, b200, b200.model_copy(update={"instance_type": "other"})])
    assert "gpu_8x_b200" not in names(rec.all_candidates)
    assert any("2 offers skipped" in n and "8 x B200 (2)" in n for n in rec.notes)


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


def test_a_listed_suspect_price_is_noted():
    suspect = A100.model_copy(update={"suspect_price": True, "notes": "accelerator row looks wrong"})
    rec = run(offers=[CPU, suspect, A100X8, T4])
    assert any("gpu_1x_a100: its price is flagged as suspect" in n for n in rec.notes)
    assert not any("suspect" in n for n in run().notes)
