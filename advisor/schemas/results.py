"""What advisor answers: estimates, priced offers, candidates, constraints and recommendations."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, computed_field

from advisor.schemas.base import (
    SCHEMA_VERSION,
    Bound,
    Method,
    Model,
    Objective,
    Precision,
    PricedPrecision,
    SchemaVersion,
    Tier,
    utc_now,
)
from advisor.schemas.devices import Target
from advisor.schemas.profile import WorkloadInfo

# The tables ``advisor recommend`` prints: grouped by hardware (the default), ``--by provider``, ``--all``.
View = Literal["hardware", "provider", "all"]

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
    batch_seconds: float | None = None  # of which making the batch, its copy, waiting for a loader (no communication)
    steps_per_epoch: int
    total_steps: int
    # The epoch's last step, on the samples left (``dataset_size`` - (steps_per_epoch - 1) x ``batch_size``): its
    # batch and its whole step (batch creation + compute), ``batch_size`` and ``step_seconds`` where every batch is
    # full. An epoch's steps take (steps_per_epoch - 1) x step_seconds + last_step_seconds. None: not recorded (an
    # estimate stored before these fields).
    last_batch_size: int | None = None
    last_step_seconds: float | None = None
    startup_seconds: float = 0.0
    fits_memory: bool
    peak_memory_gib: float | None = None
    memory_capacity_gib: float | None = None  # what the fit was judged against: a driver's usable memory if known
    # The datasheet's figure (GB, as the vendor rounds it) where the capacity judged is less: an L4's 24 against
    # the 22.49 GiB nvidia-smi shows (profiles/gpu_usable_memory.csv), or a probed GPU's own figure. None otherwise.
    memory_datasheet_gib: float | None = None
    max_batch_size_per_device: int | None = None
    # Memory assumes data parallelism (DDP): a full copy of the weights, gradients and optimizer state on each GPU.
    # ``memory_static_gib``: per GPU, what no batch size reduces (those, DDP's buckets, the margin and context);
    # ``sharded_memory_gib``: the rough need per GPU with them sharded over the target's GPUs (FSDP/ZeRO-3; None on
    # one GPU); ``sharded_min_gpus``: the fewest of this GPU a sharded step would fit at one sample each. None where
    # not known (a CPU, no analysis, a probe's lumped figure). ``sharded``: DDP does not fit but the sharded step
    # does, so the target is priced sharded (time, memory and largest batch are the sharded step's).
    # ``memory_frozen_weights_gib``: of those, the weights that take no gradient (frozen), per GPU, with no margin.
    # ``memory_activation_gib_per_sample``: one sample's activations saved for backward, at the priced precision,
    # with no margin; ``activations_checkpointed``: whether the analysis saw torch.utils.checkpoint regions (the
    # figure is then the checkpointed one). None where not known apart (a probe's lumped figure).
    memory_static_gib: float | None = None
    memory_frozen_weights_gib: float | None = None
    memory_activation_gib_per_sample: float | None = None
    activations_checkpointed: bool | None = None
    sharded_memory_gib: float | None = None
    sharded_min_gpus: int | None = None
    sharded: bool = False
    per_device_batch_size: int
    method: Method
    precision: PricedPrecision
    scaling_efficiency: float | None = None  # multi-GPU: throughput(K) / (K x throughput(1))
    source_device: str | None = None  # the probed device this was measured on or scaled from
    base_seconds: float | None = None  # method "history": the uncorrected prediction it started from
    base_method: Method | None = None
    # The host side of a step (advisor.predictor.input_bound): what limits the step, the time to prepare the
    # global batch on the target's CPU (loader workers or make_batch), one GPU's host-to-device copy of its share
    # (0 on a CPU), and the share of the step the GPUs compute.
    bound: Bound = "compute"
    input_seconds: float | None = None
    transfer_seconds: float | None = None
    gpu_utilization: float | None = None
    input_workers: int | None = None  # loader worker processes assumed on the target, all GPUs together
    input_source: Literal["dataloader", "make_batch"] | None = None  # what makes the batches; None: not measured
    host_vcpus: int | None = None  # the target host's vCPUs the input ceiling assumed
    transfer_overlapped: bool | None = None  # GPU targets: the copy overlaps compute (pinned, non-blocking)
    # How the job steps (advisor.schemas.JobSpec): micro-steps per optimizer step (``step_seconds`` is the
    # average micro-step, the optimizer and all-reduce shared over them), torch.compile as priced (a measured CPU:
    # False, priced eager whatever the job declares, as ``precision`` is the one priced), the evaluation that runs
    # (every ``eval_every`` optimizer steps, ``eval_steps`` forward-only batches; None and 0: none), and the time of all
    # evaluations together (in ``seconds``; None without evaluation).
    grad_accum_steps: int = 1
    compiled: bool = False
    eval_every: int | None = None
    eval_steps: int = 0
    eval_seconds: float | None = None
    # A DataLoader's workers starting again at every epoch (not persistent_workers), all epochs together (in
    # ``seconds``; None: none). Where they persist, their one start is in ``startup_seconds``.
    epoch_restart_seconds: float | None = None
    # CPU: what the optimizer's steps take beyond their probed time once its state of parameters whose gradients
    # stay zero has decayed into subnormal floats (advisor.probe.subnormal), in ``seconds``; None: none measured.
    subnormal_seconds: float | None = None
    # CPU: the Amdahl parallel fraction that scaled timed steps to the estimate's threads, and whence ("measured":
    # this probe's thread scaling, "remembered": an earlier free probe's, "assumed"); None where none was scaled.
    parallel_fraction: float | None = Field(default=None, ge=0, le=1)
    parallel_fraction_source: Literal["measured", "remembered", "assumed"] | None = None
    # Model FLOPs utilisation of a micro-step: the model's forward + backward FLOPs at the global batch over
    # step_seconds x GPUs x the GPU's dense peak at ``mfu_peak`` (``precision``'s, but "tf32" for an fp32 job whose
    # dominant matrix FLOPs run in TF32: ``roofline.mfu_precision``); None on a CPU or when a figure is missing.
    mfu: float | None = None
    mfu_peak: str | None = None
    # The share of the step the GPUs run the model's kernels: gpu_utilization (the training step's share) x the
    # roofline's GPU share of that step (the rest: the host's kernel launches, the step's fixed overhead) x the
    # scaling efficiency on K GPUs (the rest: the all-reduce and synchronisation). None on a CPU, and for a GPU
    # probed here (its step is measured whole).
    gpu_busy: float | None = None
    # The saved prediction's id in history (``advisor history show pN``); None when not saved.
    history_id: int | None = None
    notes: list[str] = Field(default_factory=list)

    def json_contract(self, instance_startup_seconds: float | None = None) -> dict:
        """``predict --json``: the fields, the target in the contract's shape; with ``instance_startup_seconds`` (a
        GPU model you would rent: ``--startup-gpu``) also it and ``total_seconds``, that start-up + ``seconds``,
        the "with start-up" the text shows. ``startup_seconds`` is the job's own start (in ``seconds``)."""
        data = self.model_dump(mode="json", by_alias=True)
        data["target"] = self.target.json_contract()
        if instance_startup_seconds is not None:
            data["instance_startup_seconds"] = instance_startup_seconds
            data["total_seconds"] = instance_startup_seconds + self.seconds
        return data


