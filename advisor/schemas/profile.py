"""What a probe measures and the analysis records: measurements, device profiles, the job, the ``Profile``."""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, StrictInt, field_validator, model_validator

from advisor.schemas.base import (
    HALF_PRECISIONS,
    MAX_COUNT,
    MAX_JOB_COUNT,
    SCHEMA_VERSION,
    Amount,
    ConstantSource,
    Count,
    DerivedCache,
    DeviceName,
    Fraction,
    Gib,
    JobConstant,
    JobCount,
    MemoryLimit,
    MemorySize,
    Model,
    NearMiss,
    ParamCount,
    Precision,
    SchemaVersion,
    Seconds,
    StepSeconds,
    refuse_nul,
    utc_now,
)
from advisor.schemas.devices import HostInfo, StartupClock
from advisor.schemas.small_batch import SmallBatchError, told_one_sample
from advisor.schemas.state_growth import StateGrowth
from advisor.schemas.subnormal import SubnormalDrift

# ---------------------------------------------------------------------------------------------- probes
# Lists no longer than a probe makes (a profile is anyone's data): steps one process keeps at a batch size
# (advisor.probe.measure) and a Measurement's, of 16 processes; a device's points of a kind, devices; notes; ops.
MAX_STEP_SAMPLES = 400
MAX_SAMPLES_KEPT, MAX_POINTS, MAX_NOTES, MAX_OPS = 16 * MAX_STEP_SAMPLES, 64, 256, 4096
Note = Annotated[str, Field(max_length=4096)]  # one of a profile's notes

# A timed window is clean when others used under this many cores on average and the hypervisor stole under this share.
CLEAN_OTHERS_CORES = 0.25
CLEAN_STEAL_FRACTION = 0.05

# In the probe's note on a CPU whose windows' load could not be read (``advisor.probe.device_notes``), recorded as
# unknown (None): a caveat (``advisor.predictor.caveats``), and what tells it from an older profile's missing fields.
LOAD_UNREAD = "the CPU load could not be read"


def quiet(others_cpu_cores: float | None, steal_fraction: float | None) -> bool:
    """Other processes and the hypervisor took less than the clean thresholds (None: not measured, quiet)."""
    return (others_cpu_cores or 0.0) < CLEAN_OTHERS_CORES and (steal_fraction or 0.0) < CLEAN_STEAL_FRACTION


