"""Memory fit: will a training step at a given batch fit in one device's memory, and what is the largest
batch that does?

Peak memory of one training step on one device (GiB = 2**30 bytes):

    peak = cuda_context + (1 + workspace_fraction) x (weights + gradients + optimizer_state
                                                     [+ half_weight_copies] [+ ddp_buckets]
                                                     + activations_fixed + activations_per_sample x batch)

* weights, gradients, optimizer state: fp32 whatever the precision (autocast keeps fp32 master weights; a
  GradScaler'd fp16 run too). Summing all three with every activation is slightly conservative: with
  ``zero_grad(set_to_none=True)`` gradients appear while backward frees activations.
* optimizer state by type: the analysis measures it; :func:`optimizer_state_multiplier` is the fallback
  (Adam/AdamW 2x the trainable weights, SGD with momentum 1x, ...).
* activations: tensors saved for backward, linear in the batch. Under bf16/fp16 autocast the saved
  matmul/conv inputs are 16-bit but softmax/norm outputs and fp32 residual streams are not:
  ``HALF_ACTIVATION_FACTOR`` (0.6) scales fp32 activation bytes to autocast when only fp32 figures are
  known. The analysis traced at the target precision is better (and used as is): it gives 0.51 for
  ResNet-50, 0.63 for BERT with fused attention, 0.81 for BERT-large with unfused attention.
* half_weight_copies: bf16/fp16 only, 0.5 x the analysis' ``autocast_held_weight_bytes`` (else all the weights):
  the trainable weights, whose casts autocast caches, and frozen ones autograd saves for backward (LoRA's base).
* ddp_buckets: DistributedDataParallel's gradient buckets hold a copy of the gradients (the default
  ``gradient_as_bucket_view=False``), on more than one GPU only.
* workspace_fraction (default 0.10): cuBLAS/cuDNN workspaces, transient backward buffers and the caching
  allocator's fragmentation (reserved vs allocated), as a share of everything above.
* cuda_context (default 0.5 GiB): the CUDA context, cuBLAS/cuDNN handles and kernels loaded outside
  PyTorch's allocator (0.3-0.6 GiB on recent drivers). Not counted on a CPU target.

Capacity is the memory a driver gives a process where ``profiles/gpu_usable_memory.csv`` has it (nvidia-smi's
total: an L4 shows 22.49 GiB of its datasheet's 24 GB, as ECC on GDDR memory keeps 6-7% for its check bits), else
the datasheet's figure (e.g. 80 for an 80 GB card). HBM cards expose about 1% less than their datasheet (an
A100-40GB shows 39.6 GiB to CUDA), which the workspace margin covers.

Cross-checks (bench/README.md, "Multi-GPU scaling", "Memory fit"): the analysis of ResNet-50 gives
81.9 MiB/sample fp32, so batch 256 peaks at ~23 GiB with the margins (published: 20-24 GB on V100/A100 in
PyTorch), and every batch Lambda's benchmark ran (near the largest that fit) is 1.08-1.49x below
``max_batch_per_device``. BERT-large seq 384 fp32 with AdamW (5 GiB of weights, gradients and Adam state):
~1.3 GiB/sample with unfused attention gives a largest batch of 7 on a 16 GB V100 (published: ~4-6); the
example workload's fused ``scaled_dot_product_attention`` saves no score matrices (0.62 GiB/sample: 14).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from advisor.errors import PredictionError
from advisor.hardware.usable_memory import unmeasured_note, usable_memory_gib
from advisor.memory_words import may_run_out, roomier_batch_advice
from advisor.predictor.caveats import MAY_RUN_OUT_OF_MEMORY
from advisor.predictor.probe_parts import held_weight_bytes, split_measured
from advisor.schemas import Analysis, DeviceProfile, GpuSpec
from advisor.schemas.base import MAX_COUNT, USABLE_MEMORY_FRACTION, within_capacity
from advisor.schemas.shared_gpu import held_by_others_gib
from advisor.units import BYTES_PER_GIB, format_gib_pair

GIB = float(BYTES_PER_GIB)

# Bytes of saved activations under bf16/fp16 autocast relative to fp32 (see the module docstring).
HALF_ACTIVATION_FACTOR = 0.6
_ACTIVATION_FACTOR = {"fp32": 1.0, "tf32": 1.0, "bf16": HALF_ACTIVATION_FACTOR, "fp16": HALF_ACTIVATION_FACTOR}

DEFAULT_WORKSPACE_FRACTION = 0.10
# A fit past this share of the memory leaves only the margin: the note says so (a caveat wherever it is printed).
TIGHT_MEMORY_FRACTION = 0.95
ROOMY_MEMORY_FRACTION = 0.90  # the batch that note suggests: a tenth of the memory free
DEFAULT_CUDA_CONTEXT_GIB = 0.5
# Breakdown parts (MemoryFit.breakdown) that grow with the batch or are the margin; and those FSDP/ZeRO-3 shard.
_PER_BATCH_PARTS = ("activations", "workspace", "cuda_context")
_SHARDED_PARTS = ("weights", "gradients", "optimizer_state", "half_weight_copies")
_NUDGES = 4  # steps the closed-form largest batch is moved by against rounding

# Optimizer state per byte of trainable fp32 weights, for when no analysis measured it.
_OPTIMIZER_STATE = {
    "sgd": 1.0,  # momentum buffer (0 without momentum; 1 assumed, the common recipe)
    "adam": 2.0, "adamw": 2.0, "adamax": 2.0, "nadam": 2.0, "radam": 2.0, "sparseadam": 2.0,
    "fusedadam": 2.0, "lamb": 2.0, "fusedlamb": 2.0, "adadelta": 2.0,
    "adagrad": 1.0, "rmsprop": 1.0, "lion": 1.0, "asgd": 2.0, "rprop": 2.0,
    "adafactor": 0.05,  # factored second moments: rows + columns, no first moment by default
    "lbfgs": 20.0,  # history_size=100 pairs is far more; 20 is a floor for the default settings' first steps
}


def optimizer_state_multiplier(optimizer: str) -> float:
    """Optimizer state bytes per byte of trainable fp32 weights, by optimizer class name (2.0 if unknown)."""
    return _OPTIMIZER_STATE.get(optimizer.strip().lower().replace("_", ""), 2.0)


def activation_factor(precision: str) -> float:
    """Saved-activation bytes at ``precision`` relative to fp32."""
    try:
        return _ACTIVATION_FACTOR[precision]
    except KeyError:
        raise PredictionError(f"Unknown precision {precision!r}.",
                              hint="Fix: use one of fp32, tf32, bf16, fp16.") from None


def _is_half(precision: str) -> bool:
    return precision in ("bf16", "fp16")


@dataclass(frozen=True)
class MemoryFit:
    """Peak memory of one training step on one device, against that device's memory."""

    peak_memory_gib: float  # at per_device_batch
    capacity_gib: float
    fits_memory: bool
    max_batch_per_device: int | None  # largest batch that fits; 0 if batch 1 does not; None if unbounded
    per_device_batch: int
    breakdown: dict[str, float]  # GiB at per_device_batch; sums to peak_memory_gib
    source: str  # "analysis" | "probe"
    precision: str
    notes: list[str] = field(default_factory=list)
    workspace_fraction: float = DEFAULT_WORKSPACE_FRACTION
    oom_limit: int | None = None  # the largest batch below one a probe ran out at, where that bounds this device

    @property
    def headroom_gib(self) -> float:
        return self.capacity_gib - self.peak_memory_gib

    def _margined(self, parts_gib: float) -> float:
        return self.breakdown.get("cuda_context", 0.0) + (1.0 + self.workspace_fraction) * parts_gib

    @property
    def static_gib(self) -> float:
        """Per device, what no batch size makes smaller: weights, gradients, optimizer state (16-bit copies, DDP's
        buckets, fixed activations) with the margin and the CUDA context. Past the capacity, no batch fits."""
        return self._margined(sum(v for k, v in self.breakdown.items() if k not in _PER_BATCH_PARTS))

    def sharded_gib(self, gpu_count: int, per_device_batch: int | None = None) -> float | None:
        """Per device, this step with the weights, gradients, optimizer state and 16-bit copies sharded over
        ``gpu_count`` devices (FSDP FULL_SHARD / ZeRO-3; no DDP buckets), at ``per_device_batch`` (default this
        fit's). A rough figure: the all-gathered layer in flight and the collectives' buffers are left out. None
        where those parts are not known apart (a probe's measured fixed part with no analysis to split it:
        ``probe_parts``)."""
        if "weights" not in self.breakdown or gpu_count < 1:
            return None
        shard = sum(self.breakdown.get(k, 0.0) for k in _SHARDED_PARTS) / gpu_count
        rest = sum(v for k, v in self.breakdown.items() if k not in (*_SHARDED_PARTS, "ddp_buckets", *_PER_BATCH_PARTS))
        batch = self.per_device_batch if per_device_batch is None else per_device_batch
        return self._margined(shard + rest + self.breakdown.get("activations", 0.0) / self.per_device_batch * batch)

    def sharded_min_devices(self) -> int | None:
        """The fewest devices of this capacity over which the sharded step (``sharded_gib``) fits at one sample
        per device; None where it does not fit on any number (one sample's activations alone are too many) or
        the parts are not known apart."""
        one = self.sharded_gib(1, 1)
        if one is None:
            return None
        shard = sum(self.breakdown.get(k, 0.0) for k in _SHARDED_PARTS)
        room = (self.capacity_gib - self.breakdown.get("cuda_context", 0.0)) / (1.0 + self.workspace_fraction)
        room -= (one - self.breakdown.get("cuda_context", 0.0)) / (1.0 + self.workspace_fraction) - shard
        if room <= 0:
            return None
        return max(1, math.ceil(shard / room - 1e-9))


