"""The job as it really runs (issue 9, item 3): gradient accumulation runs the optimizer and the all-reduce once
per optimizer step, evaluation adds forward-only passes, and every GPU estimate carries its MFU."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from advisor import api
from advisor.hardware.specs import load_gpu_specs
from advisor.predictor import roofline
from advisor.predictor.calibration import load_calibration
from advisor.predictor.estimate import estimate
from advisor.predictor.job import accumulated_step, dense_peak_flops
from advisor.predictor.measured import optimizer_seconds_on_cpu
from advisor.predictor.multigpu import data_parallel
from advisor.schemas import JobSpec, Target
from advisor.schemas.profile import CpuPeak
from advisor.units import format_duration

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
JOB = JobSpec(2_000_000, 1, 4096)


@pytest.fixture(scope="module")
def prof():
    return api.load_profile(PROFILE)


def _compute(est) -> float:
    """A GPU estimate's compute part of a micro-step (the step less the host side's batch seconds)."""
    return est.step_seconds - (est.batch_seconds or 0.0)


def _phases(prof, gpu: str, per_gpu_batch: int, precision: str = "fp32") -> dict[str, float]:
    return roofline.split_step(prof.analysis, load_gpu_specs()[gpu], per_gpu_batch, precision, load_calibration())


def test_accumulation_runs_the_optimizer_once_per_optimizer_step(prof):
    one = estimate(prof, JOB, Target.gpu("A100-80GB"))
    five = estimate(prof, replace(JOB, grad_accum_steps=5), Target.gpu("A100-80GB"))
    optimizer = _phases(prof, "A100-80GB", JOB.batch_size)["optimizer"]
    assert optimizer > 0
    # An optimizer step of 5 micro-steps costs 5 plain steps less 4 optimizer updates.
    assert 5 * _compute(five) == pytest.approx(5 * _compute(one) - 4 * optimizer, rel=1e-9)
    assert five.steps_per_epoch == one.steps_per_epoch == 489  # steps count micro-steps
    assert five.seconds < one.seconds and five.grad_accum_steps == 5 and one.grad_accum_steps == 1
    assert any(n.startswith("gradient accumulation: 5 micro-steps of batch 4096") for n in five.notes)


def test_accumulation_runs_the_all_reduce_once_per_optimizer_step(prof):
    target = Target.gpu("A100-80GB", 8)
    one = estimate(prof, JOB, target)
    five = estimate(prof, replace(JOB, grad_accum_steps=5), target)
    per_gpu = JOB.batch_size // 8
    phases = _phases(prof, "A100-80GB", per_gpu)
    plain = sum(phases.values())
    dp = data_parallel(plain, prof.analysis.gradient_bytes, 8, load_gpu_specs()["A100-80GB"])
    assert _compute(one) == pytest.approx(dp.step_seconds, rel=1e-9)
    expected = (4 * (plain - phases["optimizer"]) + dp.step_seconds) / 5
    assert _compute(five) == pytest.approx(expected, rel=1e-9)
    # The synchronisation (all-reduce, straggler wait, DDP's cost) is shared by 5 micro-steps: the scaling
    # efficiency rises.
    saved = (dp.step_seconds - plain) * 4 / 5 + phases["optimizer"] * 4 / 5
    assert _compute(one) - _compute(five) == pytest.approx(saved, rel=1e-9)
    assert five.scaling_efficiency > one.scaling_efficiency


def test_on_a_host_bound_step_accumulation_saves_the_optimizers_launches(prof):
    """The optimizer's part of a step is what the step takes less without it: where the host's launches set the
    pace, its foreach launches, which the GPU-time split left in every micro-step (a tiny model's 8 micro-steps
    saved 0.1 ms of 7.9)."""
    from advisor.predictor.roofline import predict_step, step_phases

    cal, spec = load_calibration(), load_gpu_specs()["A100-80GB"]
    small = JobSpec(200_000, 1, 64)
    step = predict_step(prof.analysis, spec, small.batch_size, "fp32", cal)
    assert step.host_seconds > 2 * step.gpu_seconds  # host-bound
    phases = step_phases(step)
    assert phases["optimizer"] > 3 * step.per_phase["optimizer"]  # its launches, more than its kernels
    assert phases["optimizer"] < 0.5 * step.host_seconds  # and not the model's
    assert sum(phases.values()) == pytest.approx(step.seconds, rel=1e-12) and phases["overhead"] >= 0
    one = estimate(prof, small, Target.gpu("A100-80GB"))
    eight = estimate(prof, replace(small, grad_accum_steps=8), Target.gpu("A100-80GB"))
    assert _compute(one) - _compute(eight) == pytest.approx(phases["optimizer"] * 7 / 8, rel=1e-6)


def test_evaluation_adds_forward_only_passes(prof):
    job = replace(JOB, epochs=2, grad_accum_steps=2, eval_every=100, eval_steps=20)
    assert job.optimizer_steps == 489 and job.evaluations == 4  # 978 micro-steps, 489 updates
    plain = estimate(prof, replace(job, eval_every=None, eval_steps=0), Target.gpu("H100-SXM"))
    evaluated = estimate(prof, job, Target.gpu("H100-SXM"))
    phases = _phases(prof, "H100-SXM", JOB.batch_size)
    gpu = phases["forward"] + phases["backward"] + phases["optimizer"]
    forward = phases["forward"] + phases["overhead"] * phases["forward"] / gpu
    assert forward < sum(phases.values()) / 2  # forward only: no backward, no optimizer
    # Each evaluation batch is also made in the training process, as a training step's is (an older profile: the
    # CPU probe's make_batch time): its forward pass and that batch creation.
    assert plain.batch_seconds > 0
    assert evaluated.eval_seconds == pytest.approx(4 * 20 * (forward + plain.batch_seconds), rel=1e-9)
    assert evaluated.seconds - plain.seconds == pytest.approx(evaluated.eval_seconds, rel=1e-9)
    assert plain.eval_seconds is None
    assert any(n.startswith("evaluation: 4 evaluations (every 100 optimizer steps) of 20 forward-only")
               for n in evaluated.notes)
    once = estimate(prof, replace(job, eval_every=400, eval_steps=1), Target.gpu("H100-SXM"))
    assert any(n.startswith("evaluation: 1 evaluation (every 400 optimizer steps) of 1 forward-only batch of "
                            "4,096,") for n in once.notes), once.notes


def test_accumulation_on_the_cpu_shares_the_optimizer_from_its_bytes(prof):
    dev = prof.devices[0]
    peak = CpuPeak(threads=1, matmul_flops_per_second=5e10, memory_bytes_per_second=1e10)
    with_peak = prof.model_copy(update={"devices": [dev.model_copy(update={"cpu_peak": peak})]})
    optimizer = optimizer_seconds_on_cpu(with_peak, with_peak.devices[0])
    # AdamW over 301,066 fp32 parameters reads and writes weights, gradients and two moments, op by op (the
    # analysis' optimizer records: about 20 passes of 4 bytes per parameter).
    assert optimizer * 1e10 == pytest.approx(24_085_328)
    assert 301_066 * 4 * 4 <= optimizer * 1e10 <= 301_066 * 4 * 30
    one = estimate(with_peak, JOB, Target.cpu())
    four = estimate(with_peak, replace(JOB, grad_accum_steps=4), Target.cpu())
    assert one.method == four.method == "measured"
    assert (one.step_seconds - one.batch_seconds) - (four.step_seconds - four.batch_seconds) == \
        pytest.approx(optimizer * 3 / 4, rel=1e-6)
    assert one.mfu is None and four.mfu is None  # MFU is a GPU figure


def test_accumulation_on_a_cpu_without_op_rates_says_it_saved_nothing(prof):
    """A profile with no op rates (from before every CPU probe timed them) cannot price the optimizer: the note
    says the estimate is an upper bound, not that the optimizer takes "0 ms of a step"."""
    no_rates = prof.model_copy(update={"devices": [prof.devices[0].model_copy(update={"cpu_peak": None})]})
    one = estimate(no_rates, JOB, Target.cpu())
    four = estimate(no_rates, replace(JOB, grad_accum_steps=4), Target.cpu())
    assert four.seconds == pytest.approx(one.seconds, rel=1e-9)
    assert not any("0 ms of a step" in n for n in four.notes)
    assert any("optimizer's share of a CPU step was not measured here" in n and "an upper bound" in n
               for n in four.notes)


def test_compile_is_noted_on_a_measured_cpu(prof):
    est = estimate(prof, replace(JOB, compiled=True), Target.cpu())
    assert est.compiled is False  # what was priced, as ``precision`` is: the eager steps the probe ran
    assert est.seconds == pytest.approx(estimate(prof, JOB, Target.cpu()).seconds, rel=1e-12)
    assert "COMPILE: torch.compile is not modelled on a measured CPU (the probe ran the step eagerly): " \
           "predicted as eager PyTorch." in est.notes


def test_accumulated_step_arithmetic():
    assert accumulated_step(1.0, 0.2, 1) == 1.0
    assert accumulated_step(1.0, 0.2, 4) == pytest.approx((3 * 0.8 + 1.0) / 4)
    assert accumulated_step(1.0, 0.2, 4, last_step_seconds=1.5) == pytest.approx((3 * 0.8 + 1.5) / 4)


@pytest.mark.parametrize("precision, gpus", [(None, 1), ("bf16", 8), ("tf32", 2)])
def test_every_gpu_estimate_carries_its_mfu(prof, precision, gpus):
    est = estimate(prof, JOB, Target.gpu("A100-80GB", gpus), precision=precision)
    spec = load_gpu_specs()["A100-80GB"]
    peak = dense_peak_flops(spec, est.precision)
    assert peak == {"fp32": 19.5e12, "bf16": 312e12, "tf32": 156e12}[est.precision]
    assert 0 < est.mfu < 1
    assert est.mfu == pytest.approx(prof.analysis.flops_per_sample * JOB.batch_size
                                    / (est.step_seconds * gpus * peak), rel=1e-9)
    assert est.json_contract()["mfu"] == est.mfu


def test_a_compiled_gpu_job_pays_its_compile_once_and_a_recompile_for_a_smaller_last_batch(prof):
    from advisor.predictor import compile_time as ct

    calls = sum(op.count for op in prof.analysis.ops if op.phase in ("forward", "backward"))
    first = ct.COMPILE_FIXED_SECONDS + calls * ct.COMPILE_SECONDS_PER_OP
    again = ct.RECOMPILE_FIXED_SECONDS + calls * ct.RECOMPILE_SECONDS_PER_OP
    whole = replace(JOB, dataset_size=JOB.batch_size * 400)  # no smaller last batch
    ragged = replace(whole, dataset_size=whole.dataset_size + 7)
    for target in (Target.gpu("A100-80GB"), Target.gpu("A100-80GB", 4)):
        eager = estimate(prof, whole, target)
        compiled = estimate(prof, replace(whole, compiled=True), target)
        assert compiled.startup_seconds - eager.startup_seconds == pytest.approx(first)
        shorter = estimate(prof, replace(ragged, compiled=True), target)
        assert shorter.startup_seconds - compiled.startup_seconds == pytest.approx(again)
        assert any(n.startswith(f"COMPILE: {format_duration(first)} of torch.compile before the first step is in the "
                                "start-up (the batches divide the dataset evenly: no recompile")
                   for n in compiled.notes)
        assert any(n.startswith(f"COMPILE: {format_duration(first)} of torch.compile before the first step, and "
                                f"{format_duration(again)} more to recompile for the smaller last batch")
                   for n in shorter.notes)
    # Another epoch's last batch reuses the dynamic graph: the recompile is paid once per job.
    two = estimate(prof, replace(ragged, compiled=True, epochs=2), Target.gpu("A100-80GB"))
    assert two.startup_seconds == pytest.approx(shorter.startup_seconds)


def test_a_kept_gpu_model_asked_about_another_dataset_size_says_that_jobs_recompile(prof):
    """The COMPILE note was worked out once per job shape: a kept model (a server, one context) asked first about a
    dataset the batches divide evenly, then about one with a smaller last batch, priced the recompile but said
    "no recompile" (and the other way round)."""
    from advisor.predictor.estimate import EstimateContext

    whole = replace(JOB, dataset_size=JOB.batch_size * 400, compiled=True)
    ragged = replace(whole, dataset_size=whole.dataset_size + 7)
    for first, then in ((whole, ragged), (ragged, whole)):
        ctx = EstimateContext.load()
        kept = [estimate(prof, job, Target.gpu("A100-80GB"), context=ctx) for job in (first, then)][1]
        fresh = estimate(prof, then, Target.gpu("A100-80GB"))
        assert kept.notes == fresh.notes and kept.startup_seconds == pytest.approx(fresh.startup_seconds)
        said = [n for n in kept.notes if n.startswith("COMPILE: ")]
        assert len(said) == 1 and ("more to recompile for the smaller last batch" in said[0]) == (then is ragged)
    # A measured GPU's model, kept and asked about another dataset size, likewise.
    from advisor.predictor.measured import measured_model

    h200 = api.load_profile(Path(__file__).parent / "data" / "h200_nanogpt_gpt2_bf16_profile.json")
    shape = replace(JobSpec(12 * 400, 1, 12), compiled=True)
    model = measured_model(h200, shape, device="cuda:0")
    assert model.estimate(shape).notes == measured_model(h200, shape, device="cuda:0").estimate(shape).notes
    odd = replace(shape, dataset_size=shape.dataset_size + 5)
    assert model.estimate(odd).notes == measured_model(h200, odd, device="cuda:0").estimate(odd).notes
    assert any("more to recompile for the smaller last batch" in n for n in model.estimate(odd).notes)


def test_the_compile_model_reproduces_its_two_measured_workloads():
    from advisor.predictor import compile_time as ct

    # bench/README.md "GPU against real runs": tabular_mlp (20 calls) and GPT-2 124M (671 calls) on an H200 host.
    for calls, seconds, again in ((20, 10.3, 2.83), (671, 26.8, 37.3)):
        assert ct.COMPILE_FIXED_SECONDS + calls * ct.COMPILE_SECONDS_PER_OP == pytest.approx(seconds)
        assert ct.RECOMPILE_FIXED_SECONDS + calls * ct.RECOMPILE_SECONDS_PER_OP == pytest.approx(again)


def _compile_ratio(prof, gpu: str, batch: int) -> float:
    """The compiled step over the eager one on ``gpu``, both as the H200 probe's GPU and host run them."""
    from advisor.predictor.fit import fit_step_time
    from advisor.predictor.probe_carry import fit_carry

    specs, cal = load_gpu_specs(), load_calibration()
    carry = fit_carry(fit_step_time(prof.device("cuda:0").measurements).levels,
                      roofline.StepModel(prof.analysis, specs["H200"], "bf16", cal), cal)
    return (carry.seconds(roofline.predict_step(prof.analysis, specs[gpu], batch, "bf16", cal, compiled=True))
            / carry.seconds(roofline.predict_step(prof.analysis, specs[gpu], batch, "bf16", cal)))


