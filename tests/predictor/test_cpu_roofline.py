"""The CPU's own roofline (advisor.predictor.cpu_roofline): a step priced from a hand-built analysis and op rates,
the estimate when the probe could not time one step, and what its notes say."""

from __future__ import annotations

import math

import pytest

from advisor.predictor.cpu_roofline import (
    CALIBRATED_REL_SIGMA,
    COMPUTE_EFFICIENCY,
    MEMORY_EFFICIENCY,
    ROOFLINE_REL_SIGMA,
    cpu_fallback_estimate,
    efficiency_from_measurements,
    fallback_note,
    ladder_note,
    step_seconds,
)
from advisor.predictor.job import Z80
from advisor.schemas import Analysis, DeviceProfile, JobSpec, Measurement, OpRecord, Profile, Target, WorkloadInfo
from advisor.schemas.profile import CpuPeak, SkippedPoint

PEAK = CpuPeak(threads=1, matmul_flops_per_second=1e11, memory_bytes_per_second=2e10, seconds=0.1)


def analysis() -> Analysis:
    """One matmul (2 GFLOP and 1 MB at batch 2, 8 GFLOP and 4 MB at 8) and two identical elementwise ops
    (200 MB at 2, 800 MB at 8): at batch 4, 4 GFLOP + 2 MB and 2 x 400 MB."""
    return Analysis(
        batch_sizes=(2, 8),
        ops=[OpRecord(op="aten.mm.default", kind="matmul", phase="forward", flops=(2e9, 8e9), bytes=(1e6, 4e6)),
             OpRecord(op="aten.add.Tensor", kind="elementwise", phase="forward", count=2, flops=(1e6, 4e6),
                      bytes=(2e8, 8e8))],
        flops_per_sample=1e9, param_count=1000, trainable_param_count=1000, param_bytes=4e9, gradient_bytes=4e9,
        optimizer="SGD", optimizer_state_bytes=0.0, activation_bytes_per_sample=1e9)


ONE_THREAD_AT_4 = 4e9 / (1e11 * COMPUTE_EFFICIENCY) + 2 * 4e8 / (2e10 * MEMORY_EFFICIENCY)


def test_a_step_is_the_sum_of_each_operator_at_its_roofline():
    one = step_seconds(analysis(), PEAK, 4)
    assert one.compute_bound_seconds == pytest.approx(4e9 / (1e11 * 0.78))  # 51.3 ms: the matmul, FLOP-bound
    assert one.memory_bound_seconds == pytest.approx(2 * 4e8 / (2e10 * 0.4))  # 100 ms: the adds, byte-bound
    assert one.seconds == pytest.approx(ONE_THREAD_AT_4) and one.seconds == pytest.approx(0.151282, abs=1e-6)
    two = step_seconds(analysis(), PEAK, 4, threads=2)  # Amdahl with p = 0.9: x (0.1 + 0.9 / 2)
    assert two.seconds == pytest.approx(ONE_THREAD_AT_4 * 0.55)
    assert step_seconds(analysis(), PEAK, 4, efficiency=0.5).seconds == pytest.approx(2 * ONE_THREAD_AT_4)


def test_timed_steps_of_the_model_calibrate_the_efficiency():
    slow = Measurement(device="cpu", batch_size=4, threads=1, compute_seconds=2 * ONE_THREAD_AT_4)
    assert efficiency_from_measurements(analysis(), PEAK, [slow], threads=2) == pytest.approx(0.5)
    wild = Measurement(device="cpu", batch_size=4, threads=1, compute_seconds=1000 * ONE_THREAD_AT_4)
    assert efficiency_from_measurements(analysis(), PEAK, [wild], threads=2) is None  # says more about timing
    assert efficiency_from_measurements(analysis(), PEAK, [], threads=2) is None


