"""The CPU's own roofline: a training step's time on this machine's CPU from the model's analysis and this
machine's measured op rates, for a CPU that could not time one step of the model within the probe's budget
(or only one batch size, far below the job's).

A model that obviously belongs on a GPU (GPT-2 124M, ResNet-50 at batch 1024) can take minutes a step on a
2-core CPU. ``advisor recommend`` must still answer, and quickly, so the probe skips every point whose
warm-up and two timed steps would not fit its budget (``advisor.probe.ladder``), and when none fits, the CPU
estimate comes from here (method "scaled", with a note saying so); when one small batch size fit, its steps
calibrate the roofline, which then scales it to the job's batch size operator by operator.

Per operator of the analysed step (FLOPs and bytes extrapolated to the batch size from the analysis' two
batch sizes), on one thread::

    t_op = max(flops / (F x COMPUTE_EFFICIENCY), bytes / (W x MEMORY_EFFICIENCY))
    step(b, T threads) = sum of t_op x count  x  amdahl(p, T)

with ``F`` and ``W`` the float32 matmul FLOP/s and the elementwise bytes/s one thread of this CPU reached in
the probe's small op mix (``DeviceProfile.cpu_peak``, ``advisor.probe.cpu_peak``), and ``p`` the parallel
fraction (``cpu_scaling.DEFAULT_PARALLEL_FRACTION``, as for any CPU scaled without a thread-scaling fit).
Matmuls, convolutions and attention are priced at the matmul rate; everything else streams memory.

The efficiencies were fitted on this project's 2-core AMD EPYC (Zen 4) VM (op mix: 90-103 GFLOP/s, 23-29 GB/s
a thread) against the median one-thread CPU-time step of five small workloads at two batch sizes each
(examples/small_cnn.py, tabular_mlp.py, tiny_transformer_lm.py, bench/workloads/conv1d_audio.py, wide_mlp.py):
root-mean-square log error 0.13, every point within x/÷ 1.25; a per-operator dispatch term fitted to zero. Held
out: ResNet-50 at batch 2 and 4 (0.72 s, 1.45 s measured) predicted 1.20x and 1.11x, GPT-2 124M at batch 1
(11.4 s) 1.15x. Where the probe did time steps of the model, ``efficiency_from_measurements`` replaces them
with what those steps say.

The interval is wide (``ROOFLINE_REL_SIGMA``): per-model efficiency on a CPU varies more than on a GPU (oneDNN
convolution algorithms, cache-resident small layers, allocator behaviour), and nothing of this model was timed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from advisor.hardware.process_memory import limit_note
from advisor.predictor.carried_notes import carried_notes
from advisor.predictor.cpu_scaling import DEFAULT_PARALLEL_FRACTION, amdahl_fraction, scale_compute_seconds
from advisor.predictor.evaluation import Evaluation
from advisor.predictor.fp64 import priced_precision
from advisor.predictor.job import Z80, accumulated_step, assemble_job
from advisor.predictor.job_length import long_job_notes
from advisor.schemas import Analysis, CpuSpec, DeviceProfile, Estimate, JobSpec, Measurement, Profile, Target, at_batch
from advisor.schemas.base import MAX_COUNT
from advisor.schemas.profile import CpuPeak
from advisor.units import format_duration

COMPUTE_KINDS = ("matmul", "conv")  # the analysis counts attention as "matmul"
COMPUTE_EFFICIENCY = 0.78  # share of the op mix's matmul rate a training step's matmuls/convolutions reach
MEMORY_EFFICIENCY = 0.4  # share of the op mix's streaming rate the other operators reach (small, strided ops)
# Log-sigma of an estimate from the roofline alone: an 80% interval of x/÷ 1.57, wider than the fit's scatter
# (0.13) because another CPU's caches and kernels, and the thread scaling assumed, were not part of the fit.
ROOFLINE_REL_SIGMA = 0.35
CALIBRATED_REL_SIGMA = 0.2  # ... with the efficiency taken from this model's own timed steps
ROOFLINE_BEYOND = 2.0  # one timed batch size this many times below the job's: the roofline scales it
EFFICIENCY_RANGE = (0.05, 5.0)  # a calibration outside this says more about the timing than the model


@dataclass(frozen=True)
class CpuStep:
    """One step's compute on this CPU, priced by the roofline, and what it is made of (seconds, one thread)."""

    seconds: float  # at the thread count asked for
    compute_bound_seconds: float  # one thread: operators limited by FLOPs
    memory_bound_seconds: float  # one thread: operators limited by bytes
    threads: int
    batch_size: int
    # The shares of the step its optimizer update and its forward pass take (gradient accumulation runs the one
    # once per optimizer step; an evaluation batch runs the other alone).
    optimizer_share: float = 0.0
    forward_share: float = 0.0


