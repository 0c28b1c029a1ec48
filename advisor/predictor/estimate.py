"""The predict dispatcher: one ``Estimate`` for any target, choosing how to get it from what the profile holds.

* CPU target: the CPU probe (``measured``); another thread count or CPU family scales it (``scaled``). A CPU
  runs the job at the precision it was probed at (fp32): a GPU precision asked of a CPU target is noted, not
  refused. Its memory is judged against the machine it runs on: this one's RAM for ``--device cpu``, the
  instance's own memory for a catalog offer (``machine_memory_gib``), and not at all when that is unknown.
* GPU target that was probed here, one GPU, same precision: the probe (``measured``).
* Any other GPU: its roofline carried by a probe of another GPU (``probe_carry``: Habitat's idea, the probe's
  GPU and host factors), else the model's analysis and the datasheet (roofline, calibrated efficiencies). K GPUs
  add the data-parallel all-reduce. Memory and start-up from any GPU probe, else the analysis. bf16 on a GPU
  without bfloat16 (T4, V100, Turing) is predicted in fp16, as such a job has to run there, with a note.
* Every target: the host side of a step (``input_bound``): the input pipeline on the target's CPU (a GPU
  host of ``vcpus`` vCPUs: a catalog offer's, ``--vcpus``, else ``DEFAULT_VCPUS_PER_GPU`` each) and the copy
  to the GPUs, which can bound the step; ``bound``, ``input_seconds``, ``transfer_seconds``,
  ``gpu_utilization``, ``input_workers`` and ``host_vcpus`` say how.

One target gets one answer whatever else the profile holds: a GPU estimate does not depend on whether this
machine's CPU was probed too (``predict --gpu`` probes no CPU, ``recommend`` does), so its start-up is the
GPU probe's, never the CPU's. Only an older profile without an ``InputPipeline`` falls back on the CPU probe's
make_batch time. The models a GPU (``gpu_job``) or CPU (``measured``) target is estimated with are kept in the
``EstimateContext``: a caller asked about many dataset sizes of one job reuses them.

The learned history correction (``method: "history"``) is applied by the caller (``advisor.api``), which owns the DB.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from advisor.errors import AdvisorError, PredictionError
from advisor.predictor import gpu_job, input_bound, memory, probes
from advisor.predictor.bias_notes import HOST_NOTE_SIGMA, host_launch_note, kind_bias_note
from advisor.predictor.calibration import Calibration
from advisor.predictor.carried_notes import carried_notes
from advisor.predictor.caveats import NO_BFLOAT16
from advisor.predictor.compile_time import CompileCosts, compile_costs
from advisor.predictor.job import Z80
from advisor.predictor.measured import THIS_MACHINE, memoised
from advisor.predictor.roofline import is_ampere_or_newer
from advisor.predictor.sharded import ddp_notes, oom_capped_note, sharded_layout, sharded_notes, sharding_fields
from advisor.schemas import CpuSpec, DeviceProfile, Estimate, GpuSpec, JobSpec, Profile, Target
from advisor.schemas.missing_analysis import missing_analysis_error

if TYPE_CHECKING:  # fit.py imports numpy at the top; the dispatcher imports it only when a probe is fitted
    from advisor.predictor.fit import StepTimeFit
    from advisor.predictor.measured import MeasuredModel

# Host-side set-up before the first step on a GPU machine we have not measured: CUDA context creation,
# cuDNN/cuBLAS initialisation and the first (autotuning) steps. A few seconds in practice.
GPU_STARTUP_SECONDS = 8.0
# Precision assumed on GPUs when none is given: plain PyTorch (TF32 for convolutions only).
DEFAULT_GPU_PRECISION = "fp32"


@dataclass
class EstimateContext:
    """What every estimate of one profile shares: specs, calibration, and each probed device's fit (computed
    once: a recommendation prices hundreds of targets from the same probe)."""

    gpu_specs: dict[str, GpuSpec]
    cpu_specs: dict[str, CpuSpec]
    calibration: Calibration
    fits: dict[str, StepTimeFit | None] = field(default_factory=dict)  # by device; None: nothing usable
    # A GPU target's compute model by (target, precision, job): the roofline and data-parallel model run once
    # per target; the host side (``input_bound``) is applied per host vCPU count on top.
    gpu_compute: dict[tuple, gpu_job.GpuCompute | AdvisorError] = field(default_factory=dict)
    # ... and on each host vCPU count: by (that key, vcpus)
    gpu_hosts: dict[tuple, gpu_job.GpuOnHost] = field(default_factory=dict)
    # A CPU target's measured model by (target, machine memory, vCPUs, job shape); None: the analysis fallback.
    cpu_models: dict[tuple, MeasuredModel | None] = field(default_factory=dict)
    # By (precision, job shape), each offer key estimated: (its start-up and step seconds, bounds for jobs of
    # that shape (``targets.LazyEstimates``); the model it was estimated with (``kept_model``), or None when none
    # is kept). Nested, so that a what-if's bounds are one lookup per offer key.
    offer_shapes: dict[tuple, dict[tuple, tuple[float, float, Callable[[JobSpec], Estimate] | None]]] = field(
        default_factory=dict)
    # Per-profile values no job changes (this CPU's family, memory fits, CPU scaling factors), by key.
    memo: dict[tuple, object] = field(default_factory=dict)

    @classmethod
    def load(cls) -> EstimateContext:
        from advisor.hardware.specs import load_cpu_specs, load_gpu_specs
        from advisor.predictor.calibration import load_calibration

        return cls(gpu_specs=load_gpu_specs(), cpu_specs=load_cpu_specs(), calibration=load_calibration())


def _gpu_precision(precision: str | None, spec: GpuSpec) -> tuple[str, str | None]:
    """(the precision the job runs at on ``spec``, a note when that is not the one asked for). "mixed" (and
    bf16 on a GPU without bfloat16) is bf16 where the GPU has it, else fp16 with a GradScaler; tf32 on a GPU
    without it is fp32."""
    if precision in (None, ""):
        return DEFAULT_GPU_PRECISION, None
    if precision in ("mixed", "bf16") and not spec.bf16_supported:
        return "fp16", (f"{spec.name} {NO_BFLOAT16} (it predates Ampere): predicted in fp16 mixed precision, "
                        "as a bf16 job runs there (with a GradScaler).")
    if precision == "tf32" and not is_ampere_or_newer(spec):
        return "fp32", (f"{spec.name} has no TF32 (it predates Ampere): predicted in fp32, as a tf32 job runs "
                        "there.")
    if precision == "mixed":
        return "bf16", None
    return precision, None


def _local_cpu(profile: Profile, ctx: EstimateContext) -> CpuSpec | None:
    """This machine's CPU family in profiles/cpus.csv (the one the probe and the input pipeline ran on)."""
    from advisor.hardware.specs import match_reported_cpu

    def find() -> CpuSpec | None:
        pipeline = profile.input_pipeline
        name = (pipeline.cpu_name if pipeline is not None and pipeline.cpu_name else None) or \
            (profile.host.cpu.model_name if profile.host else None)
        family = match_reported_cpu(name, ctx.cpu_specs) if name else None
        return ctx.cpu_specs.get(family) if family else None

    return memoised(ctx.memo, ("local cpu",), find)


