"""One answer for one question (issue 9, item 4): ``predict`` and ``recommend`` give the same time and memory
for the same target; a CPU instance is judged against its own memory; ``--precision bf16`` keeps CPU
candidates (and T4/V100 ones, in fp16), each with a note; the mixed-precision what-if is labelled with the flag
that reproduces it."""

from __future__ import annotations

import json
import math
import random
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor import api, pricing
from advisor.cli.app import build_app
from advisor.predictor.estimate import EstimateContext, estimate
from advisor.predictor.learned import evaluate
from advisor.predictor.targets import estimate_offers, offer_target
from advisor.schemas import JobSpec, Offer, Target, TrainingRow
from advisor.units import format_usd

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
JOB = JobSpec(200_000, 3, 256)
KW = {"dataset_size": JOB.dataset_size, "epochs": JOB.epochs, "batch_size": JOB.batch_size}


@pytest.fixture(scope="module")
def prof():
    return api.load_profile(PROFILE)


def heavy(prof, factor: float = 1000.0):
    """The tabular profile with ``factor`` x the matmul FLOPs and CPU time: a model whose GPU step is
    compute-bound, so mixed precision changes the choice."""
    ops = [op.model_copy(update={"flops": tuple(f * factor for f in op.flops),
                                 "bytes": tuple(b * math.sqrt(factor) for b in op.bytes)})
           if op.kind == "matmul" else op for op in prof.analysis.ops]
    analysis = prof.analysis.model_copy(update={"ops": ops,
                                                "flops_per_sample": prof.analysis.flops_per_sample * factor})
    devices = [d.model_copy(update={"measurements": [m.model_copy(update={
        "compute_seconds": m.compute_seconds * factor,
        "compute_seconds_samples": [x * factor for x in m.compute_seconds_samples]}) for m in d.measurements]})
        for d in prof.devices]
    return prof.model_copy(update={"analysis": analysis, "devices": devices})


def big_cpu_memory(prof, gib_per_sample: float = 0.5):
    """The tabular profile whose CPU peak memory grows by ``gib_per_sample`` per sample (128 GiB at batch 256):
    more than this 23.5 GiB machine has."""
    dev = prof.devices[0]
    measurements = [m.model_copy(update={"peak_memory_gib": 0.5 + gib_per_sample * m.batch_size})
                    for m in dev.measurements]
    return prof.model_copy(update={"devices": [dev.model_copy(update={"measurements": measurements})]})


def cpu_offer(instance: str, vcpus: int, memory_gib: float | None) -> Offer:
    return Offer(provider="aws", instance_type=instance, region="us-east-1", vcpus=vcpus, memory_gib=memory_gib,
                 gpu=None, gpu_count=0, price_usd_per_hour=1.0)


# ------------------------------------------------------------------------------------------- CPU memory


def test_cpu_instances_are_judged_by_their_own_memory(prof):
    big = big_cpu_memory(prof)
    here = estimate(big, JOB, Target.cpu())
    assert here.peak_memory_gib == pytest.approx(128.5)
    assert not here.fits_memory and here.memory_capacity_gib == pytest.approx(23.54, abs=0.01)  # this machine
    offers = [cpu_offer("m7i.48xlarge", 192, 768.0), cpu_offer("c7i.48xlarge", 192, 384.0),
              cpu_offer("c7i.2xlarge", 8, 16.0), cpu_offer("m7i.12xlarge", 48, 192.0),
              cpu_offer("x.unknown", 8, None)]
    got = {o.instance_type: e for o, e in estimate_offers(big, JOB, offers, context=EstimateContext.load())}
    for name, capacity in (("m7i.48xlarge", 768.0), ("c7i.48xlarge", 384.0), ("m7i.12xlarge", 192.0)):
        assert got[name].fits_memory and got[name].memory_capacity_gib == capacity, name
        assert got[name].peak_memory_gib == pytest.approx(128.5)
    assert not got["c7i.2xlarge"].fits_memory and got["c7i.2xlarge"].memory_capacity_gib == 16.0
    assert any("16.0 GiB" in n for n in got["c7i.2xlarge"].notes)
    unknown = got["x.unknown"]  # the catalog does not say: not judged against this machine's RAM either
    assert unknown.fits_memory and unknown.memory_capacity_gib is None
    assert any("memory is not known" in n for n in unknown.notes)


def test_a_named_cpu_family_is_another_machine(prof):
    est = estimate(big_cpu_memory(prof), JOB, Target.cpu(threads=8, cpu_name="aws-xeon-8488c"))
    assert est.fits_memory and est.memory_capacity_gib is None


# ------------------------------------------------------------------------------------------ precision


