"""Prediction on a device the probe measured: the fit of step time vs batch size, then the whole job.

``predict_measured`` is what ``advisor predict WORKLOAD ... --device cpu --json`` prints (method "measured"):
the probe measured this very device, so the job's time is the fitted step time at the job's batch size (that
batch size's measured level when it was probed) times the steps, the smaller last batch from the fit, plus the
probe's measured start-up (model build and warm-up steps beyond the steady state).

Asking for a different CPU thread count than the probe used scales the compute part with
``advisor.predictor.cpu_scaling.scale_compute_seconds`` and makes the method "scaled".

Uncertainty (see ``advisor.predictor.job``): the systematic part is the fit's own (standard error of the
measured level, the ladder's scatter around the line for unmeasured sizes, extrapolation) plus a run-to-run
floor, because a fresh process on the same machine does not run at exactly the probe's speed (allocator
and cache state, frequency scaling, other processes). On a busy machine that floor grows with the probe's
per-step spread (``CONTENTION_SHARE``) at the job's batch size (``StepTimeFit.spread_at``: never less than the
ladder's median): the CPU share a process gets drifts over a job as it did over the probe; where the probe raised
its priority over others' runnable tasks, its windows do not show that drift, and the busy-raised jobs' own floor
is added (``advisor.predictor.raised_load``). The per-step noise itself averages out over the job's steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from advisor.errors import PredictionError
from advisor.hardware.process_memory import limit_note, process_memory
from advisor.predictor.busy_here import busy_here_notes, unrecorded_load_notes
from advisor.predictor.carried_notes import carried_notes
from advisor.predictor.caveats import OUTSIDE_MEASURED_RANGE
from advisor.predictor.compile_time import CompileCosts, compile_costs
from advisor.predictor.cpu_scaling import CpuScaling, at_device_threads, fraction_fields
from advisor.predictor.evaluation import Evaluation
from advisor.predictor.fit import StepTimeFit, fit_memory, fit_step_time
from advisor.predictor.fp64 import priced_precision
from advisor.predictor.input_bound import HostModel, StepParts, cpu_host, estimate_fields, host_rel_sigma
from advisor.predictor.job import JobTime, ShapeSteps, accumulated_step, forward_share
from advisor.predictor.job_length import long_job_notes
from advisor.predictor.memory import memory_from_probe
from advisor.predictor.page_faults import page_fault_sigma
from advisor.predictor.raised_load import raised_load_sigma
from advisor.predictor.sharded import own_gpu_notes
from advisor.predictor.subnormal import SubnormalSlowdown
from advisor.schemas import CpuSpec, DeviceProfile, Estimate, JobSpec, Measurement, Profile, Target, updated
from advisor.schemas.base import USABLE_MEMORY_FRACTION  # share of a probed device's memory a job may use
from advisor.schemas.spread import shapes_vary, steps_vary_on_their_own
from advisor.schemas.state_growth import GROWN_SPREAD_NOTE

# Relative variation of a whole job's step level against the probe's, between processes on the same device,
# beyond what one probe's samples show (a floor for the systematic sigma). Shared CPUs vary more than dedicated
# GPUs. On a CPU the C allocator's state alone moves an allocation-heavy step by 10-30% between processes
# (glibc's dynamic mmap/trim thresholds: a conv net measured 110-170 ms CPU time at one batch size, with 0 vs
# ~25k page faults per step, depending on what the process allocated before), and a shared VM's speed drifts
# on a scale of seconds: the probe times a few seconds at the job's batch size, the job averages minutes. The
# CPU figure is what bench/accuracy_cpu.py measured on idle 2-vCPU VMs (bench/README.md, "CPU accuracy under
# load"): over 25 idle jobs on 2026-11-29/30 the probe's prediction missed the real run by an RMS log error of
# 0.126 (the same job rerun unchanged: 0.074 per run), and an 80% interval built on 0.08 held 17 of 25. The GPU
# figure is the RMS log error of a probed GPU's whole job (steps and start-up) against the real job over the eight
# eager jobs of the stored H200 runs (bench/accuracy_gpu_real.py ``measured_job_rms``: 0.109; BERT, GPT-2,
# ResNet-50 and a tiny LM, whose steps are partly host time: eager launches, ``make_batch``). Read off the steps
# alone it is 0.095 (``measured_step_rms``; 0.107 over the first six), under which the whole-job intervals would
# hold 5 of the 8: the start-up swings between processes more than the steps. 0.03 before session 42, under which
# whole-job intervals held 1 of the 5 jobs of runs 5 and 6.
RUN_TO_RUN_REL = {"cpu": 0.12, "gpu": 0.11}
# On a busy machine the share of the CPU this process gets drifts over a job's minutes as it did across the
# probe's steps: the job's level moves by about this fraction of the probe's per-step (robust) spread too.
CONTENTION_SHARE = 0.5
# Per-step spread above which the notes say the machine looked busy during the probe.
BUSY_SPREAD = 0.15


def select_device(profile: Profile, device: str) -> DeviceProfile:
    """The profiled device for ``device`` ("cpu", "cuda:0", or "gpu"/"cuda" for the first GPU)."""
    wanted = device.strip().lower()
    found: DeviceProfile | None = None
    if wanted in ("gpu", "cuda"):
        found = next((d for d in profile.devices if d.kind == "gpu"), None)
    else:
        found = profile.device(wanted)
        if found is None and wanted == "cuda":
            found = profile.device("cuda:0")
    if found is None:
        have = ", ".join(d.device for d in profile.devices) or "none"
        kind = "cpu" if wanted == "cpu" else wanted
        raise PredictionError(
            f"the profile has no {kind} measurements (profiled devices: {have}).",
            hint=f"Fix: re-run `advisor profile` with --device {kind}, or predict for a profiled device.",
        )
    return found


def _host_memory_gib(profile: Profile) -> float | None:
    if profile.host is not None and profile.host.cpu.memory_gib:
        return float(profile.host.cpu.memory_gib)
    total = process_memory().total  # what this process may hold: a container's limit, not the host's RAM
    return None if math.isinf(total.bytes) else total.gib


# ``predict_measured(machine_memory_gib=...)``: the device's own memory (the probed machine's RAM for a CPU).
THIS_MACHINE = "this machine"


def _memory(dev: DeviceProfile, profile: Profile, batch_size: int,
            machine_memory_gib: float | str | None = THIS_MACHINE,
            memo: dict | None = None) -> tuple[float | None, float | None, int | None, list[str]]:
    """(peak GiB at the batch, capacity GiB, largest batch that fits, notes). ``machine_memory_gib`` is the
    memory of the machine the job runs on when that is not the probed one (a CPU instance from the catalog);
    None when it is not known, and then nothing is judged against this machine's RAM."""
    notes: list[str] = []
    if machine_memory_gib == THIS_MACHINE:
        capacity = dev.memory_gib if dev.memory_gib else (_host_memory_gib(profile) if dev.kind == "cpu" else None)
        if dev.kind == "cpu" and dev.memory_limit and capacity:
            notes.append(limit_note(capacity, dev.memory_limit))
    else:
        capacity = float(machine_memory_gib) if machine_memory_gib else None
        if capacity is None:
            notes.append("the target machine's memory is not known: memory fit not checked.")
    mem = memoised(memo, ("memory fit", dev.device), lambda: fit_memory(dev.measurements))
    peak = None
    max_batch = None
    if mem is not None:
        fixed, per_sample = mem
        measured = {m.batch_size: m.peak_memory_gib for m in dev.measurements
                    if not m.oom and m.peak_memory_gib is not None}
        peak = measured.get(batch_size, fixed + per_sample * batch_size)
        if capacity and per_sample > 0:
            max_batch = max(int(math.floor((capacity * USABLE_MEMORY_FRACTION - fixed) / per_sample)), 0)
    if _probe_oom_applies(dev, capacity, machine_memory_gib):
        below = dev.oom_batch_size - 1
        max_batch = below if max_batch is None else min(max_batch, below)
        if dev.largest_batch_size is not None:
            max_batch = max(max_batch, dev.largest_batch_size)
    if max_batch is not None and max_batch <= 0:
        max_batch = None
    if dev.kind == "cpu" and peak is not None:
        notes.append("CPU peak memory: the process's RSS growth in the probe (off Linux sampled, a lower bound).")
    return peak, capacity, max_batch, notes