def _local_vcpus(profile: Profile) -> int | None:
    """This machine's vCPUs (logical cores): the host of a job run here."""
    return profile.host.cpu.logical_cores if profile.host else None


def estimate_cpu(profile: Profile, job: JobSpec, target: Target, ctx: EstimateContext, *,
                 machine_memory_gib: float | str | None = THIS_MACHINE, vcpus: int | None = None) -> Estimate:
    """This machine's CPU probe, scaled to the target's threads and CPU family where they differ. Memory is
    judged against ``machine_memory_gib`` (see ``estimate``); a target on another CPU family is another
    machine, so this machine's RAM never judges it. ``vcpus``: the instance's, when known (a catalog offer).
    The measured model of the job's shape is kept in the context (``cpu_models``): another dataset size or epoch
    count adds only its last batch and the sums."""
    key = _cpu_model_key(job, target, machine_memory_gib, vcpus)
    if key in ctx.cpu_models:
        model = ctx.cpu_models[key]
        if model is not None:
            return model.estimate(job)
    target_cpu = local_cpu = None
    if target.cpu_name:
        target_cpu = ctx.cpu_specs.get(target.cpu_name)
        local_cpu = _local_cpu(profile, ctx)
        if local_cpu is not None and target_cpu is not None and local_cpu.name == target_cpu.name:
            target_cpu = None  # same family: only the thread count differs
    if target.cpu_name and machine_memory_gib == THIS_MACHINE:
        machine_memory_gib = None
    # The probe's budget left no measured footing (no step timed, or one batch size far below the job's): the
    # model's analysis over this CPU's measured op rates (advisor.predictor.cpu_roofline); None otherwise.
    from advisor.predictor.cpu_roofline import cpu_fallback_estimate

    roofline = cpu_fallback_estimate(profile, job, target, ctx, target_cpu=target_cpu, local_cpu=local_cpu,
                                     machine_memory_gib=machine_memory_gib)
    if roofline is not None:
        ctx.cpu_models[key] = None
        loader = profile.input_pipeline is not None and profile.input_pipeline.source == "dataloader"
        # Accumulation and evaluation it prices (their notes say how); these it does not.
        skipped = [what for what, on in (("torch.compile", job.compiled),
                                          ("the DataLoader's loading (its workers share these cores)", loader))
                   if on]
        if skipped:
            roofline = roofline.model_copy(update={"notes": [*roofline.notes, (
                f"{' and '.join(skipped)}: not modelled in this analysis-based CPU estimate (every step is "
                "priced as an eager step on all the cores).")]})
        return roofline
    from advisor.predictor.measured import measured_model, select_device

    probed_threads = select_device(profile, "cpu").threads
    cores = target.threads or probed_threads or 1
    if vcpus is None and not target.cpu_name and target.threads in (None, probed_threads):
        vcpus = _local_vcpus(profile)  # the job runs on this machine
    speed, speed_note = input_bound.speed_ratio(target_cpu, local_cpu)
    host = input_bound.cpu_host(profile.input_pipeline, cores, vcpus=vcpus, speed=speed, speed_note=speed_note)
    model = ctx.cpu_models[key] = measured_model(
        profile, job, device="cpu", threads=target.threads, memo=ctx.memo, target_cpu=target_cpu,
        local_cpu=local_cpu, fit=probes.device_fit(profile, "cpu", ctx), machine_memory_gib=machine_memory_gib,
        host=host)
    if target.cpu_name:  # a target on a named CPU family says so
        model.naming(target)
    return model.estimate(job)


