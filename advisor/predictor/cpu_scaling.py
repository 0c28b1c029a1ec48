"""Scaling the local CPU probe to other thread counts, vCPU counts and CPU families.

Model: Amdahl's law fitted to the probe's thread-scaling points,

    t(T) = t1 * ((1 - p) + p / T)

with ``t1`` the step time on one thread and ``p`` the parallel fraction (clipped to [0, 0.99]). The time at T
threads is the *measured* time at the probed thread count T0 times ``t(T) / t(T0)``, so the fit's ``t1`` never
replaces a measurement. For another CPU the factor is further multiplied by a per-core speed ratio from
``profiles/cpus.csv`` (all-core turbo GHz x FP32 FLOPs/cycle/core, local over target) when both CPUs have both
figures; otherwise the ratio is 1.0, a note says so, and the interval widens.

Cloud instances are priced per vCPU. On x86 instances with SMT two vCPUs share a physical core, and a
compute-bound training step gains little from the second hardware thread, so a V-vCPU instance is predicted
as T = V / 2 threads (``threads_for_vcpus``); instance families without SMT (AWS m7a: one vCPU per core, see
``profiles/cpu_families.csv``) use T = V.

What this ignores: memory-bandwidth saturation at high thread counts and NUMA effects across sockets, so
extrapolating far beyond the probed thread counts is optimistic; the interval widens with the distance.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from advisor.errors import PredictionError
from advisor.schemas import CpuSpec, DeviceProfile, ThreadPoint

DEFAULT_PARALLEL_FRACTION = 0.9  # assumed with a single thread count: typical of MKL/oneDNN training steps
MAX_PARALLEL_FRACTION = 0.99
DEFAULT_THREADS_PER_CORE = 2  # SMT x86 cloud instances: two vCPUs per physical core

# Relative half-widths of the interval, by what the factor rests on.
_UNCERTAINTY_FITTED = {1: 0.30, 2: 0.15}  # distinct thread counts measured -> base uncertainty
_UNCERTAINTY_FITTED_MANY = 0.10  # 3 or more thread counts
_UNCERTAINTY_SAME_THREADS = 0.05  # T == T0: the measurement itself
_UNCERTAINTY_PER_DOUBLING = 0.05  # per doubling of threads beyond the largest probed count
_UNCERTAINTY_SPEC_RATIO = 0.15  # a datasheet per-core speed ratio between two CPUs
_UNCERTAINTY_UNKNOWN_CPU = 0.30  # another CPU with no usable speed ratio


@dataclass(frozen=True)
class AmdahlFit:
    """t(T) = t1_seconds * ((1 - parallel_fraction) + parallel_fraction / T) at ``batch_size``."""

    t1_seconds: float
    parallel_fraction: float
    batch_size: int
    thread_counts: tuple[int, ...] = ()  # distinct thread counts the fit used
    assumed: bool = False  # parallel_fraction is the default, not fitted (a single thread count)
    clipped: bool = False  # the fitted fraction fell outside [0, 0.99] and was clipped

    def seconds(self, threads: int) -> float:
        return self.t1_seconds * amdahl_fraction(self.parallel_fraction, threads)


@dataclass
class CpuScaling:
    """Multiply the compute time measured at the probed thread count by ``factor``."""

    factor: float
    parallel_fraction: float
    relative_uncertainty: float  # half-width of the interval as a fraction of the estimate, e.g. 0.25
    notes: list[str] = field(default_factory=list)
    probed_threads: int | None = None
    target_threads: int | None = None
    speed_ratio: float = 1.0  # local per-core speed / target per-core speed (already in factor)
    fit: AmdahlFit | None = None


def amdahl_fraction(parallel_fraction: float, threads: int) -> float:
    """t(T) / t1 = (1 - p) + p / T."""
    if threads < 1:
        raise PredictionError(f"thread count must be 1 or more, got {threads}.", hint="Fix: e.g. --threads 8.")
    return (1.0 - parallel_fraction) + parallel_fraction / threads


def threads_for_vcpus(vcpus: int, threads_per_core: int | None = DEFAULT_THREADS_PER_CORE) -> int:
    """Threads to predict a V-vCPU instance with: its physical cores, V / threads_per_core (2 with SMT)."""
    if vcpus < 1:
        raise PredictionError(f"vCPU count must be 1 or more, got {vcpus}.", hint="Fix: check the catalog row.")
    per_core = threads_per_core or DEFAULT_THREADS_PER_CORE
    return max(1, vcpus // per_core)


def _points_at_one_batch(points: list[ThreadPoint]) -> tuple[int, dict[int, float]]:
    """The batch size with the most distinct thread counts (ties: the largest batch), and the median time
    per thread count there."""
    valid = [p for p in points if p.threads >= 1 and p.compute_seconds and p.compute_seconds > 0]
    if not valid:
        raise PredictionError("No usable thread-scaling measurement (every point is missing or zero).",
                              hint="Fix: re-run `advisor profile --device cpu` so the probe times the CPU.")
    # Grouped in one pass: a scan of every point per batch size was quadratic in the points' count.
    threads_at: dict[int, set[int]] = defaultdict(set)
    for p in valid:
        threads_at[p.batch_size].add(p.threads)
    batch = max(threads_at, key=lambda b: (len(threads_at[b]), b))
    by_threads: dict[int, list[float]] = defaultdict(list)
    for p in valid:
        if p.batch_size == batch:
            by_threads[p.threads].append(p.compute_seconds)
    return batch, {t: median(v) for t, v in sorted(by_threads.items())}


def fit_amdahl(points: list[ThreadPoint]) -> AmdahlFit:
    """Fit t(T) = t1 ((1 - p) + p / T) to thread-scaling points (one batch size; see ``_points_at_one_batch``).

    Two or more thread counts: weighted least squares of t = a + b / T in relative error (weights 1 / t^2),
    then t1 = a + b and p = b / t1; a p outside [0, 0.99] is clipped and t1 refitted for it. One thread
    count: p = DEFAULT_PARALLEL_FRACTION and t1 from that point (``assumed`` is True).
    """
    batch, times = _points_at_one_batch(points)
    threads = tuple(times)
    if len(times) == 1:
        (t0, seconds), = times.items()
        p = DEFAULT_PARALLEL_FRACTION
        return AmdahlFit(seconds / amdahl_fraction(p, t0), p, batch, threads, assumed=True)
    # Weighted normal equations for (a, b) with x = 1/T and weights w = 1/t^2, in units of the slowest point's
    # time (the fit is the same in any unit), each at least 1e-12 of it: a profile is data from anyone, and
    # 1 / t^2 of a crafted 1e-200 s step divided by zero.
    unit = max(times.values())
    times = {t: max(seconds / unit, 1e-12) for t, seconds in times.items()}
    sw = swx = swxx = swy = swxy = 0.0
    for t, y in times.items():
        x, w = 1.0 / t, 1.0 / (y * y)
        sw += w
        swx += w * x
        swxx += w * x * x
        swy += w * y
        swxy += w * x * y
    det = sw * swxx - swx * swx
    a = (swxx * swy - swx * swxy) / det
    b = (sw * swxy - swx * swy) / det
    t1 = a + b
    p = b / t1 if t1 > 0 else MAX_PARALLEL_FRACTION
    clipped = not 0.0 <= p <= MAX_PARALLEL_FRACTION
    if clipped or t1 <= 0:
        p = min(max(p, 0.0), MAX_PARALLEL_FRACTION)
        # Best t1 for the clipped p, same relative-error weighting: t1 = sum(f/t) / sum(f^2/t^2).
        fs = {t: amdahl_fraction(p, t) for t in times}
        t1 = sum(fs[t] / y for t, y in times.items()) / sum((fs[t] / y) ** 2 for t, y in times.items())
    return AmdahlFit(t1 * unit, p, batch, threads, clipped=clipped)


def per_core_speed(spec: CpuSpec | None) -> float | None:
    """All-core turbo GHz x FP32 FLOPs/cycle/core (GFLOP/s per core), or None when either is unpublished."""
    if spec is None or not spec.turbo_ghz or not spec.fp32_flops_per_cycle_per_core:
        return None
    return spec.turbo_ghz * spec.fp32_flops_per_cycle_per_core


def _probed_threads(device: DeviceProfile) -> int | None:
    if device.threads:
        return device.threads
    counts = [m.threads for m in device.measurements if m.threads and m.compute_seconds]
    if counts:
        return Counter(counts).most_common(1)[0][0]
    return max((p.threads for p in device.thread_scaling), default=None)


def _scaling_points(device: DeviceProfile, probed: int) -> list[ThreadPoint]:
    """The thread-scaling points and the ladder measurements (at their thread count, else the probed one);
    ``fit_amdahl`` keeps the batch size that has the most distinct thread counts."""
    points = list(device.thread_scaling)
    points += [ThreadPoint(threads=m.threads or probed, batch_size=m.batch_size, compute_seconds=m.compute_seconds)
               for m in device.measurements if m.compute_seconds and not m.oom]
    return points


def scale_compute_seconds(device: DeviceProfile, threads: int, target_cpu: CpuSpec | None = None,
                          local_cpu: CpuSpec | None = None) -> CpuScaling:
    """How the compute time measured on ``device`` (the local CPU probe, at its probed thread count) changes
    at ``threads`` threads, on ``target_cpu`` (None: this same CPU; ``local_cpu`` is this CPU's spec, if known).
    """
    if device.kind != "cpu":
        raise PredictionError(f"{device.device} is a {device.kind} profile; CPU scaling needs the CPU probe.",
                              hint="Fix: profile with --device cpu (or all).")
    if threads < 1:
        raise PredictionError(f"thread count must be 1 or more, got {threads}.", hint="Fix: e.g. --threads 8.")
    probed = _probed_threads(device)
    if probed is None:
        raise PredictionError("The CPU profile records no thread count, so it cannot be scaled to other threads.",
                              hint="Fix: re-run `advisor profile --device cpu` with this version of advisor.")
    notes: list[str] = []
    points = _scaling_points(device, probed)
    fit: AmdahlFit | None = None
    if points:
        fit = fit_amdahl(points)
        p = fit.parallel_fraction
    else:
        p = DEFAULT_PARALLEL_FRACTION
    assumed = fit is None or fit.assumed
    measured_counts = fit.thread_counts if fit else (probed,)

    if threads == probed:
        factor, uncertainty = 1.0, _UNCERTAINTY_SAME_THREADS
    else:
        factor = amdahl_fraction(p, threads) / amdahl_fraction(p, probed)
        n = len(measured_counts)
        uncertainty = _UNCERTAINTY_FITTED_MANY if n >= 3 else _UNCERTAINTY_FITTED[n]
        if assumed:
            notes.append(f"Only {probed} thread(s) measured: assumed a parallel fraction of "
                         f"{DEFAULT_PARALLEL_FRACTION:.2f} to scale to {threads} threads.")
        else:
            notes.append(f"Amdahl fit over {', '.join(map(str, measured_counts))} threads: parallel fraction "
                         f"{p:.2f}" + (" (clipped to [0, 0.99])" if fit and fit.clipped else "") + ".")
        largest = max(measured_counts)
        if threads > largest:
            doublings = math.log2(threads / largest)
            uncertainty += _UNCERTAINTY_PER_DOUBLING * doublings
            notes.append(f"Extrapolated from at most {largest} threads to {threads}: memory bandwidth and NUMA "
                         "limits are not modelled, so this is optimistic.")

    speed_ratio = 1.0
    if target_cpu is not None and (local_cpu is None or target_cpu.name != local_cpu.name):
        local_speed, target_speed = per_core_speed(local_cpu), per_core_speed(target_cpu)
        if local_speed and target_speed:
            speed_ratio = local_speed / target_speed
            uncertainty += _UNCERTAINTY_SPEC_RATIO
            notes.append(f"Per-core speed {target_cpu.name} vs this CPU ({local_cpu.name}) from profiles/cpus.csv "
                         f"(turbo GHz x FLOPs/cycle): time x {speed_ratio:.2f}.")
        else:
            uncertainty += _UNCERTAINTY_UNKNOWN_CPU
            what = "this CPU" if local_speed is None else target_cpu.name
            notes.append(f"No per-core speed figures for {what} in profiles/cpus.csv: assumed {target_cpu.name} "
                         "cores are as fast as the probed machine's; the interval is wider.")
    return CpuScaling(factor=factor * speed_ratio, parallel_fraction=p, relative_uncertainty=uncertainty,
                      notes=notes, probed_threads=probed, target_threads=threads, speed_ratio=speed_ratio, fit=fit)


# Relative sigma added when measurements taken on fewer threads (a busy machine, see advisor.probe.contention)
# are scaled to the idle machine's thread count: the base for an assumed parallel fraction, less for a fitted one.
_UNCERTAINTY_BUSY_ASSUMED = 0.20
_UNCERTAINTY_BUSY_FITTED = 0.07
# A fraction remembered from an earlier free probe (advisor.history.remembered): the same workload's fraction moved
# by 0.1-0.2 between runs minutes apart on the 2-core VM (bench/README.md), ~5-10% of the two-thread time.
_UNCERTAINTY_BUSY_REMEMBERED = 0.10
# The parallel fraction assumed for that scaling when none could be measured (a busy machine times no thread
# scaling): 0.8, the median of what the three examples' training steps measured on an idle 2-core VM (1 vs 2
# threads, clean windows only: tabular_mlp 0.74, tiny_transformer_lm 0.82, small_cnn 0.90; 2026-11-30,
# bench/README.md "CPU accuracy under load"). Two workloads kept out of it measured 0.76 and 0.78. The default
# for scaling to cloud instances stays 0.9.
BUSY_PARALLEL_FRACTION = 0.8
# The span a workload's own parallel fraction took on idle 2-core VMs: ten workloads, 0.63-1.04 in two runs of
# bench/thread_split.py (2026-12-05), 0.66-0.92 for five in bench/parallel_fraction.py (2026-12-04). An assumed
# fraction's note says how far that span alone moves the estimate, so a user sees the size of the guess.
WORKLOAD_FRACTION_SPAN = (0.6, 1.0)


def _span(assumed: float, probed_threads: int, full: int) -> tuple[float, float]:
    """How far a workload's own fraction, anywhere in ``WORKLOAD_FRACTION_SPAN``, moves a step scaled from
    ``probed_threads`` to ``full`` threads with the ``assumed`` fraction: (fastest, slowest), relative."""
    def factor(p: float) -> float:
        return amdahl_fraction(p, full) / amdahl_fraction(p, probed_threads)

    low, high = WORKLOAD_FRACTION_SPAN
    return factor(high) / factor(assumed) - 1, factor(low) / factor(assumed) - 1


def _assumed_uncertainty(assumed: float, fast: float, slow: float) -> float:
    """The relative uncertainty of an assumed fraction whose ``_span`` is (``fast``, ``slow``): the 2-core VM's
    (one thread to two, where the benches measured it), widened in proportion where the span moves the step
    further (more threads to scale to)."""
    base_fast, base_slow = _span(assumed, 1, 2)
    return _UNCERTAINTY_BUSY_ASSUMED * max(1.0, max(-fast, slow) / max(-base_fast, base_slow))


def _span_note(fast: float, slow: float) -> str:
    """The note's words for a ``_span`` of (``fast``, ``slow``), and how a user gets this workload's own fraction."""
    low, high = WORKLOAD_FRACTION_SPAN
    return (f" (a workload's own fraction ranged {low:.1f}-{high:.1f} on an idle 2-core VM, which alone moves this "
            f"estimate between {fast:+.0%} and {slow:+.0%}; a recommend or predict of this file run while the machine "
            f"is idle keeps the fraction it measures in the history, and later busy probes of the file here use it)")


@dataclass(frozen=True)
class AtDeviceThreads:
    """A CPU device's measurements, each at the device's (idle) thread count."""

    measurements: list
    relative_uncertainty: float = 0.0
    note: str | None = None
    # The Amdahl fraction the scaled steps used, and whence ("measured", "remembered", "assumed"); None: none scaled.
    parallel_fraction: float | None = None
    parallel_fraction_source: str | None = None


def at_device_threads(device: DeviceProfile, measurements: list) -> AtDeviceThreads:
    """Measurements timed on fewer threads than the device's (the probe gives up cores that others use)
    scaled by the Amdahl fit to the device's thread count, so that one step-time fit serves them all."""
    full = device.threads
    # One flag per measurement, by position: a membership test (``m in off``) compared models by value, which
    # was quadratic in their count (a stranger's profile of thousands of them held a service worker for minutes).
    is_off = [bool(device.kind == "cpu" and full and m.threads and m.threads != full) for m in measurements]
    off = [m for m, flag in zip(measurements, is_off, strict=True) if flag]
    if not off:
        return AtDeviceThreads(list(measurements))
    clean = [ThreadPoint(threads=m.threads, batch_size=m.batch_size, compute_seconds=m.compute_seconds)
             for m in measurements if m.compute_seconds and not m.oom]
    fit = fit_amdahl(list(device.thread_scaling) + clean)
    # This probe's own thread scaling first, then one an earlier free probe of the workload measured here.
    remembered = device.remembered_scaling if fit.assumed else None
    if not fit.assumed:
        p = fit.parallel_fraction
    else:
        p = remembered.parallel_fraction if remembered is not None else BUSY_PARALLEL_FRACTION
    out = []
    for m, flag in zip(measurements, is_off, strict=True):
        if flag:
            factor = amdahl_fraction(p, full) / amdahl_fraction(p, m.threads)
            m = m.model_copy(update={
                "threads": full,
                "compute_seconds": m.compute_seconds * factor if m.compute_seconds else m.compute_seconds,
                "compute_seconds_samples": [x * factor for x in m.compute_seconds_samples]})
        out.append(m)
    threads = sorted({m.threads for m in off})
    source = "remembered" if remembered is not None else "assumed" if fit.assumed else "measured"
    if remembered is not None:
        when = ("with its priority raised over other programs then using the CPU, its steps undisturbed"
                if remembered.raised_priority else "while it was free")
        how = (f"the parallel fraction {p:.2f} that an earlier probe of this workload measured on the probed machine "
               f"{when} (history profile {remembered.profile_id}, {remembered.probed_at:%Y-%m-%d %H:%M} UTC)")
        uncertainty = _UNCERTAINTY_BUSY_REMEMBERED
    elif fit.assumed:
        fast, slow = _span(p, min(threads), full)
        how = f"an assumed parallel fraction of {p:.2f}{_span_note(fast, slow)}"
        uncertainty = _assumed_uncertainty(p, fast, slow)
    else:
        how, uncertainty = f"the fitted parallel fraction {p:.2f}", _UNCERTAINTY_BUSY_FITTED
    note = (f"{device.device}: {len(off)} of {len(measurements)} batch sizes were timed on "
            f"{'/'.join(map(str, threads))} thread(s) because other processes were using the CPU; scaled to "
            f"{full} threads with {how}.")
    return AtDeviceThreads(out, uncertainty, note, p, source)


def fraction_fields(busy: AtDeviceThreads, scaling: CpuScaling | None) -> dict[str, Any]:
    """``Estimate.parallel_fraction`` and its source: the Amdahl fraction that scaled the steps timed on fewer
    threads on a busy machine (``busy``: ``at_device_threads``), else the one that scaled them to another thread
    count (``scaling``: a ``CpuScaling``, None where it did not); none where every step counts as timed."""
    if busy.parallel_fraction is not None:
        return {"parallel_fraction": round(busy.parallel_fraction, 3),
                "parallel_fraction_source": busy.parallel_fraction_source}
    if scaling is not None and scaling.probed_threads != scaling.target_threads:
        return {"parallel_fraction": round(scaling.parallel_fraction, 3),
                "parallel_fraction_source": "assumed" if scaling.fit is None or scaling.fit.assumed else "measured"}
    return {}
