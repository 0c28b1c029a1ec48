"""The job as it runs, from the figures given, where the two differ: each change said in a note.

A ``--batch-size`` larger than the dataset is one batch of the whole dataset per epoch (as a DataLoader makes
it; ``resolve_job`` caps it). The notes say so, with the figure the user gave, which the answer's fields no
longer show. Gradient accumulation of more micro-steps than the whole job has would never step the optimizer in
a loop that steps it every that many: the job is priced as one optimizer step, at its end (accumulation over
all its micro-steps), not as a fraction of one. An evaluation interval longer than the job's optimizer steps
counts no evaluation, as half an evaluation (``--eval-steps`` alone) does, and is said the same way. Torch-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from advisor.schemas import JobSpec


def samples(count: int) -> str:
    """``1 sample``, ``1,000 samples``."""
    return f"{count:,} sample" + ("" if count == 1 else "s")


def fitted_job(job: JobSpec, *, asked_batch_size: int | None, batch_said: str,
               said: Mapping[str, str] | None = None) -> tuple[JobSpec, list[str]]:
    """(``job`` as it runs, the notes on what differs from the figures given).

    Args:
        job: the job as ``resolve_job`` and the settings made it (its batch already capped at the dataset).
        asked_batch_size: the batch size given (a flag, the workload's constant); None where unknown.
        batch_said: how the notes name that figure (``--batch-size 100000``, ``BATCH_SIZE = 512``).
        said: how each job setting given was given, by keyword (``JobSettings.said``).
    """
    notes: list[str] = []
    if asked_batch_size is not None and asked_batch_size > job.batch_size:
        notes.append(f"{batch_said} is more than the dataset's {samples(job.dataset_size)}: each epoch is one "
                     f"batch of {job.dataset_size:,} (as a DataLoader makes it), and that is the batch predicted.")
    total = job.total_steps
    if job.grad_accum_steps > total:
        accum = job.grad_accum_steps
        given = (said or {}).get("grad_accum_steps", f"--grad-accum-steps {accum}")
        notes.append(f"{given} is more than the {total:,} micro-steps of the whole job ({job.epochs:,} epoch"
                     f"{'' if job.epochs == 1 else 's'} x {job.steps_per_epoch:,} of batch {job.batch_size:,}): a loop "
                     f"that steps the optimizer every {accum:,} micro-steps would never step it. Priced as one "
                     f"optimizer step at the end of the job ({total:,} micro-steps per optimizer step); if "
                     f"{accum:,} is a typo, pass --grad-accum-steps {total:,} or fewer.")
        job = replace(job, grad_accum_steps=total)
    if job.eval_every and job.eval_steps and not job.evaluations:
        steps = job.optimizer_steps
        given = (said or {}).get("eval_every", f"--eval-every {job.eval_every}")
        notes.append(f"{given} is more than the job's {steps:,} optimizer step{'' if steps == 1 else 's'}: no "
                     f"evaluation runs, so none is counted; --eval-every {steps:,} or fewer counts one.")
        job = replace(job, eval_every=None, eval_steps=0)  # no evaluation, as the JSON shows the others
    return job, notes