def estimate_gpu(profile: Profile, job: JobSpec, target: Target, ctx: EstimateContext, *,
                 precision: str | None = None, vcpus: int | None = None) -> Estimate:
    """K GPUs of one model: measured when probed here, else scaled from a probe or from the analysis; the host
    side (input pipeline, copy to the GPU) on a host of ``vcpus`` vCPUs (None: ``input_bound``'s default)."""
    from advisor.hardware.specs import resolve_gpu
    from advisor.predictor.unspecced import estimate_unspecced, unspecced_probe

    asked = _gpu_asked_key(job, target, precision, vcpus)
    on_host = ctx.gpu_hosts.get(asked)
    if on_host is not None:
        return on_host.estimate(job)
    if target.count == 1 and (unspecced := unspecced_probe(profile, target.gpu_name)) is not None:
        asked = DEFAULT_GPU_PRECISION if precision in (None, "") else "bf16" if precision == "mixed" else precision
        return estimate_unspecced(profile, job, unspecced, asked, ctx, vcpus or _local_vcpus(profile))
    spec = resolve_gpu(target.gpu_name, ctx.gpu_specs)
    prec, prec_note = _gpu_precision(precision, spec)
    probed = probes.probed_gpu(profile, spec, prec)
    if probed is not None and target.count == 1:
        return _measured_gpu(profile, job, probed, spec, ctx, prec_note, vcpus)
    # Keyed by how the job steps, not by its size: another dataset size or epoch count (a server asked about
    # many jobs of one profile) reuses the model and adds only its last batch's compute.
    key = (target.model_copy(update={"gpu_name": spec.name}), precision, job.shape)
    if key not in ctx.gpu_compute:
        try:
            ctx.gpu_compute[key] = _gpu_compute(profile, job, spec, key[0], prec, prec_note, probed, ctx)
        except AdvisorError as exc:
            ctx.gpu_compute[key] = exc
    gc = ctx.gpu_compute[key]
    if isinstance(gc, AdvisorError):
        raise gc
    on_host = ctx.gpu_hosts.get((key, vcpus))
    if on_host is None:
        on_host = ctx.gpu_hosts[(key, vcpus)] = gpu_job.GpuOnHost.of(
            job, gc, key[0], _gpu_host(profile, spec, target.count, vcpus, ctx))
        if target.count > 1:  # one GPU of the kind, the same way: said where K take longer for the job
            on_host.one_gpu = lambda j: estimate_gpu(profile, j, Target.gpu(spec.name), ctx, precision=precision,
                                                     vcpus=vcpus)
    ctx.gpu_hosts[asked] = on_host
    return on_host.estimate(job)