def memory_fit(*, param_bytes: float, gradient_bytes: float, optimizer_state_bytes: float,
               activation_bytes_per_sample: float, activation_bytes_fixed: float = 0.0, per_device_batch: int,
               device_memory_gib: float, precision: str = "fp32",
               workspace_fraction: float = DEFAULT_WORKSPACE_FRACTION,
               cuda_context_gib: float = DEFAULT_CUDA_CONTEXT_GIB, activation_precision: str = "fp32",
               data_parallel: bool = False) -> MemoryFit:
    """Peak memory and fit of one step at ``per_device_batch`` (see the module docstring for the model).

    ``activation_bytes_*`` are at ``activation_precision`` (fp32 by default) and are rescaled to
    ``precision``. ``data_parallel`` adds DDP's gradient buckets (more than one GPU).
    ``cuda_context_gib=0`` for a CPU target.
    """
    for name, value in (("param_bytes", param_bytes), ("gradient_bytes", gradient_bytes),
                        ("optimizer_state_bytes", optimizer_state_bytes)):
        _check_bytes(name, value)
    static = {"weights": param_bytes, "gradients": gradient_bytes, "optimizer_state": optimizer_state_bytes}
    if _is_half(precision):
        static["half_weight_copies"] = 0.5 * param_bytes
    if data_parallel:
        static["ddp_buckets"] = gradient_bytes
    return _fit(static, activation_bytes_per_sample, activation_bytes_fixed, per_device_batch=per_device_batch,
                device_memory_gib=device_memory_gib, precision=precision, activation_precision=activation_precision,
                workspace_fraction=workspace_fraction, cuda_context_gib=cuda_context_gib, source="analysis",
                notes=[])