class Measurement(Model):
    """Timed probe steps at one batch size on one device."""

    device: str  # "cpu" or "cuda:0"
    batch_size: Count
    threads: Count | None = None
    precision: Precision = "fp32"
    compute_seconds: StepSeconds | None = None  # median of forward + loss + backward + optimizer step; None if OOM
    compute_seconds_samples: list[StepSeconds] = Field(default_factory=list, max_length=MAX_SAMPLES_KEPT)
    batch_seconds: Seconds | None = None  # median make_batch (+ host-to-device copy) time, measured apart
    spread: Fraction | None = None  # (p90 - p10) / median of the compute samples
    peak_memory_gib: Gib | None = None  # max_memory_allocated on GPU, RSS growth on CPU
    gpu_utilization_pct: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] | None = None
    power_watts: Amount | None = None
    oom: bool = False
    warmup_steps: Annotated[StrictInt, Field(ge=0)] = 0
    # What else used the CPU during the timed steps (advisor.probe.contention): others' CPU time in cores, steal
    # share, runnable tasks beyond the probe's own; None where not measured (psutil's CPU times, where /proc/stat
    # cannot be read, give no steal or run queue: load_measure says which was read; None in older profiles).
    others_cpu_cores: Annotated[float, Field(ge=0, le=1e5, allow_inf_nan=False)] | None = None
    steal_fraction: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    run_queue: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] | None = None
    load_measure: Literal["/proc/stat", "psutil"] | None = None
    # The training step's clock. "wall": wall-clock. "thread_cpu": the probe thread's own CPU time, on a busy
    # machine where the steps ran on one thread (what the step costs, not how long it waited for a core). Batch
    # creation is on the wall clock, less (when "thread_cpu") the time the thread sat queued for a CPU others held.
    clock: Literal["wall", "thread_cpu"] = "wall"
    busiest_other: Annotated[str, Field(max_length=200)] | None = None  # "name (pid N, 98% CPU)"
    busiest_other_nice: Annotated[StrictInt, Field(ge=-20, le=19)] | None = None  # its nice as it was named
    # The probe's nice where it raised it above others using the CPU (advisor.probe.priority); None: as started.
    priority_nice: Annotated[StrictInt, Field(ge=-20, le=19)] | None = None
    # CPU only (advisor.probe.memory_meter): minor page faults a timed step, the kernel's share of its CPU time.
    page_faults_per_step: Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)] | None = None
    kernel_cpu_share: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    # CPU, the user's batch size: how many of ``compute_seconds_samples`` each fresh process timed, in order
    # (advisor.probe.pool: the twins); empty where one process timed them all.
    process_samples: list[Annotated[StrictInt, Field(ge=0, le=1_000_000)]] = Field(default_factory=list, max_length=16)
    # Fresh processes that timed this batch size too but were not pooled: the machine's load changed between them,
    # so they ran on another clock or thread count than the steps kept (advisor.probe.pool).
    processes_left_out: Annotated[StrictInt, Field(ge=0, le=16)] = 0

    @property
    def clean(self) -> bool:
        """Timed on a machine that nothing else was using (or where that was not measured)."""
        return quiet(self.others_cpu_cores, self.steal_fraction)

    @property
    def shared(self) -> bool:
        """Other processes were using the CPU during this window or as it began: it was disturbed, timed on one
        thread by its CPU time, or timed with the probe raised above them (the windows whose busiest other process
        ``advisor.probe.contention`` names)."""
        return not self.clean or self.clock != "wall" or self.priority_nice is not None

    def process_parts(self) -> list[list[float]]:
        """``compute_seconds_samples`` split into each process's steps (``process_samples``), in order; one part
        where one process timed them all (or the counts do not add up)."""
        samples = [float(x) for x in self.compute_seconds_samples]
        counts = list(self.process_samples)
        if len(counts) < 2 or sum(counts) != len(samples):
            return [samples]
        parts, start = [], 0
        for n in counts:
            parts.append(samples[start:start + n])
            start += n
        return parts


class ThreadPoint(Model):
    threads: Count
    batch_size: Count
    compute_seconds: StepSeconds


class RememberedScaling(Model):
    """The parallel fraction an earlier probe of the same workload file measured on this machine (same host, CPU and
    thread count) while it was free, from the history (``advisor.history.remembered``): what a probe on a busy
    machine, which times one thread only, scales to the idle machine's threads with."""

    parallel_fraction: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
    profile_id: Annotated[StrictInt, Field(ge=1)]  # the stored profile it was measured in
    probed_at: datetime
    # That probe raised its priority over other programs using the CPU (``Measurement.priority_nice``) and timed
    # its steps undisturbed: measured so, not on a free machine, which the note must not claim.
    raised_priority: bool = False


class CpuPeak(Model):
    """This machine's CPU op rates on one thread (``advisor.probe.cpu_peak``): a fraction of a second of float32
    matrix multiplies and of a memory-bound elementwise add, timed by the thread's own CPU time. What the CPU
    roofline (``advisor.predictor.cpu_roofline``) prices a model's operators with."""

    threads: Count = 1
    matmul_flops_per_second: Annotated[float, Field(gt=0, le=1e16, allow_inf_nan=False)]
    memory_bytes_per_second: Annotated[float, Field(gt=0, le=1e15, allow_inf_nan=False)]
    seconds: Seconds = 0.0  # wall time the measurement took


