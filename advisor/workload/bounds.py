"""The bounds of a job's figures, and the one wording of their errors: each of dataset size, epochs and batch
size at most ``MAX_JOB_COUNT`` (10^12), and the samples the whole job processes (dataset size x epochs) at most
``MAX_JOB_SAMPLES`` (10^15). Past either, a figure is a typo: it would print times of millions of years, and
costs and step counts past what the history stores, as if real. Torch-free.
"""

from __future__ import annotations

from typing import Any

from advisor.errors import WorkloadError
from advisor.schemas.base import MAX_JOB_COUNT, MAX_JOB_SAMPLES


def check_job_samples(dataset_size: int, epochs: int, label: str | None = None) -> None:
    """WorkloadError for a job of more than ``MAX_JOB_SAMPLES`` samples processed (dataset size x epochs)."""
    if dataset_size * epochs > MAX_JOB_SAMPLES:
        where = f"{label}: " if label else ""
        raise WorkloadError(f"{where}{dataset_size:,} samples x {epochs:,} epochs is {dataset_size * epochs:,} "
                            "samples processed, more than 10^15, beyond any real job.",
                            hint=f"Fix: pass the real --dataset-size and --epochs (their product at most 10^15: "
                                 f"--epochs {MAX_JOB_SAMPLES // dataset_size} or fewer for this dataset).")


def over_job_bound(value: Any) -> bool:
    """Whether ``value`` is a number past ``MAX_JOB_COUNT``: told apart from a merely wrong value in messages."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > MAX_JOB_COUNT


def over_bound_error(subject: str, fix: str) -> WorkloadError:
    """The one message for a job figure past ``MAX_JOB_COUNT``, whoever gave it: ``subject`` names it
    (``"batch size 10000000000000 (--batch-size)"``), ``fix`` says where the real figure goes (``"pass
    --batch-size with"``)."""
    return WorkloadError(f"{subject} is more than 10^12, beyond any real job.",
                         hint=f"Fix: {fix} the real figure (at most {MAX_JOB_COUNT:,}).")
