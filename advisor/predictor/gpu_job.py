"""A GPU target's compute model for one job shape, and its whole-job estimate on one host.

``GpuCompute`` is what ``advisor.predictor.estimate`` builds once per (target, precision, job shape): one micro-step's
compute at any global batch (the per-GPU step from a probe or the roofline, the data-parallel step and gradient
accumulation: ``gpu_step_compute``), an evaluation batch's forward pass, the memory fit and the notes.
``GpuOnHost`` adds the host side of one host (its vCPUs; an evaluation batch's too: ``evaluation``) and the
``Estimate`` fields no dataset size or epoch count changes, so another job of the same shape only adds its last
batch and the sums.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from advisor.errors import AdvisorError
from advisor.predictor import input_bound
from advisor.predictor.compile_time import CompileCosts
from advisor.predictor.evaluation import Evaluation
from advisor.predictor.fp64 import priced_precision
from advisor.predictor.job import (
    Z80,
    BatchMemo,
    ShapeSteps,
    accumulated_step,
    forward_share,
    interval,
    model_flops_utilization,
)
from advisor.predictor.job_length import long_job_notes
from advisor.predictor.roofline import mfu_precision
from advisor.schemas import Analysis, Estimate, GpuSpec, JobSpec, Profile, Target, updated
from advisor.schemas.missing_analysis import missing_analysis_error
from advisor.schemas.small_batch import split_last_batch_note, step_raises_note
from advisor.units import format_duration

# One GPU's steps kept per compute model (by its own batch size): every last batch of a job of up to 256 per GPU.
PER_GPU_MEMO = 256
# Relative sigmas the data-parallel model adds on top of the compute prediction's (K > 1 GPUs), one for each end of
# the 80% interval, because its errors are one-sided. Source: bench/README.md "Multi-GPU scaling", "The interval"
# (bench/accuracy_multigpu.py, its 187 reference rows, outliers excluded): the measured K-GPU step is within a few
# percent of the predicted one or slower, seldom faster (log error p10 -0.03, p90 +0.20; at K = 8 p90 +0.31), since
# no run beats perfect scaling and every loss the model misses (host staging, a dual-socket ring, a cloud VM's
# vCPUs) makes it slower. The symmetric sigma of before (0.10 in quadrature with 0.75 x the share of the step
# that is not compute) had no row below its low end and 20 above its high end (9 of the 53 at K = 8).
# * low end: ``DATA_PARALLEL_SHARE_SIGMA`` x that share, no floor: a run can be faster than predicted by at most
#   about the time the model gives communication (2 rows of 187 below it; 0.75 is the slope fitted before).
# * high end: ``DATA_PARALLEL_REL_SIGMA`` x sqrt(K / 2) in quadrature with the same slope: the smallest floor that
#   leaves 10% or fewer of the rows above it in every group (K = 2, 4, 8, PCIe without P2P, share over 0.2).
#   Past ``DATA_PARALLEL_SIGMA_MAX_GPUS`` (the most GPUs of any row) it is not grown further: no row says how.
DATA_PARALLEL_REL_SIGMA = 0.11
DATA_PARALLEL_SHARE_SIGMA = 0.75
DATA_PARALLEL_SIGMA_MAX_GPUS = 8


def data_parallel_rel_sigmas(scaling_efficiency: float | None, gpu_count: int) -> tuple[float, float]:
    """The relative sigmas (low end, high end) the data-parallel model adds to the estimate of ``gpu_count`` GPUs
    whose scaling efficiency (compute over the K-GPU step) is ``scaling_efficiency``.

    Args:
        scaling_efficiency: each GPU's compute over the K-GPU step; None counts as 1.
        gpu_count: K, the GPUs of the job (more than 1).

    Returns:
        (low, high): ``DATA_PARALLEL_SHARE_SIGMA`` x the rest of the step, and that in quadrature with
        ``DATA_PARALLEL_REL_SIGMA`` x sqrt(K / 2) (K at most ``DATA_PARALLEL_SIGMA_MAX_GPUS``).
    """
    share = 0.0 if scaling_efficiency is None else min(1.0, max(0.0, 1.0 - scaling_efficiency))
    low = DATA_PARALLEL_SHARE_SIGMA * share
    gpus = min(max(int(gpu_count), 2), DATA_PARALLEL_SIGMA_MAX_GPUS)
    return low, math.hypot(DATA_PARALLEL_REL_SIGMA * math.sqrt(gpus / 2), low)


def data_parallel_interval(seconds: float, rel_sigma: float, scaling_efficiency: float | None,
                           gpu_count: int) -> tuple[float, float]:
    """(low, high) of the 80% interval of a K-GPU job of ``seconds`` whose compute prediction has relative sigma
    ``rel_sigma``: each end adds its data-parallel sigma (``data_parallel_rel_sigmas``) in quadrature."""
    low_sigma, high_sigma = data_parallel_rel_sigmas(scaling_efficiency, gpu_count)
    return (interval(seconds, math.hypot(rel_sigma, low_sigma))[0],
            interval(seconds, math.hypot(rel_sigma, high_sigma))[1])


@dataclass(frozen=True)
class GpuCompute:
    """What a GPU target's estimate needs beyond the host side: computed once per (target, precision, job)."""

    spec: GpuSpec
    precision: str
    # One micro-step's compute at a global batch (K > 1: the data-parallel step; the optimizer and all-reduce
    # shared over the accumulated micro-steps), memoised: the job's full batch and each epoch's last one.
    compute_at: Callable[[int], float]
    eval_forward_seconds: float  # one evaluation batch's forward pass on one GPU (its share of the global batch)
    sigma: float  # log half-width of the 80% interval (the calibration's)
    startup_seconds: float
    scaling_efficiency: float | None
    # fits, peak GiB, capacity GiB, max batch/GPU, and the Estimate's DDP/sharding fields (sharded.sharding_fields)
    memory: tuple[bool, float | None, float | None, int | None, dict]
    source_device: str | None
    notes: tuple[str, ...]
    analysis: Analysis | None = None  # the model's FLOPs, for MFU
    recompile_seconds: float = 0.0  # once, when the last batch is smaller (torch.compile: compile_time)
    busy_share: float = 1.0  # the GPUs' kernels' share of the compute step at the job's batch (gpu_step_compute)
    eval_compile_seconds: float = 0.0  # once, in a job that evaluates (torch.compile's eval graph: compile_time)
    compile: CompileCosts | None = None  # a compiled job's, whose note each job of the shape says for itself


