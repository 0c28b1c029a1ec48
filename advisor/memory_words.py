"""The words for the one layout every memory verdict assumes, data parallelism (DDP), shared by ``predict``'s
notes (``advisor.predictor``) and ``recommend``'s dropped candidates and choice (``advisor.ranking``), which may
not import each other."""

from __future__ import annotations

from collections.abc import Iterable

from advisor.schemas.base import MAY_RUN_OUT_OF_MEMORY

DDP_ASSUMED = ("memory assumes data parallel (DDP): a full copy of weights, gradients and optimizer state on each "
               "GPU")


def ddp_memory_text(sharded_gib: float | None, gpus: int, min_gpus: int | None,
                    samples_per_update: int | None = None, capacity_gib: float | None = None) -> str:
    """The DDP assumption, and what sharding (FSDP/ZeRO-3, priced only on a multi-GPU target DDP does not fit:
    ``advisor.predictor.sharded``) would need: about ``sharded_gib`` per GPU on ``gpus`` (more than one), or, on one
    GPU, the fewest of it (``min_gpus``) a sharded step fits at one sample each. Where the sharded step at the job's
    batch is more than the GPU's ``capacity_gib`` but one sample per GPU fits these ``gpus`` sharded, the text says
    so with the flags that keep ``samples_per_update`` (batch x accumulation) per optimizer update. Lower case: a
    clause or a note."""
    text = DDP_ASSUMED
    if sharded_gib is not None and gpus > 1:
        text += (f"; sharded (FSDP/ZeRO-3) it would need about {sharded_gib:,.{0 if sharded_gib >= 10 else 1}f} GiB "
                 f"per GPU on {gpus:,} GPUs")
        if min_gpus and min_gpus > gpus:
            text += f" (at one sample each it fits from {min_gpus:,} of these GPUs)"
        elif min_gpus and samples_per_update and samples_per_update > gpus and sharded_gib > (capacity_gib or 1e30):
            text += f"; at one sample per GPU it fits these {gpus:,} GPUs sharded"
            if samples_per_update % gpus == 0:
                text += (f" (--batch-size {gpus} --grad-accum-steps {samples_per_update // gpus} keeps the "
                         f"{samples_per_update:,} samples per optimizer update)")
    elif min_gpus and min_gpus > 1:
        text += (f"; sharded (FSDP/ZeRO-3), at one sample per GPU it would fit on {min_gpus:,} or more of these GPUs "
                 "(a machine with that many is priced sharded)")
    return text


# Where one sample's activations are at least this share of a GPU's memory, checkpointing them is the lever.
ACTIVATION_SHARE_FOR_CHECKPOINTING = 1 / 3


def checkpointing_way(activation_gib_per_sample: float | None, checkpointed: bool | None,
                      capacity_gib: float | None, gpu: str | None = None) -> str | None:
    """"activation checkpointing (torch.utils.checkpoint on each block: ...)", a way out of a job that does not fit
    whose activations are a large share of what one sample needs (at least ``ACTIVATION_SHARE_FOR_CHECKPOINTING`` of the
    GPU's ``capacity_gib``) and which does not checkpoint them (``checkpointed`` False; None: not known, nothing
    said). The checkpointed size is not given: it depends on the blocks the script wraps, which the analysis of an
    un-checkpointed model does not know apart, so the words say what it saves, not how much. ``gpu``: the model
    whose memory that is, named ("one B200's 180 GiB"); None: "the GPU's"."""
    if checkpointed is not False or not activation_gib_per_sample or not capacity_gib:
        return None
    if activation_gib_per_sample < ACTIVATION_SHARE_FOR_CHECKPOINTING * capacity_gib:
        return None
    whose = f"one {gpu}'s" if gpu else "the GPU's"
    return (f"activation checkpointing (torch.utils.checkpoint on each block: the activations saved for backward, "
            f"{activation_gib_per_sample:,.{0 if activation_gib_per_sample >= 10 else 1}f} GiB a sample here against "
            f"{whose} {capacity_gib:,.0f} GiB, shrink to each block's input and one block's recomputed activations, "
            "for about a third more compute; advisor sizes the step once the script checkpoints)")


def checkpointing_note(activation_gib_per_sample: float | None, checkpointed: bool | None,
                       capacity_gib: float | None, gpu: str, gpu_count: int, per_device_batch: int) -> str | None:
    """``checkpointing_way`` as a note of its own (``predict``): what would let fewer GPUs, or more samples on
    each, hold the step, naming the target it was computed for (``gpu_count`` x ``gpu`` at ``per_device_batch``):
    "fewer GPUs" read without it as fewer than any count."""
    way = checkpointing_way(activation_gib_per_sample, checkpointed, capacity_gib, gpu)
    if way is None:
        return None
    return (f"Or {way}: fewer GPUs, or more samples on each, would hold the step (computed for {gpu_count:,} x {gpu} "
            f"at {per_device_batch:,} sample{'s' if per_device_batch != 1 else ''} per GPU).")