def _probe_oom_applies(dev: DeviceProfile, capacity: float | None, machine_memory_gib: float | str | None) -> bool:
    """Whether a batch that ran out of memory in the probe also runs out on the target machine: on the probed
    machine, or on one with no more memory than it (a machine with more memory is judged by the peak alone)."""
    if dev.oom_batch_size is None:
        return False
    if machine_memory_gib == THIS_MACHINE:
        return True
    return capacity is not None and dev.memory_gib is not None and capacity <= dev.memory_gib


def _target(dev: DeviceProfile, threads: int | None) -> Target:
    if dev.kind == "cpu":
        return Target.cpu(threads=threads if threads is not None else dev.threads)
    return Target.gpu(dev.spec_name or dev.name, 1)


def _systematic_sigma(fit: StepTimeFit, job: JobSpec, kind: str, extra_rel: float = 0.0) -> float:
    """Systematic relative sigma of the job's step total: the full and the last batch weighted by time."""
    fit_u = fit.job_uncertainty(job.batch_size, job.last_batch_size, job.steps_per_epoch - 1)
    # The spread of the size the job's level is read from (the user's), where it is wider than the ladder's median
    run_to_run = math.hypot(RUN_TO_RUN_REL.get(kind, 0.05), CONTENTION_SHARE * fit.spread_at(job.batch_size))
    return math.sqrt(fit_u ** 2 + run_to_run ** 2 + extra_rel ** 2)