def profile(skipped: tuple[int, ...] = (1, 12), **device) -> Profile:
    dev = DeviceProfile(device="cpu", kind="cpu", name="AMD EPYC", threads=2, memory_gib=16.0, budget_seconds=60.0,
                        startup_seconds=5.0, cpu_peak=PEAK, **device,
                        skipped=[SkippedPoint(batch_size=b, step_seconds=21.5 * b, priced_from="check")
                                 for b in skipped])
    return Profile(workload=WorkloadInfo(name="big"), devices=[dev], analysis=analysis())


def test_a_cpu_that_timed_no_step_is_priced_from_the_analysis():
    job = JobSpec(dataset_size=100, epochs=1, batch_size=4)  # 25 steps
    est = cpu_fallback_estimate(profile(), job, Target.cpu())
    step = ONE_THREAD_AT_4 * 0.55  # the device's 2 threads
    assert est.method == "scaled" and est.source_device == "cpu" and est.target == Target.cpu(threads=2)
    assert est.step_seconds == pytest.approx(step)
    assert est.seconds == pytest.approx(5.0 + 25 * step)
    sigma = math.hypot(ROOFLINE_REL_SIGMA, 0.05 / Z80)  # the roofline's, and the thread scaling's (same count)
    assert est.high / est.seconds == pytest.approx(math.exp(Z80 * sigma))
    assert est.low / est.seconds == pytest.approx(math.exp(-Z80 * sigma))
    # Memory from the analysis: 8 GB of weights and gradients + 4 GB of activations, x 1.1, against 16 GiB.
    assert est.peak_memory_gib == pytest.approx(1.1 * 12e9 / 2**30) and est.fits_memory
    assert est.notes[0].startswith("cpu: the CPU could not time this model within the probe's 60 s budget")
    # Its host side, as every estimate carries one (issue 13): no batch creation was timed, compute sets the step.
    assert (est.bound, est.input_seconds, est.transfer_seconds, est.input_workers) == ("compute", 0.0, 0.0, 0)


def test_the_probes_own_notes_on_the_cpu_reach_an_estimate_from_the_analysis():
    """A busy probe's note was kept on the measured path only: a CPU that timed no step lost it."""
    prof = profile().model_copy(update={"notes": [
        "cpu: other processes used up to 1.0 cores during 2 of 3 timed windows", "cuda:0: not this device's"]})
    est = cpu_fallback_estimate(prof, JobSpec(dataset_size=100, epochs=1, batch_size=4), Target.cpu())
    assert est.notes[0] == "cpu: other processes used up to 1.0 cores during 2 of 3 timed windows"
    assert est.notes[1].startswith("cpu: the CPU could not time this model") and len(est.notes) >= 2
    assert not any(n.startswith("cuda:0") for n in est.notes)


def test_the_roofline_estimate_scales_to_other_thread_counts_and_machines():
    job = JobSpec(dataset_size=100, epochs=1, batch_size=4)
    est = cpu_fallback_estimate(profile(), job, Target.cpu(threads=8), machine_memory_gib=64.0)
    factor = (0.1 + 0.9 / 8) / (0.1 + 0.9 / 2)
    assert est.step_seconds == pytest.approx(ONE_THREAD_AT_4 * 0.55 * factor)
    assert est.target.threads == 8 and est.memory_capacity_gib == 64.0
    unknown = cpu_fallback_estimate(profile(), job, Target.cpu(threads=8), machine_memory_gib=None)
    assert unknown.fits_memory and unknown.peak_memory_gib is None
    assert "the target machine's memory is not known: memory fit not checked." in unknown.notes