def roomier_batch_advice(roomy_per_device: int, per_device_batch: int, gpu_count: int = 1,
                         samples_per_update: int | None = None) -> str:
    """"batch 2 per device would leave a tenth free (--batch-size 16 --grad-accum-steps 2 keeps the 32 samples
    per optimizer update)": the advice of a tight fit, ``roomy_per_device`` where it is smaller than the job's
    ``per_device_batch``; with ``samples_per_update`` (batch x accumulation, so the same training: a sharded fit's),
    the flags that keep them at the largest per-GPU batch up to it, and at least half of it, whose global batch over
    ``gpu_count`` GPUs divides them ("at 5 per GPU, ..." where that is smaller; none such: the batch alone). ""
    where no smaller batch leaves that room. One text
    for a tight note (``advisor.predictor``) and ``recommend``'s at-risk warning (``tight_advice``)."""
    if not 0 < roomy_per_device < per_device_batch:
        return ""
    text = f"batch {roomy_per_device:,} per device would leave a tenth free"
    flags = samples_kept_flags(roomy_per_device, gpu_count, samples_per_update)
    return f"{text} ({flags})" if flags else text


def samples_kept_batch(per_device: int, gpu_count: int, samples_per_update: int | None) -> int | None:
    """The largest per-GPU batch up to ``per_device``, and at least half of it, whose global batch over
    ``gpu_count`` GPUs divides ``samples_per_update``; None where none does (or no samples are given)."""
    if not samples_per_update or per_device < 1:
        return None
    # Down to half the batch: a prime 41 samples on one GPU gave "at 1 per GPU, --batch-size 1
    # --grad-accum-steps 41", steps of one sample that leave a GPU idle; past half, the batch alone is the advice.
    lowest = (per_device + 1) // 2
    return next((b for b in range(per_device, lowest - 1, -1) if samples_per_update % (b * gpu_count) == 0), None)


def samples_kept_flags(per_device: int, gpu_count: int, samples_per_update: int | None) -> str:
    """"at 10 per GPU, --batch-size 40 --grad-accum-steps 8 keeps the 320 samples per optimizer update": the
    flags that keep ``samples_per_update`` (batch x accumulation, so the same training) at the largest per-GPU batch
    up to ``per_device`` whose global batch over ``gpu_count`` GPUs divides them, and at least half of
    ``per_device`` (``samples_kept_batch``; "at 5 per GPU, ..." where that is smaller); "" where none such (or no
    samples given). One rule for a tight note's roomier batch (``roomier_batch_advice``), a job's largest batch that
    fits (``predictor.sharded.largest_fit_flags``) and ``recommend``'s exit-3 fix (``ranking.reasons``)."""
    per_gpu = samples_kept_batch(per_device, gpu_count, samples_per_update)
    if per_gpu is None or not samples_per_update:
        return ""
    samples = samples_per_update
    at = f"at {per_gpu:,} per GPU, " if per_gpu != per_device else ""
    # the flags as they are typed: "--batch-size 21,500" is refused (``cli.options.parse_count``)
    return (f"{at}--batch-size {per_gpu * gpu_count} --grad-accum-steps {samples // (per_gpu * gpu_count)} "
            f"keeps the {samples:,} samples per optimizer update")


# Where a tight note's advice (``roomier_batch_advice``) starts: after its "may run out of memory".
_ADVICE_AFTER = f"{MAY_RUN_OUT_OF_MEMORY}; "


def may_run_out(advice: str) -> str:
    """"may run out of memory; batch 3 per device would leave a tenth free (...)": how a tight note ends, with
    ``advice`` where there is one, so that ``tight_advice`` finds it again."""
    return f"{_ADVICE_AFTER}{advice}" if advice else MAY_RUN_OUT_OF_MEMORY


def with_advice(note: str, advice: str) -> str:
    """A tight note (``may_run_out``) with ``advice`` in place of the advice it had (or its lack)."""
    stem = note.partition(_ADVICE_AFTER)[0].removesuffix(".").removesuffix(MAY_RUN_OUT_OF_MEMORY)
    return f"{stem}{may_run_out(advice)}."


def tight_advice(notes: Iterable[str]) -> str:
    """The advice a tight note of ``notes`` (an estimate's) gives (``may_run_out``), for ``recommend``'s at-risk
    warning, which reads the estimate's notes as ``Candidate.memory_tight`` does (the ranking imports no
    predictor); "" where none gives one."""
    for note in notes:
        _, found, advice = note.partition(_ADVICE_AFTER)
        if found:
            return advice.removesuffix(".")
    return ""