def predict_measured(profile: Profile, job: JobSpec, **options: Any) -> Estimate:
    """The whole job's time on a device the profile measured: ``measured_model(profile, job, **options)``'s
    estimate of ``job`` (the options are ``measured_model``'s)."""
    return measured_model(profile, job, **options).estimate(job)


class MeasuredModel:
    """A measured device's model of one job shape (its batch size and how it steps) on one target: all that no
    dataset size or epoch count changes. ``estimate(job)`` adds the epoch's last batch, the interval and the sums,
    so a caller asked about many sizes of one job (a server) keeps the model (``estimate.estimate_cpu``)."""

    def __init__(self, *, fit: StepTimeFit, kind: str, compute_at: Callable[[int], float],
                 batch_at: Callable[[int], float], evaluation: Evaluation, startup_seconds: float,
                 per_epoch_seconds: float, extra_rel: float, head_notes: list[str], tail_notes: list[str],
                 fields: dict, recompile_seconds: float = 0.0, subnormal: SubnormalSlowdown | None = None,
                 compile_costs: CompileCosts | None = None) -> None:
        self.fit, self.kind, self.extra_rel, self.fields = fit, kind, extra_rel, fields
        self.subnormal = subnormal  # a CPU's optimizer state turning subnormal part-way (measured)
        self.recompile_seconds = recompile_seconds  # once, for a smaller last batch (torch.compile)
        self.compile_costs = compile_costs  # whose note each job of the shape says for itself
        self.evaluation = evaluation  # an evaluation batch: made (and copied) as a training step's, its forward
        self.startup_seconds, self.per_epoch_seconds = startup_seconds, per_epoch_seconds
        self.head_notes, self.tail_notes = head_notes, tail_notes
        self._first: Estimate | None = None  # the first estimate, which later ones copy
        self._compute_at, self._batch_at = compute_at, batch_at  # compute and batch creation at a batch size
        self._steps: ShapeSteps | None = None  # made with the first job (its batch size: the shape's)

    def naming(self, target: Target) -> MeasuredModel:
        """This model, its estimates naming ``target`` (a catalog instance's CPU family, which the probed
        device's target does not name)."""
        self.fields, self._first = {**self.fields, "target": target}, None
        return self

    def estimate(self, job: JobSpec) -> Estimate:
        """The whole job (of the shape this model was made for)."""
        sigma = _systematic_sigma(self.fit, job, self.kind, self.extra_rel)
        if self._steps is None:
            self._steps = ShapeSteps(self._compute_at, self._batch_at, job.batch_size)
        drift = self.subnormal
        late = drift.seconds(job) if drift else 0.0
        jt: JobTime = self._steps.job_time(
            job, startup_seconds=self.startup_seconds + self.evaluation.startup_seconds(job), rel_sigma=sigma,
            per_epoch_seconds=self.per_epoch_seconds, step_noise_rel=self.fit.spread_rel,
            eval_seconds=self.evaluation.seconds(job),
            recompile_seconds=self.recompile_seconds, subnormal_seconds=late)
        device = self.fields["source_device"]
        job_notes = [_last_batch_note(self.fit, job), self.evaluation.note(job), *([drift.note(
            job, late, jt.seconds, device), drift.untimed_note(job, device)] if drift else [])]
        fields = {**jt.estimate_fields(job, compiled=job.compiled and self.kind == "gpu"),  # a CPU's is eager
                  "notes": [*self.head_notes, *filter(None, job_notes), *(self.compile_costs.in_notes(
                      self.tail_notes, job) if self.compile_costs is not None else self.tail_notes),
                      *long_job_notes(jt.seconds)]}
        if self._first is None:
            self._first = Estimate(**fields, **self.fields)
            return self._first
        # The fields no job changes are validated once, in the first estimate; another job's copies it.
        return updated(self._first, fields)