def _gpu_host(profile: Profile, spec: GpuSpec, count: int, vcpus: int | None,
              ctx: EstimateContext) -> input_bound.HostModel:
    """The host side of ``count`` x ``spec``: the profile's input pipeline; an older profile falls back on
    the CPU probe's make_batch time. A GPU instance's CPU is not in profiles/: its cores count as this one's."""
    pipeline = profile.input_pipeline
    probe = None
    if pipeline is None:
        cpu = profile.device("cpu")
        if cpu is not None and any(m.batch_seconds for m in cpu.measurements if not m.oom):
            fit = probes.device_fit(profile, "cpu", ctx)
            probe = fit.batch_seconds if fit is not None else None
    note = None if pipeline is None else ("input pipeline: measured on the probed machine's CPU; a GPU instance's "
                                          "CPU is assumed as fast per core.")
    return input_bound.gpu_host(pipeline, spec, count, vcpus, speed_note=note, probe_batch_seconds=probe)


def _measured_gpu(profile: Profile, job: JobSpec, probed: DeviceProfile, spec: GpuSpec, ctx: EstimateContext,
                  prec_note: str | None, vcpus: int | None) -> Estimate:
    """A GPU probed here: its measured steps; the host side is this machine's (its vCPUs unless given)."""
    from advisor.predictor.measured import predict_measured

    host = input_bound.gpu_host(profile.input_pipeline, spec, 1, vcpus or _local_vcpus(profile))
    if profile.input_pipeline is None or profile.input_pipeline.source != "dataloader":
        host = replace(host, notes=())  # the measured make_batch + copy stands
    fit = probes.device_fit(profile, probed.device, ctx)
    opt, compiled_factor, advice = 0.0, None, []
    if profile.analysis is not None:
        # The optimizer's share of the measured step, as the roofline splits this GPU's (eager) step.
        from advisor.predictor import roofline

        step = eager_step = roofline.predict_step(profile.analysis, spec, job.batch_size, probed.precision,
                                                  ctx.calibration)
        phases = roofline.step_phases(step)
        eager = sum(phases.values())  # predict_step's seconds
        opt = fit.compute_seconds(job.batch_size) * phases["optimizer"] / max(eager, 1e-12)
        if job.compiled:
            step = roofline.predict_step(profile.analysis, spec, job.batch_size, probed.precision,
                                         ctx.calibration, compiled=True)
            if eager > 0 and (carry := probes.probe_carry(profile, probed.device, ctx)) is not None:
                # The probe ran eagerly: its steps x the compiled step over the eager one at this batch, as this
                # probe's GPU and host run both (``ProbeCarry``).
                compiled_factor = carry.seconds(step) / carry.seconds(eager_step)
        advice = roofline.advice_notes(step, compiled=job.compiled, probed=True)
    est = predict_measured(profile, job, device=probed.device, fit=fit, host=host, optimizer_seconds=opt,
                           compiled_factor=compiled_factor)
    mfu = gpu_job.mfu_fields(profile.analysis, job.batch_size, est.step_seconds, spec, est.precision, 1)
    beyond = probes.beyond_launch_bound_note(profile, probed, job.batch_size, ctx)
    notes = [*_slice_notes(spec), *([prec_note] if prec_note else []), *est.notes, *advice,
             *([beyond] if beyond else [])]
    return est.model_copy(update={"notes": notes, **mfu})