def _check_bytes(name: str, value: float) -> None:
    if value is None or not math.isfinite(value) or value < 0:
        raise PredictionError(f"{name} must be a non-negative number of bytes, got {value}.")


def _fit(static_bytes: dict[str, float], activation_bytes_per_sample: float, activation_bytes_fixed: float, *,
         per_device_batch: int, device_memory_gib: float, precision: str, activation_precision: str,
         workspace_fraction: float, cuda_context_gib: float, source: str, notes: list[str],
         fixed_name: str = "activations_fixed") -> MemoryFit:
    """The fit itself: static parts (bytes, by name) + fixed + per-sample activations, margin, context."""
    if int(per_device_batch) != per_device_batch or per_device_batch < 1:
        raise PredictionError(f"The batch per device must be a whole number of at least 1, got {per_device_batch}.",
                              hint="Fix: use a global batch size of at least the number of GPUs.")
    if not (isinstance(device_memory_gib, (int, float)) and math.isfinite(device_memory_gib)
            and device_memory_gib > 0):
        raise PredictionError(f"The device memory must be a positive number of GiB, got {device_memory_gib}.")
    _check_bytes("activation_bytes_per_sample", activation_bytes_per_sample)
    _check_bytes("activation_bytes_fixed", activation_bytes_fixed)
    if workspace_fraction < 0 or cuda_context_gib < 0:
        raise PredictionError("The workspace fraction and the CUDA context must not be negative.")

    scale = activation_factor(precision) / activation_factor(activation_precision)
    per_sample = activation_bytes_per_sample * scale / GIB
    static = {name: value / GIB for name, value in static_bytes.items()}
    # a probe's measured block is its weights, gradients and optimizer state, fp32 at any precision: kept as measured
    static[fixed_name] = activation_bytes_fixed * (scale if fixed_name == "activations_fixed" else 1.0) / GIB
    static_sum = sum(static.values())
    margin = 1.0 + workspace_fraction

    def peak(batch: int) -> float:
        return cuda_context_gib + margin * (static_sum + per_sample * batch)

    capacity = float(device_memory_gib)
    max_batch: int | None
    if per_sample <= 0:
        max_batch = None if within_capacity(peak(1), capacity) else 0
    else:
        # Largest b with peak(b) <= capacity: closed form, then nudged against rounding, a few steps at most (at a
        # tiny per-sample size peak(b + 1) == peak(b) in floating point). Past MAX_COUNT, a batch no probe or job
        # reaches: capped there, as no limit worth naming.
        room = (capacity - cuda_context_gib) / margin - static_sum
        ratio = room / per_sample if room > 0 else 0.0
        b = MAX_COUNT if not ratio < MAX_COUNT else max(0, math.floor(ratio))
        for _ in range(_NUDGES):
            if b > 0 and not within_capacity(peak(b), capacity):
                b -= 1
            elif b < MAX_COUNT and within_capacity(peak(b + 1), capacity):
                b += 1
            else:
                break
        max_batch = b

    batch = int(per_device_batch)
    breakdown = dict(static)
    breakdown["activations"] = per_sample * batch
    breakdown["workspace"] = workspace_fraction * (static_sum + breakdown["activations"])
    breakdown["cuda_context"] = cuda_context_gib
    peak_gib = peak(batch)
    fits = within_capacity(peak_gib, capacity)
    notes = list(notes)
    if scale != 1.0:
        notes.append(f"Activations scaled x{scale:.2f} from {activation_precision} to {precision}.")
    if not fits:
        if max_batch == 0:
            need, has = format_gib_pair(peak(1), capacity, min_digits=1)
            notes.append(f"Does not fit even at batch 1 per device: {need} GiB needed, {has} GiB available.")
        else:
            need, has = format_gib_pair(peak_gib, capacity, min_digits=1)
            notes.append(f"Needs {need} GiB at batch {batch} per device, {has} GiB available; "
                         f"the largest batch per device that fits is {max_batch}.")
    elif peak_gib >= TIGHT_MEMORY_FRACTION * capacity:
        room_gib = (ROOMY_MEMORY_FRACTION * capacity - cuda_context_gib) / margin - static_sum
        notes.append(_tight_note(peak_gib, capacity, batch, per_sample, room_gib, workspace_fraction))
    return MemoryFit(peak_memory_gib=peak_gib, capacity_gib=capacity, fits_memory=fits,
                     max_batch_per_device=max_batch, per_device_batch=batch, breakdown=breakdown,
                     source=source, precision=precision, notes=notes, workspace_fraction=workspace_fraction)