class KeptMemory(Model):
    """CPU only: the step (``make_batch`` + training step) at one batch size as the ladder timed it, and with glibc's
    malloc told to keep freed memory (``advisor.probe.allocator``), on the same threads and clock: what an
    allocator that keeps freed memory would save this job."""

    batch_size: Count
    threads: Count | None = None
    clock: Literal["wall", "thread_cpu"] = "wall"
    steps: Count  # timed with freed memory kept
    probed_step_seconds: StepSeconds  # the ladder's (the twin's, where it timed this batch size: a fresh process)
    kept_step_seconds: StepSeconds  # with the mmap and trim thresholds raised (freed memory kept)
    probed_faults_per_step: Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
    kept_faults_per_step: Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]

    @property
    def saving(self) -> float:
        """The share of the step the kept memory took off (negative where it was slower)."""
        return 1.0 - self.kept_step_seconds / self.probed_step_seconds


class SkippedPoint(Model):
    """A batch size of the ladder the probe did not time: its warm-up and two timed steps, priced from the
    workload check, one pricing step or the points measured, would not fit what was left of the budget."""

    batch_size: JobCount  # any the job takes: one past MAX_COUNT is never timed (``too_large``)
    # One step, as priced: in proportion to the batch size, so a batch of 10^12 can be priced at centuries.
    step_seconds: Annotated[float, Field(ge=0, le=1e30, allow_inf_nan=False)]
    # The cold one-step check, a step at batch size 1, the timed points, or the analysis (a floor: unprobed_cpu).
    priced_from: Literal["check", "first step", "measured", "analysis"]
    # Past the largest batch the probe times (advisor.probe.ladder.MAX_TIMED_BATCH_SIZE), whatever its price.
    too_large: bool = False


class DeviceProfile(Model):
    """Everything probed on one device."""

    device: str  # "cpu" or "cuda:0"
    kind: Literal["cpu", "gpu"]
    name: DeviceName  # CPU model or GPU name as reported
    spec_name: str | None = None  # canonical GPU spec name when recognised
    threads: Count | None = None
    memory_gib: MemorySize | None = None
    memory_limit: MemoryLimit | None = None  # CPU: what bounds memory_gib below the RAM (CpuInfo.memory_limit)
    precision: Precision = "fp32"
    measurements: list[Measurement] = Field(default_factory=list, max_length=MAX_POINTS)
    largest_batch_size: Count | None = None  # largest batch that ran
    oom_batch_size: Count | None = None  # smallest batch that ran out of memory, if any
    free_memory_gib: MemorySize | None = None  # a GPU's memory free as its probe began: others' processes held the rest
    thread_scaling: list[ThreadPoint] = Field(default_factory=list, max_length=MAX_POINTS)
    probe_seconds: Seconds = 0.0  # wall time spent probing this device (elapsed; --probe-seconds is budget_seconds)
    startup_seconds: Seconds = 0.0  # model build + move + first (warm-up) steps beyond steady state
    startup_clock: StartupClock | None = None  # CPU: how startup_seconds was timed; None in older profiles
    budget_seconds: Seconds | None = None  # the ladder's time budget on this device
    skipped: list[SkippedPoint] = Field(default_factory=list, max_length=MAX_POINTS)  # points past the budget
    cpu_peak: CpuPeak | None = None  # CPU only: this machine's op rates (advisor.probe.cpu_peak)
    remembered_scaling: RememberedScaling | None = None  # CPU only, a busy probe: from the history
    subnormal: SubnormalDrift | None = None  # CPU only: optimizer state turning subnormal (advisor.probe.subnormal)
    kept_memory: KeptMemory | None = None  # CPU only: the allocator's what-if (advisor.probe.allocator)
    state_growth: StateGrowth | None = None  # the model's buffers grew at every timed step (probe.state_meter)
    small_batch_error: SmallBatchError | None = None  # a step below the check's size raised (schemas.small_batch)