def _slice_notes(spec: GpuSpec) -> list[str]:
    from advisor.hardware.mig import slice_notes

    return slice_notes(spec)


def _spec_of(dev: DeviceProfile, ctx: EstimateContext) -> GpuSpec:
    """A probed GPU's spec: its row of profiles/gpus.csv, or a MIG slice of one (``advisor.hardware.mig``)."""
    from advisor.hardware.specs import resolve_gpu

    return resolve_gpu(dev.spec_name or "", ctx.gpu_specs)


def _gpu_compute(profile: Profile, job: JobSpec, spec: GpuSpec, target: Target, prec: str, prec_note: str | None,
                 probed: DeviceProfile | None, ctx: EstimateContext) -> gpu_job.GpuCompute:
    """The compute side of K GPUs: per-GPU compute (probe or roofline), data-parallel step, memory, notes."""
    notes: list[str] = [*carried_notes(profile.notes, None), *_slice_notes(spec), *([prec_note] if prec_note else [])]
    if job.batch_size % (count := target.count):
        notes.append(f"global batch {job.batch_size} does not split evenly over {count} GPUs; "
                     f"each GPU gets up to {math.ceil(job.batch_size / count)}.")
    source_dev = probed or probes.carrying_probe(profile, prec, ctx.gpu_specs)
    gpu_probe = source_dev or probes.any_probed_gpu(profile, None, ctx.gpu_specs)
    per_device_batch = max(1, math.ceil(job.batch_size / count))
    host_spread: list[float] = []
    per_gpu_compute = _per_gpu_compute(profile, spec, prec, source_dev, ctx, notes, per_device_batch,
                                       compiled=job.compiled, host_spread=host_spread)
    if source_dev is not None and (source_fit := probes.device_fit(profile, source_dev.device, ctx)) is not None:
        # Beyond the probe's ladder the probed GPU's own step is extrapolated: so is every GPU scaled from it
        # (a standard deviation; the spreads here are 80% half-widths).
        host_spread.append(Z80 * source_fit.extrapolation_rel_sigma(per_device_batch))
        notes.extend(probes.carried_outside_notes(profile, source_dev, per_device_batch, ctx, probed and count == 1))
    cal = ctx.calibration
    sigma = math.hypot(cal.sigma(profile.analysis, spec, from_probe=source_dev is not None, precision=prec),
                       *host_spread)
    if probed is None:
        notes.extend(kind_bias_note(cal, profile.analysis, spec, prec))
    # Any GPU probe's (any precision) start-up: CUDA's context, the model's build and move, the first steps.
    startup = (gpu_probe.startup_seconds if gpu_probe is not None and gpu_probe.startup_seconds > 0
               else GPU_STARTUP_SECONDS)
    costs = compile_costs(profile.analysis) if job.compiled else None
    if costs is not None:
        notes.append(costs.note(job))  # the kept model's later jobs say theirs (``GpuOnHost.estimate``)
    # Memory is the model's, not the GPU's: a GPU probe's measured peaks price every GPU (the analysis had
    # nanoGPT at 0.6 GiB a sample where the H200 measured 0.8, and fitted an H100 it would not), at any precision
    # (``memory_from_probe`` rescales the activations: an fp16 job, or bf16 run as fp16 on a V100, too).
    fit, capacity, mem_notes = memory.gpu_fit(profile.analysis, gpu_probe, spec, per_device_batch, prec, count)
    fits, peak, max_batch = ((fit.fits_memory, fit.peak_memory_gib, fit.max_batch_per_device) if fit is not None
                             else (True, None, None))
    layout = sharded_layout(fit, count, profile.analysis, prec)  # priced sharded where only a sharded step fits
    compute, efficiency, eval_forward, busy = gpu_job.gpu_step_compute(
        profile, job, spec, target, per_gpu_compute, notes, gather_bytes=layout.gather_bytes if layout else None)
    if layout is not None:
        mem_notes = sharded_notes(mem_notes, layout, fit, count, prec, job)
        fits, peak, max_batch = True, layout.memory_gib, layout.max_batch_per_device
    elif fit is not None:  # a tight fit's flags; on several GPUs or past the memory, the layout assumed and sharding's
        mem_notes = ddp_notes(mem_notes, fit, count, profile.analysis, job, spec.name)
    notes.extend(mem_notes + ([memory.compiled_memory_note()] if job.compiled and not fits else []))
    # Past the memory the memory fit's own note says so ("Needs 60.8 GiB at batch 96 per device, ..."); within
    # it, what bounds the job is a batch the probe ran out of memory at (in the words recommend uses).
    if layout is None and fit is not None and (capped := oom_capped_note(fit, count, job)):
        notes.append(capped)
    paid = costs or CompileCosts()  # an eager job's: none
    return gpu_job.GpuCompute(spec, prec, compute, eval_forward, sigma, startup + paid.first_seconds, efficiency,
                              (fits, peak, capacity, max_batch, sharding_fields(fit, count, layout, profile.analysis)),
                              source_dev.device if source_dev is not None else None, tuple(notes), profile.analysis,
                              paid.recompile_seconds, busy, paid.eval_seconds, costs)


