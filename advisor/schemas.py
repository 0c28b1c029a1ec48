"""Pydantic models: the data that flows between the parts and out to users (JSON, Python API, history).

Everything the CLI prints with ``--json`` is one of these models dumped with ``model_dump(mode="json")``; the
Python API returns the same objects. ``schema_version`` is bumped only on a breaking change of a field.
Units are in the field names (``_seconds``, ``_gib``, ``_usd``, ``_usd_per_hour``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

Precision = Literal["fp32", "tf32", "bf16", "fp16"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
Method = Literal["measured", "scaled", "history"]
Tier = Literal["cpu", "single_gpu", "multi_gpu"]
Objective = Literal["cost", "time"]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class _Model(BaseModel):
    # Profiles are files users keep; a newer advisor may add fields, so unknown keys are ignored on load.
    model_config = ConfigDict(extra="ignore", protected_namespaces=())


# --------------------------------------------------------------------------------------------- targets


class Target(_Model):
    """A device to predict for: a CPU with some threads, or K GPUs of one model."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    kind: Literal["cpu", "gpu"]
    threads: int | None = None  # cpu only; None = the probed thread count
    # gpu only; canonical spec name from profiles/ (e.g. "A100-80GB"). Serialised as "gpu" (the JSON
    # contract); the attribute is gpu_name so that Target.gpu(...) can be the constructor DESIGN.md shows.
    gpu_name: str | None = Field(default=None, alias="gpu")
    count: int = 1  # gpus in data parallel
    cpu_name: str | None = None  # cpu only; None = this machine's CPU

    @classmethod
    def cpu(cls, threads: int | None = None, cpu_name: str | None = None) -> Target:
        return cls(kind="cpu", threads=threads, cpu_name=cpu_name)

    @classmethod
    def gpu(cls, name: str, count: int = 1) -> Target:
        return cls(kind="gpu", gpu_name=name, count=count)

    def label(self) -> str:
        if self.kind == "cpu":
            return f"cpu x{self.threads}" if self.threads else "cpu"
        return f"{self.count} x {self.gpu_name}"

    def json_contract(self) -> dict:
        """The DESIGN.md shape: {"kind": "cpu", "threads": T} or {"kind": "gpu", "gpu": NAME, "count": K}."""
        if self.kind == "cpu":
            return {"kind": "cpu", "threads": self.threads}
        return {"kind": "gpu", "gpu": self.gpu_name, "count": self.count}


# ------------------------------------------------------------------------------------------- hardware


class CpuInfo(_Model):
    model_name: str
    arch: str
    physical_cores: int
    logical_cores: int
    torch_threads: int
    memory_gib: float


class GpuInfo(_Model):
    index: int
    name: str  # as the driver reports it, e.g. "NVIDIA H100 80GB HBM3"
    spec_name: str | None = None  # canonical name in profiles/ when recognised, e.g. "H100-SXM"
    memory_gib: float
    driver_version: str | None = None
    sm_clock_mhz: float | None = None
    memory_clock_mhz: float | None = None
    power_limit_watts: float | None = None
    uuid: str | None = None


class HostInfo(_Model):
    cpu: CpuInfo
    gpus: list[GpuInfo] = Field(default_factory=list)
    torch_version: str | None = None
    cuda_available: bool = False
    python_version: str | None = None
    hostname: str | None = None


class GpuSpec(_Model):
    """A datasheet row from profiles/: what the cross-device predictor scales with. None = not published."""

    name: str
    aliases: list[str] = Field(default_factory=list)
    memory_gib: float | None = None
    memory_bandwidth_gbs: float | None = None
    fp32_tflops: float | None = None
    tf32_tflops: float | None = None
    fp16_bf16_tflops: float | None = None
    bf16_supported: bool = True
    intra_node_link: str | None = None  # "nvlink" | "pcie"
    intra_node_bandwidth_gbs: float | None = None  # unidirectional, per GPU
    tdp_watts: float | None = None
    source: str | None = None
    notes: str | None = None


class CpuSpec(_Model):
    """A CPU family from profiles/ (cloud instance families), for scaling the local CPU probe."""

    name: str
    aliases: list[str] = Field(default_factory=list)
    vendor: str | None = None
    microarchitecture: str | None = None
    base_ghz: float | None = None
    turbo_ghz: float | None = None
    fp32_flops_per_cycle_per_core: float | None = None  # e.g. 64 with 2x AVX-512 FMA
    source: str | None = None
    notes: str | None = None


# ---------------------------------------------------------------------------------------------- probes