class LoaderPoint(Model):
    """The input pipeline's throughput with one number of loader worker processes, on this machine."""

    workers: Annotated[StrictInt, Field(ge=0, le=4096)]  # 0: batches made in the training process itself
    samples_per_second: Annotated[float, Field(gt=0, le=1e12, allow_inf_nan=False)]
    batches_timed: Count
    seconds: Seconds  # timed wall, the first batch (worker start-up) excluded
    # What else used the CPU while this point was timed (advisor.probe.contention; the loader's workers excluded)
    # and how long the batch makers sat runnable waiting for a CPU (schedstat's run delay, their mean); None: not read.
    others_cpu_cores: Annotated[float, Field(ge=0, le=1e5, allow_inf_nan=False)] | None = None
    steal_fraction: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    wait_seconds: Seconds | None = None
    # The rate's clock. "wall": samples / seconds. "wall_less_wait": on a busy machine, samples / (seconds -
    # wait_seconds), the time the batches would have taken had no other process held a CPU they wanted.
    clock: Literal["wall", "wall_less_wait"] = "wall"


class InputPipeline(Model):
    """The host side of a training step, measured here: how fast batches are made (``make_dataloader`` at 1, 2
    and N worker processes, or ``make_batch`` in the training process) and what each carries to the device."""

    source: Literal["dataloader", "make_batch"]
    batch_size: Count  # the batch size the pipeline was timed at
    bytes_per_sample: Amount  # bytes of one sample's tensors, as they cross to the device
    pinned_memory: bool = False  # batches arrive in page-locked memory: the copy can overlap compute
    points: list[LoaderPoint] = Field(default_factory=list, max_length=MAX_POINTS)
    host_cores: Count | None = None  # the measuring machine's usable cores
    cpu_name: str | None = None  # the measuring machine's CPU, as reported
    startup_seconds: Seconds = 0.0  # the first batch at the most workers (worker start-up, first files)
    default_workers: Annotated[StrictInt, Field(ge=0, le=4096)] | None = None  # the file's NUM_WORKERS, if set
    persistent_workers: bool = False  # the DataLoader keeps its workers between epochs: they start once
    notes: list[Note] = Field(default_factory=list, max_length=MAX_NOTES)

    def point(self, workers: int) -> LoaderPoint | None:
        return next((p for p in self.points if p.workers == workers), None)

    @property
    def per_worker_samples_per_second(self) -> float | None:
        """One worker's rate (for ``make_batch``: the training process's own): the point with the fewest workers,
        per worker; None when nothing was timed."""
        if not self.points:
            return None
        p = min(self.points, key=lambda q: q.workers)
        return p.samples_per_second / max(p.workers, 1)

    @property
    def worker_efficiency(self) -> float:
        """Rate at the most workers over (workers x one worker's rate), in (0, 1]: what running workers side by
        side costs on this machine (shared cores, memory bandwidth, the collating parent); 1.0 with one point."""
        one = self.per_worker_samples_per_second
        most = max(self.points, key=lambda q: q.workers) if self.points else None
        if one is None or most is None or most.workers <= 1:
            return 1.0
        return max(0.05, min(1.0, most.samples_per_second / (most.workers * one)))


