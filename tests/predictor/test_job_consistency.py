"""One answer for one question with the job as it really runs: ``predict`` == the ``recommend`` candidate for
the same target (time, interval, memory, MFU) when the job accumulates gradients, evaluates and is compiled,
at fp32 and bf16, over the catalog sample of ``test_consistency``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from advisor import api
from advisor.predictor.estimate import EstimateContext
from advisor.predictor.targets import estimate_offers, offer_target
from advisor.schemas import JobSpec

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
JOB = JobSpec(200_000, 3, 256)
KW = {"dataset_size": JOB.dataset_size, "epochs": JOB.epochs, "batch_size": JOB.batch_size}
SETTINGS = {"grad_accum_steps": 4, "eval_every": 20, "eval_steps": 5, "compile": True}


@pytest.fixture(scope="module")
def prof():
    return api.load_profile(PROFILE)


@pytest.mark.parametrize("precision", [None, "bf16"])
def test_predict_equals_recommend_for_the_job_as_it_runs(prof, precision, sample_gpu_offers):
    offers = sample_gpu_offers
    rec = api.recommend(prof, **KW, **SETTINGS, precision=precision, top=10_000, save=False)
    by_offer = {(c.provider, c.instance_type, c.region): c for c in rec.all_candidates}
    job = replace(JOB, grad_accum_steps=4, eval_every=20, eval_steps=5, compiled=True)
    priced = estimate_offers(prof, job, offers, precision=precision, context=EstimateContext.load())
    for offer, ranked in priced:
        target = offer_target(offer)
        pred = api.predict(prof, **KW, **SETTINGS, target=target,
                           precision=precision)
        cand = by_offer[(offer.provider, offer.instance_type, offer.region)]
        what = f"{offer.gpu_count} x {offer.gpu}"
        assert (pred.grad_accum_steps, pred.compiled, pred.eval_seconds is not None) == (4, True, True), what
        assert (pred.seconds, pred.low, pred.high, pred.method, pred.precision) == \
               (cand.seconds, cand.low, cand.high, cand.method, cand.precision), what
        assert (pred.peak_memory_gib, pred.fits_memory, pred.mfu) == \
               (ranked.peak_memory_gib, ranked.fits_memory, ranked.mfu), what