class Measurement(_Model):
    """Timed probe steps at one batch size on one device."""

    device: str  # "cpu" or "cuda:0"
    batch_size: int
    threads: int | None = None
    precision: Precision = "fp32"
    compute_seconds: float | None = None  # median of forward + loss + backward + optimizer step; None if OOM
    compute_seconds_samples: list[float] = Field(default_factory=list)
    batch_seconds: float | None = None  # median make_batch (+ host-to-device copy) time, measured apart
    spread: float | None = None  # (p90 - p10) / median of the compute samples
    peak_memory_gib: float | None = None  # max_memory_allocated on GPU, RSS growth on CPU
    gpu_utilization_pct: float | None = None
    power_watts: float | None = None
    oom: bool = False
    warmup_steps: int = 0


class ThreadPoint(_Model):
    threads: int
    batch_size: int
    compute_seconds: float


class DeviceProfile(_Model):
    """Everything probed on one device."""

    device: str  # "cpu" or "cuda:0"
    kind: Literal["cpu", "gpu"]
    name: str  # CPU model or GPU name as reported
    spec_name: str | None = None  # canonical GPU spec name when recognised
    threads: int | None = None
    memory_gib: float | None = None
    precision: Precision = "fp32"
    measurements: list[Measurement] = Field(default_factory=list)
    largest_batch_size: int | None = None  # largest batch that ran
    oom_batch_size: int | None = None  # smallest batch that ran out of memory, if any
    thread_scaling: list[ThreadPoint] = Field(default_factory=list)
    probe_seconds: float = 0.0  # wall time spent probing this device
    startup_seconds: float = 0.0  # model build + move + first (warm-up) steps beyond steady state


class OpRecord(_Model):
    """One operator (or a group of identical ones) of a training step, at the two analysis batch sizes."""

    op: str  # aten overload name, e.g. "aten.convolution.default"
    kind: str  # matmul | conv | elementwise | reduction | norm | softmax | embedding | optimizer | copy | other
    phase: Literal["forward", "backward", "optimizer"]
    count: int = 1
    flops: tuple[float, float]  # at Analysis.batch_sizes[0] and [1]
    bytes: tuple[float, float]  # bytes read + written
    dtype: str = "float32"


@dataclass(frozen=True)
class JobSpec:
    """The job to predict: how much data, how many passes, at what global batch size."""

    dataset_size: int
    epochs: int
    batch_size: int

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.dataset_size / self.batch_size)

    @property
    def last_batch_size(self) -> int:
        """Size of the epoch's last, possibly smaller, batch."""
        rest = self.dataset_size % self.batch_size
        return rest or self.batch_size

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch


def at_batch(values: tuple[float, float], batch_sizes: tuple[int, int], batch_size: float) -> float:
    """A per-op quantity known at the two analysis batch sizes, linearly extrapolated (never below 0)."""
    (v0, v1), (b0, b1) = values, batch_sizes
    return max(0.0, v0 + (v1 - v0) * (batch_size - b0) / (b1 - b0))


class Analysis(_Model):
    """Shape-level analysis of one training step without running it at full size (meta/fake tensors)."""

    batch_sizes: tuple[int, int]
    ops: list[OpRecord] = Field(default_factory=list)
    flops_per_sample: float  # forward + backward training FLOPs per sample
    forward_flops_per_sample: float | None = None
    param_count: int
    trainable_param_count: int
    param_bytes: float
    gradient_bytes: float
    optimizer: str  # optimizer class name, e.g. "AdamW"
    optimizer_state_bytes: float
    activation_bytes_per_sample: float | None = None  # tensors saved for backward, per sample
    activation_bytes_fixed: float | None = None
    analysis_seconds: float | None = None


class WorkloadInfo(_Model):
    name: str
    path: str | None = None
    file_sha256: str | None = None
    param_count: int | None = None
    flops_per_sample: float | None = None
    optimizer: str | None = None
    dataset_size: int | None = None  # the file's defaults, if any
    epochs: int | None = None
    batch_size: int | None = None


class Profile(_Model):
    schema_version: int = SCHEMA_VERSION
    created_at: datetime = Field(default_factory=utc_now)
    workload: WorkloadInfo
    host: HostInfo | None = None
    devices: list[DeviceProfile] = Field(default_factory=list)
    analysis: Analysis | None = None
    probe_wall_seconds: float = 0.0
    # What the probe found that makes its timings less trustworthy ("cpu: the step time ... varied widely",
    # a CPU probe held to one thread after a fork). Each starts with the device it is about, if one.
    notes: list[str] = Field(default_factory=list)

    def device(self, device: str) -> DeviceProfile | None:
        for d in self.devices:
            if d.device == device:
                return d
        return None