@dataclass(frozen=True)
class GpuStepParts:
    """One GPU's plain training step at one per-GPU batch, and the parts gradient accumulation and evaluation
    need: its optimizer update, and a forward-only pass (an evaluation batch)."""

    seconds: float
    optimizer_seconds: float
    forward_seconds: float
    # The share of the step the GPU runs the model's kernels (the roofline's phases; the rest is the host's
    # launches and the step's fixed overhead). 1.0 where no analysis splits the step.
    busy_share: float = 1.0


def step_parts_of(seconds: float, phases: dict[str, float] | None, analysis: Analysis | None) -> GpuStepParts:
    """``seconds`` split in the proportions of the roofline's phases (``roofline.step_phases``): the optimizer,
    and the forward with its share of the step's overhead (host launches). Without phases: no optimizer share
    (accumulation then saves nothing, conservatively) and the analysis' forward FLOP share."""
    total = sum(phases.values()) if phases else 0.0
    if not phases or total <= 0:
        return GpuStepParts(seconds, 0.0, seconds * forward_share(analysis))
    gpu = phases["forward"] + phases["backward"] + phases["optimizer"]
    forward = phases["forward"] + phases["overhead"] * (phases["forward"] / gpu if gpu > 0 else 0.0)
    return GpuStepParts(seconds, seconds * phases["optimizer"] / total, seconds * forward / total, gpu / total)


