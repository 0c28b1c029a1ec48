"""The predict dispatcher: one ``Estimate`` for any target, choosing how to get it from what the profile holds.

* CPU target: the CPU probe (``measured``); another thread count or CPU family scales it (``scaled``). A CPU
  runs the job at the precision it was probed at (fp32): a GPU precision asked of a CPU target is noted, not
  refused. Its memory is judged against the machine it runs on: this one's RAM for ``--device cpu``, the
  instance's own memory for a catalog offer (``machine_memory_gib``), and not at all when that is unknown.
* GPU target that was probed here, one GPU, same precision: the probe (``measured``).
* Any other GPU: from a probe of another GPU scaled by the roofline ratio (Habitat's idea), else from the
  model's analysis and the datasheet (roofline with calibrated efficiencies). Several GPUs add the
  data-parallel all-reduce model. Memory fit from the analysis (or the GPU probe). bf16 on a GPU without
  bfloat16 (T4, V100, Turing) is predicted in fp16, as such a job has to run there, with a note.

One target gets one answer whatever else the profile holds: a GPU estimate does not depend on whether this
machine's CPU was probed too (``predict --gpu`` probes no CPU, ``recommend`` does), so its start-up is the
source GPU probe's, never the CPU's.

The learned history correction (``method: "history"``) is applied by the caller (``advisor.api``), which
owns the database.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from advisor.errors import AdvisorError, PredictionError
from advisor.predictor.calibration import Calibration
from advisor.predictor.job import Z80, JobTime, assemble_job, interval
from advisor.predictor.measured import THIS_MACHINE
from advisor.schemas import CpuSpec, DeviceProfile, Estimate, GpuSpec, JobSpec, Profile, Target

if TYPE_CHECKING:  # fit.py imports numpy at the top; the dispatcher imports it only when a probe is fitted
    from advisor.predictor.fit import StepTimeFit

# Host-side set-up before the first step on a GPU machine we have not measured: CUDA context creation,
# cuDNN/cuBLAS initialisation and the first (autotuning) steps. A few seconds in practice.
GPU_STARTUP_SECONDS = 8.0
# Precision assumed on GPUs when none is given: plain PyTorch (TF32 for convolutions only).
DEFAULT_GPU_PRECISION = "fp32"
# Relative sigma the data-parallel communication model adds on top of the compute prediction's (K > 1 GPUs).
DATA_PARALLEL_REL_SIGMA = 0.10


@dataclass
class EstimateContext:
    """What every estimate of one profile shares: specs, calibration, and each probed device's fit (computed
    once: a recommendation prices hundreds of targets from the same probe)."""

    gpu_specs: dict[str, GpuSpec]
    cpu_specs: dict[str, CpuSpec]
    calibration: Calibration
    fits: dict[str, StepTimeFit | None] = field(default_factory=dict)  # by device; None: nothing usable

    @classmethod
    def load(cls) -> EstimateContext:
        from advisor.hardware.specs import load_cpu_specs, load_gpu_specs
        from advisor.predictor.calibration import load_calibration

        return cls(gpu_specs=load_gpu_specs(), cpu_specs=load_cpu_specs(), calibration=load_calibration())


def _gpu_precision(precision: str | None, spec: GpuSpec) -> tuple[str, str | None]:
    """(the precision the job runs at on ``spec``, a note when that is not the one asked for). "mixed" (and
    bf16 on a GPU without bfloat16) is bf16 where the GPU has it, else fp16 with a GradScaler."""
    if precision in (None, ""):
        return DEFAULT_GPU_PRECISION, None
    if precision in ("mixed", "bf16") and not spec.bf16_supported:
        return "fp16", (f"{spec.name} has no bfloat16 (it predates Ampere): predicted in fp16 mixed precision, "
                        "as a bf16 job runs there (with a GradScaler).")
    if precision == "mixed":
        return "bf16", None
    return precision, None


def _probed_gpu(profile: Profile, spec: GpuSpec, precision: str) -> DeviceProfile | None:
    for dev in profile.devices:
        if dev.kind == "gpu" and dev.spec_name == spec.name and dev.precision == precision and dev.measurements:
            return dev
    return None


def _any_probed_gpu(profile: Profile, precision: str, specs: dict[str, GpuSpec]) -> DeviceProfile | None:
    for dev in profile.devices:
        if (dev.kind == "gpu" and dev.spec_name in specs and dev.precision == precision
                and any(not m.oom and m.compute_seconds for m in dev.measurements)):
            return dev
    return None


def _device_fit(profile: Profile, device: str, ctx: EstimateContext) -> StepTimeFit | None:
    """The step-time fit of a probed device, computed once per context."""
    from advisor.predictor.fit import fit_step_time

    if device not in ctx.fits:
        dev = profile.device(device)
        usable = [m for m in dev.measurements if not m.oom and (m.compute_seconds or m.compute_seconds_samples)] \
            if dev is not None else []
        if usable:
            from advisor.predictor.cpu_scaling import at_device_threads

            usable = at_device_threads(dev, usable).measurements
        ctx.fits[device] = fit_step_time(usable) if usable else None
    return ctx.fits[device]


def estimate_cpu(profile: Profile, job: JobSpec, target: Target, ctx: EstimateContext, *,
                 machine_memory_gib: float | str | None = THIS_MACHINE) -> Estimate:
    """This machine's CPU probe, scaled to the target's threads and CPU family where they differ. Memory is
    judged against ``machine_memory_gib`` (see ``estimate``); a target on another CPU family is another
    machine, so this machine's RAM never judges it."""
    from advisor.hardware.specs import match_reported_cpu
    from advisor.predictor.measured import predict_measured

    target_cpu = local_cpu = None
    if target.cpu_name:
        cpu_specs = ctx.cpu_specs
        target_cpu = cpu_specs.get(target.cpu_name)
        local_name = match_reported_cpu(profile.host.cpu.model_name, cpu_specs) if profile.host else None
        local_cpu = cpu_specs.get(local_name) if local_name else None
        if local_cpu is not None and target_cpu is not None and local_cpu.name == target_cpu.name:
            target_cpu = None  # same family: only the thread count differs
    if target.cpu_name and machine_memory_gib == THIS_MACHINE:
        machine_memory_gib = None
    est = predict_measured(profile, job, device="cpu", threads=target.threads,
                           target_cpu=target_cpu, local_cpu=local_cpu, fit=_device_fit(profile, "cpu", ctx),
                           machine_memory_gib=machine_memory_gib)
    if target.cpu_name:
        est = est.model_copy(update={"target": target})
    return est


