"""A ContextCache reused across calls changes no figure, and is reused for the same profile only."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor import api
from advisor.errors import NoFeasibleCandidateError
from advisor.predictor.contexts import ContextCache, profile_key
from advisor.settings import Settings

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


@pytest.fixture()
def settings(tmp_path):
    return Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'h.db'}")


def _figures(rec):
    return [(c.provider, c.instance_type, c.region, c.seconds, c.low, c.high, c.cost_usd) for c in rec.candidates]


def test_reused_contexts_give_the_same_ranking(settings):
    cache = ContextCache(entries=4)
    for dataset_size in (50_000, 80_000, 50_000):
        fresh = api.recommend(str(PROFILE), dataset_size=dataset_size, epochs=2, save=False, settings=settings)
        reused = api.recommend(str(PROFILE), dataset_size=dataset_size, epochs=2, save=False, settings=settings,
                               contexts=cache)
        assert _figures(reused) == _figures(fresh)
        assert reused.advice == fresh.advice
    assert (cache.misses, cache.hits) == (1, 2)  # one profile: one context, reused by the later jobs


def test_one_context_per_profile_and_the_oldest_dropped():
    prof = api.load_profile(PROFILE)
    other = prof.model_copy(update={"notes": [*prof.notes, "another probe"]})
    assert profile_key(prof) != profile_key(other)
    cache = ContextCache(entries=1)
    first = cache.for_profile(prof)
    assert cache.for_profile(prof) is first
    assert cache.for_profile(other) is not first
    assert cache.for_profile(prof) is not first  # dropped when the other one came in
    assert (cache.misses, cache.hits) == (3, 1)


def test_a_long_lived_history_correction_is_refitted_when_outcomes_change(settings):
    """A server passes its History and ContextCache: the correction's fit is kept per version of the stored
    outcomes, so runs recorded after a ranking change the next one (no stale correction)."""
    from advisor.history.repository import History

    cache = ContextCache(entries=4)
    with History(settings=settings) as hist:
        first = api.recommend(str(PROFILE), dataset_size=50_000, epochs=2, save=False, settings=settings,
                              contexts=cache, history=hist)
        assert {c.method for c in first.candidates} <= {"measured", "scaled"}
        # Runs of the chosen CPU instance that took twice the prediction: enough for the correction to be used.
        stored = first.model_copy(update={"id": None})
        for _ in range(12):
            rec_id = hist.save_recommendation(stored)
            hist.record_outcome(rec_id, 2.0 * first.chosen.seconds)
        again = api.recommend(str(PROFILE), dataset_size=50_000, epochs=2, save=False, settings=settings,
                              contexts=cache, history=hist)
        unchanged = api.recommend(str(PROFILE), dataset_size=50_000, epochs=2, save=False, settings=settings,
                                  contexts=cache, history=hist)
    fresh = api.recommend(str(PROFILE), dataset_size=50_000, epochs=2, save=False, settings=settings)
    chosen = next(c for c in again.all_candidates if c.instance_type == first.chosen.instance_type
                  and c.region == first.chosen.region)
    assert chosen.method == "history" and chosen.seconds > 1.5 * first.chosen.seconds
    assert _figures(again) == _figures(unchanged) == _figures(fresh)  # the same as a one-shot call's


def test_a_context_reused_across_jobs_gives_every_estimate_of_a_fresh_one():
    """Every offer's whole estimate (times, interval, host side, MFU, notes), for jobs of other sizes,
    epochs, evaluation and accumulation priced through one context, equals the estimate of that offer alone
    from a context of its own: the per-host step models kept between jobs and offers
    (``gpu_job.GpuOnHost``, ``measured.MeasuredModel``) change no field."""
    from advisor.predictor.estimate import EstimateContext
    from advisor.predictor.targets import estimate_offers
    from advisor.pricing import load_catalog
    from advisor.schemas import JobSpec, Profile

    prof = Profile.model_validate_json(PROFILE.read_text())
    offers = load_catalog([]).filter()
    # two CPU instances alike but for their memory (one too small for the job): each judged by its own
    cpu = next(o for o in offers if not o.gpu_count)
    offers += [cpu.model_copy(update={"instance_type": "same-but-tiny", "memory_gib": 0.01}),
               cpu.model_copy(update={"instance_type": "same-but-huge", "memory_gib": 4096.0})]
    shared = EstimateContext.load()
    jobs = [JobSpec(50_000, 2, 256), JobSpec(77_777, 3, 256),
            JobSpec(90_123, 2, 256, grad_accum_steps=4, eval_every=20, eval_steps=5)]
    for job in jobs:
        for precision in (None, "bf16"):
            reused = estimate_offers(prof, job, offers, precision=precision, context=shared)
            assert len(reused) == len(offers) > 200
            for offer, a in reused:
                # the probe's fit and the per-profile memo are shared (refitting them per offer would take
                # minutes); the per-job models are not
                alone = EstimateContext(shared.gpu_specs, shared.cpu_specs, shared.calibration,
                                        fits=dict(shared.fits), memo=dict(shared.memo))
                b = estimate_offers(prof, job, [offer], precision=precision, context=alone)[0][1]
                # as JSON: a copied estimate holding an int where a built one holds a float would differ
                assert (a.model_dump_json() if hasattr(a, "model_dump") else str(a)) == \
                       (b.model_dump_json() if hasattr(b, "model_dump") else str(b)), (offer.instance_type, job)
    assert len(shared.gpu_hosts) > 50 and len(shared.cpu_models) > 50
    # many more dataset sizes of one job shape: what the context keeps per model stays bounded
    for dataset_size in range(30_001, 30_001 + 40 * 97, 97):
        estimate_offers(prof, JobSpec(dataset_size, 1, 256), [o for o in offers if o.gpu_count][:20], context=shared)
    assert max(len(h.parts_at) for h in shared.gpu_hosts.values()) <= 34
    tiny = next(e for o, e in reused if o.instance_type == "same-but-tiny")
    assert not tiny.fits_memory and tiny.memory_capacity_gib == 0.01


def test_a_job_shapes_recorded_steps_bound_every_later_job_of_that_shape():
    """``targets.LazyEstimates``' lower bounds hold: for every catalog offer, a job of a shape priced before
    (other dataset sizes and epochs; accumulation, evaluation, several GPUs, bf16) takes at least its bound, and
    its estimate made on demand is the one ``estimate_offers`` makes."""
    from advisor.predictor.estimate import EstimateContext
    from advisor.predictor.targets import LazyEstimates, estimate_offers
    from advisor.pricing import load_catalog
    from advisor.schemas import Estimate, JobSpec, Profile

    prof = Profile.model_validate_json(PROFILE.read_text())
    offers = load_catalog([]).filter()
    ctx = EstimateContext.load()
    shapes = [dict(batch_size=256), dict(batch_size=512, grad_accum_steps=4, eval_every=10, eval_steps=3)]
    checked = 0
    for shape in shapes:
        for precision in (None, "bf16"):
            estimate_offers(prof, JobSpec(40_000, 2, **shape), offers, precision=precision, context=ctx)
            for dataset_size, epochs in ((40_001, 3), (77_777, 1), (300, 5), (1_000_003, 2)):
                job = JobSpec(dataset_size, epochs, **shape)
                lazy = LazyEstimates(prof, job, offers, precision=precision, context=ctx)
                fresh = estimate_offers(prof, job, offers, precision=precision, context=ctx)
                assert all(low is not None for low in lazy.low_seconds)
                for i, (offer, est) in enumerate(fresh):
                    got = lazy.resolve(i)
                    assert (got.model_dump_json() if isinstance(got, Estimate) else str(got)) == \
                           (est.model_dump_json() if isinstance(est, Estimate) else str(est))
                    if isinstance(est, Estimate):
                        assert est.seconds >= lazy.low_seconds[i] > 0, (offer.instance_type, job, precision)
                        checked += 1
    assert checked > 3000
    # with a correction that can shrink a time, a bound shrinks by its smallest factor (or is unknown)
    job = JobSpec(55_555, 2, batch_size=256)
    plain = LazyEstimates(prof, job, offers, context=ctx)
    halved = LazyEstimates(prof, job, offers, context=ctx, correction=lambda e: e, correction_floor=0.5)
    assert halved.low_seconds == [None if low is None else 0.5 * low for low in plain.low_seconds]
    # a correction that may shrink a time without limit, or a shape never priced: nothing but the start-up
    unknown = LazyEstimates(prof, job, offers, context=ctx, correction=lambda e: e)
    assert set(unknown.low_seconds) == {0.0}
    assert set(LazyEstimates(prof, job, offers, context=EstimateContext.load()).low_seconds) == {0.0}


def test_a_what_if_of_a_shape_never_priced_is_the_full_rankings_best_from_fewer_estimates():
    """With nothing recorded for a shape (a profile's first job, the CLI), a what-if's search is bounded by each
    offer's start-up alone (a job takes no less than nothing): it finds the best candidate of the full ranking,
    under every objective and constraint, and estimates a fraction of the catalog."""
    from advisor.predictor.estimate import EstimateContext
    from advisor.predictor.targets import LazyEstimates, estimate_offers
    from advisor.pricing import load_catalog
    from advisor.ranking.scoring import best_meeting
    from advisor.schemas import Constraints, JobSpec, Profile

    prof = Profile.model_validate_json(PROFILE.read_text())
    offers = load_catalog([]).filter()
    compared = 0
    for constraints in (Constraints(), Constraints(objective="time"), Constraints(deadline_seconds=3 * 3600),
                        Constraints(budget_usd=0.05, spot=True),
                        Constraints(objective="time", deadline_seconds=1200, spot=True)):
        for precision, job in ((None, JobSpec(90_001, 2, batch_size=1024)), ("bf16", JobSpec(30_000, 3, 512))):
            for startup in ((120.0, 300.0), (0.0, 0.0), (600.0, 60.0)):
                full = best_meeting(estimate_offers(prof, job, offers, precision=precision,
                                                    context=EstimateContext.load()), constraints, *startup)
                lazy = LazyEstimates(prof, job, offers, precision=precision, context=EstimateContext.load())
                cold = best_meeting(lazy, constraints, *startup)
                assert (None if full is None else (full.cand, full.elapsed, full.cost)) == \
                       (None if cold is None else (cold.cand, cold.elapsed, cold.cost)), (constraints, job, startup)
                compared += full is not None
                if startup == (120.0, 300.0) and not constraints.spot:
                    assert lazy.resolved < len(offers) / 2, (constraints, lazy.resolved)
    assert compared >= 20


def test_reused_contexts_give_the_same_what_ifs_under_constraints(settings, monkeypatch):
    """The what-ifs of a job whose shape the context has priced are made from bounds (a few estimates, not the
    catalog's): each what-if's best candidate is a fresh context's, whatever the objective and constraints."""
    import advisor.ranking as ranking

    found: list = []
    whole = ranking.best_meeting

    def spied(priced, *args):
        best = whole(priced, *args)
        found.append(None if best is None else (best.cand, best.elapsed, best.cost))
        return best

    monkeypatch.setattr(ranking, "best_meeting", spied)
    cache = ContextCache(entries=4)
    compared = 0
    for constraints in (dict(), dict(objective="time"), dict(deadline="3h"), dict(budget=0.05, spot=True),
                        dict(objective="time", deadline="20m", spot=True)):
        for dataset_size in (30_000, 90_001, 250_000):
            answers = []
            for contexts in (None, cache):
                found.clear()
                try:
                    rec = api.recommend(str(PROFILE), dataset_size=dataset_size, epochs=2, save=False,
                                        settings=settings, contexts=contexts, **constraints)
                except NoFeasibleCandidateError as exc:
                    rec = exc.recommendation
                answers.append((list(found), rec.advice, _figures(rec)))
            assert answers[0] == answers[1], (constraints, dataset_size)
            compared += sum(best is not None for best in answers[0][0])
    assert compared >= 20


def test_key_of_is_the_profile_key_of_the_object_asked_about():
    prof = api.load_profile(PROFILE)
    other = prof.model_copy(update={"notes": [*prof.notes, "another probe"]})
    cache = ContextCache(entries=2)
    assert cache.key_of(prof) == profile_key(prof)
    assert cache.key_of(other) == profile_key(other)  # another object: worked out again, not the last one's
    assert cache.key_of(prof) == profile_key(prof)


def test_a_candidate_copied_from_another_is_the_validated_one(settings):
    """The ranking validates its first candidate and copies the others from it with every field replaced: over
    the whole catalog (GPU and CPU offers, spot and not, learned-correction fields unset), each copy equals the
    candidate validated from scratch, field for field; a field left out of the copy would keep the other's."""
    from advisor.pricer import Pricer, offers_for
    from advisor.ranking.scoring import _candidate
    from advisor.schemas import Candidate, JobSpec

    prof = api.load_profile(PROFILE)
    _, offers, keyed = offers_for(list(settings.pricing_files), None, None, None)
    priced = [(o, e) for o, e in Pricer(prof, offers, None)(JobSpec(50_000, 2, 512), None) if not
              isinstance(e, Exception)]
    assert len(priced) > 100 and {o.tier for o, _ in priced} == {"cpu", "single_gpu", "multi_gpu"}
    # A candidate unlike any of them in every field: a field the copy leaves out keeps this value.
    odd = dict(provider="zz", instance_type="zz", region="zz", tier="multi_gpu", gpu="ZZ", gpu_count=99, vcpus=999,
               seconds=1.5e5, low=1.4e5, high=1.6e5, cost_usd=999.0, spot_cost_usd=998.0, fits_memory=False,
               method="history", reason="zz", price_usd_per_hour=77.0, spot_price_usd_per_hour=76.0,
               billed_seconds=12.0, startup_seconds=13.0, precision="fp16", scaling_efficiency=0.123, sharded=True,
               pareto=True,
               meets_constraints=False, interruptible=True, spot_zone_min=True, base_seconds=14.0,
               base_method="measured",
               marketplace=True, bound="transfer", input_seconds=15.0, transfer_seconds=16.0, gpu_utilization=0.17,
               mfu=0.18, mfu_peak="zz", gpu_busy=0.19, job_startup_seconds=20.0, peak_memory_gib=21.0,
               memory_capacity_gib=22.0, memory_tight=True)
    assert set(odd) == set(Candidate.model_fields)
    like = Candidate(**odd)
    for spot in (False, True):
        for offer, est in priced[:-1]:
            startup = 60 if offer.gpu else 30.5
            copied, built = _candidate(offer, est, startup, spot, like), _candidate(offer, est, startup, spot)
            assert copied.model_dump_json() == built.model_dump_json()
            assert copied.model_fields_set == built.model_fields_set


def test_kept_models_add_up_a_job_as_assemble_job_does(settings):
    """A kept job-shape model keeps its full step and its last batches' steps across jobs; each estimate must
    still be ``assemble_job`` over the model's own step functions, to the last bit (every catalog target: GPU
    hosts and CPU models; last batches full, small, and ones seen before)."""

    from advisor.predictor.gpu_job import GpuOnHost, data_parallel_interval
    from advisor.predictor.job import assemble_job
    from advisor.predictor.measured import MeasuredModel, _systematic_sigma
    from advisor.schemas import JobSpec

    cache = ContextCache()
    api.recommend(str(PROFILE), dataset_size=50_000, epochs=2, save=False, settings=settings, contexts=cache)
    ctx = cache.for_profile(api.load_profile(PROFILE))
    models = {m.__self__ for keys in ctx.offer_shapes.values() for m in (shape[2] for shape in keys.values())
              if m is not None}
    assert sum(isinstance(m, GpuOnHost) for m in models) > 50 and sum(isinstance(m, MeasuredModel) for m in models) > 50
    for model in models:
        batch = model.parts_at.keep if isinstance(model, GpuOnHost) else model.fields["per_device_batch_size"]
        for size in (batch * 40, batch * 40 + 1, batch * 7 + batch // 3, batch * 40 + 1, 3 * batch - 5):
            job = JobSpec(size, 3, batch)
            est = model.estimate(job)
            if isinstance(model, GpuOnHost):
                gc = model.gc
                jt = assemble_job(job, gc.compute_at, batch_seconds_at=lambda b, m=model: m.parts_at(b).host_seconds,
                                  startup_seconds=gc.startup_seconds, rel_sigma=model.rel_sigma,
                                  eval_seconds=model.evaluation.seconds(job))
                if model.count > 1:
                    jt_low, jt_high = data_parallel_interval(jt.seconds, model.rel_sigma, gc.scaling_efficiency,
                                                             model.count)
                else:
                    jt_low, jt_high = jt.low, jt.high
            else:
                jt = assemble_job(job, model._compute_at, batch_seconds_at=model._batch_at,
                                  startup_seconds=model.startup_seconds, per_epoch_seconds=model.per_epoch_seconds,
                                  rel_sigma=_systematic_sigma(model.fit, job, model.kind, model.extra_rel),
                                  step_noise_rel=model.fit.spread_rel, eval_seconds=model.evaluation.seconds(job))
                jt_low, jt_high = jt.low, jt.high
            assert (est.seconds, est.low, est.high, est.step_seconds, est.batch_seconds) == (
                jt.seconds, jt_low, jt_high, jt.step_seconds, jt.batch_seconds), (model, size)


def test_recent_values_are_reused_within_their_window_then_read_again(tmp_path, monkeypatch):
    """``ContextCache.recent`` (the price files' version a server reads for each request): the same value
    within the window, read again after it, the last ``entries`` keys kept; a price file edited on a running
    server is priced a window later."""
    from advisor.predictor import contexts
    from advisor.pricer import price_files_version

    clock = [100.0]
    monkeypatch.setattr(contexts.time, "monotonic", lambda: clock[0])
    cache, calls = ContextCache(entries=2), []

    def compute():
        calls.append(clock[0])
        return len(calls)

    assert [cache.recent(("k",), compute) for _ in range(3)] == [1, 1, 1]
    clock[0] += contexts.RECENT_SECONDS + 0.01
    assert cache.recent(("k",), compute) == 2
    for i in range(5):
        cache.recent(("other", i), compute)
    assert len(cache._recent) == 2  # bounded

    prices = tmp_path / "mine.csv"
    prices.write_text("provider,instance_type\n")
    first = price_files_version([prices], cache)
    prices.write_text("provider,instance_type,region\n")
    assert price_files_version([str(prices)], cache) == first  # within the window: not read again
    clock[0] += contexts.RECENT_SECONDS + 0.01
    again = price_files_version([prices], cache)
    assert again != first and again[-1][1] == prices.stat().st_size