# ------------------------------------------------------------------------------------ pricing, ranking


# In Offer.notes of a catalog row flagged spot_undated (advisor.pricing.rows): its date is not the spot price's.
SPOT_UNDATED_NOTE = "spot price undated (snapshot_date is the on-demand price's)"
# In Offer.notes of a row flagged spot_zone_min: its spot price is the cheapest zone's, not every zone's.
SPOT_ZONE_MIN_NOTE = "spot price is the lowest across the region's availability zones"


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
    def spot_snapshot_date(self) -> str | None:
        """The spot price's date: the row's, unless the catalog says its spot price is undated."""
        return None if SPOT_UNDATED_NOTE in (self.notes or "") else self.snapshot_date

    @property
    def spot_undated(self) -> bool:
        """A dated row whose spot price the catalog marks undated: its date is the on-demand price's alone."""
        return self.spot_price_usd_per_hour is not None and bool(self.snapshot_date) and self.spot_snapshot_date is None

    def listing_json(self) -> dict:
        """The offer as a catalog listing gives it (``pricing list --json``, ``GET /v1/catalog``): its fields and
        ``spot_snapshot_date`` (None with no spot price, or an undated one)."""
        dated = self.spot_snapshot_date if self.spot_price_usd_per_hour is not None else None
        return {**self.model_dump(mode="json"), "spot_snapshot_date": dated}

    @property
    def spot_zone_min(self) -> bool:
        """True where the catalog says the spot price is the lowest across the region's zones: the zone an
        instance lands in may charge more."""
        return self.spot_price_usd_per_hour is not None and SPOT_ZONE_MIN_NOTE in (self.notes or "")

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
    precision: PricedPrecision | None = None
    scaling_efficiency: float | None = None
    sharded: bool = False  # priced as sharded data parallel (FSDP/ZeRO-3): the estimate's ``sharded``
    pareto: bool = False
    meets_constraints: bool = True
    interruptible: bool = False  # ranked on its spot figure (--spot): an instance that can be taken back
    # Its spot figure is the lowest across the region's availability zones (the catalog row's flag): the zone an
    # instance is given may charge more.
    spot_zone_min: bool = False
    base_seconds: float | None = None  # method "history": the uncorrected prediction
    base_method: Method | None = None
    marketplace: bool = False  # a marketplace listing (Vast): host and region vary from one rental to the next
    bound: Bound = "compute"  # the estimate's: what limits a step on this instance
    input_seconds: float | None = None
    transfer_seconds: float | None = None
    gpu_utilization: float | None = None
    mfu: float | None = None  # the estimate's model FLOPs utilisation (GPU candidates)
    mfu_peak: str | None = None  # the precision whose dense peak ``mfu`` is taken over (the estimate's)
    gpu_busy: float | None = None  # the estimate's share of the step the GPUs run the model's kernels
    # The part of ``seconds`` that does not grow with the job: the estimate's ``startup_seconds`` (the process,
    # CUDA, the model build, compiling), which the CPU-vs-GPU break-even keeps apart from the per-epoch part.
    job_startup_seconds: float | None = None
    # Memory per device (per GPU), its capacity, and a tight fit (``schemas.base.MAY_RUN_OUT_OF_MEMORY``).
    peak_memory_gib: float | None = None
    memory_capacity_gib: float | None = None
    memory_tight: bool = False

    # ``seconds``/``low``/``high`` are the job alone (what ``history compare`` checks against a tracked run);
    # the ``total_*`` figures add the paid start-up: what the user waits for and pays for, the time shown.
    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_seconds(self) -> float:
        """Start-up + the job (point estimate): the wall time the user waits for and pays for."""
        return (self.startup_seconds or 0.0) + self.seconds

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_low(self) -> float:
        return (self.startup_seconds or 0.0) + self.low

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_high(self) -> float:
        return (self.startup_seconds or 0.0) + self.high

    @property
    def ranked_cost_usd(self) -> float:
        """The cost the ranking used: the spot cost where the candidate was ranked on spot, else on-demand."""
        return self.spot_cost_usd if self.interruptible and self.spot_cost_usd is not None else self.cost_usd

    @property
    def ranked_price_usd_per_hour(self) -> float:
        """The hourly rate behind ``ranked_cost_usd``."""
        spot = self.spot_price_usd_per_hour
        return spot if self.interruptible and spot is not None else self.price_usd_per_hour

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