def measured_model(
    profile: Profile,
    job: JobSpec,
    *,
    device: str = "cpu",
    threads: int | None = None,
    startup_seconds: float | None = None,
    per_epoch_seconds: float = 0.0,
    target_cpu: CpuSpec | None = None,
    local_cpu: CpuSpec | None = None,
    fit: StepTimeFit | None = None,
    machine_memory_gib: float | str | None = THIS_MACHINE,
    host: HostModel | None = None,
    optimizer_seconds: float | None = None,
    memo: dict | None = None,
    compiled_factor: float | None = None,
) -> MeasuredModel:
    """A measured device's model of ``job``'s shape; its ``estimate(job)`` is the whole job's time, and that of
    any other dataset size or epoch count of the same shape (``predict_measured`` is both at once).

    Args:
        profile: a probe's profile.
        job: dataset size, epochs, batch size.
        device: "cpu", "cuda:0", ... (or "gpu" for the first profiled GPU).
        threads: CPU threads for the job; None or the probed count = as probed ("measured"); another count
            scales the compute with ``advisor.predictor.cpu_scaling`` ("scaled").
        fit: this device's step-time fit, when the caller already has it.
        target_cpu, local_cpu: another CPU family to scale to (``profiles/cpus.csv``), and this one's.
        startup_seconds: one-off time before the first step; None = the probe's measured start-up (model
            build + warm-up beyond steady state). Add instance boot and set-up when pricing a cloud machine.
        per_epoch_seconds: once per epoch beyond a DataLoader's restart (``host`` adds that one).
        machine_memory_gib: the memory of the machine the job runs on, GiB, when it is another one than the
            probed (a CPU instance of another size); None = not known (fit not judged). Default: the probed
            device's own memory.
        host: the host side (``input_bound``): a dataloader replaces the probe's make_batch time, else that
            time stands, split into its parts. None: a CPU's default (this machine's pipeline at ``threads``).
        optimizer_seconds: a step's optimizer part (run once per ``job.grad_accum_steps``); None: see ``_job_steps``.
        memo: the caller's per-profile cache (``estimate.EstimateContext.memo``): the memory fit and the CPU
            scaling factors, which do not depend on the job, are computed once for all the targets priced.
        compiled_factor: a compiled job on a GPU probed eagerly: its compute steps x this (the analysis'
            compiled step over its eager one); None: priced eager, with a note.
    Raises:
        PredictionError: the profile has no usable measurements for the device.
    """
    dev = select_device(profile, device)
    usable = _usable_measurements(dev, threads)  # scaled once per profile (it may hold thousands of points)
    busy = memoised(memo, ("at device threads", dev.device), lambda: at_device_threads(dev, usable))
    fit = fit if fit is not None else fit_step_time(busy.measurements)  # callers pricing many targets pass it
    notes: list[str] = list(fit.notes) + carried_notes(profile.notes, dev.device)  # its own, the workload's
    notes += [busy.note] if busy.note else []
    factor, extra_rel, threads, fraction = _cpu_scaling(dev, threads, target_cpu, local_cpu, notes, memo)
    extra_rel = math.hypot(extra_rel, busy.relative_uncertainty, raised_load_sigma(usable),  # raised beside others
                           page_fault_sigma(dev, b := job.batch_size, notes, profile.host))  # the probed OS's fix
    method, factor = ("measured", 1.0) if factor is None else ("scaled", factor)
    _batch_notes(fit, job, dev, notes)
    notes += busy_here_notes(dev, threads, here=machine_memory_gib == THIS_MACHINE) + unrecorded_load_notes(dev, notes)
    tail: list[str] = [_spread_note(fit, usable, profile, dev)] if fit.spread_rel > BUSY_SPREAD else []
    startup = dev.startup_seconds if startup_seconds is None else float(startup_seconds)
    recompile, eval_compile, costs = 0.0, 0.0, None
    if job.compiled and dev.kind == "gpu":
        costs = compile_costs(profile.analysis)
        startup, recompile, eval_compile = startup + costs.first_seconds, costs.recompile_seconds, costs.eval_seconds
        tail.append(costs.note(job))
    compiled = compiled_factor if job.compiled and dev.kind == "gpu" else None
    compute_at, eval_forward = _job_steps(profile, dev, job, _scaled(fit.compute_seconds, factor * (compiled or 1.0)),
                                          factor, optimizer_seconds, tail, compiled)
    host = host if host is not None else _default_host(profile, dev, threads)
    if host is not None:  # a DataLoader's workers starting: each epoch, or once where they persist
        startup, per_epoch_seconds = startup + host.once_restart_seconds, per_epoch_seconds + host.epoch_restart_seconds
    batch_at, parts, extra_rel = _host_side(host, b, compute_at, fit, tail, extra_rel)
    peak, capacity, max_batch, fits = _judged_memory(dev, profile, job, machine_memory_gib, memo, tail)
    fields = dict(target=_target(dev, threads), fits_memory=fits, peak_memory_gib=peak, memory_capacity_gib=capacity,
                  max_batch_size_per_device=max_batch, per_device_batch_size=b, method=method, source_device=dev.device,
                  precision=priced_precision(profile.analysis, dev.precision), **fraction_fields(busy, fraction),
                  **(estimate_fields(host, parts) if host is not None else {}))
    return MeasuredModel(fit=fit, kind=dev.kind, compute_at=compute_at, batch_at=batch_at, startup_seconds=startup,
                         evaluation=Evaluation.of(job, host, eval_forward, fit.batch_seconds, eval_compile),
                         extra_rel=extra_rel, per_epoch_seconds=per_epoch_seconds, head_notes=notes, tail_notes=tail,
                         fields=fields, recompile_seconds=recompile, compile_costs=costs,
                         subnormal=SubnormalSlowdown.of(dev, _scaled(fit.compute_seconds, factor)))