def test_one_small_timed_batch_size_calibrates_the_roofline():
    # Batch size 1 was timed at twice the roofline's time (on the device's 2 threads); the job runs at 4.
    one = Measurement(device="cpu", batch_size=1, threads=2,
                      compute_seconds=2 * step_seconds(analysis(), PEAK, 1, threads=2).seconds)
    prof = profile(skipped=(12,), measurements=[one], largest_batch_size=1)
    est = cpu_fallback_estimate(prof, JobSpec(dataset_size=100, epochs=1, batch_size=4), Target.cpu())
    assert est.method == "scaled" and est.step_seconds == pytest.approx(2 * ONE_THREAD_AT_4 * 0.55)
    assert est.high / est.seconds == pytest.approx(math.exp(Z80 * math.hypot(CALIBRATED_REL_SIGMA, 0.05 / Z80)))
    assert est.notes[0] == (
        "cpu: only batch size 1 fit the probe's 60 s budget (a point needs its warm-up and two timed steps; 12 would "
        "not fit); the time at batch size 4 is from the model's analysis (FLOPs and bytes per operator) over the "
        "probed machine's measured op rates (100 GFLOP/s matmul and 20 GB/s memory on one thread), calibrated on the "
        "steps timed at batch size 1 (they ran at 0.50x the roofline's speed).")
    # The measured fit serves: the job's batch size is near the timed one, or two sizes were timed.
    assert cpu_fallback_estimate(prof, JobSpec(dataset_size=100, epochs=1, batch_size=2), Target.cpu()) is None
    two = profile(measurements=[one, one.model_copy(update={"batch_size": 2})])
    assert cpu_fallback_estimate(two, JobSpec(dataset_size=100, epochs=1, batch_size=4), Target.cpu()) is None


def test_nothing_to_price_with_is_none():
    job = JobSpec(dataset_size=100, epochs=1, batch_size=4)
    no_rates = profile().model_copy(update={"devices": [profile().devices[0].model_copy(update={"cpu_peak": None})]})
    assert cpu_fallback_estimate(no_rates, job, Target.cpu()) is None
    assert cpu_fallback_estimate(profile().model_copy(update={"analysis": None}), job, Target.cpu()) is None


def test_the_notes_say_why_nothing_was_timed_and_what_the_time_rests_on():
    dev = profile().devices[0]
    assert fallback_note(dev, 12) == (
        "cpu: the CPU could not time this model within the probe's 60 s budget: a point needs its warm-up and two "
        "timed steps, and one step at batch size 1 was priced at 21.5s from the workload check's cold step; the "
        "time at batch size 12 is from the model's analysis (FLOPs and bytes per operator) over the "
        "probed machine's measured op rates (100 GFLOP/s matmul and 20 GB/s memory on one thread), with efficiencies "
        "fitted on small models on a CPU of this kind; the interval is wide.")


def test_the_ladder_note_names_the_timed_sizes_and_says_the_users_batch_size_was_extrapolated():
    timed = [Measurement(device="cpu", batch_size=b, compute_seconds=0.75 * b) for b in (1, 2, 8)]
    skipped = [SkippedPoint(batch_size=b, step_seconds=0.75 * b, priced_from="measured") for b in (128, 256, 1024)]
    dev = DeviceProfile(device="cpu", kind="cpu", name="x", budget_seconds=60.0, measurements=timed, skipped=skipped)
    assert ladder_note(dev, 1024) == (
        "cpu: the probe timed batch sizes 1, 2, 8 within its 60 s budget and skipped 128, 256, 1024: their warm-up "
        "and two timed steps would not fit (batch size 1024: about 12m48s a step, priced from the timed points). "
        "The time at batch size 1024 is extrapolated from the timed sizes.")
    assert ladder_note(dev.model_copy(update={"skipped": []}), 1024) is None  # the ladder ran as planned
    timed_once = dev.model_copy(update={"measurements": [], "skipped": [
        SkippedPoint(batch_size=1, step_seconds=11.5, priced_from="first step")]})
    assert fallback_note(timed_once, 12).startswith(
        "cpu: the CPU could not time this model within the probe's 60 s budget: a point needs its warm-up and two "
        "timed steps, and one step at batch size 1 took 11.5s (timed to price the ladder); the time at batch size "
        "12 is from the model's analysis")