def gpu_step_compute(profile: Profile, job: JobSpec, spec: GpuSpec, target: Target,
                     per_gpu_compute: Callable[[int], GpuStepParts], notes: list[str],
                     gather_bytes: float | None = None) -> tuple[Callable[[int], float], float | None, float, float]:
    """(one micro-step's compute at a global batch, memoised; the scaling efficiency on K > 1 GPUs; one
    evaluation batch's forward pass; the GPUs' busy share of the job's compute step, ``GpuStepParts.busy_share`` at its
    per-GPU batch x the efficiency) with the data-parallel step model (its all-reduce is part of the GPUs' step, over
    PCIe with the target's ``peer_to_peer``, or the card's own guess) and gradient accumulation: the optimizer
    and the all-reduce once per ``job.grad_accum_steps`` micro-steps. ``gather_bytes``: a sharded step's
    (``advisor.predictor.sharded``), None for DDP."""
    from advisor.predictor.multigpu import accumulated_data_parallel, peer_to_peer_caveat, sharded_optimizer

    count, p2p = target.count, target.peer_to_peer
    grad_bytes = profile.analysis.gradient_bytes if profile.analysis is not None else None
    if count > 1 and grad_bytes is None:
        raise missing_analysis_error(f"{count} GPUs (their all-reduce needs the gradient size)", profile.notes)
    # One GPU's step by its own batch: on K GPUs, K global batch sizes share one (the epoch's last batch of
    # another dataset size often does), so this memo keeps more (a few floats each) than the others.
    per_gpu = BatchMemo(per_gpu_compute, keep=max(1, math.ceil(job.batch_size / count)), limit=PER_GPU_MEMO)

    def step_at(b: int) -> tuple[float, GpuStepParts, Any]:
        parts = per_gpu(max(1, math.ceil(b / count)))
        if count > 1:
            dp, step = accumulated_data_parallel(parts.seconds, parts.optimizer_seconds, grad_bytes, count, spec,
                                                 job.grad_accum_steps, pcie_p2p=p2p, gather_bytes=gather_bytes,
                                                 nvlink_gbs=target.nvlink_gbs)
            return step, parts, dp
        return accumulated_step(parts.seconds, parts.optimizer_seconds, job.grad_accum_steps), parts, None

    compute_at = BatchMemo(lambda b: step_at(b)[0], keep=job.batch_size)
    step, parts, dp = step_at(job.batch_size)
    efficiency = None
    if dp is not None:
        notes.extend(dp.notes)
        # Only the card's own guess is in doubt: a machine known to have P2P, or to lack it, was priced as it is.
        caveat = None if p2p is not None else peer_to_peer_caveat(spec, dp, step, lambda: accumulated_data_parallel(
            parts.seconds, parts.optimizer_seconds, grad_bytes, count, spec, job.grad_accum_steps, pcie_p2p=False,
            gather_bytes=gather_bytes)[1])
        notes.extend([caveat] if caveat else [])
        # Against one GPU's step with the same work: sharded, each GPU's optimizer updates 1/K of the weights.
        own = (sharded_optimizer(parts.seconds, parts.optimizer_seconds, count) if gather_bytes is not None
               else (parts.seconds, parts.optimizer_seconds))
        efficiency = accumulated_step(*own, job.grad_accum_steps) / step
    if job.grad_accum_steps > 1:
        notes.append(f"gradient accumulation: {job.grad_accum_steps} micro-steps of batch {job.batch_size} per "
                     f"optimizer step ({job.batch_size * job.grad_accum_steps} samples); the optimizer"
                     + ((" runs once per optimizer step; sharded, every micro-step all-gathers the weights and "
                         "reduce-scatters its gradients (kept sharded, as the memory is priced)")
                        if gather_bytes is not None and count > 1 else
                        (" and the all-reduce run" if count > 1 else " runs") + " once per optimizer step") + ".")
    # every GPU evaluates its share, no all-reduce
    return compute_at, efficiency, parts.forward_seconds, parts.busy_share * (efficiency or 1.0)