def _tight_note(peak_gib: float, capacity_gib: float, batch: int, per_sample_gib: float, room_gib: float,
                workspace_fraction: float) -> str:
    """A fit within ``TIGHT_MEMORY_FRACTION`` of the memory: the model's own margin is all that is left, and its
    check against published batches (bench/README.md, "Memory fit") put its largest batch 1.08-1.49x theirs."""
    need, has = format_gib_pair(peak_gib, capacity_gib, min_digits=1)
    roomier = math.floor(room_gib / per_sample_gib) if per_sample_gib > 0 and room_gib > 0 else 0
    return (f"Tight: {need} of {has} GiB at batch {batch:,} per device (its {workspace_fraction:.0%} workspace "
            f"margin counted), so a real step {may_run_out(roomier_batch_advice(roomier, batch))}.")


def headroom_tight_note(peak_gib: float, capacity_gib: float, batch: int) -> str | None:
    """The caveat of a peak judged against ``USABLE_MEMORY_FRACTION`` of the memory (a measured CPU's RSS line,
    which has no workspace margin of its own) that fits within a twentieth of that limit: the rule a fit from the
    analysis gets within a twentieth of the memory, its margin counted (``_tight_note``), so that a job near the
    edge is called tight whichever way its memory was priced; None where it is not tight or does not fit."""
    limit_gib = USABLE_MEMORY_FRACTION * capacity_gib
    if not TIGHT_MEMORY_FRACTION * limit_gib <= peak_gib <= limit_gib:
        return None
    need, limit = format_gib_pair(peak_gib, limit_gib, min_digits=1)
    return (f"Tight: {need} GiB at batch {batch:,} per device, within a twentieth of the {limit} GiB (the "
            f"{USABLE_MEMORY_FRACTION:.0%} of {capacity_gib:.1f}) a measured job may use, so a real step "
            f"{MAY_RUN_OUT_OF_MEMORY}.")


