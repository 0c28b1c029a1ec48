"""One batch size timed in several fresh processes (the CPU probe's twins), pooled into one measurement. Pure.

Why several: on a shared VM each fresh process lands somewhere in a spread of its own (memory placement, the
neighbours of the moment) that a few seconds of its steps do not average out. Measured on a 2-core AMD EPYC VM
(bench/twin_draws.py, bench/README.md "Two fresh processes for the user's batch size"): processes that took turns
timing the same step kept offsets of 5-15% from each other across rounds, and the mean of two fresh processes was
closer to the real jobs than one process timed as long as both. The second costs the probe one more start-up.

The pooled measurement keeps every timed step, in the order taken, process after process, and
``Measurement.process_samples`` says how many came from each, so the fit (``advisor.predictor.fit``) cuts each
process's own start-up transient rather than taking a slower first process for one. Processes are pooled only
where they ran on the same clock and threads: a twin that found the machine busy timed one thread by its CPU
time, which is not the same quantity as the other's wall-clock steps (the wall-clock ones are kept then, and
``Measurement.processes_left_out`` counts the others).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from advisor.probe import stats
from advisor.probe.startup_clock import mean_clock
from advisor.schemas import DeviceProfile, Measurement


def pool_profiles(profiles: Sequence[DeviceProfile]) -> DeviceProfile:
    """One CPU profile of a single batch size from the twins' profiles (each of one measurement, at the same
    batch size). An out-of-memory first profile is returned as it is: that batch size is the limit."""
    if not profiles:
        raise ValueError("no profiles to pool")
    first = profiles[0]
    if len(profiles) == 1 or timed_measurement(first) is None:
        return first
    timed = [p for p in profiles if timed_measurement(p) is not None]
    kept = _comparable(timed)
    left_out = len(timed) - len(kept)
    if len(kept) == 1 and not left_out:
        return kept[0]
    measurement = pool_measurements([p.measurements[0] for p in kept]) if len(kept) > 1 else kept[0].measurements[0]
    return kept[0].model_copy(update={
        "measurements": [measurement.model_copy(update={"processes_left_out": left_out})],
        # What one fresh job pays to start; every process paid it once.
        "startup_seconds": statistics.fmean(p.startup_seconds for p in kept),
        "startup_clock": mean_clock([p.startup_clock for p in kept]),
        "probe_seconds": sum(p.probe_seconds for p in kept),
    })


def pool_measurements(measurements: Sequence[Measurement]) -> Measurement:
    """The measurements of one batch size in several processes, on one clock and thread count, as one."""
    samples: list[float] = []
    counts: list[int] = []
    for m in measurements:
        own = list(m.compute_seconds_samples) or ([m.compute_seconds] if m.compute_seconds else [])
        samples.extend(own)
        counts.append(len(own))
    busiest = max(measurements, key=lambda m: m.others_cpu_cores or 0.0)
    return measurements[0].model_copy(update={
        "compute_seconds": stats.median(samples),
        "compute_seconds_samples": samples,
        "process_samples": counts,
        "batch_seconds": _mean(m.batch_seconds for m in measurements),
        "spread": stats.spread(samples),
        "peak_memory_gib": max((m.peak_memory_gib for m in measurements if m.peak_memory_gib is not None),
                               default=None),
        "others_cpu_cores": _mean_known(m.others_cpu_cores for m in measurements),
        "steal_fraction": _mean_known(m.steal_fraction for m in measurements),
        "run_queue": _mean_known(m.run_queue for m in measurements),
        "busiest_other": busiest.busiest_other,
        "busiest_other_nice": busiest.busiest_other_nice,
        "page_faults_per_step": _mean(m.page_faults_per_step for m in measurements),
        "kernel_cpu_share": _mean(m.kernel_cpu_share for m in measurements),
    })


def timed_measurement(profile: DeviceProfile) -> Measurement | None:
    """A twin's one timed measurement; None where it ran out of memory, skipped the point or holds several."""
    if len(profile.measurements) != 1:
        return None
    m = profile.measurements[0]
    return None if m.oom or m.compute_seconds is None else m


def _comparable(profiles: list[DeviceProfile]) -> list[DeviceProfile]:
    """Those timed like the first wall-clock one (else like the first): same clock, same threads."""
    lead = next((p for p in profiles if p.measurements[0].clock == "wall"), profiles[0]).measurements[0]
    return [p for p in profiles
            if (p.measurements[0].clock, p.measurements[0].threads) == (lead.clock, lead.threads)]


def _mean_known(values) -> float | None:
    """The mean where every process measured it; None where one could not (its window's load is unknown, and a
    mean of the others' would pass the pooled steps off as measured)."""
    values = list(values)
    return None if any(v is None for v in values) else _mean(values)


def _mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None
