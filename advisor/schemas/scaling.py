"""What ``advisor predict --gpus 1,2,4,8 --precision all`` answers: one GPU model's estimates over several GPU
counts and precisions, each priced at the cheapest offer of that many GPUs."""

from __future__ import annotations

from pydantic import Field

from advisor.schemas.base import SCHEMA_VERSION, Model
from advisor.schemas.results import Estimate


class ScalingRow(Model):
    """One row of ``predict --gpus 1,2,4,8 --precision all``."""

    count: int
    precision: str
    estimate: Estimate | None = None
    error: str | None = None  # why there is no estimate (a precision the GPU lacks, a batch too small)
    price_usd_per_hour: float | None = None  # the cheapest on-demand offer of this many GPUs in the catalog
    offer: str | None = None  # "lambda gpu_8x_a100 (us-east-1)"
    cost_usd: float | None = None  # that offer's billed start-up + job; None where the job does not fit in memory
    # The job on that offer's own host (vCPUs, GPU links), as recommend prices it, where that differs from
    # ``estimate`` by more than 0.5% (the cost is this one's); None: the same.
    offer_seconds: float | None = None
    # The job's time on one GPU over this row's, at the same precision (None without a one-GPU row): below 1, the
    # GPUs take longer than one does. ``estimate.scaling_efficiency`` is another figure: the share of the K-GPU
    # step that is the per-GPU compute (the rest the all-reduce and synchronisation), at the per-GPU batch.
    speedup_vs_one_gpu: float | None = None


class ScalingGrid(Model):
    """``advisor predict --gpus 1,2,4,8 --precision all``: one GPU model, several counts and precisions."""

    schema_version: int = SCHEMA_VERSION
    title: str
    gpu: str
    dataset_size: int
    epochs: int
    batch_size: int
    startup_seconds: float
    rows: list[ScalingRow] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
