"""A step that raised at a batch size advisor's own ladder chose below the job's (``advisor.probe.ladder``
``Ladder.below_check_failed``): a BatchNorm over (N, C) features at batch size 1. The ladder then times from the
workload check's size, and the profile keeps the error so that its note says so: a real epoch whose last batch
holds that many samples raises the same, and a bug that shows only at batch size 1 is not hidden.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

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
    return (f"{device}: at batch size {failed.batch_size}, which advisor's ladder tried below the batch size it "
            "profiled, "
            f"{failed.error}; the ladder timed from batch size {failed.timed_from} instead. A real epoch "
            f"whose last batch holds {samples} raises the same. "
            "Fix: if the error is not meant, make the model run at that size; else drop such a batch "
            "(DataLoader(drop_last=True)) or pick a dataset size that leaves none.")


# The phrase that makes the job's note a caveat (``advisor.predictor.caveats``): printed beside a chosen machine.
LAST_BATCH_RAISES = "this job's epochs end with a batch of"


def last_batch_raises_note(failed: dict[int, str], dataset_size: int, batch_size: int) -> str | None:
    """The note for a job whose epoch ends with a batch of a size at which the model raised (``failed``: size ->
    the error's line, from the probe's ladder or the shape analysis): the job would fail at the end of its first
    epoch, on any device, so it is said whatever device prices it. None where the last batch is whole or of another
    size: only the sizes tried are known (the ladder's, and 1 in the analysis of a model with a BatchNorm)."""
    last = dataset_size % batch_size
    if last not in failed:
        return None
    samples = f"{last} sample{'s' if last > 1 else ''}"
    # Split over K GPUs, one sample still goes whole to one of them: the same failure on any count. A larger
    # batch is shared out (ceil(last / K) a GPU), a size this does not judge: said for one device only.
    where = ("on one device or split over GPUs (one GPU takes that sample)" if last == 1 else
             "trained on one device (split over GPUs, each takes a share of it: not judged here)")
    return (f"{LAST_BATCH_RAISES} {samples} ({dataset_size:,} = {dataset_size // batch_size:,} x {batch_size:,} + "
            f"{last}), a batch size at which the model raised ({failed[last]}): {where}, the job would fail at the "
            f"end of its first epoch unless its DataLoader drops that batch (drop_last=True: advisor does not see "
            f"the training script's loader). Fix: drop_last=True, or a dataset size or batch size that leaves no "
            f"such batch (the estimate is of the job as asked).")


def split_last_batch_note(one_sample_error: str | None, dataset_size: int, batch_size: int, count: int) -> str | None:
    """On ``count`` > 1 GPUs, the note for a job whose epoch's last batch, split over them as advisor prices it
    (each GPU ceil(last / count) samples), leaves a GPU one sample, at which the model's forward raised
    (``Analysis.one_sample_error``). None on one GPU, and where the last batch is itself of one sample
    (``last_batch_raises_note`` says it for every target)."""
    last = dataset_size % batch_size
    if count <= 1 or one_sample_error is None or last <= 1 or -(-last // count) != 1:
        return None
    # Fewer samples than GPUs: advisor prices one sample a GPU, but some GPUs get none, so not "one each".
    each = "one sample each" if last == count else f"one sample on each of {last} of them"
    return (f"{LAST_BATCH_RAISES} {last} samples ({dataset_size:,} = {dataset_size // batch_size:,} x {batch_size:,} "
            f"+ {last}), which {count} GPUs split {each}, a batch size at which the model raised "
            f"({one_sample_error}): the job would fail at the end of its first epoch on them unless its DataLoader "
            f"drops that batch (drop_last=True). Fix: drop_last=True, or fewer GPUs or a dataset size that leaves no "
            f"such batch.")


# The phrase that makes ``step_raises_note`` a caveat, and a warning of recommend's, whichever machine it chose.
STEP_RAISES = "the job would fail at its first step"


def step_raises_note(one_sample_error: str | None, batch_size: int, count: int) -> str | None:
    """On ``count`` GPUs, the note for a job whose every step gives a GPU one sample (``batch_size`` <= ``count``,
    as advisor prices a step: each GPU ceil(batch_size / count) samples), at which the model's forward raised
    (``Analysis.one_sample_error``). None where a GPU takes 2 or more. ``count`` 1 is the job itself at
    ``--batch-size 1``: one device, a CPU or a GPU, takes each step whole, so it is said of every target (the
    job's own note, ``advisor.sources``; a CPU estimate said nothing of it where a GPU's did)."""
    if one_sample_error is None or -(-batch_size // count) != 1:
        return None
    # A batch smaller than the GPUs is refused before any note (each GPU needs at least one sample).
    if count == 1:
        return (f"each step of this job (--batch-size {batch_size:,}) is one sample, a batch size at which the model "
                f"raised ({one_sample_error}): {STEP_RAISES}, on any device (a CPU or a GPU takes the step whole). "
                f"Fix: --batch-size 2 or more.")
    return (f"each step of this job (--batch-size {batch_size:,}) gives each of its {count} GPUs one sample, a batch "
            f"size at which the model raised ({one_sample_error}): {STEP_RAISES}. Fix: --batch-size {2 * count:,} or "
            f"more (2 samples per GPU), or fewer GPUs.")


def raised_at(prof: Any) -> dict[int, str]:
    """The batch sizes at which ``prof``'s model (a ``Profile``) raised, each with its error: where the shape
    analysis ran it at 1, and where the probe's ladder tried a size below the job's (the ladder's real step is
    named where both are)."""
    analysed = next((a.one_sample_error for a in (prof.analysis, prof.bf16_analysis) if a and a.one_sample_error), None)
    raised = {1: analysed} if analysed else {}
    raised.update({d.small_batch_error.batch_size: d.small_batch_error.error for d in prof.devices
                   if d.small_batch_error is not None})
    return raised


AnalysisT = TypeVar("AnalysisT", bound=Model)


def told_one_sample(first: Model | None, half: AnalysisT | None) -> AnalysisT | None:
    """``half``, a profile's second analysis of the model (at bf16), with the batch-1 error (``one_sample_error``)
    of ``first``, the profile's first analysis: ``half`` skips that check (it is the model's, whatever the
    precision, and may take seconds), yet prices every 16-bit row, which must be told of it too. Given once, as
    the profile is made or read (a file written before this holds a ``half`` without it), so that
    ``Profile.analysed_for`` hands out that one object, and whatever it has worked out (its derived cache), each
    time. ``half`` itself where there is nothing to add."""
    err = getattr(first, "one_sample_error", None)
    if err is None or half is None or getattr(half, "one_sample_error", None) is not None:
        return half
    return half.model_copy(update={"one_sample_error": err})