class Skipped(Model):
    """Offers that got no estimate, one entry per target and reason (``recommend --show-skipped``)."""

    target: str  # "1 x A10G", "8 x B200", "CPU instances"
    count: int  # offers of that target
    reason: str  # the predictor's message: "T4 has no bfloat16 support (it predates Ampere)."
    fix: str | None = None  # its hint: "Fix: use --precision fp16 (or fp32) for this GPU."


class Violation(Model):
    """A constraint that no candidate meets, with the value of it that would pass (for CI)."""

    constraint: Literal["deadline", "budget"]
    limit: float  # the deadline in seconds, or the budget in US$, as given
    nearest: float | None = None  # the best any candidate reaches: fastest total seconds / lowest cost in US$
    would_pass: float | None = None  # the smallest deadline (s, whole minutes) / budget (US$, cents) that passes
    flag: str | None = None  # that value as a flag: "--deadline 14m00s", "--budget 0.19"
    alone: bool = True  # the flag passes by itself; False: only together with the other violation's flag
    message: str


class BestValue(Model):
    """The best-value alternative to the choice: the knee of the Pareto front of total time vs cost (the point
    past which more money buys little time; with ``--objective time``, less time costs little money)."""

    candidate: Candidate
    extra_cost_usd: float  # its cost minus the choice's (negative: cheaper)
    extra_cost_pct: float
    seconds_saved: float  # the choice's total time minus its total time (negative: slower)
    text: str
    # Meets the constraints on its point estimate but not at the slow end of its interval (total_high past the
    # deadline or cost_high past the budget), as ``Recommendation.status`` "at_risk" says of the choice.
    at_risk: bool = False
    # Where at_risk: the knee of the candidates that meet the constraints even at the slow end of their estimates
    # (the best value a hard deadline or budget can take); None where at_risk and none is (the text says so).
    safe_alternative: Candidate | None = None