class OpRecord(Model):
    """One operator (or a group of identical ones) of a training step, at the two analysis batch sizes."""

    op: str  # aten overload name, e.g. "aten.convolution.default"
    kind: str  # matmul | conv | elementwise | reduction | norm | softmax | embedding | optimizer | copy | other
    phase: Literal["forward", "backward", "optimizer"]
    count: Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)] = 1
    flops: tuple[Amount, Amount]  # at Analysis.batch_sizes[0] and [1]
    bytes: tuple[Amount, Amount]  # bytes read + written
    dtype: str = "float32"
    # Tensor-core alignment of a matmul/conv/attention: the largest of 8, 4, 2, 1 elements dividing its
    # operands' leading dimensions (GEMM K and N, conv channels, head size); 8 for every other op.
    align: Annotated[StrictInt, Field(ge=1, le=8)] = 8
    # Under torch.compile: bytes one call still moves when a run of memory-bound ops between two tensor-core
    # ops fuses into one kernel (intermediates neither written nor read back), and the kernels it launches
    # (1 for the run's first op, 0 for the ops fused into it). None: not analysed (older profiles).
    fused_bytes: tuple[Amount, Amount] | None = None
    fused_kernels: Annotated[float, Field(ge=0, le=1)] = 1.0
    # A matmul/conv/attention as the GEMM its kernel tiles: (M, N, K) at the two batch sizes (M x N output
    # tile grid, K the reduction; a convolution as its implicit GEMM, attention as its P @ V product). What
    # operand reuse per tile depends on. None: not a GEMM, or an older profile (priced at full-tile reuse).
    gemm: tuple[tuple[Amount, Amount, Amount], tuple[Amount, Amount, Amount]] | None = None
    # Share of a convolution's FLOPs that cuDNN can run as Winograd when it computes in FP32 on CUDA cores:
    # 3x3, stride 1, dilation 1, ungrouped convolutions, forward and both gradients (profiles before
    # 2026-12-04 left the weight gradient out: 0.5 for a both-gradients backward). 0: none, or an older profile.
    winograd_share: Annotated[float, Field(ge=0, le=1)] = 0.0
    # A 2-D convolution whose input is laid out channels-last (NHWC memory): cuDNN's tensor-core kernels read
    # it as it is, without the NCHW <-> NHWC transposes a channels-first one pays in 16 bits (the roofline's
    # ``conv_layout_passes``). False: channels-first, not a convolution, or an older profile.
    channels_last: bool = False
    # A forward convolution with groups > 1 and more than one input channel per group (ResNeXt-style; not a
    # depthwise one). Under torch.compile, Inductor keeps a graph holding one channels-first rather than converting
    # its convolutions to channels-last (the roofline's ``inductor_channels_last``). False: other ops, old profiles.
    grouped: bool = False
    # A batch norm on a channels-first input (3+ dimensions, channel stride > 1): its CUDA kernels (PyTorch's
    # own for bf16, cuDNN's for fp16/fp32) give each of these channels one thread block, which streams the
    # channel's ``plane_elements`` (batch x spatial, at the two batch sizes) at a latency-bound pace
    # (``optable``: the roofline's ``bn_plane_*`` terms). 0 / None: any other op, or an older profile.
    channel_planes: Annotated[StrictInt, Field(ge=0)] = 0
    plane_elements: tuple[Amount, Amount] | None = None
    # A fused attention kernel's options, as ``F.scaled_dot_product_attention`` was called: "dropout" (it
    # draws a random number per score) and "mask" (it reads and adds a mask per score), which the roofline's
    # ``attention_score_seconds`` prices, and "causal" (the kernel skips the score tiles above the diagonal),
    # recorded, not priced (bench/README.md, "Fused attention's options"). (): none, another op, an old profile.
    attention: tuple[Literal["causal", "dropout", "mask"], ...] = ()


@dataclass(frozen=True)
class JobSpec:
    """The job to predict: how much data, how many passes, at what global batch size, and how it steps.

    ``batch_size`` is the global batch of one forward/backward pass (a micro-step), summed over all GPUs.
    ``grad_accum_steps`` (A) micro-steps make one optimizer step: the optimizer update and the data-parallel
    all-reduce run once per A micro-steps. Steps below count micro-steps (``ceil(dataset_size / batch_size)``
    per epoch). ``eval_every`` optimizer steps (None: never), ``eval_steps`` forward-only batches of
    ``batch_size`` are evaluated. ``compiled``: the step runs under ``torch.compile``. The defaults are the
    plain job every caller and stored row had before these fields existed."""

    dataset_size: int
    epochs: int
    batch_size: int
    grad_accum_steps: int = 1
    eval_every: int | None = None
    eval_steps: int = 0
    compiled: bool = False

    @functools.cached_property
    def shape(self) -> JobSpec:
        """How the job steps, whatever its size (dataset size and epochs 1): jobs of one shape share their step
        models and step times. Worked out once per job (a recommendation asks it of hundreds of targets)."""
        return dataclasses.replace(self, dataset_size=1, epochs=1)

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
        """Micro-steps (forward + backward passes) of the whole job."""
        return self.epochs * self.steps_per_epoch

    @property
    def optimizer_steps(self) -> int:
        """Optimizer updates of the whole job: one per ``grad_accum_steps`` micro-steps (the last may be short)."""
        return math.ceil(self.total_steps / max(1, self.grad_accum_steps))

    @property
    def evaluations(self) -> int:
        """Evaluations of the whole job: one after every ``eval_every`` optimizer steps (0 without eval)."""
        if not self.eval_every or self.eval_steps <= 0:
            return 0
        return self.optimizer_steps // self.eval_every


