"""A step that raised at a batch size advisor's own ladder chose below the job's (``advisor.probe.ladder``
``Ladder.below_check_failed``): a BatchNorm over (N, C) features at batch size 1. The ladder then times from the
workload check's size, and the profile keeps the error so that its note says so: a real epoch whose last batch
holds that many samples raises the same, and a bug that shows only at batch size 1 is not hidden.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from advisor.schemas.base import Count, Model


class SmallBatchError(Model):
    """The step at ``batch_size`` raised ``error``; the ladder timed from ``timed_from`` instead."""

    batch_size: Count
    timed_from: Count
    error: Annotated[str, Field(max_length=1000)]  # one line: "the training step raised ValueError: ..."


def small_batch_note(device: str, failed: SmallBatchError) -> str:
    """The probe's note on ``device`` whose step at a batch size below the job's raised."""
    samples = f"{failed.batch_size} sample{'s' if failed.batch_size > 1 else ''}"
    return (f"{device}: at batch size {failed.batch_size}, which advisor's ladder tried below the job's, "
            f"{failed.error}; the ladder timed from batch size {failed.timed_from} instead. A real epoch "
            f"whose last batch holds {samples} raises the same. "
            "Fix: if the error is not meant, make the model run at that size; else drop such a batch "
            "(DataLoader(drop_last=True)) or pick a dataset size that leaves none.")
