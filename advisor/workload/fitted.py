"""The job as it runs, from the figures given, where the two differ: each change said in a note.

A ``--batch-size`` larger than the dataset is one batch of the whole dataset per epoch (as a DataLoader makes
it; ``resolve_job`` caps it). The notes say so, with the figure the user gave, which the answer's fields no
longer show. Torch-free.
"""

from __future__ import annotations

from advisor.schemas import JobSpec


def samples(count: int) -> str:
    """``1 sample``, ``1,000 samples``."""
    return f"{count:,} sample" + ("" if count == 1 else "s")


def fitted_job(job: JobSpec, *, asked_batch_size: int | None, batch_said: str) -> tuple[JobSpec, list[str]]:
    """(``job`` as it runs, the notes on what differs from the figures given).

    Args:
        job: the job as ``resolve_job`` and the settings made it (its batch already capped at the dataset).
        asked_batch_size: the batch size given (a flag, the workload's constant); None where unknown.
        batch_said: how the notes name that figure (``--batch-size 100000``, ``BATCH_SIZE = 512``).
    """
    notes: list[str] = []
    if asked_batch_size is not None and asked_batch_size > job.batch_size:
        notes.append(f"{batch_said} is more than the dataset's {samples(job.dataset_size)}: each epoch is one "
                     f"batch of {job.dataset_size:,} (as a DataLoader makes it), and that is the batch predicted.")
    return job, notes