def _judged_memory(dev: DeviceProfile, profile: Profile, job: JobSpec, machine_memory_gib: float | str | None,
                   memo: dict | None, notes: list[str]) -> tuple[float | None, float | None, int | None, bool]:
    """(peak GiB, capacity GiB, largest batch, fits) of the ``job``'s batch on the probed device. A GPU here that
    recorded its memory is judged and told as every GPU priced from its probe is (``memory_from_probe``,
    ``own_gpu_notes``: the measured line, workspace, CUDA context, against its reported memory): one need."""
    if (dev.kind == "gpu" and machine_memory_gib == THIS_MACHINE and dev.memory_gib
            and any(m.peak_memory_gib is not None and not m.oom for m in dev.measurements)):
        mem = memory_from_probe(dev, job.batch_size, dev.memory_gib, profile.analysis)
        notes.extend(own_gpu_notes(mem, job))
        return mem.peak_memory_gib, mem.capacity_gib, mem.max_batch_per_device, mem.fits_memory
    peak, capacity, max_batch, mem_notes = _memory(dev, profile, job.batch_size, machine_memory_gib, memo)
    notes.extend(mem_notes)
    oom_applies = _probe_oom_applies(dev, capacity, machine_memory_gib)
    return peak, capacity, max_batch, _fits(dev, job.batch_size, peak, capacity, notes, oom_applies=oom_applies)