def test_a_compiled_job_on_a_probed_gpu_scales_its_eager_steps_by_the_analysis_ratio():
    # A real profile, probed on a lent H200 (bench/README.md "GPU against real runs": 41.3 ms eager measured,
    # 26.3 ms compiled real).
    prof = api.load_profile(Path(__file__).resolve().parent / "data" / "h200_nanogpt_gpt2_bf16_profile.json")
    job = JobSpec(12 * 242 + 4, 1, 12)  # one micro-step per update: the whole step scales
    eager = estimate(prof, job, Target.gpu("H200"), precision="bf16")
    compiled = estimate(prof, replace(job, compiled=True), Target.gpu("H200"), precision="bf16")
    assert eager.method == compiled.method == "measured"
    ratio = _compile_ratio(prof, "H200", 12)
    assert 0.5 < ratio < 1.0
    assert _compute(compiled) == pytest.approx(_compute(eager) * ratio, rel=1e-6)
    assert any(f"compiled steps are its steps x {ratio:.2f}" in n for n in compiled.notes)


@pytest.mark.parametrize(("gpu", "count"), [("H100-SXM", 1), ("A100-80GB", 1), ("B200", 1), ("H200", 2)])
def test_a_compiled_job_scaled_from_an_eager_probe_keeps_what_compile_gives(gpu, count):
    """The probe runs eagerly. Scaled to another GPU, or to two of the probed one, a compiled job is the eager
    job x the analysis' compiled step over its eager one on that GPU, as on the probed GPU alone. Before, the
    probe's eager step was divided by a compiled prediction of it: a compiled job came out 15-19% slower than
    the same job eager on every other GPU, and two H200s lost what compile gives one."""
    prof = api.load_profile(Path(__file__).resolve().parent / "data" / "h200_nanogpt_gpt2_bf16_profile.json")
    job = JobSpec(12 * count * 242 + 4, 1, 12 * count)  # 12 per GPU, the probe's largest batch
    eager = estimate(prof, job, Target.gpu(gpu, count), precision="bf16")
    compiled = estimate(prof, replace(job, compiled=True), Target.gpu(gpu, count), precision="bf16")
    ratio = _compile_ratio(prof, gpu, 12)
    assert 0.5 < ratio < 1.0
    # Two GPUs: their all-reduce, which compile does not change, is in the step too.
    assert _compute(compiled) == pytest.approx(_compute(eager) * ratio, rel=0.02 if count == 1 else 0.05)
    assert _compute(compiled) < _compute(eager)


def test_accumulation_longer_than_the_job_is_priced_as_one_optimizer_step_with_a_note():
    """--grad-accum-steps 100 on a job of 60 micro-steps was priced as 0.6 optimizer steps, with no note."""
    asked, whole = (api.predict(str(PROFILE), dataset_size=10_000, epochs=3, batch_size=512, grad_accum_steps=a,
                                target="A100-80GB", use_history=False) for a in (100, 60))
    assert asked.total_steps == 60 and asked.grad_accum_steps == 60
    assert asked.seconds == pytest.approx(whole.seconds, rel=1e-12)  # one optimizer step, not 0.6 of one
    assert asked.notes[0] == (
        "--grad-accum-steps 100 is more than the 60 micro-steps of the whole job (3 epochs x 20 of batch 512): a loop "
        "that steps the optimizer every 100 micro-steps would never step it. Priced as one optimizer step at the end "
        "of the job (60 micro-steps per optimizer step); if 100 is a typo, pass --grad-accum-steps 60 or fewer.")
    assert not any("micro-steps of the whole job" in n for n in whole.notes)