def traced_precision(analysis: Analysis) -> str:
    """The precision the analysis traced at: "bf16"/"fp16" when its matmuls/convs ran in 16 bits, else "fp32"."""
    for op in analysis.ops:
        if op.kind in ("matmul", "conv"):
            if op.dtype in ("bfloat16", "bf16"):
                return "bf16"
            if op.dtype in ("float16", "fp16", "half"):
                return "fp16"
    return "fp32"


def memory_from_analysis(analysis: Analysis, per_device_batch: int, device_memory_gib: float,
                         precision: str = "fp32", *, gpu_count: int = 1, cpu: bool = False,
                         workspace_fraction: float = DEFAULT_WORKSPACE_FRACTION,
                         cuda_context_gib: float = DEFAULT_CUDA_CONTEXT_GIB) -> MemoryFit:
    """Memory fit from the shape-level analysis (weights, gradients, optimizer state, saved activations).

    The analysis's activation bytes are at the precision it traced (read from its ops); they are rescaled
    when the target precision differs. ``gpu_count`` > 1 adds DDP's gradient buckets; ``cpu`` drops the
    CUDA context (and autocast's weight copies stay: CPU autocast caches them too).
    """
    notes: list[str] = ["Memory from the shape-level analysis."]
    per_sample = analysis.activation_bytes_per_sample
    if per_sample is None:
        per_sample = 0.0
        notes.append("The analysis has no activation memory: only weights, gradients and optimizer state "
                     "are counted, so the fit is optimistic.")
    static = {"weights": analysis.param_bytes, "gradients": analysis.gradient_bytes,
              "optimizer_state": analysis.optimizer_state_bytes}
    if (recomputed := analysis.recomputed_activation_bytes_per_sample) is not None:  # checkpointing seen
        notes.append("Activation checkpointing: activations are the checkpointed regions' saved inputs + the largest"
                     f" region's recompute in backward ({recomputed / 2**20:.2f} MiB/sample), an estimate.")
    if _is_half(precision):
        static["half_weight_copies"] = 0.5 * held_weight_bytes(analysis)
    if gpu_count > 1:
        static["ddp_buckets"] = analysis.gradient_bytes
    return _fit(static, per_sample, analysis.activation_bytes_fixed or 0.0, per_device_batch=per_device_batch,
                device_memory_gib=device_memory_gib, precision=precision,
                activation_precision=_same_family(traced_precision(analysis), precision),
                workspace_fraction=workspace_fraction, cuda_context_gib=0.0 if cpu else cuda_context_gib,
                source="analysis", notes=notes)


