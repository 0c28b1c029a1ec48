"""What advisor answers: estimates, priced offers, candidates, constraints and recommendations."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from advisor.schemas.base import SCHEMA_VERSION, Method, Model, Objective, Precision, Tier, utc_now
from advisor.schemas.devices import Target
from advisor.schemas.profile import WorkloadInfo

# ------------------------------------------------------------------------------------------ predictions


class Estimate(Model):
    """The predicted wall time of a whole job on one target (DESIGN.md's `predict --json`)."""

    schema_version: int = SCHEMA_VERSION
    target: Target
    dataset_size: int
    epochs: int
    batch_size: int  # global batch; each GPU gets batch_size / count
    seconds: float  # whole job, point estimate
    low: float  # 80% interval
    high: float
    step_seconds: float  # one full step at the global batch (batch creation + compute)
    batch_seconds: float | None = None  # of which batch creation
    steps_per_epoch: int
    total_steps: int
    startup_seconds: float = 0.0
    fits_memory: bool
    peak_memory_gib: float | None = None
    memory_capacity_gib: float | None = None
    max_batch_size_per_device: int | None = None
    per_device_batch_size: int
    method: Method
    precision: Precision
    scaling_efficiency: float | None = None  # multi-GPU: throughput(K) / (K x throughput(1))
    source_device: str | None = None  # the probed device this was measured on or scaled from
    base_seconds: float | None = None  # method "history": the uncorrected prediction it started from
    base_method: Method | None = None
    notes: list[str] = Field(default_factory=list)

    def json_contract(self) -> dict:
        data = self.model_dump(mode="json", by_alias=True)
        data["target"] = self.target.json_contract()
        return data


# ------------------------------------------------------------------------------------ pricing, ranking


class Offer(Model):
    """One priced instance type from a catalog."""

    provider: str
    instance_type: str
    region: str
    vcpus: int | None = None
    memory_gib: float | None = None
    gpu: str | None = None  # canonical GPU spec name, None for a CPU instance
    gpu_count: int = 0
    gpu_memory_gib: float | None = None
    price_usd_per_hour: float
    spot_price_usd_per_hour: float | None = None
    billing: Literal["per_second", "per_minute", "per_hour"] = "per_second"
    min_billed_seconds: int = 60
    snapshot_date: str | None = None
    source: str | None = None
    notes: str | None = None
    suspect_price: bool = False  # the catalog flags this price as doubtful (pricing/README.md)

    @property
    def tier(self) -> Tier:
        """"cpu", "single_gpu" or "multi_gpu"."""
        if not self.gpu:
            return "cpu"
        return "single_gpu" if self.gpu_count == 1 else "multi_gpu"


def hardware_label(gpu: str | None, gpu_count: int, vcpus: int | None) -> str:
    """The one spelling of an instance's hardware: "4 x A100-80GB", "16 vCPU", or "CPU"."""
    if gpu:
        return f"{gpu_count} x {gpu}"
    return f"{vcpus} vCPU" if vcpus else "CPU"


class Candidate(Model):
    provider: str
    instance_type: str
    region: str
    tier: Tier
    gpu: str | None
    gpu_count: int
    vcpus: int | None
    seconds: float
    low: float
    high: float
    cost_usd: float
    spot_cost_usd: float | None = None
    fits_memory: bool
    method: Method
    reason: str = ""
    price_usd_per_hour: float
    spot_price_usd_per_hour: float | None = None
    billed_seconds: float | None = None
    startup_seconds: float | None = None
    precision: Precision | None = None
    scaling_efficiency: float | None = None
    pareto: bool = False
    meets_constraints: bool = True
    interruptible: bool = False  # the spot figure is for an interruptible instance
    base_seconds: float | None = None  # method "history": the uncorrected prediction
    base_method: Method | None = None

    @property
    def hardware_label(self) -> str:
        """"4 x A100-80GB", "16 vCPU" or "CPU" (see ``hardware_label``)."""
        return hardware_label(self.gpu, self.gpu_count, self.vcpus)


class Constraints(Model):
    objective: Objective = "cost"
    deadline_seconds: float | None = None
    budget_usd: float | None = None
    providers: list[str] | None = None
    regions: list[str] | None = None
    spot: bool = False
    top: int = 10
    precision: Precision | None = None


class WorkloadSummary(Model):
    """The workload a recommendation is for, as stored with it."""

    name: str
    params: int | None = None
    flops_per_sample: float | None = None
    path: str | None = None
    file_sha256: str | None = None

    @classmethod
    def of(cls, info: WorkloadInfo) -> WorkloadSummary:
        return cls(name=info.name, params=info.param_count, flops_per_sample=info.flops_per_sample,
                   path=info.path, file_sha256=info.file_sha256)


class Recommendation(Model):
    schema_version: int = SCHEMA_VERSION
    id: int | None = None
    created_at: datetime = Field(default_factory=utc_now)
    workload: WorkloadSummary
    dataset_size: int
    epochs: int
    batch_size: int
    chosen: Candidate | None
    candidates: list[Candidate] = Field(default_factory=list)  # ranked, best first
    best_per_tier: dict[str, Candidate] = Field(default_factory=dict)
    excluded: list[Candidate] = Field(default_factory=list)  # dropped: do not fit in memory
    constraints: Constraints
    pricing_snapshot: dict = Field(default_factory=dict)  # {"dates": {...}, "sources": [...]}
    advice: list[str] = Field(default_factory=list)  # precision / batch-size what-ifs
    measured_devices: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    # Every ranked candidate (``candidates`` is its first ``constraints.top``), for ``--plot``; kept out of
    # the JSON and the history (exclude=True), so it is empty on a recommendation read back from either.
    all_candidates: list[Candidate] = Field(default_factory=list, exclude=True)
