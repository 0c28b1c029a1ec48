"""Whole-job time from a per-step time: the arithmetic every prediction method shares.

A job is ``epochs`` passes over ``dataset_size`` samples at a global batch ``B``: ``ceil(N / B)`` steps per
epoch, the last one on the remaining ``N - (steps - 1) * B`` samples (DESIGN.md). So::

    seconds = startup + epochs * [(steps - 1) * step(B) + step(last)] + epochs * per_epoch

where ``step(b) = step_seconds_at(b) + batch_seconds_at(b)``, plus ``job.evaluations x eval_seconds`` and, on a
measured CPU, the optimizer's steps once its state has turned subnormal (``advisor.predictor.subnormal``).

Steps are micro-steps (one forward + backward pass of the global batch ``B``). With gradient accumulation
(``job.grad_accum_steps = A``) the optimizer update, and on K GPUs the gradient all-reduce, run once per A
micro-steps: a micro-step's time is the average ``((A - 1) x forward_backward + last) / A``, where ``last`` is
the step that also updates (and all-reduces): ``accumulated_step``. Evaluation (``job.eval_steps`` forward-only
batches every ``job.eval_every`` optimizer steps) adds ``job.evaluations`` x one evaluation's seconds.
``model_flops_utilization`` is MFU: model FLOPs of a micro-step over the GPUs' dense peak for that time.

The 80% interval is log-normal around the point estimate, ``[T * exp(-z s), T * exp(z s)]`` with
``z = 1.2816``, and ``s`` combines two kinds of error that behave differently:

* ``rel_sigma``, *systematic* error: the per-step level itself being off (fit error, extrapolation, scaling
  from another device, this process running slower than the probe's). It hits every step the same way, so it
  carries to the total unchanged, however long the job;
* ``step_noise_rel``, *per-step* noise: independent step-to-step jitter around the level. Over ``n`` steps it
  averages out, to ``step_noise_rel / sqrt(n)`` of the total.

``s = sqrt(rel_sigma**2 + step_noise_rel**2 / total_steps)``. Start-up and per-epoch overheads are treated as
having the same relative uncertainty as the steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from advisor.schemas import Analysis, GpuSpec, JobSpec

Z80 = 1.2815515655446004  # z of the normal's 90th percentile: an 80% two-sided interval


@dataclass(frozen=True)
class JobTime:
    """A whole job's predicted wall time and how it was put together (all times in seconds)."""

    seconds: float  # point estimate of the whole job
    low: float  # 80% interval
    high: float
    step_seconds: float  # one full step at the job's batch size: batch creation + compute
    batch_seconds: float  # of which batch creation
    steps_per_epoch: int
    total_steps: int
    startup_seconds: float
    last_batch_size: int = 0
    last_step_seconds: float = 0.0  # the epoch's last (possibly smaller) step, batch creation included
    per_epoch_seconds: float = 0.0
    rel_sigma: float = 0.0  # the combined relative sigma the interval used
    eval_seconds: float = 0.0  # all evaluations of the job together (forward-only passes)
    subnormal_seconds: float = 0.0  # CPU: the optimizer's steps once its state is subnormal, beyond their probed time

    @property
    def compute_seconds(self) -> float:
        """One full step's compute (forward + loss + backward + optimizer step)."""
        return self.step_seconds - self.batch_seconds

    def estimate_fields(self, job: JobSpec, *, compiled: bool | None = None) -> dict:
        """The ``schemas.Estimate`` fields this job time determines; callers add target, memory and method.
        ``compiled``: whether the time prices torch.compile, where that is not what the job declares (a measured
        CPU prices it eager); None: the job's."""
        return {
            "dataset_size": job.dataset_size, "epochs": job.epochs, "batch_size": job.batch_size,
            "seconds": self.seconds, "low": self.low, "high": self.high, "step_seconds": self.step_seconds,
            "batch_seconds": self.batch_seconds, "steps_per_epoch": self.steps_per_epoch,
            "total_steps": self.total_steps, "startup_seconds": self.startup_seconds,
            "last_batch_size": self.last_batch_size, "last_step_seconds": self.last_step_seconds,
            "grad_accum_steps": job.grad_accum_steps, "compiled": job.compiled if compiled is None else compiled,
            "eval_every": job.eval_every, "eval_steps": job.eval_steps,
            "eval_seconds": self.eval_seconds if job.evaluations else None,
            "subnormal_seconds": self.subnormal_seconds or None,
            "epoch_restart_seconds": self.per_epoch_seconds * job.epochs or None,
        }

    @property
    def train_seconds(self) -> float:
        """The job without start-up: all steps plus per-epoch overheads."""
        return self.seconds - self.startup_seconds


def interval(seconds: float, rel_sigma: float, z: float = Z80) -> tuple[float, float]:
    """``(low, high)`` of a log-normal interval around ``seconds`` with relative sigma ``rel_sigma``."""
    if rel_sigma < 0 or not math.isfinite(rel_sigma):
        raise ValueError(f"rel_sigma must be a finite number >= 0, got {rel_sigma!r}")
    return seconds * math.exp(-z * rel_sigma), seconds * math.exp(z * rel_sigma)


