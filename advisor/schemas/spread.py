"""Whether what other processes did while a probe timed its steps explains how widely those steps varied.

Owns the one judgement both the probe's notes (``advisor.probe.device_notes``) and the predictor's
(``advisor.predictor.measured``) make from a ``Measurement``'s contention fields (``others_cpu_cores``,
``steal_fraction``, its clock and priority): a spread well beyond what the others' measured share of the CPU
could cause is the steps' own (batches that vary in cost, a random sequence length), which probing again on an
idle machine would not remove. Neither layer may import the other, so the judgement lives with the model it
reads.

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
HELD_BACK_CORES = 1.0  # the most of the others' cores that slow a step whose waiting is off the clock


def load_measured(m: Measurement) -> bool:
    """Whether the others' share of the CPU was measured while ``m``'s steps ran (a CPU window of a profile that
    records it), over long enough for /proc/stat's ticks to count it."""
    timed_seconds = len(m.compute_seconds_samples) * ((m.compute_seconds or 0.0) + (m.batch_seconds or 0.0))
    return m.device == "cpu" and m.others_cpu_cores is not None and timed_seconds >= LOAD_RESOLUTION_SECONDS


def others_explain_spread(m: Measurement) -> bool | None:
    """True where the others' measured share of the CPU while ``m``'s steps ran (and an idle machine's jitter)
    could have made their spread; False where the spread is well beyond it; None where that was not measured (a
    GPU, an older profile, steps too short for /proc/stat's ticks) or no spread was recorded."""
    if not load_measured(m) or m.spread is None:
        return None
    steal = min(m.steal_fraction or 0.0, 0.9)
    others = m.others_cpu_cores
    if m.clock != "wall" or m.priority_nice is not None:  # waiting for the others is off the clock
        others = min(others, HELD_BACK_CORES)
    return m.spread <= JITTER_SPREAD + others + steal / (1.0 - steal)


def steps_vary_on_their_own(measurements: Iterable[Measurement]) -> bool:
    """Most of the timed windows that were measured (at least one) varied well beyond what the others' share of
    the CPU explains: a spread across these steps is the steps' own, not another program's."""
    judged = [others_explain_spread(m) for m in measurements if not m.oom]
    judged = [j for j in judged if j is not None]
    return bool(judged) and sum(not j for j in judged) * 2 > len(judged)
