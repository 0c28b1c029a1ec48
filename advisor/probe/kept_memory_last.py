"""The allocator's what-if (``advisor.probe.allocator``) run last in the probe's child, after every device's
ladder and the input pipeline were timed.

The what-if sets glibc's mmap and trim thresholds, and glibc cannot be put back into its adaptive mode afterwards:
every ``make_batch`` timed after it in the same process (a GPU's batch creation and copy, the input pipeline)
would map each large batch tensor afresh and fault it in at every call, where a fresh training process's glibc
keeps reusing the memory. So in the child the CPU probe notes the what-if's reference point and keeps its model
(``measure_or_defer``); the child times the other devices and the input pipeline, then runs it here
(``measure_last``) and sends the CPU's profile with it. Running it in a fork instead would not time it as the
ladder was timed: PyTorch's CPU thread pool does not survive a fork once it has run (``advisor.probe.child``).
"""

from __future__ import annotations

from typing import Any, Protocol

from advisor.probe.allocator import StepRunner, kept_memory_steps, measure_kept_memory
from advisor.schemas import DeviceProfile, KeptMemory, Measurement


class DeferringProbe(StepRunner, Protocol):
    """What this needs of a CPU probe (``advisor.probe.measure.DeviceProbe``) besides the what-if's steps."""

    options: Any  # ``ProbeOptions``: ``kept_memory_last``
    priority: Any  # ``ProbePriority``
    kept_memory_later: tuple[Measurement, float] | None

    def release(self) -> None: ...


def measure_or_defer(probe: DeferringProbe, top: Measurement, budget_seconds: float) -> KeptMemory | None:
    """The what-if at the ladder's point ``top`` now, where the probe runs alone; in the child
    (``ProbeOptions.kept_memory_last``) None, with ``top`` and the budget noted on the probe
    (``DeviceProbe.kept_memory_later``, which keeps its model for it) where the what-if would measure anything."""
    if not probe.options.kept_memory_last:
        return measure_kept_memory(probe, top, budget_seconds)  # the probe's last step: see the module's docstring
    if kept_memory_steps(top, budget_seconds) is not None:
        probe.kept_memory_later = (top, budget_seconds)
    return None


def measure_last(probe: DeferringProbe, profile: DeviceProfile) -> DeviceProfile:
    """``profile`` (the CPU's) with the what-if noted by ``measure_or_defer`` measured now; the probe's model is
    released after it, whatever happens."""
    assert probe.kept_memory_later is not None
    top, budget_seconds = probe.kept_memory_later
    try:
        with probe.priority.raised_if(top.priority_nice is not None):  # as ``top`` was timed
            kept = measure_kept_memory(probe, top, budget_seconds)
    finally:
        probe.kept_memory_later = None
        probe.release()
    return profile.model_copy(update={"kept_memory": kept})
