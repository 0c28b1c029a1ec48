"""Whether other processes disturbed the timing of an ``InputPipeline``: ``pipeline_busy_notes``.

Owns the one judgement both the probe's notes (``advisor.probe.device_notes``, into ``Profile.notes``) and a GPU
estimate's (``advisor.predictor.gpu_job``, where the host side is a large share of the step) make from the
pipeline's points' contention fields (``clock``, ``wait_seconds``, ``others_cpu_cores``, ``steal_fraction``).
Neither layer may import the other, so the judgement lives with the model it reads (as ``schemas.spread``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor.schemas.spread import LOAD_RESOLUTION_SECONDS
from advisor.units import format_duration

if TYPE_CHECKING:
    from advisor.schemas.profile import InputPipeline

__all__ = ["MATERIAL_WAIT_SHARE", "pipeline_busy_notes"]

MATERIAL_WAIT_SHARE = 0.05  # an input pipeline's waits for a CPU worth a note: this share of its timed wall time


def pipeline_busy_notes(pipeline: InputPipeline | None) -> list[str]:
    """What other processes did while the input pipeline was timed (probe.input_pipeline), said once."""
    busy = [p for p in pipeline.points if p.clock == "wall_less_wait"] if pipeline else []
    waited = sum(p.wait_seconds or 0.0 for p in busy)
    timed = sum(p.seconds for p in busy)
    if not busy or waited < MATERIAL_WAIT_SHARE * timed:  # others ran beside it, but it barely waited for them
        return []
    others = max(p.others_cpu_cores or 0.0 for p in busy)
    steal = max(p.steal_fraction or 0.0 for p in busy)
    if timed < LOAD_RESOLUTION_SECONDS:  # the waits are the scheduler's exact count; a share of cores is not
        seen = "other processes ran"
    elif others >= 0.05:
        seen = f"other processes used up to {others:.1f} cores"
    else:
        seen = f"the hypervisor took up to {steal:.0%} of the CPU (steal time)"
    what = "make_batch" if pipeline.source == "make_batch" else \
        f"the loader at {', '.join(str(p.workers) for p in busy)} workers"
    # The waits are summed over the pipeline's processes and threads, so they can exceed the wall time timed.
    return [f"input pipeline: {seen} while {what} was timed: its rate leaves out the time its processes waited "
            f"for a CPU another process held ({format_duration(waited)} in all, summed over them, in "
            f"{format_duration(timed)} of timing)."]