def test_a_batch_too_large_to_time_is_said_to_be_so_not_to_be_over_the_budget():
    timed = [Measurement(device="cpu", batch_size=b, compute_seconds=1e-3 * b) for b in (1, 2, 8)]
    skipped = [SkippedPoint(batch_size=64, step_seconds=0.064, priced_from="measured"),
               SkippedPoint(batch_size=5_000_000_000, step_seconds=5e6, priced_from="measured", too_large=True)]
    dev = DeviceProfile(device="cpu", kind="cpu", name="x", budget_seconds=3.0, measurements=timed, skipped=skipped)
    assert ladder_note(dev, 5_000_000_000) == (
        "cpu: the probe timed batch sizes 1, 2, 8 within its 3 s budget and skipped 64: their warm-up and two timed "
        "steps would not fit (batch size 64: about 0.1s a step, priced from the timed points); it did not time "
        "5000000000: past 2,147,483,647 samples, the largest batch the probe times. The time at batch size "
        "5000000000 is extrapolated from the timed sizes.")
    only_large = dev.model_copy(update={"skipped": skipped[1:]})
    assert ladder_note(only_large, 5_000_000_000).startswith(
        "cpu: the probe timed batch sizes 1, 2, 8 within its 3 s budget and did not time 5000000000: past "
        "2,147,483,647 samples")
    one_timed = dev.model_copy(update={"measurements": timed[:1]})
    assert ("(a point needs its warm-up and two timed steps; 64 would not fit; 5000000000: past 2,147,483,647 "
            "samples, the largest batch the probe times)") in fallback_note(one_timed, 12)


def test_recommend_says_here_what_the_analysis_gives_a_cpu_that_timed_no_step():
    """A model too big to time a step of on this CPU still gets recommend's Here line: the analysis-based estimate
    ``predict --device cpu`` gives, judged against this machine's memory (a larger batch does not fit its 16 GiB)."""
    from advisor import api

    for batch_size, fits in ((4, True), (64, False)):
        job = {"dataset_size": 1000, "epochs": 1, "batch_size": batch_size}
        rec = api.recommend(profile(), **job, providers="gcp", save=False)
        pred = api.predict(profile(), **job, target="cpu")
        (here,) = rec.here
        assert (here.device, here.method, here.fits_memory) == ("cpu", "scaled", fits)
        assert (here.seconds, here.peak_memory_gib, here.memory_capacity_gib) == \
               (pred.seconds, pred.peak_memory_gib, pred.memory_capacity_gib)
        assert here.memory_capacity_gib == 16.0
        if not fits:
            assert rec.verdict.here.endswith(
                f"the job does not fit its memory (needs {pred.peak_memory_gib:,.0f} GiB of memory, has 16)")


def test_an_analysis_based_cpu_estimate_says_it_leaves_a_dataloaders_loading_out():
    """A model the CPU could not time, fed by a DataLoader: the estimate from the analysis priced the step alone,
    without the loader's workers that share these cores, and said nothing of it (the measured path models them)."""
    from advisor import api
    from advisor.schemas import InputPipeline, LoaderPoint

    points = [LoaderPoint(workers=1, samples_per_second=100.0, batches_timed=4, seconds=1.0),
              LoaderPoint(workers=2, samples_per_second=180.0, batches_timed=4, seconds=1.0)]
    loader = InputPipeline(source="dataloader", batch_size=4, bytes_per_sample=602_112, pinned_memory=False,
                           points=points, host_cores=2, cpu_name="AMD EPYC")
    job = {"dataset_size": 100, "epochs": 1, "batch_size": 4}
    fed = api.predict(profile().model_copy(update={"input_pipeline": loader}), **job, target="cpu", save=False)
    assert fed.method == "scaled"
    assert any(n.startswith("the DataLoader's loading (its workers share these cores): not modelled in this "
                            "analysis-based CPU estimate") for n in fed.notes), fed.notes
    plain = api.predict(profile(), **job, target="cpu", save=False)
    assert not any("DataLoader" in n for n in plain.notes)


