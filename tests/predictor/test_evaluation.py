"""An evaluation batch is made and copied to the device as a training batch is: its time is the forward pass with
the host side a training step pays per batch (``advisor.predictor.evaluation``), on a GPU target and on a
measured CPU. A transfer-bound job (wide rows, examples/wide_features.py's shape) evaluates at the copy's pace."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from advisor import api
from advisor.hardware.specs import load_gpu_specs
from advisor.predictor import roofline
from advisor.predictor.calibration import load_calibration
from advisor.predictor.estimate import estimate
from advisor.predictor.job import forward_share
from advisor.schemas import InputPipeline, JobSpec, Target
from advisor.schemas.profile import LoaderPoint
from advisor.units import format_duration

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
ROW_BYTES = 65_536 * 4 + 4  # wide_features.py: 65,536 float32 features and a float32 target a row
JOB = JobSpec(20_000, 1, 256, eval_every=1, eval_steps=10)


@pytest.fixture(scope="module")
def prof():
    return api.load_profile(PROFILE)


def _with_pipeline(prof, source: str = "make_batch", pinned: bool = False, workers: int = 0):
    point = LoaderPoint(workers=workers, samples_per_second=1e6 * max(workers, 1), batches_timed=20,
                        seconds=1.0)
    pipeline = InputPipeline(source=source, batch_size=256, bytes_per_sample=ROW_BYTES, pinned_memory=pinned,
                             points=[point])
    return prof.model_copy(update={"input_pipeline": pipeline})


def _gpu_forward(prof, gpu: str, batch: int) -> float:
    """One GPU's forward pass at ``batch``, with its share of the step's overhead (``gpu_job.step_parts_of``)."""
    phases = roofline.split_step(prof.analysis, load_gpu_specs()[gpu], batch, "fp32", load_calibration())
    busy = phases["forward"] + phases["backward"] + phases["optimizer"]
    return phases["forward"] + phases["overhead"] * phases["forward"] / busy


def test_a_gpu_evaluation_batch_pays_the_copy_and_batch_creation_of_a_training_step(prof):
    wide = _with_pipeline(prof)
    plain = estimate(wide, replace(JOB, eval_every=None, eval_steps=0), Target.gpu("A100-80GB"))
    evaluated = estimate(wide, JOB, Target.gpu("A100-80GB"))
    assert plain.bound == "transfer" and plain.transfer_seconds > 1e-3  # ~6 ms of copy a step
    batches = JOB.evaluations * JOB.eval_steps
    assert JOB.evaluations == 79
    # make_batch runs in the training process and the copy is pageable: input + copy + forward, in series.
    assert evaluated.eval_seconds >= batches * (plain.transfer_seconds + plain.input_seconds)
    assert evaluated.seconds - plain.seconds == pytest.approx(evaluated.eval_seconds, rel=1e-9)
    forward = _gpu_forward(wide, "A100-80GB", 256)
    assert forward < plain.transfer_seconds / 10
    assert evaluated.eval_seconds == pytest.approx(
        batches * (forward + plain.input_seconds + plain.transfer_seconds), rel=1e-9)
    note = next(n for n in evaluated.notes if n.startswith("evaluation: 79 evaluations (every 1 optimizer step) "
                                                           "of 10 forward-only batches of 256, "))
    assert "ms forward, the rest the host side a training step pays too" in note


def test_pinned_workers_overlap_the_evaluation_batch_as_they_do_a_training_step(prof):
    loader = _with_pipeline(prof, source="dataloader", pinned=True, workers=1)
    target = Target.gpu("A100-80GB")
    plain = estimate(loader, replace(JOB, eval_every=None, eval_steps=0), target)
    evaluated = estimate(loader, JOB, target)
    batches = JOB.evaluations * JOB.eval_steps
    # The copy overlaps the forward (pinned), and the workers make the batch beside it: the slowest of the three.
    slowest = max(plain.transfer_seconds, plain.input_seconds)
    assert evaluated.eval_seconds == pytest.approx(batches * max(slowest, _gpu_forward(loader, "A100-80GB", 256)),
                                                   rel=1e-9)
    assert evaluated.eval_seconds >= batches * plain.transfer_seconds


def test_a_measured_cpu_evaluation_batch_pays_its_measured_batch_creation(prof):
    job = JobSpec(2_000_000, 1, 4096, eval_every=100, eval_steps=20)
    plain = estimate(prof, replace(job, eval_every=None, eval_steps=0), Target.cpu())
    evaluated = estimate(prof, job, Target.cpu())
    assert plain.method == "measured" and plain.batch_seconds > 0
    batches = job.evaluations * job.eval_steps
    assert evaluated.eval_seconds >= batches * plain.batch_seconds
    assert prof.devices[0].cpu_peak is None  # no optimizer share: the forward is its share of the whole compute step
    forward = (plain.step_seconds - plain.batch_seconds) * forward_share(prof.analysis)
    assert evaluated.eval_seconds == pytest.approx(batches * (forward + plain.batch_seconds), rel=1e-9)
    assert evaluated.seconds - plain.seconds == pytest.approx(evaluated.eval_seconds, rel=1e-9)


def test_a_compiled_job_that_evaluates_compiles_its_evaluation_graph_once(prof):
    """model.eval() + no_grad miss the training graph's guards: a compiled job that evaluates compiles once more, in
    its start-up; one that never evaluates (or runs eager) does not."""
    from advisor.predictor import compile_time as ct

    forward_calls = sum(op.count for op in prof.analysis.ops if op.phase == "forward")
    expected = ct.EVAL_COMPILE_FIXED_SECONDS + forward_calls * ct.COMPILE_SECONDS_PER_OP
    assert 0 < expected < ct.COMPILE_FIXED_SECONDS + forward_calls * ct.COMPILE_SECONDS_PER_OP
    job = JobSpec(4096 * 400, 1, 4096, compiled=True)  # no smaller last batch: no recompile
    for target in (Target.gpu("A100-80GB"), Target.gpu("A100-80GB", 4)):
        plain = estimate(prof, job, target)
        evaluated = estimate(prof, replace(job, eval_every=100, eval_steps=5), target)
        assert evaluated.startup_seconds - plain.startup_seconds == pytest.approx(expected)
        assert evaluated.seconds - plain.seconds == pytest.approx(expected + evaluated.eval_seconds)
        assert any(n.startswith("evaluation: ") and "COMPILE: the evaluation compiles its own forward-only graph "
                   f"once (eval mode, no grad): {format_duration(expected)} more in the start-up" in n
                   for n in evaluated.notes), evaluated.notes
        assert not any("evaluation compiles" in n for n in plain.notes)
        # A job of the same shape with too few optimizer steps for an evaluation: nothing to compile for it.
        never = estimate(prof, replace(job, dataset_size=4096 * 50, eval_every=100, eval_steps=5), target)
        assert never.eval_seconds is None and never.startup_seconds == pytest.approx(plain.startup_seconds)
        assert not any("evaluation compiles" in n for n in never.notes)
        eager = estimate(prof, replace(job, compiled=False, eval_every=100, eval_steps=5), target)
        assert eager.startup_seconds == pytest.approx(estimate(prof, replace(job, compiled=False), target)
                                                      .startup_seconds)