def _same_family(traced: str, target: str) -> str:
    """bf16 and fp16 activations have the same size: no rescaling between them."""
    if _is_half(traced) and _is_half(target):
        return target
    return traced


def _linear_fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares (intercept, slope) of y on x; needs two distinct x."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    slope = sxy / sxx
    return my - slope * mx, slope


def memory_from_probe(device: DeviceProfile, per_device_batch: int, device_memory_gib: float,
                      analysis: Analysis | None = None, *, precision: str | None = None, gpu_count: int = 1,
                      cpu_target: bool = False, workspace_fraction: float = DEFAULT_WORKSPACE_FRACTION,
                      cuda_context_gib: float = DEFAULT_CUDA_CONTEXT_GIB) -> MemoryFit:
    """Memory fit from a probe's peak memory per batch size (fixed + slope x batch, least squares).

    The probe measures weights, gradients, optimizer state and activations together (PyTorch's
    ``max_memory_allocated`` on a GPU). A CPU probe's figure is RSS growth, rough and at the CPU's own
    kernels: for a GPU target (``cpu_target`` False) the analysis is preferred when there is one. The
    notes say which source was used. ``precision`` defaults to the probe's; a different one rescales the
    per-sample slope alone.
    """
    target_precision = precision or device.precision
    if device.kind == "cpu" and not cpu_target and analysis is not None:
        fit = memory_from_analysis(analysis, per_device_batch, device_memory_gib, target_precision,
                                   gpu_count=gpu_count, workspace_fraction=workspace_fraction,
                                   cuda_context_gib=cuda_context_gib)
        fit.notes.append("The probe ran on the CPU (RSS-based memory, rough); the analysis was used instead.")
        return fit

    points = sorted({(float(m.batch_size), float(m.peak_memory_gib)) for m in device.measurements
                     if m.peak_memory_gib is not None and not m.oom and m.batch_size > 0})
    if not points:
        if analysis is not None:
            fit = memory_from_analysis(analysis, per_device_batch, device_memory_gib, target_precision,
                                       gpu_count=gpu_count, cpu=cpu_target,
                                       workspace_fraction=workspace_fraction, cuda_context_gib=cuda_context_gib)
            fit.notes.append(f"The probe on {device.device} recorded no peak memory; the analysis was used.")
            return fit
        raise PredictionError(f"The probe on {device.device} recorded no peak memory and there is no analysis.",
                              hint="Fix: re-run the probe (advisor profile) so that it records memory.")

    notes = [f"Memory from the probe on {device.device} ({device.name}): "
             f"{'RSS growth, rough' if device.kind == 'cpu' else 'peak allocated memory'} at "
             f"{len(points)} batch size{'s' if len(points) > 1 else ''}."]
    fixed, slope = _probe_line(points, device.precision, analysis, notes)
    # The probe's peak holds weights, gradients, optimizer state and activations together, at the probe's
    # precision: the fixed part is one measured block (fp32 under autocast too: not rescaled), the slope the
    # activations (rescaled to the target's precision).
    static = _static_beyond_probe(analysis, device.precision, target_precision, gpu_count, notes)
    fit = _fit(static, slope * GIB, fixed * GIB, per_device_batch=per_device_batch,
               device_memory_gib=device_memory_gib, precision=target_precision,
               activation_precision=_same_family(device.precision, target_precision),
               workspace_fraction=workspace_fraction, cuda_context_gib=0.0 if cpu_target else cuda_context_gib,
               source="probe", notes=notes, fixed_name="measured_fixed")
    if device.kind == "gpu":  # its block's weights, gradients and optimizer state shard as the analysis's do
        fit = replace(fit, breakdown=split_measured(
            fit.breakdown, analysis, half_copies_measured=_is_half(device.precision) and _is_half(target_precision)))
    # A probe that ran out of memory bounds the batch from above on any GPU with no more memory, at a precision
    # whose activations are no smaller, and on K of them (DDP's buckets only add to each one's need).
    if device.kind == "gpu" and not cpu_target:
        # On a shared GPU the probe ran out within the memory that was free: a bound on GPUs with no more than that.
        narrower = _is_half(target_precision) and not _is_half(device.precision)
        within_gib = (device.memory_gib or 0.0) - held_by_others_gib(device)
        oom_applies = device_memory_gib <= 1.02 * within_gib and not narrower
    else:  # a CPU's RSS-based limit holds for the same machine, at the same precision, alone
        oom_applies = (gpu_count == 1 and target_precision == device.precision and device.memory_gib is not None
                       and abs(device.memory_gib - device_memory_gib) <= 0.02 * device_memory_gib)
    if device.oom_batch_size and device.memory_gib and oom_applies:
        limit = device.oom_batch_size - 1
        fit = replace(fit, oom_limit=limit)  # a sharded step is held to it too (``sharded.sharded_layout``)
        if fit.max_batch_per_device is None or fit.max_batch_per_device > limit:
            fit.notes.append(f"The probe ran out of memory at batch {device.oom_batch_size} on {device.device} "
                             f"({device.memory_gib:.0f} GiB).")
            fits = fit.fits_memory and fit.per_device_batch <= limit
            return replace(fit, max_batch_per_device=limit, fits_memory=fits)
    return fit


