"""What a probe that raised its priority over a busy machine (``advisor.probe.priority``) adds to a CPU job's
interval: the run-to-run floor of a busy machine, which the raised windows' own steps do not show.

Raised above the load, the probe's windows time steps about as on an idle machine (its two-thread step beside a
busy loop 0.91-1.07x the idle one, bench/README.md), so their spread stays small and the interval stayed as narrow
as an idle probe's. The job, which runs at the priority it is started with, beside the same load, does not: over
the pooled busy-raised runs of ``bench/accuracy_cpu.py`` (bench/README.md "Pooled": 50 jobs, each run three times)
a real job lands 8.19% (median) from the mean of its runs, where an idle machine's jobs land 6.51% (175 jobs). The
idle floor is ``measured.RUN_TO_RUN_REL["cpu"]`` (0.12); the busy-raised one is that floor scaled by 8.19 / 6.51,
so a raised window beside runnable tasks adds the difference in quadrature: 0.12 x sqrt(1.258^2 - 1) = 0.092.
An audit of a probe raised over a run queue of 15-18 on 2 cores got an interval barely wider than an idle one's
(-17% / +21%) while back-to-back probes differed by 17%. The pooled runs had one busy loop beside the probe (a
run queue of about 1), so the term is the same for any queue of at least one task: no run measured more.
"""

from __future__ import annotations

import math

from advisor.schemas import Measurement

IDLE_FLOOR_REL = 0.12  # measured.RUN_TO_RUN_REL["cpu"] (a test holds them equal)
IDLE_RERUN_PCT = 6.51  # bench/README.md "Pooled": idle jobs against the mean of their runs, median |error|
BUSY_RAISED_RERUN_PCT = 8.19  # ... and the busy-raised jobs'
RAISED_BUSY_SIGMA = IDLE_FLOOR_REL * math.sqrt((BUSY_RAISED_RERUN_PCT / IDLE_RERUN_PCT) ** 2 - 1)
RAISED_QUEUE_MIN = 1.0  # runnable tasks beyond the probe's own in a raised window: the pooled runs' busy loop


def raised_load_sigma(measurements: list[Measurement]) -> float:
    """``RAISED_BUSY_SIGMA`` where a timed window of ``measurements`` ran at raised priority beside at least
    ``RAISED_QUEUE_MIN`` runnable tasks of others (``Measurement.run_queue``), else 0."""
    raised = any(m.priority_nice is not None and (m.run_queue or 0.0) >= RAISED_QUEUE_MIN
                 for m in measurements if not m.oom and m.compute_seconds)
    return RAISED_BUSY_SIGMA if raised else 0.0