# ------------------------------------------------------------------------------------------ predictions


class Estimate(_Model):
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


class Offer(_Model):
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


class Candidate(_Model):
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


class Constraints(_Model):
    objective: Objective = "cost"
    deadline_seconds: float | None = None
    budget_usd: float | None = None
    providers: list[str] | None = None
    regions: list[str] | None = None
    spot: bool = False
    top: int = 10
    precision: Precision | None = None


class Recommendation(_Model):
    schema_version: int = SCHEMA_VERSION
    id: int | None = None
    created_at: datetime = Field(default_factory=utc_now)
    workload: dict  # {"name", "params", "flops_per_sample", ...}
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


# -------------------------------------------------------------------------------------------- history
# (owned by advisor/history; extend here)


class Outcome(_Model):
    id: int | None = None
    recommendation_id: int | None = None
    actual_seconds: float
    instance_type: str | None = None
    status: Literal["completed", "failed"] = "completed"
    recorded_at: datetime = Field(default_factory=utc_now)
    notes: str | None = None


class HistoryEntry(_Model):
    """One row of ``advisor history list``: a stored recommendation, its chosen candidate, its latest outcome."""

    id: int
    created_at: datetime
    workload: str
    dataset_size: int
    epochs: int
    batch_size: int
    objective: Objective | None = None
    provider: str | None = None  # of the chosen candidate (None: nothing was feasible)
    instance_type: str | None = None
    tier: Tier | None = None
    gpu: str | None = None
    gpu_count: int | None = None
    predicted_seconds: float | None = None
    cost_usd: float | None = None
    method: Method | None = None
    n_candidates: int = 0
    n_outcomes: int = 0
    actual_seconds: float | None = None  # of the latest outcome
    status: Literal["completed", "failed"] | None = None


class HistoryDetail(_Model):
    """``advisor history show ID``: the stored recommendation as it was returned, and what really happened."""

    recommendation: Recommendation
    outcomes: list[Outcome] = Field(default_factory=list)
    profile_id: int | None = None


class ComparisonRow(_Model):
    """One run with both a prediction and a recorded outcome."""

    recommendation_id: int
    outcome_id: int
    recorded_at: datetime
    workload: str
    provider: str | None = None
    instance_type: str
    device: str  # "cpu", "A100-80GB", "4 x A100-80GB"
    tier: Tier
    method: Method
    predicted_seconds: float
    low: float
    high: float
    actual_seconds: float
    error_pct: float  # (predicted - actual) / actual x 100: positive = predicted too slow
    abs_error_pct: float
    within_interval: bool


class ComparisonGroup(_Model):
    """Errors aggregated over the runs of one device or one method."""

    key: str
    n: int
    median_abs_error_pct: float
    mean_error_pct: float  # signed: positive = the predictor overestimates
    within_interval_pct: float | None = None


class Comparison(_Model):
    rows: list[ComparisonRow] = Field(default_factory=list)
    by_device: list[ComparisonGroup] = Field(default_factory=list)
    by_method: list[ComparisonGroup] = Field(default_factory=list)
    overall: ComparisonGroup | None = None


class TrainingRow(_Model):
    """A stored run the history-trained correction learns from: what was predicted, what happened."""

    recommendation_id: int
    outcome_id: int
    workload: str
    param_count: int | None = None
    flops_per_sample: float | None = None
    dataset_size: int
    epochs: int
    batch_size: int
    tier: Tier
    gpu: str | None = None
    gpu_count: int = 0
    vcpus: int | None = None
    method: Method  # of the base (uncorrected) prediction
    predicted_seconds: float  # base (uncorrected) prediction
    actual_seconds: float
    measured_seconds_per_sample: float | None = None  # fastest probed compute time per sample, if profiled


class CalibrationReport(_Model):
    """``advisor history calibration``: the base predictor's held-out error, and the learned correction's."""

    n_runs: int  # completed outcomes with a usable prediction
    min_runs: int
    folds: int = 0
    cv_error_before_pct: float | None = None  # median |error| % of the base predictions on held-out folds
    cv_error_after_pct: float | None = None  # ... of the corrected ones
    mean_error_before_pct: float | None = None  # signed
    mean_error_after_pct: float | None = None
    used: bool = False  # whether predictions are corrected (method "history")
    reason: str = ""
    model: str | None = None
    by_method: list[ComparisonGroup] = Field(default_factory=list)
