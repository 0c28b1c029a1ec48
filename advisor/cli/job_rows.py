"""The "job" and "step" rows of a prediction's table (``render.estimate``): how the job's steps add up.

An epoch's last batch holds the samples left over, so where it is smaller the rows say so and give its step: a
reader multiplying "steps of B" by the step time would otherwise price every step at the full batch (1,000
epochs of 513 samples at batch 512 are 1,000 steps of 512 and 1,000 of 1, not 2,000 of 512).
"""

from __future__ import annotations

from typing import Any

from advisor.units import format_step


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' if n != 1 else ''}"


def _short_last(est: Any) -> bool:
    """Whether the epoch's last batch is smaller than the others (and the estimate records it)."""
    return est.last_batch_size is not None and est.last_batch_size != est.batch_size


def job_text(est: Any) -> str:
    """Epochs x steps of the batch (the full ones and the last, smaller one apart), the dataset, accumulation."""
    epochs = _plural(est.epochs, "epoch")
    if _short_last(est) and est.steps_per_epoch > 1:
        full = est.steps_per_epoch - 1
        steps = (f"{_plural(full, 'full step')} of {est.batch_size:,} and 1 of {est.last_batch_size:,} "
                 f"({est.dataset_size:,} samples per epoch)")
    else:
        steps = f"{_plural(est.steps_per_epoch, 'step')} of {est.batch_size:,} ({est.dataset_size:,} samples)"
    accum = est.grad_accum_steps
    return (f"{epochs} x {steps}"
            + (f"; {accum} micro-steps per optimizer step ({est.batch_size * accum:,} samples)" if accum > 1 else "")
            + ("; torch.compile" if est.compiled else ""))


def step_text(est: Any) -> str:
    """A full step's time (of it making and copying the batch), and the epoch's last, smaller step's."""
    text = (format_step(est.step_seconds) + (" per micro-step" if est.grad_accum_steps > 1 else "")
            # batch_seconds: making the batch, its copy, waiting for a loader; not the K-GPU step's communication
            # and synchronisation, which "outside compute" read as nil beside a scaling efficiency of 79%
            + (f" ({format_step(est.batch_seconds)} of it making and copying the batch)" if est.batch_seconds else ""))
    if _short_last(est) and est.last_step_seconds is not None:
        text += f"; the last of each epoch (batch {est.last_batch_size:,}) {format_step(est.last_step_seconds)}"
    return text