def _probe_line(points: list[tuple[float, float]], probe_precision: str, analysis: Analysis | None,
                notes: list[str]) -> tuple[float, float]:
    """(fixed GiB, GiB per sample) of a probe's peak memory: least squares over its batch sizes, or, with one
    size (or a slope that is noise), the analysis' per-sample figure, else all of it per sample."""
    slope: float | None = None
    fixed = 0.0
    if len({x for x, _ in points}) >= 2:
        fixed, slope = _linear_fit(points)
        if slope <= 0:
            notes.append("The probe's peak memory does not grow with the batch (noise): its slope is not used.")
            slope = None
    if slope is None:
        b_hi, m_hi = max(points)
        if analysis is not None and analysis.activation_bytes_per_sample:
            traced = _same_family(traced_precision(analysis), probe_precision)
            slope = (analysis.activation_bytes_per_sample * activation_factor(probe_precision)
                     / activation_factor(traced) / GIB)
            notes.append("Per-sample memory from the analysis, the fixed part from the probe.")
        else:
            slope = m_hi / b_hi  # all of it proportional to the batch: pessimistic above the probed batch
            notes.append("One probed batch size and no analysis: memory assumed proportional to the batch.")
        fixed = m_hi - slope * b_hi
    return max(0.0, fixed), slope