class CpuVsGpu(Model):
    """The seeds' question: a GPU costs more per hour; does it run enough faster to pay? The best CPU candidate
    against the best GPU candidate (best on the objective, meeting the constraints where any does)."""

    cpu: Candidate
    gpu: Candidate
    price_ratio: float  # GPU $/h over CPU $/h (the rates ranked on)
    speedup: float  # CPU job seconds over GPU job seconds (the job alone)
    compute_cost_ratio: float  # GPU over CPU cost of the job alone (price_ratio / speedup): < 1 the GPU is cheaper
    total_cost_ratio: float  # GPU over CPU cost of the whole billed run, start-up included
    total_time_ratio: float  # GPU over CPU total time, start-up included
    winner: Literal["cpu", "gpu"]  # on the objective, start-up included
    decided_by_startup: bool  # the part of the job that grows with its epochs would pick the other tier
    # GPU over CPU for that growing part (each job's own start, its process and model build, left out): its cost
    # under the cost objective, its time under the time objective; None where a job is all fixed part.
    per_epoch_ratio: float | None = None
    break_even_job_seconds: float | None = None  # CPU job length where the other tier starts to win
    break_even_epochs: float | None = None  # the same in epochs of this job
    text: str


class HereRun(Model):
    """The job on one device of the machine that was probed: the one a user already has, beside the machines
    ``recommend`` would rent. The same estimate as ``predict --device DEVICE`` (process start-up in ``seconds``,
    no instance start-up, nothing billed); ``error`` says why there is none."""

    device: str  # "cpu", "cuda:0"
    name: str  # "AMD EPYC, 2 threads", "NVIDIA H200"
    threads: int | None = None  # cpu: the thread count the estimate is for (the probed one)
    gpu: str | None = None  # gpu: its spec name in profiles/gpus.csv ("H200")
    seconds: float | None = None  # the job, as Estimate's (a CPU's may be years: no upper bound)
    low: float | None = None
    high: float | None = None
    method: Method | None = None
    base_seconds: float | None = None  # method "history": the uncorrected estimate (an outcome "here" keeps it)
    base_method: Method | None = None
    fits_memory: bool | None = None
    peak_memory_gib: float | None = None
    memory_capacity_gib: float | None = None
    meets_deadline: bool | None = None  # on the point estimate; None without a deadline
    # Other processes used the CPU during most of its timed windows: the figures are the idle machine's, as always
    # (``predict``), and the job run beside them would take longer.
    busy_when_probed: bool = False
    # Starting Python and importing torch there, as the probe's own process took (``HostInfo``): before
    # ``seconds``, which (as every job estimate) leaves it out. None where not measured.
    process_start_seconds: float | None = None
    parallel_fraction: float | None = None  # cpu: as Estimate's (the thread scaling the estimate used)
    parallel_fraction_source: str | None = None
    error: str | None = None