def gpu_notes(profile: Profile, spec: GpuSpec, precision: str | None, per_gpu_batch: int, compiled: bool,
              ctx: EstimateContext, *, lean: bool = True) -> list[str]:
    """What ``estimate_gpu`` says of ``spec`` beyond its figures, for a caller that has the figures already
    (``recommend``'s chosen GPU): the validated lean for this kind of job where no probe of this GPU stands
    behind the time (``kind_bias_note``; ``lean`` False: not wanted) and what the job could change at
    ``per_gpu_batch`` (``advice_notes``)."""
    from advisor.predictor import roofline

    prec, _ = _gpu_precision(precision, spec)
    probed = probes.probed_gpu(profile, spec, prec) is not None
    notes = kind_bias_note(ctx.calibration, profile.analysis, spec, prec) if lean and not probed else []
    if profile.analysis is None:
        return notes
    step = roofline.predict_step(profile.analysis, spec, max(1, per_gpu_batch), prec, ctx.calibration,
                                 compiled=compiled)
    return [*notes, *roofline.advice_notes(step, compiled=compiled, probed=probed)]


def _per_gpu_compute(profile: Profile, spec: GpuSpec, prec: str, source_dev: DeviceProfile | None,
                     ctx: EstimateContext, notes: list[str], job_batch: int, *, compiled: bool = False,
                     host_spread: list[float]) -> Callable[[int], gpu_job.GpuStepParts]:
    """One GPU's step at a per-GPU batch: this GPU's roofline carried by the probe of ``source_dev``
    (``ProbeCarry``; the probe itself on the same GPU), else the roofline alone; split into its parts by the roofline's
    phases on this GPU. ``compiled``: the job runs under torch.compile (``roofline`` models it). A roofline step
    that is host-bound at ``job_batch`` (the job's per-GPU batch), or that spends a share of it transposing
    channels-first 16-bit convolutions, adds a note saying so. A roofline step mostly host-bound adds, to
    ``host_spread``, the log half-width its machine's launch cost adds (``roofline.host_sigma``)."""
    from advisor.predictor import roofline

    analysis = profile.analysis
    cal = ctx.calibration
    if source_dev is None:
        if analysis is None:
            raise missing_analysis_error(spec.name, profile.notes)
        notes.append(f"predicted from the model's analysis and the {spec.name} datasheet "
                     f"(roofline, calibrated on published benchmarks).")

        model = roofline.StepModel(analysis, spec, prec, cal, compiled=compiled)
        notes.extend(n for n in (model.retype.note, *model.rate_notes) if n)  # an analysis at another precision
        notes.extend(roofline.advice_notes(step := model(job_batch), compiled=compiled))
        if (spread := roofline.host_sigma(step, cal.host_overlap_exponent)) >= HOST_NOTE_SIGMA:
            host_spread.append(spread)
            notes.append(host_launch_note(spread))

        def from_roofline(b: int) -> gpu_job.GpuStepParts:
            step = model(b)
            return gpu_job.step_parts_of(step.seconds, roofline.step_phases(step), analysis)

        return from_roofline

    source_fit = probes.device_fit(profile, source_dev.device, ctx)
    source_spec = _spec_of(source_dev, ctx)
    carry = probes.probe_carry(profile, source_dev.device, ctx)

    # One operator table for this GPU, priced at each batch asked (None: no analysis to split the step by).
    model = None if analysis is None else roofline.StepModel(analysis, spec, prec, cal, compiled=compiled)
    # The probe ran eagerly: a compiled job on the probed GPU is its steps x the compiled step over the eager one,
    # as on one GPU (``_measured_gpu``), so that two GPUs keep what torch.compile gives one.
    eager = roofline.StepModel(analysis, spec, prec, cal) if compiled and model is not None else None

    same_gpu = source_spec.name == spec.name and source_dev.precision == prec

    def from_probe(b: int) -> gpu_job.GpuStepParts:
        if same_gpu:
            step = None if model is None else model(b)  # priced once: the compile factor and the phases
            seconds = source_fit.compute_seconds(b)
            if eager is not None and carry is not None:
                seconds *= carry.seconds(step) / carry.seconds(eager(b))
            return gpu_job.step_parts_of(seconds, None if step is None else roofline.step_phases(step), analysis)
        # This GPU's roofline as the probe's workload and host run it: its two factors and its residual at the
        # ladder's top (``ProbeCarry``), not the probe's own noise at each batch.
        step = model(b)
        return gpu_job.step_parts_of(carry.seconds(step), roofline.step_phases(step), analysis)

    at = "" if source_dev.precision == prec else f", {source_dev.precision}"
    notes.append(f"scaled from the probe of {source_dev.device} ({source_spec.name}{at}).")
    if beyond := probes.beyond_launch_bound_note(profile, source_dev, job_batch, ctx):
        notes.append(beyond)
    if model is None:
        if not same_gpu:
            raise missing_analysis_error(f"{spec.name} (scaled from {source_spec.name})", profile.notes)
        return from_probe
    notes.extend(roofline.advice_notes(model(job_batch), compiled=compiled, probed=same_gpu))
    notes.extend([] if same_gpu else model.rate_notes)
    return from_probe