def step_seconds(analysis: Analysis, peak: CpuPeak, batch_size: int, threads: int = 1, *,
                 parallel_fraction: float = DEFAULT_PARALLEL_FRACTION, efficiency: float = 1.0) -> CpuStep:
    """The compute of one training step at ``batch_size`` on ``threads`` threads of the CPU ``peak`` measured.

    ``efficiency`` divides the whole step: 1.0 is the roofline as calibrated (``COMPUTE_EFFICIENCY``,
    ``MEMORY_EFFICIENCY``), a calibration from timed steps of this model replaces it (see
    ``efficiency_from_measurements``).
    """
    flops_rate = peak.matmul_flops_per_second * COMPUTE_EFFICIENCY / peak.threads
    bytes_rate = peak.memory_bytes_per_second * MEMORY_EFFICIENCY / peak.threads
    compute = memory = 0.0
    phases = {"forward": 0.0, "backward": 0.0, "optimizer": 0.0}
    for op in analysis.ops:
        flops = at_batch(op.flops, analysis.batch_sizes, batch_size)
        nbytes = at_batch(op.bytes, analysis.batch_sizes, batch_size)
        t_bytes = nbytes / bytes_rate
        t_flops = flops / flops_rate if op.kind in COMPUTE_KINDS else 0.0
        if t_flops >= t_bytes and t_flops > 0:
            compute += op.count * t_flops
        else:
            memory += op.count * t_bytes
        phases[op.phase] += op.count * max(t_flops, t_bytes)
    one_thread = (compute + memory) / efficiency
    seconds = one_thread * amdahl_fraction(parallel_fraction, threads)
    total = compute + memory
    return CpuStep(seconds=seconds, compute_bound_seconds=compute, memory_bound_seconds=memory, threads=threads,
                   batch_size=batch_size, optimizer_share=phases["optimizer"] / total if total > 0 else 0.0,
                   forward_share=phases["forward"] / total if total > 0 else 0.0)


def efficiency_from_measurements(analysis: Analysis, peak: CpuPeak, measurements: list[Measurement],
                                 threads: int, parallel_fraction: float = DEFAULT_PARALLEL_FRACTION) -> float | None:
    """The roofline's time over the measured compute time, as a geometric mean over the timed batch sizes
    (each at its own thread count, else ``threads``): > 1 when this model ran faster here than the roofline
    says. None without a usable measurement, or when the ratio is implausible (``EFFICIENCY_RANGE``)."""
    logs = []
    for m in measurements:
        if m.oom or not m.compute_seconds:
            continue
        t = m.threads or threads
        priced = step_seconds(analysis, peak, m.batch_size, t, parallel_fraction=parallel_fraction).seconds
        if priced > 0:
            logs.append(math.log(priced / m.compute_seconds))
    if not logs:
        return None
    eff = math.exp(sum(logs) / len(logs))
    low, high = EFFICIENCY_RANGE
    return eff if low <= eff <= high else None


