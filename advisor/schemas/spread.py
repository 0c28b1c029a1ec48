"""Whether what other processes did while a probe timed its steps explains how widely those steps varied.

Owns the one judgement both the probe's notes (``advisor.probe.device_notes``) and the predictor's
(``advisor.predictor.measured``) make from a ``Measurement``'s contention fields (``others_cpu_cores``,
``steal_fraction``, ``run_queue``, its clock and priority): a spread is the steps' own, which probing again on an
idle machine would not remove, only on positive evidence. Either the window was measured quiet (nobody else to
blame: the machine's own jitter or the workload's), or make_batch's shapes varied between calls (``SHAPES_VARY``)
and the spread is well beyond what the others' measured share of the CPU could cause. Neither layer may import
the other, so the judgement lives with the model it reads.

The others' share is a window's average, and a spread is a tail (p10-p90): on a 2-vCPU VM with 5-15 tasks
runnable beside the probe (other probes at raised priority among them), fixed-shape batches of 5 ms at nice -20
varied 70-100% while the others' average share read 0.1-0.23 cores. Each slice the scheduler still gives one of
them stalls a whole thread team's step; a small average lands on a minority of steps. So a run queue beyond the
cores explains any spread, and a spread beyond the bound below is not by itself the workload's.

The bound: a step waits for the CPU at most as long as the others held it, so on the wall clock at the
probe's own priority the others' cores (one core's worth stalls a whole thread team) can stretch a step by up to
that many times, and the hypervisor's steal by ``steal / (1 - steal)``. Where the probe held them back (raised
priority) or timed its thread's own CPU time, waiting is off the clock: only a shared core's caches and
execution units remain, at most one busy core's worth (``HELD_BACK_CORES``). On top, an idle machine's own
jitter (``JITTER_SPREAD``). Measured on a 2-vCPU VM beside 1-2 busy cores: fixed-shape models timed by their
thread's CPU time varied 13-92% (a batch-2 MLP, a sparse-embedding recommender); a transformer drawing a random
sequence length per batch, beside the same load, 122-189%.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advisor.schemas.profile import Measurement

# Shorter than this, the timed stretches are too short for /proc/stat's clock ticks (10 ms a CPU) to say how many
# cores others used: a single tick over a few ms of make_batch reads as several cores.
LOAD_RESOLUTION_SECONDS = 0.2
JITTER_SPREAD = 0.3  # (p90 - p10) / median an idle machine gives by itself (~0.05-0.3)
NOISY_SPREAD = 0.5  # (p90 - p10) / median of the steps at the user's batch size; ~0.05-0.3 on an idle machine
HELD_BACK_CORES = 1.0  # the most of the others' cores that slow a step whose waiting is off the clock
# In advisor.workload.check's note where make_batch's shapes vary between calls (a profile's notes carry it).
SHAPES_VARY = "their shapes vary between calls"


def load_measured(m: Measurement) -> bool:
    """Whether the others' share of the CPU was measured while ``m``'s steps ran (a CPU window of a profile that
    records it), over long enough for /proc/stat's ticks to count it."""
    timed_seconds = len(m.compute_seconds_samples) * ((m.compute_seconds or 0.0) + (m.batch_seconds or 0.0))
    return m.device == "cpu" and m.others_cpu_cores is not None and timed_seconds >= LOAD_RESOLUTION_SECONDS


def others_explain_spread(m: Measurement, cores: int | None = None) -> bool | None:
    """True where the others' measured share of the CPU while ``m``'s steps ran (and an idle machine's jitter)
    could have made their spread, or more tasks than the ``cores`` were runnable beside the probe's own; False
    where the spread is well beyond it; None where that was not measured (a GPU, an older profile, steps too
    short for /proc/stat's ticks) or no spread was recorded."""
    if not load_measured(m) or m.spread is None:
        return None
    if cores and m.run_queue is not None and m.run_queue > cores:
        return True
    steal = min(m.steal_fraction or 0.0, 0.9)
    others = m.others_cpu_cores
    if m.clock != "wall" or m.priority_nice is not None:  # waiting for the others is off the clock
        others = min(others, HELD_BACK_CORES)
    return m.spread <= JITTER_SPREAD + others + steal / (1.0 - steal)


def measured_quiet(m: Measurement) -> bool:
    """The CPU window of ``m`` was measured (probe.contention), at the priority the probe started with, long enough
    for /proc/stat's ticks to count the others' share, and nothing else used the CPU in it: its spread is then
    the machine's own (or the workload's), which no idle moment would remove."""
    return load_measured(m) and m.clean and m.clock == "wall" and m.priority_nice is None


def shapes_vary(notes: Iterable[str]) -> bool:
    """Whether a profile's ``notes`` say that make_batch returned different shapes between calls
    (``advisor.workload.check.varying_shapes_note``): the positive evidence that its batches vary in cost."""
    return any(SHAPES_VARY in note for note in notes)


def steps_vary_on_their_own(measurements: Iterable[Measurement], *, batch_shapes_vary: bool,
                            cores: int | None = None) -> bool:
    """Most of the timed windows that were measured (at least one) varied well beyond what the others' share of
    the CPU explains, and each of them either was measured quiet or came from batches whose shapes vary
    (``batch_shapes_vary``): a spread across these steps is the steps' own, not another program's. ``cores``:
    the probe's usable cores (a run queue beyond them explains any spread)."""
    judged = [(others_explain_spread(m, cores), m) for m in measurements if not m.oom]
    judged = [(j, m) for j, m in judged if j is not None]
    own = sum(not j and (batch_shapes_vary or measured_quiet(m)) for j, m in judged)
    return bool(judged) and own * 2 > len(judged)


def warned_unreliable(measurements: Iterable[Measurement], *, batch_shapes_vary: bool,
                      cores: int | None = None) -> bool:
    """Whether the probe's notes (``advisor.probe.device_notes.noise_notes``) called these timings unreliable: the
    largest batch size with a spread varied past ``NOISY_SPREAD`` and neither its window was measured quiet nor
    its batches' varying shapes explain it, so something else probably used the CPU, a raised priority
    notwithstanding. A curve from such a probe is no free machine's (``advisor.history.remembered``)."""
    fits = [m for m in measurements if not m.oom and m.spread is not None]
    top = max(fits, key=lambda m: m.batch_size, default=None)
    if top is None or top.spread <= NOISY_SPREAD or measured_quiet(top):
        return False
    return not (batch_shapes_vary and others_explain_spread(top, cores) is False)
