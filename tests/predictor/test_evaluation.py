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