@pytest.mark.parametrize("precision", ["bf16", "fp16", "tf32"])
def test_a_gpu_precision_keeps_cpu_candidates_at_fp32_with_a_note(prof, precision):
    base = estimate(prof, JOB, Target.cpu(2))
    est = estimate(prof, JOB, Target.cpu(2), precision=precision)
    assert est.precision == "fp32" and est.seconds == base.seconds
    # named as the job's precision: it may be the file's PRECISION, not a flag the user did not pass
    assert any(n.startswith(f"precision {precision} applies to GPUs") for n in est.notes)
    offers = [o for o in pricing.load_catalog([]).filter(providers=None, regions=None) if not o.gpu]
    priced = estimate_offers(prof, JOB, offers, precision=precision, context=EstimateContext.load())
    assert len(priced) == len(offers) > 50
    assert all(not isinstance(e, Exception) and e.precision == "fp32" for _, e in priced)


def test_bf16_on_a_gpu_without_bfloat16_runs_fp16_with_a_note(prof):
    for gpu in ("V100-16GB", "T4"):
        bf16 = estimate(prof, JOB, Target.gpu(gpu), precision="bf16")
        fp16 = estimate(prof, JOB, Target.gpu(gpu), precision="fp16")
        assert bf16.precision == "fp16" and bf16.seconds == fp16.seconds
        assert any("has no bfloat16" in n for n in bf16.notes)
    a100 = estimate(prof, JOB, Target.gpu("A100-80GB"), precision="bf16")
    assert a100.precision == "bf16" and not any("bfloat16" in n for n in a100.notes)


def test_the_mixed_precision_what_if_names_the_flag_that_reproduces_it(prof, tmp_path):
    """The advice's label, passed back as flags, gives the very candidate and figures the advice showed (here a
    T4, which runs a bf16 job in fp16)."""
    path = api.save_profile(heavy(prof), tmp_path / "heavy.json")
    app, runner = build_app(), CliRunner()
    common = ["recommend", "--profile", str(path), "--dataset-size", "200000", "--epochs", "3",
              "--batch-size", "256", "--providers", "gcp", "--no-save", "--json"]
    first = runner.invoke(app, common)
    assert first.exit_code == 0, first.output
    advice = [a for a in json.loads(first.stdout)["advice"] if a.startswith("with --precision")]
    assert advice, json.loads(first.stdout)["advice"]
    label = advice[0][len("with "):advice[0].index(": ")]
    assert label == "--precision bf16"
    again = runner.invoke(app, [*common, *shlex.split(label)])
    assert again.exit_code == 0, again.output
    chosen = json.loads(again.stdout)["chosen"]
    assert f"({chosen['provider']} {chosen['instance_type']})" in advice[0]
    assert f", {format_usd(chosen['cost_usd'])} instead of" in advice[0]
    assert chosen["gpu"] == "T4" and chosen["precision"] == "fp16"


# ----------------------------------------------------------------------------------- predict == recommend


@pytest.mark.parametrize("precision", [None, "bf16"])
def test_predict_equals_recommend_across_the_catalog(prof, precision, sample_gpu_offers):
    """``predict --profile P --gpu X --gpus K`` (``--no-p2p`` where the offer's instance family has no peer-to-peer:
    profiles/gpu_links.csv) == the recommend candidate for an offer of K x X: time, interval, memory and method,
    over a sample of the catalog, which holds such an offer."""
    offers = sample_gpu_offers
    assert any(offer_target(o).peer_to_peer is False for o in offers)
    rec = api.recommend(prof, **KW, precision=precision, top=10_000, save=False)
    by_offer = {(c.provider, c.instance_type, c.region): c for c in rec.all_candidates}
    priced = estimate_offers(prof, JOB, offers, precision=precision, context=EstimateContext.load())
    for offer, ranked in priced:
        target = offer_target(offer)
        pred = api.predict(prof, **KW, target=target, precision=precision)
        cand = by_offer[(offer.provider, offer.instance_type, offer.region)]
        what = f"{offer.gpu_count} x {offer.gpu}"
        assert (pred.seconds, pred.low, pred.high, pred.method, pred.precision) == \
               (cand.seconds, cand.low, cand.high, cand.method, cand.precision), what
        assert (pred.mfu, pred.mfu_peak, pred.gpu_busy) == (cand.mfu, cand.mfu_peak, cand.gpu_busy), what
        assert cand.gpu_busy is not None and 0 < cand.gpu_busy <= cand.gpu_utilization, what
        assert (pred.peak_memory_gib, pred.fits_memory, pred.max_batch_size_per_device) == \
               (ranked.peak_memory_gib, ranked.fits_memory, ranked.max_batch_size_per_device), what
        assert (pred.peak_memory_gib, pred.memory_capacity_gib) == \
               (cand.peak_memory_gib, cand.memory_capacity_gib), what
        assert cand.memory_tight == any("may run out of memory" in note for note in pred.notes), what