def cpu_fallback_estimate(profile: Profile, job: JobSpec, target: Target, ctx: Any = None, *,
                          target_cpu: CpuSpec | None = None, local_cpu: CpuSpec | None = None,
                          machine_memory_gib: float | str | None = "this machine") -> Estimate | None:
    """The CPU estimate from the analysis over the probed machine's measured op rates (method "scaled") when the
    probe's budget left the measured fit without a footing: no step of the model was timed, or only one
    batch size far below the job's (more than ``ROOFLINE_BEYOND`` x smaller; the fit would have to assume how
    much of a step is fixed cost, the analysis knows how each operator grows). The timed steps, if any,
    calibrate the roofline's efficiency.

    None where the measured fit serves (the usual case: the probe timed what it planned) or there is nothing
    to price with (no op rates, as in a profile from before they were timed on every probe; no analysis); then
    the caller goes on as before.
    ``target_cpu``/``local_cpu`` scale to another CPU family as ``cpu_scaling`` does.
    ``machine_memory_gib``: as in ``estimate.estimate_cpu``, the memory of the machine the job runs on; a
    string (``measured.THIS_MACHINE``) means this one, None not known. ``ctx``: the caller's
    ``estimate.EstimateContext`` (unused: the roofline needs no datasheet; not imported here, since
    ``estimate`` and ``measured`` import this module), taken so that every estimator has one signature."""
    dev = profile.device("cpu")
    analysis = profile.analysis
    if dev is None or dev.cpu_peak is None or analysis is None:
        return None
    timed = sorted({m.batch_size for m in dev.measurements if not m.oom and m.compute_seconds})
    # The op rates are timed on every CPU probe: the roofline serves where the budget skipped points, or where
    # nothing was timed (one step did not fit the memory), not where the ladder timed what it planned.
    if timed and (not dev.skipped or len(timed) > 1 or job.batch_size <= ROOFLINE_BEYOND * timed[0]):
        return None
    peak = dev.cpu_peak
    local_threads = dev.threads or 1
    threads = target.threads or local_threads
    eff = efficiency_from_measurements(analysis, peak, dev.measurements, local_threads)
    if timed and eff is None:
        return None  # the one timed size disagrees wildly with the analysis: the measurement stands
    # The probe's own notes on this CPU (a busy machine, a step that varied), and the workload's, stand whatever
    # path prices it.
    notes = [*carried_notes(profile.notes, dev.device), fallback_note(dev, job.batch_size, efficiency=eff)]
    scaling = scale_compute_seconds(dev, threads, target_cpu=target_cpu, local_cpu=local_cpu)
    notes.extend(scaling.notes)

    def plain_at(b: int) -> float:
        return step_seconds(analysis, peak, b, local_threads, efficiency=eff or 1.0).seconds * scaling.factor

    compute_at, evaluation = _accumulated_and_evaluated(job, step_seconds(analysis, peak, job.batch_size,
                                                                          local_threads, efficiency=eff or 1.0),
                                                        plain_at, _batch_seconds(profile), notes)
    sigma = math.hypot(CALIBRATED_REL_SIGMA if eff is not None else ROOFLINE_REL_SIGMA,
                       scaling.relative_uncertainty / Z80)
    jt = assemble_job(job, compute_at, batch_seconds_at=_batch_seconds(profile), rel_sigma=sigma,
                      startup_seconds=dev.startup_seconds, eval_seconds=evaluation.seconds(job))
    fits, peak_gib, capacity, max_batch = _memory(profile, dev, analysis, job.batch_size, machine_memory_gib,
                                                  notes)
    return Estimate(
        **jt.estimate_fields(job, compiled=False),  # every step priced eager (the caller's note says so)
        target=Target.cpu(threads=threads, cpu_name=target.cpu_name),
        fits_memory=fits, peak_memory_gib=peak_gib, memory_capacity_gib=capacity,
        max_batch_size_per_device=max_batch, per_device_batch_size=job.batch_size,
        method="scaled", precision=priced_precision(analysis, dev.precision), source_device=dev.device,
        notes=[*notes, *long_job_notes(jt.seconds)],
        # The host side as the measured CPU path has it without a loader: batch creation between steps.
        bound="input" if jt.batch_seconds > jt.compute_seconds else "compute", input_seconds=jt.batch_seconds,
        transfer_seconds=0.0, input_workers=0)