class GpuOnHost:
    """K GPUs' compute model on one host (vCPU count): the step at each batch size and the ``Estimate`` fields
    that no dataset size or epoch count changes, kept in the context, so another job of the same shape (a server
    asked about many dataset sizes of one profile) only adds its last batch's step and the whole-job sums."""

    def __init__(self, gc: GpuCompute, count: int, host: input_bound.HostModel, fields: dict,
                 parts_at: BatchMemo, rel_sigma: float, evaluation: Evaluation | None = None) -> None:
        self.gc, self.count, self.host, self.fields, self.rel_sigma = gc, count, host, fields, rel_sigma
        self.evaluation = evaluation or Evaluation()  # a batch made and copied as a training step's, its forward
        self.parts_at = parts_at  # the step at a global batch: compute and the host side
        # The notes before and after the evaluation's, which is the only one a job's size changes.
        at_job = parts_at(parts_at.keep)  # the job's batch size
        host_notes = (input_bound.make_batch_note(host, at_job), input_bound.busy_input_note(host, at_job))
        self._notes = (list(gc.notes), [*host.notes, *filter(None, host_notes)])
        self._first: Estimate | None = None
        self._steps = ShapeSteps(gc.compute_at, lambda b: parts_at(b).host_seconds, parts_at.keep)
        # K > 1: one GPU of the same kind's estimate of a job (``estimate_gpu`` for count 1, on the same host, its
        # models kept in the context), so a job that K GPUs make longer says so (``slower_than_one_note``).
        self.one_gpu: Callable[[JobSpec], Estimate] | None = None

    @classmethod
    def of(cls, job: JobSpec, gc: GpuCompute, target: Target, host: input_bound.HostModel) -> GpuOnHost:
        count = target.count
        parts_at = BatchMemo(lambda b: host.parts(b, gc.compute_at(b)), keep=job.batch_size)
        parts = parts_at(job.batch_size)
        rel = math.hypot(gc.sigma / Z80, input_bound.host_rel_sigma(parts))
        fits, peak, capacity, max_batch, sharding = gc.memory
        precision = priced_precision(gc.analysis, gc.precision)  # "fp64" for a float64 model, at any precision
        fields = dict(
            **input_bound.estimate_fields(host, parts), target=target.model_copy(update={"gpu_name": gc.spec.name}),
            fits_memory=fits,
            peak_memory_gib=peak, memory_capacity_gib=capacity, max_batch_size_per_device=max_batch, **sharding,
            memory_datasheet_gib=(gc.spec.memory_gib if capacity is not None and gc.spec.memory_gib is not None
                                  and capacity < gc.spec.memory_gib else None),
            per_device_batch_size=max(1, math.ceil(job.batch_size / count)), method="scaled",
            precision=precision, scaling_efficiency=gc.scaling_efficiency, source_device=gc.source_device,
            # the step as ``assemble_job`` adds it up (compute + host side), to the last bit
            **mfu_fields(gc.analysis, job.batch_size, float(gc.compute_at(job.batch_size)) + float(parts.host_seconds),
                         gc.spec, precision, count),
            gpu_busy=parts.gpu_utilization * gc.busy_share if parts.gpu_utilization is not None else None)
        evaluation = Evaluation.of(job, host, gc.eval_forward_seconds, compile_seconds=gc.eval_compile_seconds)
        return cls(gc, count, host, fields, parts_at, rel, evaluation)

    def estimate(self, job: JobSpec) -> Estimate:
        """The estimate of ``job`` (of the shape this was made for: its batch size and how it steps)."""
        gc, eval_seconds = self.gc, self.evaluation.seconds(job)
        startup = gc.startup_seconds + self.host.once_restart_seconds + self.evaluation.startup_seconds(job)
        jt = self._steps.job_time(job, startup_seconds=startup,
                                  per_epoch_seconds=self.host.epoch_restart_seconds, rel_sigma=self.rel_sigma,
                                  eval_seconds=eval_seconds, recompile_seconds=gc.recompile_seconds)
        lo, hi = (jt.low, jt.high) if self.count == 1 else data_parallel_interval(
            jt.seconds, self.rel_sigma, gc.scaling_efficiency, self.count)
        head, tail = self._notes
        head = gc.compile.in_notes(head, job) if gc.compile is not None else head
        evaluation = self.evaluation.note(job)
        slower = self._slower_than_one(job, jt.seconds)
        one_sample_error = gc.analysis.one_sample_error if gc.analysis is not None else None
        # Where every step gives a GPU one sample, the split last batch's note would only repeat it. One GPU at
        # --batch-size 1 is the job's own note (``advisor.sources``), said on every target.
        split = (self.count > 1 and step_raises_note(one_sample_error, job.batch_size, self.count)
                 or split_last_batch_note(one_sample_error, job.dataset_size, job.batch_size, self.count))
        fields = {**jt.estimate_fields(job), "low": lo, "high": hi,
                  "notes": [*([split] if split else []), *([slower] if slower else []), *head,
                            *([evaluation] if evaluation else []), *tail, *long_job_notes(jt.seconds)]}
        if self._first is None:
            self._first = Estimate(**fields, **self.fields)
            return self._first
        # The fields no job changes are validated once, in the first estimate; another job's copies it.
        return updated(self._first, fields)

    def _slower_than_one(self, job: JobSpec, seconds: float) -> str | None:
        """``slower_than_one_note`` where one GPU of the kind, priced the same way at the same global batch (one that
        fits it), takes less time for ``job`` than these K; None otherwise."""
        if self.one_gpu is None:
            return None
        try:
            one = self.one_gpu(job)
        except AdvisorError:  # one GPU cannot run it (a batch it cannot hold): nothing to compare
            return None
        if not one.fits_memory or one.seconds >= seconds:
            return None
        b = job.batch_size
        return slower_than_one_note(self.count, self.gc.spec.name, seconds, one.seconds,
                                    math.ceil(b / self.count), self.gc.compute_at(b),
                                    self.gc.scaling_efficiency or 1.0)