def test_an_analysis_based_cpu_fit_near_its_memory_is_tight_here_as_a_measured_one_is():
    """A CPU priced from the analysis at 96% of its memory (the workspace margin counted) was judged to fit with no
    word (an audit: 22.85 of 23.54 GiB on the Here line) while a measured CPU keeps 10% headroom: the Tight caveat
    now reaches predict's notes and recommend's "Here" device, as a chosen machine's does."""
    from advisor import api

    job = {"dataset_size": 1000, "epochs": 1, "batch_size": 7}  # 1.1 x (8 + 7) GB = 15.4 of 16 GiB
    pred = api.predict(profile(), **job, target="cpu")
    assert pred.fits_memory and pred.peak_memory_gib == pytest.approx(1.1 * 15e9 / 2**30)
    (tight,) = [n for n in pred.notes if n.startswith("Tight")]
    assert tight.startswith("Tight: 15.4 of 16.0 GiB at batch 7 per device") and "may run out of memory" in tight
    rec = api.recommend(profile(), **job, providers="gcp", save=False)
    # said once for every machine it applies to (the chosen 16-GiB e2-standard-4 too): "Here, cpu and ...: Tight"
    assert [n for n in rec.notes if n.startswith("Here, cpu") and n.endswith(f": {tight}")]
    roomy = api.predict(profile(), **{**job, "batch_size": 4}, target="cpu")  # 13.2 GiB: 83%
    assert not [n for n in roomy.notes if n.startswith("Tight")]


def test_an_analysis_based_cpu_estimate_prices_the_jobs_accumulation_and_evaluation():
    """A CPU that timed no step, for a job with GRAD_ACCUM_STEPS and EVAL_EVERY/EVAL_STEPS: the estimate reported
    those settings as applied while it priced every micro-step as a whole step and no evaluation (a note said so).
    Now the optimizer runs once per optimizer step and each evaluation batch is its forward pass, as measured."""
    from advisor import api
    from advisor.schemas import OpRecord

    adam = OpRecord(op="aten._foreach_add_.List", kind="elementwise", phase="optimizer", flops=(1e3, 1e3),
                    bytes=(4e8, 4e8))  # 50 ms on one thread at any batch size
    an = analysis().model_copy(update={"ops": [*analysis().ops, adam]})
    prof = profile().model_copy(update={"analysis": an})
    # 100 micro-steps of 4, 25 optimizer steps, an evaluation of 10 batches after every 5 of them: 5 evaluations
    job = {"dataset_size": 400, "epochs": 1, "batch_size": 4, "grad_accum_steps": 4, "eval_every": 5,
           "eval_steps": 10}
    est = api.predict(prof, **job, target="cpu", save=False)
    plain, opt, forward = 0.55 * (ONE_THREAD_AT_4 + 0.05), 0.55 * 0.05, 0.55 * ONE_THREAD_AT_4  # on 2 threads
    micro = (3 * (plain - opt) + plain) / 4
    assert est.method == "scaled" and est.step_seconds == pytest.approx(micro)
    assert est.eval_seconds == pytest.approx(5 * 10 * forward)
    assert est.seconds == pytest.approx(5.0 + 100 * micro + 50 * forward)
    assert (est.grad_accum_steps, est.eval_every, est.eval_steps) == (4, 5, 10)
    assert ("gradient accumulation: 4 micro-steps per optimizer step; the optimizer (27.5 ms of a step, from the "
            "analysis) runs once per optimizer step.") in est.notes
    assert any(n.startswith("evaluation: 5 evaluations (every 5 optimizer steps) of 10 forward-only batches of 4")
               for n in est.notes), est.notes
    assert not any("not modelled" in n for n in est.notes), est.notes
    # Without optimizer operators in the analysis, accumulation saves nothing and the note says why.
    bare = api.predict(profile(), **job, target="cpu", save=False)
    assert bare.step_seconds == pytest.approx(0.55 * ONE_THREAD_AT_4)
    assert any(n.endswith("the analysis has no optimizer operators, so every micro-step is priced as a whole step.")
               for n in bare.notes)
