"""What a probe saw of a model whose state grows as it trains (``advisor.probe.state_meter``): its buffers, larger
after every timed step (a memory bank appended to, a history kept on the module). Each step then costs more and
holds more than the one before, so the probe's steps are the job's first, not its typical ones, and a spread of
their times is the model's, not another program's.

Owns the wording both the probe's notes (``advisor.probe.device_notes``) and the predictor's spread note
(``advisor.predictor.measured``) use; neither layer may import the other.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from advisor.schemas.base import Count, Model

GREW = "the model's state grew by"  # in the note; the predictor finds it by it
GROWN_SPREAD_NOTE = ("step times varied by {spread:.0%} (robust sd) during the probe: the model's state grew at every "
                     "step (its note says by how much), so each step cost more than the one before, not because "
                     "other processes competed; the interval is wider.")
_Bytes = Annotated[float, Field(ge=0, le=1e18, allow_inf_nan=False)]


class StateGrowth(Model):
    """The sum of the model's buffer sizes rose at every timed step of the probe (a device's)."""

    bytes_per_step: Annotated[float, Field(gt=0, le=1e18, allow_inf_nan=False)]  # mean growth a step at batch_size
    batch_size: Count  # the largest batch size timed (the job's, usually), whose steps give bytes_per_step
    steps: Count  # training steps from the first timed step to the last (warm-ups between batch sizes included)
    first_bytes: _Bytes  # the buffers' total after the first timed step
    last_bytes: _Bytes  # ... and after the last
    buffers: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=16)  # that grew


def _size_text(nbytes: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= size:
            return f"{nbytes / size:.3g} {unit}"
    return f"{nbytes:.0f} bytes"


def growth_note(device: str, growth: StateGrowth) -> str:
    """The probe's note on ``device`` whose model's state grew at every timed step."""
    names = ", ".join(growth.buffers) or "unnamed"
    span = f"{_size_text(growth.first_bytes)} to {_size_text(growth.last_bytes)}"
    return (f"{device}: {GREW} {_size_text(growth.bytes_per_step)} per step at batch size {growth.batch_size} over "
            f"the probe's {growth.steps:,} steps (buffers {names}: {span}): the step gets slower and larger as the "
            "job runs; this prediction is for the probe's steps, and the job's later ones take longer and hold more "
            "memory. Fix: if the growth is not meant, bound what the model keeps (a fixed-size queue, as MoCo's).")
