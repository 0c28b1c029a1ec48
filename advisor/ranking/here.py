"""The job on the machine that was probed, beside the machines ``recommend`` would rent.

A user asking where to train already has a machine, and for a short job it is the answer: the README's example
takes about 3 s on this project's 2-core VM, Python's start included, against 2 minutes on the cheapest rented
instance, almost all of it the instance's start-up. So the verdict has a "Here" line: the job on each device the
probe found, with nothing to rent and no instance to start (a CPU too slow to time a step on gets the
analysis-based estimate predict gives it), after starting Python and importing torch as the probe's own process
took. It is never a candidate: the choice is among the catalog's priced machines, and a user's own has no price
in it.

Pure: no I/O. The estimates come in made (``advisor.pricer.Pricer.here``: what ``predict --device`` gives).
"""

from __future__ import annotations

from collections.abc import Sequence

from advisor.errors import AdvisorError
from advisor.ranking.scoring import Scored, memory_needs
from advisor.schemas import Constraints, Estimate, HereRun
from advisor.schemas.base import USABLE_MEMORY_FRACTION
from advisor.units import format_duration, format_duration_exact, format_ratio, format_span

# A device of the probed machine, as ``Pricer.here`` gives it: its name ("cpu", "cuda:0"), what it is ("AMD
# EPYC, 2 threads"), the job's estimate on it or the error that says why there is none, and whether other
# processes were using the CPU during most of its timed windows (the estimate is the idle machine's: the job run
# beside them would take longer).
Found = tuple[str, str, "Estimate | AdvisorError", bool]


def here_runs(found: Sequence[Found], constraints: Constraints,
              process_start_seconds: float | None = None) -> list[HereRun]:
    """Each device's figures, judged against the deadline on the point estimate with the process's start
    (``process_start_seconds``: starting Python and importing torch there, measured by the probe) added."""
    deadline = constraints.deadline_seconds
    start = process_start_seconds or 0.0
    runs = []
    for device, name, est, busy in found:
        if not isinstance(est, Estimate):
            runs.append(HereRun(device=device, name=name, error=est.cli_message, busy_when_probed=busy,
                                process_start_seconds=process_start_seconds))
            continue
        meets = None if not deadline else bool(est.fits_memory and start + est.seconds <= deadline)
        cpu = est.target.kind == "cpu"
        runs.append(HereRun(device=device, name=name, threads=est.target.threads if cpu else None,
                            gpu=None if cpu else est.target.gpu_name, seconds=est.seconds, low=est.low, high=est.high,
                            method=est.method, base_seconds=est.base_seconds, base_method=est.base_method,
                            fits_memory=est.fits_memory, peak_memory_gib=est.peak_memory_gib,
                            memory_capacity_gib=est.memory_capacity_gib, meets_deadline=meets,
                            busy_when_probed=busy, process_start_seconds=process_start_seconds,
                            parallel_fraction=est.parallel_fraction,
                            parallel_fraction_source=est.parallel_fraction_source))
    return runs


def here_total_seconds(run: HereRun | None) -> float | None:
    """What the Here line waits for on ``run``'s device: the job after the process start (where measured); None
    without a time, or where the job does not fit its memory."""
    if run is None or run.seconds is None or not run.fits_memory:
        return None
    return run.seconds + (run.process_start_seconds or 0.0)


def fastest_here(runs: Sequence[HereRun]) -> tuple[float, HereRun] | None:
    """(its wait, the run) of the device the job is soonest done on (``here_total_seconds``); None where no
    device has a time that fits its memory."""
    waits = [(wait, r) for r in runs if (wait := here_total_seconds(r)) is not None]
    return min(waits, key=lambda pair: pair[0], default=None)


def _why_not(run: HereRun) -> str:
    """" (needs 22 GiB of memory, more than the 90% of its 24 a measured job may use)", as a candidate's reason
    says it; "" where the figures are not known."""
    peak, cap = run.peak_memory_gib, run.memory_capacity_gib
    if peak is None or cap is None:
        return ""
    if peak <= cap * USABLE_MEMORY_FRACTION:  # within every headroom rule: a batch the probe ran out of memory at
        return " (its batch is past the largest below a batch that ran out of memory in the probe)"
    return f" ({memory_needs(peak, cap, '')})"


def _part(run: HereRun, constraints: Constraints) -> str:
    """"cpu (AMD EPYC, 2 threads): 2.0s (80%: 1.6s–2.5s)", or why there is no time."""
    label = f"{run.device} ({run.name})"
    if run.seconds is None:
        return f"{label}: no estimate ({(run.error or '').rstrip('.')})"
    if not run.fits_memory:
        return f"{label}: the job does not fit its memory{_why_not(run)}"
    scaled = (f"; threads scaled with the {run.parallel_fraction_source} parallel fraction "
              f"{run.parallel_fraction:.2f}" if run.parallel_fraction is not None else "")
    text = (f"{label}: {format_duration(run.seconds)} "
            f"(80%: {format_span(run.low or run.seconds, run.high or run.seconds, run.seconds)}{scaled})")
    if run.busy_when_probed:
        text += (" when idle (other processes were using the CPU during most of the probe; beside them the job "
                 "takes longer)")
    if run.meets_deadline is False:
        text += f", past the {format_duration_exact(constraints.deadline_seconds or 0.0)} deadline"
    return text


def here_text(runs: Sequence[HereRun], chosen: Scored | None, constraints: Constraints,
              host: str | None = None) -> str | None:
    """The verdict's "Here" line, or None where the profile has no device. ``host``: the probed machine's
    hostname, as the profile recorded it (a profile may come from another machine)."""
    if not runs:
        return None
    where = f"on {host} (the machine that was probed)" if host else "on the machine that was probed"
    text = f"{where}, with nothing to rent and no instance to start: " + "; ".join(_part(r, constraints) for r in runs)
    start = runs[0].process_start_seconds
    if start:
        text += (f", {'each ' if len(runs) > 1 else ''}after {format_duration(start)} to start Python and import "
                 "torch (as the probe's process took)")
    soonest = fastest_here(runs)
    if soonest is None or chosen is None:
        return text
    wait, fastest = soonest
    that = "that" if len(runs) == 1 else f"the fastest here, {fastest.device},"
    that = f"In all {that}" if start else that[0].upper() + that[1:]
    total = f"the recommended machine's {format_duration(chosen.elapsed)} total"
    ratio = wait / chosen.elapsed if chosen.elapsed > 0 else float("inf")
    if 1 / 1.05 < ratio < 1.05:
        return f"{text}. {that} is about as long as {total}."
    if ratio < 1:
        startup = chosen.cand.startup_seconds or 0.0
        of_it = f" ({format_duration(startup)} of it start-up)" if startup else ""
        return f"{text}. {that} is sooner than {total}{of_it}."
    return f"{text}. {that} is {format_ratio(ratio)} {total}."