def estimate_gpu(profile: Profile, job: JobSpec, target: Target, ctx: EstimateContext, *,
                 precision: str | None = None) -> Estimate:
    """K GPUs of one model: measured when probed here, else scaled from a probe or from the analysis."""
    from advisor.hardware.specs import resolve_gpu
    from advisor.predictor.measured import predict_measured

    spec = resolve_gpu(target.gpu_name, ctx.gpu_specs)
    count = target.count
    prec, prec_note = _gpu_precision(precision, spec)
    probed = _probed_gpu(profile, spec, prec)
    if probed is not None and count == 1:
        est = predict_measured(profile, job, device=probed.device, fit=_device_fit(profile, probed.device, ctx))
        return est.model_copy(update={"notes": [prec_note, *est.notes]}) if prec_note else est

    notes: list[str] = [prec_note] if prec_note else []
    if job.batch_size % count:
        notes.append(f"global batch {job.batch_size} does not split evenly over {count} GPUs; "
                     f"each GPU gets up to {math.ceil(job.batch_size / count)}.")
    source_dev = probed or _any_probed_gpu(profile, prec, ctx.gpu_specs)
    per_gpu_compute = _per_gpu_compute(profile, spec, prec, source_dev, ctx, notes)
    cal = ctx.calibration
    sigma = cal.ratio_sigma if source_dev is not None else cal.rel_sigma
    startup = GPU_STARTUP_SECONDS + (source_dev.startup_seconds if source_dev is not None else 0.0)
    jt, (lo, hi), efficiency = _gpu_job_time(profile, job, spec, count, per_gpu_compute, sigma, startup, notes)
    per_device_batch = max(1, math.ceil(job.batch_size / count))
    fits, peak, capacity, max_batch, mem_notes = _memory(profile, probed, spec, per_device_batch, prec, count)
    notes.extend(mem_notes)
    if not fits:
        notes.append(f"does not fit: {peak:.1f} GiB needed per GPU at batch {per_device_batch}, "
                     f"{capacity:.0f} GiB available.")
    return Estimate(
        **{**jt.estimate_fields(job), "low": lo, "high": hi, "batch_seconds": None},
        target=Target.gpu(spec.name, count),
        fits_memory=fits,
        peak_memory_gib=peak,
        memory_capacity_gib=capacity,
        max_batch_size_per_device=max_batch,
        per_device_batch_size=per_device_batch,
        method="scaled",
        precision=prec,
        scaling_efficiency=efficiency,
        source_device=source_dev.device if source_dev is not None else None,
        notes=notes,
    )