def optimizer_seconds_on_cpu(profile: Profile, dev: DeviceProfile) -> float:
    """The optimizer update's seconds on this CPU: the analysis' optimizer bytes (memory-bound: Adam reads and
    writes weights, gradients and its state) over the memory bandwidth the probe measured here (one thread's,
    timed by that thread's CPU time). 0 without the analysis or the measurement (a profile from before every CPU
    probe timed it): then accumulation saves nothing, an upper bound on the job's time, and the note says so."""
    analysis, peak = profile.analysis, dev.cpu_peak
    if analysis is None or peak is None:
        return 0.0
    nbytes = sum(op.count * op.bytes[0] for op in analysis.ops if op.phase == "optimizer")
    return nbytes / peak.memory_bytes_per_second


def _job_steps(profile: Profile, dev: DeviceProfile, job: JobSpec, plain_at: Callable[[int], float], factor: float,
               optimizer_seconds: float | None, notes: list[str],
               compiled: float | None = None) -> tuple[Callable[[int], float], float]:
    """(a micro-step's compute at a batch size, an evaluation batch's forward pass): the optimizer
    (``optimizer_seconds``, else on a CPU from the analysis' bytes, ``optimizer_seconds_on_cpu``; 0 on a GPU) once
    per ``job.grad_accum_steps``; notes on what a measured device does not model."""
    if optimizer_seconds is None:
        optimizer_seconds = optimizer_seconds_on_cpu(profile, dev) * factor if dev.kind == "cpu" else 0.0
    b = job.batch_size
    opt = min(optimizer_seconds, 0.5 * plain_at(b))  # an estimate from bytes: never most of a measured step
    eval_forward = max(plain_at(b) - opt, 0.0) * forward_share(profile.analysis)
    if job.compiled and compiled is not None:
        notes.append(f"COMPILE: the probe ran the step eagerly; compiled steps are its steps x {compiled:.2f} (the "
                     "analysis' compiled step over its eager one, as this GPU and host ran the probe's).")
    elif job.compiled:
        what = "its speed-up is" if dev.kind == "gpu" else "torch.compile is"  # a GPU's compile time is modelled
        notes.append(f"COMPILE: {what} not modelled on a measured {dev.kind.upper()} (the probe ran the step "
                     "eagerly): predicted as eager PyTorch.")
    if job.grad_accum_steps == 1:
        return plain_at, eval_forward
    if opt > 0:
        notes.append(f"gradient accumulation: {job.grad_accum_steps} micro-steps per optimizer step; the optimizer "
                     f"({opt * 1e3:.3g} ms of a step) runs once per optimizer step.")
    else:  # "0 ms of a step" read as a measurement; it is what was not measured
        notes.append(f"gradient accumulation: {job.grad_accum_steps} micro-steps per optimizer step; the "
                     f"optimizer's share of a {dev.kind.upper()} step was not measured here, so every micro-step is "
                     "priced with it: an upper bound, by that share.")
    return (lambda n: accumulated_step(plain_at(n), opt, job.grad_accum_steps)), eval_forward