def _accumulated_and_evaluated(job: JobSpec, step: CpuStep, plain_at: Callable[[int], float],
                               batch_at: Callable[[int], float] | None,
                               notes: list[str]) -> tuple[Callable[[int], float], Evaluation]:
    """(a micro-step's compute at a batch size, an evaluation batch) as the measured CPU path prices them
    (``measured._job_steps``): the optimizer update once per ``job.grad_accum_steps`` micro-steps, an evaluation
    batch its forward pass with the batch made as a training step's; the shares from the roofline's own phases
    at the job's batch size (``step``). Their notes go on ``notes``."""
    b = job.batch_size
    opt = plain_at(b) * step.optimizer_share
    evaluation = Evaluation.of(job, None, plain_at(b) * step.forward_share, batch_at)
    if job.grad_accum_steps > 1:
        notes.append(f"gradient accumulation: {job.grad_accum_steps} micro-steps per optimizer step; the optimizer "
                     f"({opt * 1e3:.3g} ms of a step, from the analysis) runs once per optimizer step." if opt > 0
                     else f"gradient accumulation: {job.grad_accum_steps} micro-steps per optimizer step; the "
                     "analysis has no optimizer operators, so every micro-step is priced as a whole step.")
    if (said := evaluation.note(job)) is not None:
        notes.append(said)
    if job.grad_accum_steps == 1:
        return plain_at, evaluation
    return (lambda n: accumulated_step(plain_at(n), opt, job.grad_accum_steps)), evaluation


def fallback_note(dev: DeviceProfile, batch_size: int, *, efficiency: float | None = None) -> str:
    """What the roofline estimate rests on, and why the CPU's own steps were not enough."""
    peak = dev.cpu_peak
    rates = (f"{peak.matmul_flops_per_second / 1e9:.0f} GFLOP/s matmul and "
             f"{peak.memory_bytes_per_second / 1e9:.0f} GB/s memory on one thread" if peak else "its op rates")
    budget = f"{dev.budget_seconds:.0f} s " if dev.budget_seconds else ""
    timed = sorted({m.batch_size for m in dev.measurements if not m.oom and m.compute_seconds})
    cheapest = min(dev.skipped, key=lambda s: s.batch_size, default=None)
    if timed:
        over_budget = sorted(p.batch_size for p in dev.skipped if not p.too_large)
        too_large = sorted(p.batch_size for p in dev.skipped if p.too_large)
        reasons = [f"{_listed(over_budget)} would not fit"] if over_budget or not too_large else []
        if too_large:
            reasons.append(f"{_listed(too_large)}: {_TOO_LARGE}")
        why = (f"only batch size {timed[0]} fit the probe's {budget}budget (a point needs its warm-up and two timed "
               f"steps; {'; '.join(reasons)})")
    else:
        why = f"the CPU could not time this model within the probe's {budget}budget"
        if cheapest is not None:
            step = (f"took {format_duration(cheapest.step_seconds)} (timed to price the ladder)"
                    if cheapest.priced_from == "first step" else
                    f"was priced at {'at least ' if cheapest.priced_from == 'analysis' else ''}"
                    f"{format_duration(cheapest.step_seconds)} from {_PRICED_FROM[cheapest.priced_from]}")
            why += (f": a point needs its warm-up and two timed steps, and one step at batch size "
                    f"{cheapest.batch_size} {step}")
    how = (f"calibrated on the steps timed at batch size {timed[0]} (they ran at {efficiency:.2f}x the roofline's "
           "speed)" if timed and efficiency is not None else
           "with efficiencies fitted on small models on a CPU of this kind; the interval is wide")
    return (f"{dev.device}: {why}; the time at batch size {batch_size} is from the model's analysis (FLOPs and "
            f"bytes per operator) over the probed machine's measured op rates ({rates}), {how}.")


