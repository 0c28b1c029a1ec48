"""The parts of a GPU probe's measured fixed memory that sharded data parallel (FSDP FULL_SHARD / ZeRO-3) splits
over K GPUs: the weights, gradients and optimizer state (and autocast's 16-bit weight copies) that the analysis
sizes, carved out of the probe's one measured block so that ``MemoryFit.sharded_gib`` can size the sharded step.

A probe's peaks (``max_memory_allocated``) hold those parts and the fixed activations as one measured part. Left
whole, a target whose memory came from a probe was never priced sharded: a Llama-7B-shaped bf16 job priced from the
analysis alone fitted 8 x H100 sharded (27.4 GiB per GPU), and the same job with a B200 probe beside it was ruled
out ("Does not fit even at batch 1 per device: 163.7 GiB needed"). The analysis's byte counts are the model's
shapes, which the probe's block holds; where the block is smaller than they are (the least-squares intercept
took some of it into the slope), only the block is split, in the same shares, so the sharded need is never
understated. Without an analysis the block stays whole, and the target is not priced sharded.
"""

from __future__ import annotations

from advisor.schemas import Analysis
from advisor.units import BYTES_PER_GIB


def held_weight_bytes(analysis: Analysis) -> float:
    """The weights autocast holds a 16-bit copy of (all of them, for an older profile that did not say)."""
    return analysis.param_bytes if analysis.autocast_held_weight_bytes is None else analysis.autocast_held_weight_bytes


def split_measured(breakdown: dict[str, float], analysis: Analysis | None, *, half_copies_measured: bool,
                   fixed_name: str = "measured_fixed") -> dict[str, float]:
    """``breakdown`` (GiB) with its ``fixed_name`` part split into the analysis's weights, gradients, optimizer
    state and, where the probe ran under autocast at a 16-bit target (``half_copies_measured``), the weight copies,
    the rest of the block kept under ``fixed_name``; the sum is unchanged. ``breakdown`` as it is without an
    analysis or a measured block."""
    measured = breakdown.get(fixed_name)
    if analysis is None or not measured or measured <= 0:
        return breakdown
    parts = {"weights": analysis.param_bytes, "gradients": analysis.gradient_bytes,
             "optimizer_state": analysis.optimizer_state_bytes}
    if half_copies_measured and "half_weight_copies" not in breakdown:
        parts["half_weight_copies"] = 0.5 * held_weight_bytes(analysis)
    total_gib = sum(parts.values()) / BYTES_PER_GIB
    if total_gib <= 0:
        return breakdown
    share = min(1.0, measured / total_gib)
    split = {name: share * value / BYTES_PER_GIB for name, value in parts.items()}
    out = {k: v for k, v in breakdown.items() if k != fixed_name}
    return {**split, **out, fixed_name: max(0.0, measured - sum(split.values()))}