def _default_host(profile: Profile, dev: DeviceProfile, threads: int | None) -> HostModel | None:
    """A CPU's host side when the caller gives none: this machine's input pipeline at the job's threads."""
    if dev.kind != "cpu":
        return None
    return cpu_host(profile.input_pipeline, threads or dev.threads or 1)


def _scaled(seconds_at: Callable[[int], float], factor: float) -> Callable[[int], float]:
    return lambda n: seconds_at(n) * factor


def _host_side(host: HostModel | None, b: int, compute_at: Callable[[int], float], fit: StepTimeFit,
               notes: list[str], extra_rel: float) -> tuple[Callable[[int], float], StepParts | None, float]:
    """(batch creation at a batch size, the step's parts at ``b``, the relative sigma with the host side's):
    the modelled loader for a dataloader pipeline, else the probe's measured batch creation (make_batch +
    copy), split into its parts. The host's notes are added to ``notes``."""
    if host is None:
        return fit.batch_seconds, None, extra_rel
    notes.extend(host.notes)
    if host.source == "dataloader":
        parts = host.parts(b, compute_at(b))
        return (lambda n: host.parts(n, compute_at(n)).host_seconds), parts, \
            math.hypot(extra_rel, host_rel_sigma(parts))
    return fit.batch_seconds, host.split_measured(b, compute_at(b), fit.batch_seconds(b)), extra_rel


def _usable_measurements(dev: DeviceProfile, threads: int | None) -> list[Measurement]:
    """The device's measurements that carry a step time; PredictionError when none do, or when ``threads``
    is asked of a GPU."""
    usable = [m for m in dev.measurements if not m.oom and (m.compute_seconds or m.compute_seconds_samples)]
    if not usable:
        raise PredictionError(
            f"the profile has no usable {dev.device} measurements (every batch size ran out of memory or "
            "recorded no time).",
            hint=f"Fix: re-run `advisor profile` with --device {dev.kind} and smaller --batch-sizes.",
        )
    if dev.kind != "cpu" and threads is not None:
        raise PredictionError(
            f"--threads applies to CPU targets, not {dev.device}.",
            hint="Fix: drop --threads, or predict with --device cpu.",
        )
    return usable


def _cpu_scaling(dev: DeviceProfile, threads: int | None, target_cpu: CpuSpec | None, local_cpu: CpuSpec | None,
                 notes: list[str], memo: dict | None = None
                 ) -> tuple[float | None, float, int | None, CpuScaling | None]:
    """(compute factor, its relative sigma, threads, the ``CpuScaling`` or None) to another thread count or CPU
    family than the probe's; the factor is None when the job runs as probed."""
    other_cpu = target_cpu is not None and (local_cpu is None or target_cpu.name != local_cpu.name)
    if dev.kind != "cpu" or not (other_cpu or (threads is not None and dev.threads is not None
                                               and threads != dev.threads)):
        return None, 0.0, threads, None
    from advisor.predictor.cpu_scaling import scale_compute_seconds

    threads = threads if threads is not None else dev.threads
    key = ("cpu scaling", dev.device, threads, target_cpu.name if target_cpu else None,
           local_cpu.name if local_cpu else None)
    scaling = memoised(memo, key, lambda: scale_compute_seconds(dev, threads, target_cpu=target_cpu,
                                                                  local_cpu=local_cpu))
    factor = float(scaling.factor)
    notes.extend(scaling.notes)
    notes.append(f"compute scaled from the probe's {dev.threads} threads to {threads} (x{factor:.3g}).")
    return factor, float(scaling.relative_uncertainty), threads, scaling