def ladder_note(dev: DeviceProfile, batch_size: int) -> str | None:
    """Which batch sizes the probe timed and which it skipped because they would not fit its budget, and
    whether ``batch_size`` is extrapolated; None when nothing was skipped (the ladder ran as planned)."""
    if not dev.skipped:
        return None
    timed = sorted({m.batch_size for m in dev.measurements if not m.oom and m.compute_seconds})
    over_budget = [p for p in dev.skipped if not p.too_large]
    budget = f" {dev.budget_seconds:.0f} s" if dev.budget_seconds else ""
    head = (f"{dev.device}: the probe timed batch size{'s' if len(timed) > 1 else ''} "
            f"{_listed(timed)} within its{budget} budget" if timed else f"{dev.device}: the probe timed no step")
    parts = []
    if over_budget:
        worst = max(over_budget, key=lambda p: p.batch_size)
        parts.append(f"skipped {_listed(sorted(p.batch_size for p in over_budget))}: their warm-up and two timed "
                     f"steps would not fit (batch size {worst.batch_size}: {_about(worst)} "
                     f"{format_duration(worst.step_seconds)} a step, priced from {_PRICED_FROM[worst.priced_from]})")
    if too_large := sorted(p.batch_size for p in dev.skipped if p.too_large):
        parts.append(f"did not time {_listed(too_large)}: {_TOO_LARGE}")
    said = f"{head} and " + "; it ".join(parts)
    if batch_size in timed:
        return said + "."
    if timed and batch_size > max(timed):
        return said + f". The time at batch size {batch_size} is extrapolated from the timed sizes."
    return said + f". Batch size {batch_size} was not timed."


# Why a batch past the largest the probe times (advisor.probe.ladder.MAX_TIMED_BATCH_SIZE) was skipped.
_TOO_LARGE = f"past {MAX_COUNT:,} samples, the largest batch the probe times"
_PRICED_FROM = {"check": "the workload check's cold step", "first step": "one step timed at batch size 1",
                "measured": "the timed points",
                "analysis": "the model's FLOPs at this CPU's matmul rate (no step was run: a floor)"}


def _about(point) -> str:
    """How near a skipped point's price is: a floor where the analysis priced it, else an estimate."""
    return "at least" if point.priced_from == "analysis" else "about"


def _listed(sizes: list[int]) -> str:
    return ", ".join(str(s) for s in sizes)


def _batch_seconds(profile: Profile):
    """Batch creation per step from the measured input pipeline, when it timed ``make_batch`` on its own."""
    pipe = profile.input_pipeline
    rate = pipe.per_worker_samples_per_second if pipe is not None and pipe.source == "make_batch" else None
    if not rate:
        return None
    return lambda b: b / rate


def _memory(profile: Profile, dev: DeviceProfile, analysis: Analysis, batch_size: int,
            machine_memory_gib: float | str | None, notes: list[str]) -> tuple[bool, float | None, float | None,
                                                                                  int | None]:
    """(fits, peak GiB, capacity GiB, largest batch) from the analysis, judged as ``estimate_cpu`` judges."""
    from advisor.predictor.caveats import caveats
    from advisor.predictor.memory import memory_from_analysis

    if isinstance(machine_memory_gib, str):  # measured.THIS_MACHINE
        capacity = dev.memory_gib or (profile.host.cpu.memory_gib if profile.host else None)
        if dev.memory_limit and capacity:
            notes.append(limit_note(capacity, dev.memory_limit))
    else:
        capacity = float(machine_memory_gib) if machine_memory_gib else None
    if not capacity:
        notes.append("the target machine's memory is not known: memory fit not checked.")
        return True, None, None, None
    fit = memory_from_analysis(analysis, batch_size, capacity, "fp32", cpu=True)
    # A fit within a twentieth of the memory (its workspace margin counted) is a caveat, as a measured CPU's
    # within a twentieth of the 90% it may use: "Here" and a chosen CPU say it whichever way it was priced.
    notes.extend(caveats(fit.notes))
    if not fit.fits_memory:
        notes.append(f"predicted peak memory {fit.peak_memory_gib:.1f} GiB (from the analysis) exceeds the "
                     f"{capacity:.1f} GiB of memory.")
    return fit.fits_memory, fit.peak_memory_gib, capacity, fit.max_batch_per_device
