"""Sharded data parallel (FSDP FULL_SHARD / DeepSpeed ZeRO-3) as a priced layout of K GPUs: when a target is
priced sharded, its per-GPU memory and largest batch, the bytes its all-gathers move, and the note that says so.

Data parallel with a full copy per GPU (DDP) is the layout advisor assumes: it is what a training script with
``DistributedDataParallel`` runs, and every memory verdict is DDP's where DDP fits. Where a full copy of the weights,
gradients and optimizer state does not fit one GPU but a sharded step does (``MemoryFit.sharded_gib``), the target
is priced sharded instead of ruled out: large models are trained so (llm-foundry's MPT runs, torchtitan's Llama, both
FSDP), and a user asking about a 7B model should get a time and a price, with a note that the script must shard
for them to hold. The step's communication is ``advisor.predictor.multigpu``'s (``gather_bytes``).

The per-GPU figure is rough in one known way: the all-gathered unit in flight (one wrapped block's weights, two with
prefetch) and the collectives' buffers are not counted; the fit's margin (``workspace_fraction``) is what covers
them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from advisor.memory_words import (
    checkpointing_note,
    ddp_memory_text,
    may_run_out,
    roomier_batch_advice,
    samples_kept_flags,
    with_advice,
)
from advisor.predictor.memory import ROOMY_MEMORY_FRACTION, TIGHT_MEMORY_FRACTION, MemoryFit
from advisor.schemas import Analysis, JobSpec
from advisor.schemas.base import within_capacity
from advisor.units import format_gib_pair, format_oom_cap

# What a target priced sharded needs of the training script, in every note that says so.
SCRIPT_MUST_SHARD = ("only if the training script shards (torch.distributed.fsdp, or DeepSpeed ZeRO stage 3); with "
                     "plain DDP it runs out of memory")
# How far the largest batch is searched (samples per GPU): beyond it, "unbounded" as the DDP fit says.
_MAX_BATCH_SEARCH = 1 << 24


@dataclass(frozen=True)
class ShardedLayout:
    """A target priced sharded: per GPU its memory at the job's batch and its largest batch, and the bytes each of
    the step's two weight all-gathers moves (``multigpu.data_parallel``'s ``gather_bytes``)."""

    memory_gib: float
    max_batch_per_device: int | None
    gather_bytes: float


def gather_bytes_of(analysis: Analysis, precision: str) -> float:
    """The weights' bytes as an all-gather moves them: at 16 bits for a 16-bit job (FSDP's
    ``MixedPrecision(param_dtype=...)``, DeepSpeed's bf16/fp16 modes, as llm-foundry and torchtitan run), else fp32.
    Every weight, frozen ones too: a sharded unit gathers all of its weights."""
    return analysis.param_bytes / 2.0 if precision in ("bf16", "fp16") else float(analysis.param_bytes)


def sharded_layout(fit: MemoryFit | None, gpu_count: int, analysis: Analysis | None,
                   precision: str) -> ShardedLayout | None:
    """The sharded layout of ``gpu_count`` GPUs where DDP does not fit but the sharded step does; None where DDP
    fits, on one GPU, where the fit cannot size the sharded step (a probe's measured fixed part with no analysis to
    split it: ``probe_parts``), or where the sharded step does not fit either. A batch a probe ran out of memory at
    on a GPU with no less memory (``MemoryFit.oom_limit``) is measured, where the sharded need is rough: a step
    of that batch is not priced sharded, nor its largest batch put past it."""
    if gpu_count <= 1 or fit is None or fit.fits_memory or analysis is None:
        return None
    if _past_oom_limit(fit):
        return None
    need = fit.sharded_gib(gpu_count)
    if need is None or not within_capacity(need, fit.capacity_gib):
        return None
    largest = _largest_batch(fit, gpu_count)
    if fit.oom_limit is not None:
        largest = fit.oom_limit if largest is None else min(largest, fit.oom_limit)
    return ShardedLayout(memory_gib=need, max_batch_per_device=largest,
                         gather_bytes=gather_bytes_of(analysis, precision))


def _past_oom_limit(fit: MemoryFit) -> bool:
    """Whether ``fit``'s batch per device is past one a probe ran out of memory at (``MemoryFit.oom_limit``), on a
    GPU with no less memory: measured, so not priced sharded, and said so beside the sharded figure."""
    return fit.oom_limit is not None and fit.per_device_batch > fit.oom_limit


def _largest_batch(fit: MemoryFit, gpu_count: int) -> int | None:
    """The largest per-GPU batch whose sharded step fits (at least the fit's own batch, which does); None where
    no batch up to ``_MAX_BATCH_SEARCH`` runs out of memory."""
    def fits(batch: int) -> bool:
        need = fit.sharded_gib(gpu_count, batch)
        return need is not None and need <= fit.capacity_gib

    low = fit.per_device_batch
    high = low * 2
    while fits(high):
        low, high = high, high * 2
        if high > _MAX_BATCH_SEARCH:
            return None
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if fits(mid) else (low, mid)
    return low


def sharded_note(layout: ShardedLayout, ddp_peak_gib: float, capacity_gib: float, gpu_count: int,
                 precision: str) -> str:
    """What pricing a target sharded assumed, and what the user's script must do for it to hold."""
    width = "16-bit" if precision in ("bf16", "fp16") else "fp32"
    return (f"priced as sharded data parallel (FSDP FULL_SHARD / ZeRO-3) over {gpu_count:,} GPUs: a full copy per GPU "
            f"(DDP) needs {ddp_peak_gib:,.1f} GiB, more than {capacity_gib:,.1f} GiB, and with the weights, gradients "
            f"and optimizer state split {gpu_count:,} ways it needs about {layout.memory_gib:,.1f} GiB per GPU "
            f"(the gathered block in flight not counted). Each step all-gathers the weights twice ({width}) and "
            f"reduce-scatters the gradients. This holds {SCRIPT_MUST_SHARD}.")



def roomy_batch(fit: MemoryFit, gpu_count: int) -> int:
    """The largest per-GPU batch whose sharded step leaves a tenth of the memory free (``ROOMY_MEMORY_FRACTION``,
    as a tight DDP fit's advice takes it); 0 where not even one sample does. The sharded need is linear in the
    batch, so the batch is read off the line through batches 0 and 1."""
    empty, one = fit.sharded_gib(gpu_count, 0), fit.sharded_gib(gpu_count, 1)
    if empty is None or one is None or one <= empty:
        return 0
    return max(0, math.floor((ROOMY_MEMORY_FRACTION * fit.capacity_gib - empty) / (one - empty) + 1e-9))


def sharded_tight_note(layout: ShardedLayout, capacity_gib: float, per_device_batch: int,
                       advice: str = "") -> str | None:
    """A sharded step within ``TIGHT_MEMORY_FRACTION`` of the memory, in the words a DDP fit that tight gets (so
    ``recommend`` marks the machine at risk), with ``advice`` (``roomier_batch_advice``); None where it has room."""
    if layout.memory_gib < TIGHT_MEMORY_FRACTION * capacity_gib:
        return None
    need, has = format_gib_pair(layout.memory_gib, capacity_gib, min_digits=1)
    return (f"Tight: {need} of {has} GiB at batch {per_device_batch:,} per device sharded (the workspace margin "
            f"counted, the gathered block in flight not), so a real step {may_run_out(advice)}.")


def unsharded_notes(fit: MemoryFit, gpu_count: int, analysis: Analysis | None, job: JobSpec, gpu: str) -> list[str]:
    """The memory notes of a target not priced sharded that has more than one GPU or does not fit: the layout the
    verdict assumes and what sharding would need (``ddp_memory_text``: where the sharded step at the ``job``'s batch
    does not fit, whether one sample per GPU would), and, where the job does not fit and its activations are a
    large share of what one sample needs, activation checkpointing (``checkpointing_note``, for ``gpu_count`` x
    ``gpu``)."""
    samples = job.batch_size * job.grad_accum_steps
    sharded_gib = fit.sharded_gib(gpu_count)
    text = ddp_memory_text(sharded_gib, gpu_count, fit.sharded_min_devices(), samples, fit.capacity_gib)
    if gpu_count > 1 and sharded_gib is not None and _past_oom_limit(fit):
        # Said without it, the sharded figure read as a way to fit a batch the probe measured running out of memory.
        text += (f" (not priced sharded: a probe ran out of memory above batch {fit.oom_limit:,} per GPU on a GPU "
                 "with no less memory, a measured limit that this rough figure does not overrule)")
    notes = [text + "."]
    fields = sharding_fields(fit, gpu_count, None, analysis)
    hint = None if fit.fits_memory else checkpointing_note(fields["memory_activation_gib_per_sample"],
                                                           fields["activations_checkpointed"], fit.capacity_gib,
                                                           gpu, gpu_count, fit.per_device_batch)
    return notes + ([hint] if hint else [])


def ddp_notes(fit_notes: list[str], fit: MemoryFit, gpu_count: int, analysis: Analysis | None,
              job: JobSpec, gpu: str) -> list[str]:
    """The memory notes of a target not priced sharded: ``fit_notes``, a tight one's advice with the flags that keep
    the ``job``'s samples per update at the batch that leaves a tenth free, as a sharded fit's gives them (on one
    GPU too: its note named the batch alone, "batch 79 per device would leave a tenth free.", and left the user to
    work out flags that keep the samples per update), then, where the target has more than one GPU or does not
    fit, ``unsharded_notes`` (of ``gpu``)."""
    advice = roomier_batch_advice(_ddp_roomy_batch(fit), fit.per_device_batch, gpu_count,
                                  job.batch_size * job.grad_accum_steps)
    fit_notes = [with_advice(n, advice) if n.startswith("Tight: ") and advice else n for n in fit_notes]
    fit_notes = _with_flags(fit_notes, largest_fit_flags(fit, gpu_count, job))
    if gpu_count == 1 and fit.fits_memory:  # one GPU that holds the step: no layout to speak of
        return fit_notes
    return fit_notes + unsharded_notes(fit, gpu_count, analysis, job, gpu)


def largest_fit_flags(fit: MemoryFit, gpu_count: int, job: JobSpec) -> str:
    """"at 10 per GPU, --batch-size 40 --grad-accum-steps 8 keeps the 320 samples per optimizer update": where the
    DDP step does not fit at the ``job``'s batch but a smaller one does, the flags that keep its samples per update
    at the largest batch per GPU that fits, or one down to half of it (``samples_kept_flags``); "" otherwise. A
    probe's fit with no analysis needs them most: its measured fixed part cannot be split, so it gets no sharded
    hint instead."""
    largest = fit.max_batch_per_device
    if fit.fits_memory or not largest or largest >= fit.per_device_batch:
        return ""
    return samples_kept_flags(largest, gpu_count, job.batch_size * job.grad_accum_steps)


def _with_flags(fit_notes: list[str], flags: str) -> list[str]:
    """``fit_notes`` with ``flags`` (``largest_fit_flags``) on the does-not-fit note: "Needs ...; the largest batch
    per device that fits is 14 (at 10 per GPU, --batch-size 40 ...)."."""
    return [f"{n.removesuffix('.')} ({flags})." if flags and n.startswith("Needs ") else n for n in fit_notes]


def own_gpu_notes(fit: MemoryFit, job: JobSpec) -> list[str]:
    """The memory notes of the probed GPU's own fit (``measured``: ``predict --device cuda:0``, or ``--gpu`` of the
    probed model): ``fit``'s, with the flags at the largest batch that fits, and ``oom_capped_note`` where the
    probe's out-of-memory bound is what rules the ``job``'s batch out, as a GPU scaled from the probe says them."""
    capped = oom_capped_note(fit, 1, job)
    return _with_flags(fit.notes, largest_fit_flags(fit, 1, job)) + ([capped] if capped else [])


def oom_capped_note(fit: MemoryFit, gpu_count: int, job: JobSpec) -> str | None:
    """"does not fit: batch 32 per GPU is over 15, the largest below a batch that ran out of memory in the probe
    (...); at 10 per GPU, --batch-size 20 ...": a DDP fit whose peak is within the memory but whose batch a probe ran
    out of memory at (``memory.memory_from_probe``), with the flags at the largest batch that fits
    (``largest_fit_flags``); None where it fits, or its peak is past the memory (its "Needs ..." note says so)."""
    largest = fit.max_batch_per_device
    if fit.fits_memory or fit.peak_memory_gib > fit.capacity_gib or largest is None:
        return None
    capped = format_oom_cap(fit.per_device_batch, largest, fit.peak_memory_gib, fit.capacity_gib, " per GPU")
    flags = largest_fit_flags(fit, gpu_count, job)
    return f"does not fit: {capped}{'; ' + flags if flags else ''}."


def _ddp_roomy_batch(fit: MemoryFit) -> int:
    """The largest per-GPU batch whose DDP step leaves a tenth of the memory free (``ROOMY_MEMORY_FRACTION``, the
    batch ``memory._tight_note`` names); 0 where not even one sample does."""
    per_sample = fit.breakdown.get("activations", 0.0) / fit.per_device_batch * (1.0 + fit.workspace_fraction)
    room = ROOMY_MEMORY_FRACTION * fit.capacity_gib - fit.static_gib
    return max(0, math.floor(room / per_sample + 1e-9)) if per_sample > 0 else 0


def sharded_notes(fit_notes: list[str], layout: ShardedLayout, fit: MemoryFit, gpu_count: int, precision: str,
                  job: JobSpec) -> list[str]:
    """The memory notes of a target priced sharded: the DDP fit's ``fit_notes`` less its does-not-fit verdict, then
    ``sharded_note``, and ``sharded_tight_note`` where tight, with the smaller batch (and the accumulation that
    keeps the ``job``'s samples per update) that would leave a tenth free."""
    kept = [n for n in fit_notes if not n.startswith(("Does not fit", "Needs "))]
    batch = fit.per_device_batch
    advice = roomier_batch_advice(roomy_batch(fit, gpu_count), batch, gpu_count, job.batch_size * job.grad_accum_steps)
    tight = sharded_tight_note(layout, fit.capacity_gib, batch, advice)
    return [*kept, sharded_note(layout, fit.peak_memory_gib, fit.capacity_gib, gpu_count, precision),
            *([tight] if tight else [])]


def sharding_fields(fit: MemoryFit | None, gpu_count: int, layout: ShardedLayout | None,
                    analysis: Analysis | None = None) -> dict:
    """The ``Estimate`` fields that say what data parallelism (DDP, the layout every fit assumes) costs in memory:
    the per-GPU need no batch size reduces, one sample's activations and whether ``analysis`` saw them
    checkpointed, and the sharded (FSDP/ZeRO-3) need on the target's GPUs and the fewest GPUs it would fit on, and
    whether the target is priced sharded (``layout``). Empty without a fit; the sharded figures None where the fit
    cannot size them."""
    if fit is None:
        return {}
    frozen = fit.breakdown["weights"] - fit.breakdown["gradients"] if "gradients" in fit.breakdown else None
    # an analysis's fit: its activations known apart (a probe's slope is its measured peaks', checkpointing unseen)
    apart = fit.source == "analysis" and "weights" in fit.breakdown and analysis is not None
    return dict(memory_static_gib=fit.static_gib, memory_frozen_weights_gib=frozen,
                memory_activation_gib_per_sample=(fit.breakdown.get("activations", 0.0) / fit.per_device_batch
                                                  if apart else None),
                activations_checkpointed=analysis.recomputed_activation_bytes_per_sample is not None if apart else None,
                sharded_memory_gib=fit.sharded_gib(gpu_count) if gpu_count > 1 else None,
                sharded_min_gpus=fit.sharded_min_devices(), sharded=layout is not None)