def _per_gpu_compute(profile: Profile, spec: GpuSpec, prec: str, source_dev: DeviceProfile | None,
                     ctx: EstimateContext, notes: list[str]) -> Callable[[int], float]:
    """One GPU's compute seconds at a per-GPU batch: the probe of ``source_dev`` scaled by the roofline's
    ratio of the two GPUs (the probe itself on the same GPU), else the roofline alone."""
    from advisor.predictor import roofline

    analysis = profile.analysis
    cal = ctx.calibration
    if source_dev is None:
        notes.append(f"predicted from the model's analysis and the {spec.name} datasheet "
                     f"(roofline, calibrated on published benchmarks).")
        return lambda b: roofline.predict_step(analysis, spec, b, prec, cal).seconds

    source_fit = _device_fit(profile, source_dev.device, ctx)
    source_spec = ctx.gpu_specs[source_dev.spec_name]
    ref_batch = max(m.batch_size for m in source_dev.measurements if not m.oom and m.compute_seconds)

    def from_probe(b: int) -> float:
        if source_spec.name == spec.name:
            return source_fit.compute_seconds(b)
        return roofline.scale_from_probe(analysis, source_fit.compute_seconds(ref_batch), source_spec,
                                         ref_batch, spec, b, prec, cal).seconds * (
            source_fit.compute_seconds(b) / source_fit.compute_seconds(ref_batch)
            if b <= ref_batch else 1.0)

    notes.append(f"scaled from the probe of {source_dev.device} ({source_spec.name}).")
    if source_spec.name != spec.name and analysis is None:
        raise PredictionError(
            f"cannot scale from {source_spec.name} to {spec.name}: the profile has no analysis of the model.",
            hint="Fix: profile the workload file again (the analysis is on by default).")
    return from_probe


def _gpu_job_time(profile: Profile, job: JobSpec, spec: GpuSpec, count: int,
                  per_gpu_compute: Callable[[int], float], sigma: float, startup: float,
                  notes: list[str]) -> tuple[JobTime, tuple[float, float], float | None]:
    """(job time, its 80% interval, scaling efficiency on K > 1 GPUs) with the data-parallel step model.

    ``sigma`` is the prediction's log half-width of an 80% interval (the calibration's); on more than one
    GPU the communication model adds ``DATA_PARALLEL_REL_SIGMA`` of its own.
    """
    from advisor.predictor.multigpu import DataParallelStep, data_parallel

    grad_bytes = profile.analysis.gradient_bytes if profile.analysis is not None else None
    if count > 1 and grad_bytes is None:
        raise PredictionError(f"cannot predict {count} GPUs: the profile has no analysis (gradient size).",
                              hint="Fix: profile the workload file again (the analysis is on by default).")
    dp_steps: dict[int, DataParallelStep] = {}

    def step_at(b: int) -> float:
        compute = per_gpu_compute(max(1, math.ceil(b / count)))
        if count == 1:
            return compute
        dp_steps[b] = data_parallel(compute, grad_bytes, count, spec)
        return dp_steps[b].step_seconds

    jt = assemble_job(job, step_at, startup_seconds=startup, rel_sigma=sigma / Z80)
    if count == 1:
        return jt, (jt.low, jt.high), None
    dp = dp_steps[job.batch_size]  # assemble_job prices the full batch first
    notes.extend(dp.notes)
    return jt, interval(jt.seconds, math.hypot(sigma / Z80, DATA_PARALLEL_REL_SIGMA)), dp.scaling_efficiency