def at_batch(values: tuple[float, float], batch_sizes: tuple[int, int], batch_size: float) -> float:
    """A per-op quantity known at the two analysis batch sizes, linearly extrapolated (never below 0)."""
    (v0, v1), (b0, b1) = values, batch_sizes
    return max(0.0, v0 + (v1 - v0) * (batch_size - b0) / (b1 - b0))


class Analysis(Model):
    """Shape-level analysis of one training step without running it at full size (meta/fake tensors)."""

    # The predictor's priced op tables (predictor.optable), dominant kind (calibration.dominant_kind): never
    # serialised, compared, copied or pickled (DerivedCache); they live while the object does.
    _derived: DerivedCache = PrivateAttr(default_factory=DerivedCache)

    batch_sizes: tuple[Count, Count]
    ops: list[OpRecord] = Field(default_factory=list, max_length=MAX_OPS)
    flops_per_sample: Amount  # forward + backward training FLOPs per sample (activation recomputation included)
    forward_flops_per_sample: Amount | None = None
    param_count: ParamCount
    trainable_param_count: ParamCount
    param_bytes: Amount
    gradient_bytes: Amount
    autocast_held_weight_bytes: Amount | None = None  # fp32 weights whose 16-bit casts live through a step
    optimizer: str  # optimizer class name, e.g. "AdamW"
    optimizer_state_bytes: Amount
    activation_bytes_per_sample: Amount | None = None  # saved for backward, per sample, + the recompute below
    activation_bytes_fixed: Annotated[float, Field(allow_inf_nan=False, ge=-1e30, le=1e30)] | None = None
    recomputed_activation_bytes_per_sample: Amount | None = None  # activation checkpointing; None: not seen
    recomputed_flops_per_sample: Amount | None = None  # that recompute's FLOPs, within flops_per_sample; not MFU's
    analysis_seconds: Seconds | None = None
    # May fp32 matmuls / convolutions run in TF32, as build_model left the switches (probe.analysis.tf32)? None: unread
    matmul_allow_tf32: bool | None = None
    cudnn_allow_tf32: bool | None = None
    one_sample_error: Annotated[str, Field(max_length=1000)] | None = None  # the forward raised at batch size 1

    @field_validator("batch_sizes")
    @classmethod
    def _two_sizes(cls, sizes: tuple[int, int]) -> tuple[int, int]:
        # Per-op figures are extrapolated along the line through the two sizes: they must differ.
        if sizes[0] == sizes[1]:
            raise ValueError("the two analysis batch sizes must differ")
        return sizes


# A workload's texts, as long as the history keeps them (``advisor.history.rows``: a longer name, cut to 200, differed
# from the stored answer's). An optimizer's name is as long as the probe sends it (``advisor.probe.child``).
MAX_WORKLOAD_NAME_CHARS, MAX_WORKLOAD_PATH_CHARS, MAX_OPTIMIZER_CHARS = 200, 4096, 200


