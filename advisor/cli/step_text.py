"""The words ``advisor predict``'s table gives a multi-GPU step: what its scaling efficiency compares (weak scaling, at
the per-GPU batch: not the job's speed-up over one GPU)."""

from __future__ import annotations

from typing import Any


def scaling_efficiency_text(est: Any) -> str:
    """"90% (at 512 per GPU against one GPU at 512: ...)": the efficiency is weak scaling, each GPU's compute over
    the K-GPU step at the same per-GPU batch, so it is printed with that batch; the job's batch is split, and where
    K GPUs take longer for it than one, a note says so."""
    per = est.per_device_batch_size
    return (f"{est.scaling_efficiency:.0%} (at {per:,} per GPU against one GPU at {per:,}: each GPU's compute over "
            f"the {est.target.count}-GPU step; not this job's speed-up over one GPU)")