def combine_sigma(systematic_rel: float, step_noise_rel: float, total_steps: int) -> float:
    """Relative sigma of a sum of ``total_steps`` steps: systematic in full, per-step noise / sqrt(n)."""
    n = max(int(total_steps), 1)
    return math.sqrt(systematic_rel ** 2 + step_noise_rel ** 2 / n)


def assemble_job(
    job: JobSpec,
    step_seconds_at: Callable[[int], float],
    *,
    batch_seconds_at: Callable[[int], float] | None = None,
    startup_seconds: float = 0.0,
    per_epoch_seconds: float = 0.0,
    rel_sigma: float = 0.0,
    step_noise_rel: float = 0.0,
    eval_seconds: float = 0.0,
) -> JobTime:
    """The whole job's time from a per-step model.

    Args:
        job: dataset size, epochs, global batch size.
        step_seconds_at: seconds of one step's compute (forward + loss + backward + optimizer step) at a
            batch size; called with the job's batch size and, when the last batch is smaller, its size.
            If ``batch_seconds_at`` is None this is taken to be the whole step.
        batch_seconds_at: batch creation (make_batch + copy) at a batch size, added to every step.
        startup_seconds: once per job (model build, warm-up; on a fresh instance also boot and set-up).
        per_epoch_seconds: once per epoch (evaluation, checkpointing, data-loader restarts).
        rel_sigma: systematic relative error of the step time (does not average out over steps).
        step_noise_rel: per-step relative noise (averages out as 1/sqrt(total_steps)).
        eval_seconds: one evaluation (``job.eval_steps`` forward-only batches), run ``job.evaluations`` times.
    """
    step, batch = full_step(step_seconds_at, batch_seconds_at, job.batch_size)
    last = job.last_batch_size
    last_step = step if last == job.batch_size else full_step(step_seconds_at, batch_seconds_at, last)[0]
    return job_time(job, step, batch, last_step, startup_seconds=startup_seconds,
                    per_epoch_seconds=per_epoch_seconds, rel_sigma=rel_sigma, step_noise_rel=step_noise_rel,
                    eval_seconds=eval_seconds)


def full_step(step_seconds_at: Callable[[int], float], batch_seconds_at: Callable[[int], float] | None,
              b: int) -> tuple[float, float]:
    """(one whole step at batch ``b``: compute + batch creation, of which batch creation), checked."""
    compute = float(step_seconds_at(b))
    batch = float(batch_seconds_at(b)) if batch_seconds_at is not None else 0.0
    if compute < 0 or batch < 0 or not math.isfinite(compute + batch):
        raise ValueError(f"step time at batch {b} must be a finite number >= 0, got {compute} + {batch}")
    return compute + batch, batch


def job_time(job: JobSpec, step: float, batch: float, last_step: float, *, startup_seconds: float = 0.0,
             per_epoch_seconds: float = 0.0, rel_sigma: float = 0.0, step_noise_rel: float = 0.0,
             eval_seconds: float = 0.0, recompile_seconds: float = 0.0, subnormal_seconds: float = 0.0) -> JobTime:
    """``assemble_job`` from its steps (``full_step`` at the job's batch size and at its last batch's), for a
    caller that keeps a job shape's steps across jobs (``ShapeSteps``). ``recompile_seconds``: paid once, in the
    start-up, when the last batch is smaller (a compiled model compiles for its shape: ``compile_time``).
    ``subnormal_seconds``: added to the steps (a CPU's optimizer state turning subnormal part-way:
    ``advisor.predictor.subnormal``)."""
    if min(startup_seconds, per_epoch_seconds, eval_seconds, recompile_seconds, subnormal_seconds) < 0:
        raise ValueError("startup_seconds, per_epoch_seconds, eval_seconds, recompile_seconds and subnormal_seconds "
                         "must be >= 0")
    if job.last_batch_size != job.batch_size:
        startup_seconds += recompile_seconds
    steps = job.steps_per_epoch
    epoch_seconds = (steps - 1) * step + last_step
    evaluations = job.evaluations * eval_seconds
    seconds = startup_seconds + job.epochs * (epoch_seconds + per_epoch_seconds) + evaluations + subnormal_seconds
    sigma = combine_sigma(rel_sigma, step_noise_rel, job.total_steps)
    low, high = interval(seconds, sigma)
    return JobTime(
        seconds=seconds,
        low=low,
        high=high,
        step_seconds=step,
        batch_seconds=batch,
        steps_per_epoch=steps,
        total_steps=job.total_steps,
        startup_seconds=startup_seconds,
        last_batch_size=job.last_batch_size,
        last_step_seconds=last_step,
        per_epoch_seconds=per_epoch_seconds,
        rel_sigma=sigma,
        eval_seconds=evaluations,
        subnormal_seconds=subnormal_seconds,
    )