def _memory(profile: Profile, probed: DeviceProfile | None, spec: GpuSpec, per_device_batch: int,
            precision: str, gpu_count: int) -> tuple[bool, float | None, float | None, int | None, list[str]]:
    """(fits, peak GiB, capacity GiB, largest batch per GPU, notes) for one GPU of ``spec``."""
    from advisor.predictor import memory

    capacity = spec.memory_gib
    if capacity is None:
        return True, None, None, None, [f"{spec.name} has no memory size in profiles/: memory fit not checked."]
    if probed is not None:
        fit = memory.memory_from_probe(probed, per_device_batch, capacity, profile.analysis, precision=precision,
                                       gpu_count=gpu_count)
    elif profile.analysis is not None:
        fit = memory.memory_from_analysis(profile.analysis, per_device_batch, capacity, precision,
                                          gpu_count=gpu_count)
    else:
        return True, None, capacity, None, ["no analysis: memory fit not checked."]
    return (fit.fits_memory, fit.peak_memory_gib, fit.capacity_gib, fit.max_batch_per_device, list(fit.notes))


def estimate(profile: Profile, job: JobSpec, target: Target, *, precision: str | None = None,
             context: EstimateContext | None = None,
             machine_memory_gib: float | str | None = THIS_MACHINE) -> Estimate:
    """The whole job's time on ``target`` from what ``profile`` holds (see the module docstring).

    ``machine_memory_gib`` (CPU targets): the memory of the machine the job runs on when it is not this one
    (a catalog instance), None when unknown; by default this machine's RAM (``--device cpu``).
    """
    ctx = context or EstimateContext.load()
    if target.kind == "cpu":
        est = estimate_cpu(profile, job, target, ctx, machine_memory_gib=machine_memory_gib)
        if precision not in (None, "mixed", est.precision):
            # A CPU runs the job as it was probed (fp32): a GPU precision keeps CPU candidates, with a note.
            note = (f"--precision {precision} applies to GPUs: the CPU is predicted at {est.precision}, the "
                    "precision it was probed at and runs the job at.")
            est = est.model_copy(update={"notes": [note, *est.notes]})
        return est
    if target.count > job.batch_size:
        # Data parallelism splits each step's batch over the GPUs: a GPU without a sample does no work.
        raise PredictionError(f"batch size {job.batch_size} cannot be split over {target.count} GPUs: each GPU "
                              f"needs at least one sample per step.",
                              hint=f"Fix: --gpus {job.batch_size} or fewer, or a --batch-size of {target.count} "
                                   f"or more.")
    return estimate_gpu(profile, job, target, ctx, precision=precision)


def estimate_many(profile: Profile, job: JobSpec, targets: Sequence[Target], *, precision: str | None = None,
                  context: EstimateContext | None = None) -> list[tuple[Target, Estimate]]:
    """Estimates for many targets; targets that cannot be predicted (no spec, no probe) are left out."""
    ctx = context or EstimateContext.load()
    out: list[tuple[Target, Estimate]] = []
    for target in targets:
        try:
            out.append((target, estimate(profile, job, target, precision=precision, context=ctx)))
        except AdvisorError:
            continue
    return out