def estimate(profile: Profile, job: JobSpec, target: Target, *, precision: str | None = None,
             context: EstimateContext | None = None,
             machine_memory_gib: float | str | None = THIS_MACHINE, vcpus: int | None = None) -> Estimate:
    """The whole job's time on ``target`` from what ``profile`` holds (see the module docstring).

    ``machine_memory_gib`` (CPU targets): the memory of the machine the job runs on when it is not this one
    (a catalog instance), None when unknown; by default this machine's RAM (``--device cpu``).
    ``vcpus``: the host's vCPUs (a catalog offer's, ``--vcpus``), which the input pipeline runs on; None: this
    machine's for a device here, ``input_bound.DEFAULT_VCPUS_PER_GPU`` per GPU for another GPU (with a note).
    """
    ctx = context or EstimateContext.load()
    if target.kind == "cpu":
        est = estimate_cpu(profile, job, target, ctx, machine_memory_gib=machine_memory_gib, vcpus=vcpus)
        if precision not in (None, "mixed", est.precision):
            # A CPU runs the job as it was probed (fp32): a GPU precision keeps CPU candidates, with a note.
            note = (f"precision {precision} applies to GPUs: the CPU is predicted at {est.precision}, the "
                    "precision it was probed at and runs the job at.")
            est = est.model_copy(update={"notes": [note, *est.notes]})
        return est
    if target.count > job.batch_size:
        # Data parallelism splits each step's batch over the GPUs: a GPU without a sample does no work.
        # A batch as large as the dataset is the dataset, whatever --batch-size said (resolve_job caps it): the
        # reason says so, or a user who passed --batch-size 512 reads of a batch of 1 and is told to pass more.
        whole = job.batch_size >= job.dataset_size
        larger = (f"a --dataset-size of {target.count} or more (the batch is the whole dataset)"
                  if whole else f"a --batch-size of {target.count} or more")
        gpus = f"{job.batch_size} GPU" + ("" if job.batch_size == 1 else "s")
        raise PredictionError(f"batch size {job.batch_size} cannot be split over {target.count} GPUs: each GPU "
                              "needs at least one sample per step" + (
                                  ", and the batch is the whole dataset: a --batch-size larger than the dataset is "
                                  "capped to it." if whole else "."),
                              hint=f"Fix: {larger}, or at most {gpus} (predict's --gpus).")
    return estimate_gpu(profile, job, target, ctx, precision=precision, vcpus=vcpus)