class ShapeSteps:
    """A job shape's whole steps as ``assemble_job`` adds them up (``full_step``), kept by a model asked about many
    jobs of the shape (``gpu_job.GpuOnHost``, ``measured.MeasuredModel``): the step at its batch size, the same for
    every job of it, and the epochs' last, smaller batches asked about (memoised: ``BatchMemo``)."""

    def __init__(self, step_seconds_at: Callable[[int], float], batch_seconds_at: Callable[[int], float] | None,
                 batch_size: int) -> None:
        self.batch_size = batch_size
        self.full = full_step(step_seconds_at, batch_seconds_at, batch_size)
        self._last = BatchMemo(lambda b: full_step(step_seconds_at, batch_seconds_at, b)[0], keep=batch_size)

    def job_time(self, job: JobSpec, **kwargs: float) -> JobTime:
        """``assemble_job(job, ...)`` for a job of this shape; ``kwargs`` as ``job_time``'s."""
        step, batch = self.full
        last = job.last_batch_size
        return job_time(job, step, batch, step if last == self.batch_size else self._last(last), **kwargs)


class BatchMemo:
    """``f(batch size)``, memoised for the batch size a job shape always asks (``keep``: its full batch) and up
    to ``limit`` others (the epochs' last batches of the jobs asked about), then forgotten but for ``keep``: a
    caller that keeps a job shape's model across many dataset sizes (a server) keeps bounded memory."""

    def __init__(self, f: Callable[[int], Any], keep: int, limit: int = 32) -> None:
        self._f, self.keep, self.limit = f, keep, limit
        self._memo: dict[int, Any] = {}

    def __call__(self, batch_size: int) -> Any:
        found = self._memo.get(batch_size)
        if found is None:
            if len(self._memo) > self.limit:
                self._memo = {b: v for b, v in self._memo.items() if b == self.keep}
            found = self._memo[batch_size] = self._f(batch_size)
        return found

    def __len__(self) -> int:
        return len(self._memo)


def accumulated_step(step_seconds: float, optimizer_seconds: float, accum: int,
                     last_step_seconds: float | None = None) -> float:
    """The average micro-step with ``accum`` micro-steps per optimizer step.

    ``step_seconds``: one plain training step (forward + backward + optimizer) of one GPU;
    ``optimizer_seconds``: its optimizer part; ``last_step_seconds``: the micro-step that updates, as it runs
    (on K GPUs the data-parallel step with its all-reduce; default ``step_seconds``). The other ``accum - 1``
    micro-steps run forward + backward only, without synchronising (DDP's ``no_sync``)."""
    accum = max(1, int(accum))
    forward_backward = max(step_seconds - optimizer_seconds, 0.0)
    last = step_seconds if last_step_seconds is None else last_step_seconds
    return ((accum - 1) * forward_backward + last) / accum


# Forward share of a training step's forward + backward when the analysis has no forward FLOPs: backward is
# about twice the forward (a gradient for the input and one for the weights per matmul).
FORWARD_SHARE_DEFAULT = 1.0 / 3.0


def forward_share(analysis: Analysis | None) -> float:
    """Forward FLOPs over forward + backward FLOPs of a step (the analysis'), else ``FORWARD_SHARE_DEFAULT``."""
    if analysis is not None and analysis.forward_flops_per_sample and analysis.flops_per_sample:
        return min(1.0, analysis.forward_flops_per_sample / analysis.flops_per_sample)
    return FORWARD_SHARE_DEFAULT


def dense_peak_flops(spec: GpuSpec, precision: str) -> float | None:
    """A GPU's dense peak FLOP/s at a training precision (bf16/fp16: the 16-bit tensor rate; tf32: the TF32
    tensor rate, fp32 where there is none; fp32: the FP32 rate; fp64: the FP64 rate, its tensor cores' where
    faster), from profiles/gpus.csv; None when unknown."""
    if precision in ("bf16", "fp16"):
        tflops = spec.fp16_bf16_tflops
    elif precision == "tf32":
        tflops = spec.tf32_tflops or spec.fp32_tflops
    elif precision == "fp64":  # a float64 model's matmuls: the FP64 tensor rate where faster (fp64.fp64_peak)
        tflops = max(spec.fp64_tflops or 0.0, spec.fp64_tensor_tflops or 0.0)
    else:
        tflops = spec.fp32_tflops
    return tflops * 1e12 if tflops else None


def model_flops_utilization(analysis: Analysis | None, batch_size: int, step_seconds: float, spec: GpuSpec,
                            precision: str, gpu_count: int) -> float | None:
    """MFU of a micro-step: the model's training FLOPs at the global batch (the analysis' forward + backward
    FLOPs per sample less activation checkpointing's recompute, ``Analysis.recomputed_flops_per_sample``, x
    ``batch_size``; the optimizer's FLOPs are negligible) over ``step_seconds`` x ``gpu_count`` x the dense peak at
    ``precision``. None when a figure is missing. A profile saved before the recompute was recorded counts it."""
    peak = dense_peak_flops(spec, precision)
    if analysis is None or not analysis.flops_per_sample or not peak or step_seconds <= 0 or gpu_count < 1:
        return None
    model_flops = analysis.flops_per_sample - (analysis.recomputed_flops_per_sample or 0.0)
    return max(0.0, model_flops) * batch_size / (step_seconds * gpu_count * peak)