def test_a_gpu_estimate_does_not_depend_on_a_cpu_probe(prof):
    """``predict --gpu`` from a workload file probes no CPU (no GPU here), ``recommend`` does: the same GPU
    target must get the same answer either way (the CPU probe's start-up is not a GPU's). Both carry the input
    pipeline, which the probe measures whatever the devices (an older profile without one falls back on the CPU
    probe's make_batch time)."""
    from advisor.schemas import InputPipeline, LoaderPoint

    pipeline = InputPipeline(source="make_batch", batch_size=256, bytes_per_sample=264.0,
                             points=[LoaderPoint(workers=0, samples_per_second=2e6, batches_timed=5, seconds=0.1)])
    prof = prof.model_copy(update={"input_pipeline": pipeline})
    no_cpu = prof.model_copy(update={"devices": []})
    for target in (Target.gpu("A100-80GB"), Target.gpu("H100-SXM", 8), Target.gpu("T4", 4)):
        for precision in (None, "bf16"):
            a = estimate(prof, JOB, target, precision=precision)
            b = estimate(no_cpu, JOB, target, precision=precision)
            assert (a.seconds, a.low, a.high, a.peak_memory_gib, a.startup_seconds) == \
                   (b.seconds, b.low, b.high, b.peak_memory_gib, b.startup_seconds), target.label()


def _rows(n: int = 60) -> list[TrainingRow]:
    """Stored runs whose GPU error grows with the probe's time per sample: a feature a GPU correction must
    not use, since predict and recommend probe different devices."""
    rnd = random.Random(1)
    rows = []
    for i in range(n):
        gpu = rnd.choice(["A100-80GB", "T4", None])
        per_sample = 10 ** rnd.uniform(-5, -2)
        row = TrainingRow(
            recommendation_id=i, outcome_id=i, workload="tabular_mlp", param_count=int(10 ** rnd.uniform(5, 8)),
            flops_per_sample=10 ** rnd.uniform(8, 11), dataset_size=10_000, epochs=2, batch_size=64,
            tier="cpu" if gpu is None else "single_gpu", gpu=gpu, gpu_count=0 if gpu is None else 1, vcpus=8,
            method="measured" if gpu is None else "scaled", predicted_seconds=10 ** rnd.uniform(2, 4),
            actual_seconds=1.0, measured_seconds_per_sample=per_sample)
        bias = 1.0 if gpu is None else 1.0 + 0.3 * (math.log10(per_sample) + 5)
        row.actual_seconds = row.predicted_seconds * bias * math.exp(rnd.gauss(0, 0.03))
        rows.append(row)
    return rows


def test_the_history_correction_of_a_gpu_does_not_depend_on_a_cpu_probe(prof):
    correction = evaluate(_rows())
    assert correction.model is not None
    correction.used = True  # applied whatever its held-out verdict: what is tested is what it depends on
    est = estimate(prof, JOB, Target.gpu("A100-80GB"))
    a = correction.apply(est, prof)  # recommend: this machine's CPU was probed
    b = correction.apply(est, prof.model_copy(update={"devices": []}))  # predict --gpu: nothing probed
    assert a.method == b.method == "history"
    assert a.seconds == b.seconds


def test_a_recommendation_corrected_by_the_history_says_so(prof, monkeypatch):
    correction = evaluate(_rows())
    correction.used = True
    monkeypatch.setattr(api, "fit_correction_noted", lambda *args, **kwargs: correction)
    rec = api.recommend(prof, **KW, save=False)
    assert rec.chosen.method == "history" and rec.chosen.base_seconds != rec.chosen.seconds
    (note,) = [n for n in rec.notes if n.startswith("history correction:")]
    assert f"{correction.n_runs} stored runs" in note and "base_seconds" in note
    # The factors it applied, lowest to highest (a recommendation's note gave none, predict's gives its one).
    factors = [c.seconds / c.base_seconds for c in rec.all_candidates if c.method == "history"]
    said = re.search(r"; applied: x([\d.]+)(?: to x([\d.]+))? over ([\d,]+) candidates$", note)
    assert said and float(said[1]) == pytest.approx(min(factors), abs=0.005)
    assert float(said[2] or said[1]) == pytest.approx(max(factors), abs=0.005)
    assert int(said[3].replace(",", "")) == len(factors)
    monkeypatch.setattr(api, "fit_correction_noted", lambda *args, **kwargs: None)
    plain = api.recommend(prof, **KW, save=False)
    assert plain.chosen.method != "history" and not any(n.startswith("history correction") for n in plain.notes)
