"""The words for the one layout every memory verdict assumes, data parallelism (DDP), shared by ``predict``'s
notes (``advisor.predictor``) and ``recommend``'s dropped candidates and choice (``advisor.ranking``), which may
not import each other."""

from __future__ import annotations

DDP_ASSUMED = ("memory assumes data parallel (DDP): a full copy of weights, gradients and optimizer state on each "
               "GPU")


def ddp_memory_text(sharded_gib: float | None, gpus: int, min_gpus: int | None) -> str:
    """The DDP assumption, and what sharding (FSDP/ZeRO-3, priced only on a multi-GPU target DDP does not fit:
    ``advisor.predictor.sharded``) would need: about ``sharded_gib`` per GPU on ``gpus`` (more than one), or, on one
    GPU, the fewest of it (``min_gpus``) a sharded step fits at one sample each. Lower case: a clause or a note."""
    text = DDP_ASSUMED
    if sharded_gib is not None and gpus > 1:
        text += (f"; sharded (FSDP/ZeRO-3) it would need about {sharded_gib:,.{0 if sharded_gib >= 10 else 1}f} GiB "
                 f"per GPU on {gpus:,} GPUs")
        if min_gpus and min_gpus > gpus:
            text += f" (at one sample each it fits from {min_gpus:,} of these GPUs)"
    elif min_gpus and min_gpus > 1:
        text += (f"; sharded (FSDP/ZeRO-3), at one sample per GPU it would fit on {min_gpus:,} or more of these GPUs "
                 "(a machine with that many is priced sharded)")
    return text