def kept_model(job: JobSpec, target: Target, ctx: EstimateContext, *, precision: str | None = None,
               machine_memory_gib: float | str | None = THIS_MACHINE,
               vcpus: int | None = None) -> Callable[[JobSpec], Estimate] | None:
    """After ``estimate`` answered for ``job`` and ``target``: the job-shape model it kept in ``ctx`` (another job
    of the shape is ``model(job)``, the same estimate without the dispatch), or None where it keeps none (a GPU
    probed here, the CPU's analysis fallback, a CPU asked at a GPU precision, which adds a note)."""
    if target.kind == "gpu":
        on_host = ctx.gpu_hosts.get(_gpu_asked_key(job, target, precision, vcpus))
        return on_host.estimate if on_host is not None else None
    if precision not in (None, "mixed"):
        return None
    model = ctx.cpu_models.get(_cpu_model_key(job, target, machine_memory_gib, vcpus))
    return model.estimate if model is not None else None


# The keys of the models kept in the context: by how the job steps (its shape), not by its size.
def _cpu_model_key(job: JobSpec, target: Target, machine_memory_gib: float | str | None, vcpus: int | None) -> tuple:
    return target, machine_memory_gib, vcpus, job.shape


def _gpu_asked_key(job: JobSpec, target: Target, precision: str | None, vcpus: int | None) -> tuple:
    # the question as asked (the target's name unresolved): the same question again finds its model at once
    return target, precision, job.shape, vcpus


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