class Verdict(Model):
    """The answer first: what to rent and why, the next-best trade, the CPU-vs-GPU verdict, what to watch."""

    recommendation: str  # "Rent gcp e2-standard-2 (2 vCPU, us-central1): 2m51s total ..., $0.0032"
    why: str
    best_value: str | None = None
    cpu_vs_gpu: CpuVsGpu | None = None
    here: str | None = None  # the job on the probed machine's own devices (``Recommendation.here``)
    could_be_better: list[str] = Field(default_factory=list)  # the what-ifs (precision, batch size)
    warnings: list[str] = Field(default_factory=list)
    assumptions: str  # the start-up times assumed and how to change them


class CandidateGroup(Model):
    """Candidates on the same hardware with the same predicted time: one table row, "+9 similar"."""

    label: str  # "2 vCPU", "1 x L4"
    tier: Tier
    count: int
    best: Candidate  # its best-ranked member
    providers: list[str] = Field(default_factory=list)
    cost_usd_max: float  # the dearest member (the ranked cost)


class Recommendation(Model):
    schema_version: SchemaVersion = SCHEMA_VERSION
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
    here: list[HereRun] = Field(default_factory=list)  # the job on the probed machine's own devices
    notes: list[str] = Field(default_factory=list)  # as the default table (grouped by hardware) has them
    # The notes on the rows each table lists (``hardware``: the default, its own in ``notes`` too; ``provider``:
    # ``--by provider``; ``all``: ``--all``); ``notes_for`` gives a table's. Empty on an older answer.
    row_notes: dict[View, list[str]] = Field(default_factory=dict)
    # The answer (added in schema_version 1 without breaking it): ok, at risk (meets the constraints on the point
    # estimate, not at the slow end; or its memory fit is tight, ``Candidate.memory_tight``), or infeasible
    # (nothing meets them: ``violations`` say what would).
    status: Literal["ok", "at_risk", "infeasible"] = "ok"
    verdict: Verdict | None = None
    best_value: BestValue | None = None
    # Where status is "at_risk": the first in the ranking that meets the constraints even at the slow end of its
    # estimate (total_high, cost_high), with room in memory; None otherwise, or where none does.
    safe_choice: Candidate | None = None
    groups: list[CandidateGroup] = Field(default_factory=list)  # every ranked candidate, grouped by hardware
    best_per_provider: dict[str, Candidate] = Field(default_factory=dict)
    skipped: list[Skipped] = Field(default_factory=list)
    violations: list[Violation] = Field(default_factory=list)
    startup_seconds_cpu: float | None = None  # the start-up assumed on CPU / GPU instances
    startup_seconds_gpu: float | None = None
    # How the job steps (the workload's COMPILE, GRAD_ACCUM_STEPS, EVAL_EVERY, EVAL_STEPS or their flags), so
    # that ``advisor diff`` can say when they changed; the defaults where an older advisor did not say.
    compiled: bool = False
    grad_accum_steps: int = 1
    eval_every: int | None = None
    eval_steps: int = 0
    # Every ranked candidate (``candidates`` is its first ``constraints.top``), for ``--plot``; kept out of
    # the JSON and the history (exclude=True), so it is empty on a recommendation read back from either, and out
    # of ``==`` and the repr: a recommendation is what its JSON holds, so one read back equals the original.
    all_candidates: list[Candidate] = Field(default_factory=list, exclude=True, repr=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(other) is type(self) and all(
            getattr(self, name) == getattr(other, name) for name in type(self).model_fields if name != "all_candidates")

    __hash__ = None  # type: ignore[assignment]  # mutable, as every pydantic model that is not frozen

    def notes_for(self, view: View) -> list[str]:
        """``notes`` as the table of ``view`` has them: the default table's notes on its rows (which follow the
        first note) replaced by that table's."""
        default, mine = self.row_notes.get("hardware", []), self.row_notes.get(view)
        if view == "hardware" or mine is None or not self.notes:
            return list(self.notes)
        return [self.notes[0], *mine, *(n for n in self.notes[1:] if n not in default)]