def slower_than_one_note(count: int, gpu_name: str, seconds: float, one_seconds: float, per_gpu_batch: int,
                         step_seconds: float, efficiency: float) -> str:
    """The note for K GPUs that take longer for a job than one does: both job times, and the K-GPU compute step
    (``step_seconds``) split into each GPU's own compute (``efficiency`` of it) and the all-reduce and DDP's
    per-step cost (the rest)."""
    comm = step_seconds * (1.0 - efficiency)
    return (f"{count} x {gpu_name} take longer for this job than 1 does ({format_duration(seconds)} against "
            f"{format_duration(one_seconds)}): each GPU's step of {per_gpu_batch:,} samples "
            f"({(step_seconds - comm) * 1e3:,.2f} ms of compute) saves too little over one GPU's whole batch to pay "
            f"for the all-reduce and DDP's per-step cost ({comm * 1e3:,.2f} ms more a step); use fewer GPUs or a "
            "larger batch.")


def mfu_fields(analysis: Analysis | None, batch_size: int, step_seconds: float, spec: GpuSpec, precision: str,
               count: int) -> dict[str, Any]:
    """An estimate's ``mfu`` and ``mfu_peak``: MFU over the dense peak of the precision its matrix FLOPs run at
    (``roofline.mfu_precision``: TF32's for an fp32 job run in TF32)."""
    peak = mfu_precision(analysis, spec, precision)
    mfu = model_flops_utilization(analysis, batch_size, step_seconds, spec, peak, count)
    return {"mfu": mfu, "mfu_peak": peak if mfu is not None else None}