def _static_beyond_probe(analysis: Analysis | None, probe_precision: str, target_precision: str, gpu_count: int,
                         notes: list[str]) -> dict[str, float]:
    """Bytes the target run holds that the probe did not: autocast's 16-bit weight copies when the probe ran
    without autocast, and DDP's gradient buckets on more than one GPU (both sized by the analysis)."""
    static: dict[str, float] = {}
    if _is_half(target_precision) and not _is_half(probe_precision):
        if analysis is not None:
            static["half_weight_copies"] = 0.5 * held_weight_bytes(analysis)
        else:
            notes.append("autocast's 16-bit weight copies are not counted (no analysis to size them).")
    if gpu_count > 1:
        if analysis is not None:
            static["ddp_buckets"] = analysis.gradient_bytes
        else:
            notes.append("Gradient size unknown without the analysis: DDP's gradient buckets are not counted.")
    return static


def gpu_memory(analysis: Analysis | None, probed: DeviceProfile | None, spec: GpuSpec, per_device_batch: int,
               precision: str, gpu_count: int) -> tuple[bool, float | None, float | None, int | None, list[str]]:
    """(fits, peak GiB, capacity GiB, largest batch per GPU, notes) for one of ``gpu_count`` GPUs of ``spec``:
    from the GPU probe ``probed`` (of this GPU or another, at any precision) where there is one, else from the
    analysis (``gpu_fit``, which also gives the fit itself)."""
    fit, capacity, notes = gpu_fit(analysis, probed, spec, per_device_batch, precision, gpu_count)
    if fit is None:
        return True, None, capacity, None, notes
    return fit.fits_memory, fit.peak_memory_gib, fit.capacity_gib, fit.max_batch_per_device, notes


def gpu_fit(analysis: Analysis | None, probed: DeviceProfile | None, spec: GpuSpec, per_device_batch: int,
            precision: str, gpu_count: int) -> tuple[MemoryFit | None, float | None, list[str]]:
    """(the fit, capacity GiB, notes) of ``gpu_memory``; the fit None where memory is not checked."""
    if spec.memory_gib is None:
        return None, None, [f"{spec.name} has no memory size in profiles/: memory fit not checked."]
    # What a process gets (an L4's 22.49 GiB of 24 GB), not the datasheet's figure, where the file has it.
    capacity = usable_memory_gib(spec.name, spec.memory_gib)
    unmeasured = unmeasured_note(spec.name, spec.memory_gib)
    if probed is not None and probed.spec_name == spec.name and probed.memory_gib:
        # K of the probed GPU: the memory it reported (139.8 GiB on an H200 listed at 141), as one of it is judged.
        capacity = min(capacity, probed.memory_gib)
    if probed is not None:
        fit = memory_from_probe(probed, per_device_batch, capacity, analysis, precision=precision,
                                gpu_count=gpu_count)
    elif analysis is not None:
        fit = memory_from_analysis(analysis, per_device_batch, capacity, precision, gpu_count=gpu_count)
    else:
        return None, capacity, ["no analysis: memory fit not checked."]
    close = fit.fits_memory and fit.peak_memory_gib > 0.9 * capacity  # within what ECC may take off the datasheet
    return fit, capacity, list(fit.notes) + ([unmeasured] if unmeasured and close else [])


def compiled_memory_note() -> str:
    """Why a compiled job's memory fit leans high: the probe and the analysis run its steps eagerly."""
    return ("memory is the eager step's (the probe and the analysis run it eagerly); a compiled step usually holds "
            "fewer activations (GPT-2 124M on an H200: 7.2 against 11.8 GiB, and 11.4 against 14.5 GiB at batch 16; "
            "README, \"How the time is predicted\"), so a GPU ruled out here may still fit the compiled job.")