def memoised(memo: dict | None, key: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()``, kept in ``memo`` (the caller's per-profile cache) under ``key`` when there is one."""
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _batch_notes(fit: StepTimeFit, job: JobSpec, dev: DeviceProfile, notes: list[str]) -> None:
    """Say whether the job's batch size was measured, interpolated or extrapolated, and which ones the probe's
    budget let it time (the epoch's last batch: ``_last_batch_note``; a busy probe: ``_BUSY_NOTE``)."""
    from advisor.predictor.cpu_roofline import ladder_note

    b, device = job.batch_size, dev.device
    budget_note = ladder_note(dev, b)  # None when the probe timed the ladder it planned
    if budget_note:
        notes.append(budget_note)
    if fit.is_measured(b):
        notes.append(f"batch size {b} was measured on {device}; full steps use its measured level.")
    elif fit.in_range(b):
        notes.append(f"batch size {b} was not measured; interpolated between measured sizes "
                     f"{fit.min_batch}-{fit.max_batch}.")
    else:
        notes.append(f"batch size {b} {OUTSIDE_MEASURED_RANGE} {fit.min_batch}-{fit.max_batch}; "
                     f"extrapolated along {fit.extrapolation}, with a wider interval.")


def _last_batch_note(fit: StepTimeFit, job: JobSpec) -> str | None:
    last = job.last_batch_size
    if last != job.batch_size and not fit.in_range(last):
        return f"the epoch's last batch ({last}) {OUTSIDE_MEASURED_RANGE}; extrapolated."
    return None


_BUSY_NOTE = ("step times varied by {spread:.0%} (robust sd) during the probe: other processes were probably "
              "competing for the device; the interval is wider. Probe on a quiet machine for a tighter estimate.")
_OWN_SPREAD_NOTE = ("step times varied by {spread:.0%} (robust sd) during the probe, more than the other processes "
                    "measured using the CPU while they ran explain: the steps themselves vary in cost (batches that "
                    "vary in shape, such as a random sequence length, or the machine's own jitter), so the interval "
                    "is wider and probing on a quiet machine would not narrow it.")


def _spread_note(fit: StepTimeFit, measurements: list[Measurement], profile: Profile, dev: DeviceProfile) -> str:
    """The wide spread's note: the model's state grew at every step (``schemas.state_growth``); else blamed on the
    steps themselves only on positive evidence (a quiet window, or make_batch's shapes varied between calls) where
    the others' measured share of the CPU could not have made it (``advisor.schemas.spread``); else on others."""
    cores = profile.host.cpu.logical_cores if profile.host else dev.threads
    own = steps_vary_on_their_own(measurements, batch_shapes_vary=shapes_vary(profile.notes), cores=cores)
    return (GROWN_SPREAD_NOTE if dev.state_growth else _OWN_SPREAD_NOTE if own else _BUSY_NOTE).format(
        spread=fit.spread_rel)


def _fits(dev: DeviceProfile, batch_size: int, peak: float | None, capacity: float | None,
          notes: list[str], *, oom_applies: bool = True) -> bool:
    """Whether ``batch_size`` fits the device: not at or above a batch that ran out of memory (where that
    probe's limit applies), and the predicted peak within ``USABLE_MEMORY_FRACTION`` of the memory."""
    if oom_applies and dev.oom_batch_size is not None and batch_size >= dev.oom_batch_size:
        notes.append(f"batch size {batch_size} ran out of memory in the probe (smallest failing: "
                     f"{dev.oom_batch_size}).")
        return False
    if peak is not None and capacity:
        from advisor.predictor.memory import headroom_tight_note

        fits = peak <= capacity * USABLE_MEMORY_FRACTION
        if not fits:
            notes.append(f"predicted peak memory {peak:.2f} GiB exceeds {USABLE_MEMORY_FRACTION:.0%} of "
                         f"{capacity:.1f} GiB.")
        notes.extend(filter(None, [headroom_tight_note(peak, capacity, batch_size)]))
        return fits
    return True