class WorkloadInfo(Model):
    name: Annotated[str, Field(max_length=MAX_WORKLOAD_NAME_CHARS)]
    path: Annotated[str, Field(max_length=MAX_WORKLOAD_PATH_CHARS)] | None = None
    file_sha256: Annotated[str, Field(max_length=64)] | None = None  # hex; the history's column holds 64
    param_count: ParamCount | None = None
    flops_per_sample: Amount | None = None
    optimizer: Annotated[str, Field(max_length=MAX_OPTIMIZER_CHARS)] | None = None
    dataset_size: JobCount | None = None  # the file's defaults, if any: any figure the job takes
    epochs: JobCount | None = None
    batch_size: JobCount | None = None
    # A default the module set to something that is not an int (nan, "2000", an int of 5,000 digits), as the probe
    # child showed it ("dataset_size": "nan"): the job's error names it unless a flag gives that figure.
    unusable_defaults: dict[Literal["dataset_size", "epochs", "batch_size"], Annotated[str, Field(max_length=80)]] = (
        Field(default_factory=dict))
    # How the job steps as the workload declared it (a file's text read at probe time; a Workload's attributes;
    # None: not declared): a saved profile predicts that job without the file, which a server never reads, noting
    # what a file's would: ``unread`` constants (name -> source), ``near_misses`` (name -> (the one read, line)).
    precision: Literal["fp32", "tf32", "bf16", "fp16", "mixed"] | None = None
    compile: bool | None = None
    grad_accum_steps: JobCount | None = None
    eval_every: JobCount | None = None
    eval_steps: Annotated[StrictInt, Field(ge=0, le=MAX_JOB_COUNT)] | None = None
    unread: dict[JobConstant, ConstantSource] = Field(default_factory=dict)
    near_misses: dict[ConstantSource, NearMiss] = Field(default_factory=dict, max_length=MAX_NOTES)

    def job_constants(self) -> dict[str, object]:
        """The declared values by the workload file's constant name (``PRECISION``...), None where not set."""
        return {"PRECISION": self.precision, "COMPILE": self.compile, "GRAD_ACCUM_STEPS": self.grad_accum_steps,
                "EVAL_EVERY": self.eval_every, "EVAL_STEPS": self.eval_steps}


class Profile(Model):
    schema_version: SchemaVersion = SCHEMA_VERSION
    created_at: datetime = Field(default_factory=utc_now)
    workload: WorkloadInfo
    host: HostInfo | None = None
    devices: list[DeviceProfile] = Field(default_factory=list, max_length=MAX_POINTS)
    analysis: Analysis | None = None
    # The same step analysed at bf16, where ``analysis`` is not 16-bit (recommend's profile, ``advisor profile``): a
    # 16-bit question ("--precision bf16" what-if) is priced from it, not from fp32 bytes retyped (``analysed_for``).
    bf16_analysis: Analysis | None = None
    input_pipeline: InputPipeline | None = None  # the host side of a step (advisor.probe.input_pipeline)
    probe_wall_seconds: Seconds = 0.0
    # Of that, the time spent waiting for another advisor probe on this machine to finish timing, so that the two
    # did not time side by side (advisor.probe.turns); 0: it had the machine to itself, or did not take turns.
    probe_wait_seconds: Seconds = 0.0
    # What the probe found that makes its timings less trustworthy ("cpu: the step time ... varied widely",
    # a CPU probe held to one thread after a fork). Each starts with the device it is about, if one.
    notes: list[Note] = Field(default_factory=list, max_length=MAX_NOTES)

    @model_validator(mode="after")
    def _checked(self) -> Profile:
        refuse_nul(self)  # all of its text, the nested models' too: a profile is input (base.refuse_nul)
        if (half := told_one_sample(self.analysis, self.bf16_analysis)) is not self.bf16_analysis:
            self.bf16_analysis = half  # once, as the profile is made or read (small_batch.told_one_sample)
        return self

    def timed_devices(self) -> list[str]:
        """The devices a step of the model was timed on (not one that only ran out of memory)."""
        return [d.device for d in self.devices
                if any(m.compute_seconds or m.compute_seconds_samples for m in d.measurements)]

    def analysed_for(self, precision: str | None) -> Profile:
        """This profile priced at ``precision``: with ``bf16_analysis`` for a 16-bit or mixed job, else itself."""
        if self.bf16_analysis is None or precision not in (*HALF_PRECISIONS, "mixed"):
            return self
        # told as the profile was made (itself back), and again here for a model_copy's, which nothing validated
        half = told_one_sample(self.analysis, self.bf16_analysis)
        return self.model_copy(update={"analysis": half, "bf16_analysis": None})

    def device(self, device: str) -> DeviceProfile | None:
        return next((d for d in self.devices if d.device == device), None)
