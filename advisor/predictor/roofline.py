"""Cross-device step time from a shape-level analysis and datasheet specs (method "scaled").

``predict_step(analysis, spec, batch_size, precision, calibration)`` prices every operator of the analysed
training step on a GPU with a roofline:

    t_op = max(t_compute, bytes / (memory_bandwidth x memory_eff)) + t_layout + kernel_latency
    t_compute = max(t_core, t_staging)
    t_core = flops / (peak(kind, precision) x compute_eff)                          (tensor / CUDA cores)
           + flops / tile_reuse x conv_index_ops / sm_clock_flops       (tensor-core convolutions only)
    t_staging = flops x element_bytes / operand_flops_per_element
                x (1 / memory_bandwidth + 1 / (sm_clock_flops x ON_CHIP_BYTES_PER_FP32_FLOP))  (operand staging)

summed over the step's operators (FLOPs and bytes extrapolated linearly to ``batch_size`` from the two
analysed batch sizes), then

    step = overlap(sum of t_op, kernels x host_seconds_per_op) + step_overhead
    overlap(gpu, host) = (gpu^k + host^k)^(1/k),  k = host_overlap_exponent (fitted)

The staging term is a two-level roofline for matmuls and convolutions: every operand element a tile
brings in serves ``operand_flops_per_element`` FLOPs, and it passes DRAM/L2 (memory bandwidth) and the SMs'
on-chip path (SM count x clock: ``optable.sm_clock_flops``, the FP32 rate of a 64-lane SM; GA10x, Ada,
Hopper and Blackwell SMs have 128 FP32 lanes, which double the FP32 rate but not the clock). It is why GPUs
whose tensor peak outgrew their memory system (A100, H100) reach a smaller fraction of peak than a GeForce
card. The index term is the implicit-GEMM convolution's im2col gather: where each staged operand element comes
from (filter tap, stride, padding predicates) is integer arithmetic on the SMs beside the tensor-core math,
``conv_index_ops`` operations per staged element at ``sm_clock_flops`` (fitted); a GPU whose tensor rate is
16-30x that rate (A100, H100) pays for it far more than a GeForce card at 4x. A TF32 convolution priced on the
CUDA cores (the faster kernel) has none.
``t_layout`` is ``conv_layout_passes`` extra passes over a 16-bit convolution's data: cuDNN transposes PyTorch's default
NCHW tensors to NHWC and back around its FP16/BF16 tensor-core kernels (TF32 ones read NCHW as is).

Mixed precision by operator class: a 16-bit matmul/conv whose operands are not 16-byte aligned
(``OpRecord.align``) runs at ``MISALIGNED_EFFICIENCY`` of the aligned rate (``MISALIGNED_EFFICIENCY_BY_ARCH`` where
an architecture's fallback kernels are slower still: Hopper); 16-bit memory-bound kernels reach
``half_memory_efficiency`` of fp32's bandwidth fraction; fp16 adds GradScaler's unscale pass over the fp32
gradients. ``split_step`` splits a step into forward / backward / optimizer / overhead seconds.

``compiled=True`` (torch.compile, TorchInductor's default mode): each run of memory-bound operators between two
library calls (the tracer's ``fused_bytes`` / ``fused_kernels``) is one generated kernel that keeps its
intermediates in registers, and host time per launch is ``COMPILED_HOST_FRACTION`` of eager's. Source of the
mechanism: the PyTorch 2 paper (Ansel et al., "PyTorch 2: Faster Machine Learning Through Dynamic Python
Bytecode Transformation and Graph Compilation", ASPLOS 2024) and the TorchInductor design (pointwise and
reduction fusion into Triton kernels, cuBLAS/cuDNN calls kept as extern kernels); the 0.3 host fraction is an
assumption, not a published figure. Matmuls and convolutions are priced as in eager (no epilogue fusion).

The per-kernel latency makes the effective efficiency size-dependent: a kernel of W FLOPs that would take
W / (P e) runs at e x W / (W + P e latency), so small matrix multiplies and convolutions are far from peak and
large ones approach ``compute_eff``. The host term is eager PyTorch's CPU cost per operator: a small model
whose kernels are shorter than the CPU needs to launch them runs at the CPU's pace. The optimizer is
counted as CUDA PyTorch runs it, ``foreach`` kernels over many tensors per launch, not the per-tensor ops
the CPU trace shows. The efficiencies and overheads are global constants fitted on published benchmarks
(:mod:`advisor.predictor.calibration`, ``profiles/calibration.json``).

Precision semantics (``--precision``; the JSON says which one was assumed):

- ``fp32`` (default) = fp32 tensors with the TF32 switches the workload leaves set (``Analysis.
  matmul_allow_tf32`` / ``cudnn_allow_tf32``, read in the probe child); where they were not recorded,
  PyTorch's defaults: matmuls in full FP32 (``torch.backends.cuda.matmul.allow_tf32`` is False), convolutions
  in TF32 on Ampere and newer (``torch.backends.cudnn.allow_tf32`` is True). A file that calls
  ``torch.set_float32_matmul_precision("high")`` gets its matmuls priced in TF32 too.
- ``tf32`` = TF32 for matmuls and convolutions, as NVIDIA's NGC containers set it (and what published
  "FP32" numbers on Ampere usually ran). On a GPU without TF32 (pre-Ampere) it is plain FP32.
- ``bf16`` / ``fp16`` = ``torch.autocast`` mixed precision: matmuls, convolutions and attention at the
  FP16/BF16 tensor rate with 2-byte operands; what autocast keeps in fp32 (norms, softmax outputs, losses,
  the optimizer's master weights) keeps fp32 bytes (the analysis accounts bytes with CUDA autocast's
  rules). ``bf16`` on a GPU without bfloat16 (T4, V100, Turing) is an error here; ``estimate`` prices such
  a job in ``fp16``, as it runs there, and says so.
- a model that trains in float64 runs in float64 at any of these (autocast and TF32 leave float64 alone): its
  matmuls and convolutions at the GPU's FP64 rate, class "fp64" (``advisor.predictor.fp64``).

TF32 is a permission, not an order: an op allowed TF32 runs at the faster of the TF32 tensor-core rate and
the FP32 CUDA-core rate (``advisor.predictor.optable``), because cuDNN's benchmark mode times both kinds of
kernel and keeps the faster. It matters where the two peaks are close: a GeForce/workstation Ampere or Ada
card's dense TF32 rate equals its FP32 rate (NVIDIA GA102 whitepaper: RTX 3090 35.6 and 35.6 TFLOPS), an
A100's is 8x it.

"TF32-capable" means Ampere or newer (``is_ampere_or_newer``), read from the spec sheet's ``bf16_supported``
(bfloat16 and TF32 arrived together with Ampere). A figure the spec sheet lacks is never invented:
``require_scalable`` raises, and so does a TF32 convolution/matmul on an Ampere+ GPU whose sheet has no TF32
figure.

A CPU probe is no basis for a GPU's time (different memory system, no tensor cores, different kernels):
GPUs not at hand are predicted from the analysis and the specs. Where a probe of a real GPU exists,
``advisor.predictor.probe_carry`` carries its measured steps to other GPUs through these predictions
(Habitat's idea): the workload-specific part of the error cancels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from advisor.data_files import data_file
from advisor.errors import PredictionError
from advisor.predictor.calibration import Calibration, dominant_kind
from advisor.predictor.fp64 import FP64_DTYPES, FP64_SHARE, float64_share, fp64_note, fp64_peak
from advisor.predictor.optable import (
    ALIGNED_BYTES,
    HALF_DTYPES,
    MISALIGNED_EFFICIENCY,
    ON_CHIP_BYTES_PER_FP32_FLOP,
    TENSOR_KINDS,
    OpTable,
    op_table,
)
from advisor.schemas import PRECISIONS, Analysis, GpuSpec

__all__ = ["ALIGNED_BYTES", "COMPILED_HOST_FRACTION", "HALF_DTYPES", "LAYOUT_NOTE_SHARE", "MISALIGNED_EFFICIENCY",
           "ON_CHIP_BYTES_PER_FP32_FLOP", "TENSOR_KINDS", "StepModel", "StepPrediction", "advice_notes",
           "HOST_LAUNCH_SIGMA", "check_scalable", "host_bound_note", "host_sigma", "is_ampere_or_newer",
           "layout_note", "mfu_precision", "overlapped",
           "predict_step", "split_step", "step_phases", "tensor_core_class", "tf32_allowed"]
# Bytes of a step's non-matmul/conv operators at 16-bit vs fp32 (mixed), used only when an analysis made at
# one precision is priced at another: between a CNN's ~0.5 (all activations 16-bit) and a transformer's
# ~0.8 (norms, softmax and residuals stay fp32 under autocast).
_OTHER_BYTES_HALF_OVER_FP32 = 0.65

@dataclass(frozen=True)
class StepPrediction:
    """Predicted compute time of one training step on one GPU at one per-GPU batch size."""

    seconds: float  # the whole step: max(GPU time, host time) + step overhead
    compute_bound_seconds: float  # time of the operators limited by FLOPs (incl. their latency)
    memory_bound_seconds: float  # time of the operators limited by memory traffic (incl. their latency)
    overhead_seconds: float  # step overhead + host time beyond the GPU's
    per_kind: dict[str, float]  # seconds per operator kind (matmul, conv, norm, ..., optimizer)
    gpu: str
    batch_size: int
    precision: str
    kernels: int = 0  # kernel launches per step
    flops: float = 0.0  # matmul/conv/attention FLOPs of the step
    bytes: float = 0.0  # bytes moved by the step
    notes: list[str] = field(default_factory=list)
    per_phase: dict[str, float] = field(default_factory=dict)  # GPU seconds: forward, backward, optimizer
    gpu_seconds: float = 0.0  # the GPU's work alone (the operators and the optimizer's launches)
    host_seconds: float = 0.0  # the host's launches alone (eager PyTorch's time per kernel)
    layout_seconds: float = 0.0  # of the GPU's time: cuDNN's transposes of channels-first 16-bit convolutions
    # of the GPU's time: channels-first batch norms' one-block-per-channel floor above their bandwidth time
    plane_seconds: float = 0.0
    # What the step would take less without its optimizer update: its kernels on the GPU and its launches on the
    # host, through the same overlap (a host-bound step saves the launches, a GPU-bound one the kernels).
    optimizer_saved_seconds: float = 0.0

    @property
    def samples_per_second(self) -> float:
        return self.batch_size / self.seconds if self.seconds > 0 else 0.0


def is_ampere_or_newer(spec: GpuSpec) -> bool:
    """Whether ``spec`` is Ampere or newer (TF32 tensor cores), read from the sheet's ``bf16_supported``:
    bfloat16 and TF32 arrived together with Ampere."""
    return bool(spec.bf16_supported)


def tensor_core_class(analysis: Analysis) -> str:
    """"half" when the analysis' matmuls/convolutions are 16-bit (an autocast analysis), else "fp32"."""
    for r in analysis.ops:
        if r.kind in TENSOR_KINDS and r.dtype in HALF_DTYPES:
            return "half"
    return "fp32"


def check_scalable(spec: GpuSpec, precision: str) -> None:
    """PredictionError unless the spec sheet has what predicting ``precision`` on ``spec`` needs."""
    from advisor.hardware.specs import require_scalable

    if precision not in PRECISIONS:
        raise PredictionError(f"unknown precision {precision!r}.",
                              hint=f"Fix: use one of {', '.join(PRECISIONS)}.")
    # tf32 on a GPU without TF32 runs as plain fp32: that is what its sheet must have.
    needed = "fp32" if precision == "tf32" and not is_ampere_or_newer(spec) else precision
    require_scalable(spec, needed)
    if spec.fp32_tflops is None:
        require_scalable(spec, "fp32")


def tf32_allowed(analysis: Analysis, precision: str) -> tuple[bool, bool]:
    """(matmuls, convolutions) allowed TF32 at ``precision`` (on a GPU that has it): both at ``tf32``; at
    ``fp32``, the workload's own switches, PyTorch's defaults (False, True) where the analysis has none."""
    if precision == "tf32":
        return True, True
    matmul, conv = analysis.matmul_allow_tf32, analysis.cudnn_allow_tf32
    return bool(matmul), True if conv is None else bool(conv)


def mfu_precision(analysis: Analysis | None, spec: GpuSpec, precision: str) -> str:
    """The precision whose dense peak a job's MFU is taken over: ``precision``'s, but TF32's for an fp32 job whose
    dominant matrix FLOPs (convolutions or matmuls: ``dominant_kind``) may run in TF32 on a GPU that has it, as
    this model prices them. Over the FP32 peak such a job read above 100% (ResNet-50 on an A100: 107%)."""
    if precision != "fp32" or analysis is None or not spec.tf32_tflops or not is_ampere_or_newer(spec):
        return precision
    matmul, conv = tf32_allowed(analysis, precision)
    return "tf32" if (conv if dominant_kind(analysis) == "conv" else matmul) else precision


def _rate(spec: GpuSpec, kind: str, dtype: str, precision: str, tf32: tuple[bool, bool]) -> tuple[float, str]:
    """(peak FLOP/s, efficiency class) of a matmul/conv op: class is "fp32", "tf32", "half" or "fp64" (a float64
    op, at any precision: autocast leaves float64 alone; ``advisor.predictor.fp64``). ``tf32``: (matmuls,
    convolutions) allowed TF32 (``tf32_allowed``)."""
    if dtype in FP64_DTYPES:
        return fp64_peak(spec, kind), "fp64"
    if dtype in HALF_DTYPES:
        if spec.fp16_bf16_tflops is None:
            raise PredictionError(f"cannot predict {spec.name} in 16-bit: profiles/gpus.csv has no FP16/BF16 "
                                  "tensor figure for it.",
                                  hint="Fix: add the datasheet figure with its source to "
                                       f"{data_file('profiles', 'gpus.csv')}, or use --precision fp32.")
        return spec.fp16_bf16_tflops * 1e12, "half"
    if is_ampere_or_newer(spec) and tf32[1 if kind == "conv" else 0]:
        if spec.tf32_tflops is None:
            raise PredictionError(
                f"cannot predict {spec.name}: it runs {'convolutions' if kind == 'conv' else 'matmuls'} in TF32 "
                f"at --precision {precision}, and profiles/gpus.csv has no TF32 figure for it.",
                hint="Fix: add the datasheet TF32 (dense) figure with its source to "
                f"{data_file('profiles', 'gpus.csv')}"
                + (", or use --precision fp32 (matmuls in full FP32)" if kind == "matmul" else "") + ".")
        return spec.tf32_tflops * 1e12, "tf32"
    if spec.fp32_tflops is None:
        raise PredictionError(f"cannot predict {spec.name}: profiles/gpus.csv has no FP32 figure for it.",
                              hint="Fix: add the datasheet figure with its source to "
                                   f"{data_file('profiles', 'gpus.csv')}.")
    return spec.fp32_tflops * 1e12, "fp32"


def _check_target(analysis: Analysis | None, spec: GpuSpec, precision: str) -> None:
    if analysis is None:
        raise PredictionError(
            f"cannot predict {spec.name}: the profile has no analysis of the model (FLOPs and bytes per "
            "operator), which predictions for GPUs not at hand are made from.",
            hint="Fix: give the workload file instead of --profile, or re-create the profile with "
            "`advisor profile WORKLOAD -o profile.json` (it analyses the model unless told not to).")
    check_scalable(spec, precision)


def _check_batch(batch_size: int) -> None:
    if batch_size is None or batch_size <= 0:
        raise PredictionError(f"batch size must be positive, got {batch_size!r}.",
                              hint="Fix: pass --batch-size N with N >= 1.")


@dataclass(frozen=True)
class _Retype:
    """How an analysis traced at one precision is priced at another: byte scales and the matmul/conv dtype."""

    tensor_scale: float = 1.0  # bytes of matmuls/convolutions
    other_scale: float = 1.0  # bytes of every other non-optimizer operator
    dtype: str | None = None  # the dtype matmuls/convolutions are priced at; None = as traced
    note: str | None = None

    @classmethod
    def for_precision(cls, analysis: Analysis, precision: str) -> _Retype:
        if float64_share(analysis) >= FP64_SHARE:  # a float64 model runs as traced at any precision
            return cls()
        want_half = precision in ("bf16", "fp16")
        have_half = tensor_core_class(analysis) == "half"
        if want_half and not have_half:
            return cls(0.5, _OTHER_BYTES_HALF_OVER_FP32, "float16",
                       "the analysis was made in fp32: 16-bit bytes are approximated (re-analyse at "
                       f"--precision {precision} for accuracy)")
        if have_half and not want_half:
            return cls(2.0, 1.0 / _OTHER_BYTES_HALF_OVER_FP32, "float32",
                       f"the analysis was made in 16-bit: {precision} bytes are approximated (re-analyse at "
                       f"--precision {precision} for accuracy)")
        return cls()


# torch.compile (TorchInductor): the generated wrapper launches its kernels without eager PyTorch's
# per-operator dispatch and autograd bookkeeping. Host time per launched kernel, as a fraction of eager's
# (an assumption: the PyTorch 2 paper, Ansel et al., ASPLOS 2024, attributes most of the training speed-up of
# small models to removed framework overhead, without a per-kernel figure).
COMPILED_HOST_FRACTION = 0.3
# The share of a step that cuDNN's layout transposes must reach before an estimate suggests channels-last: below
# it the saving is inside the estimate's own spread.
LAYOUT_NOTE_SHARE = 0.05


def overlapped(gpu_seconds: float, host_seconds: float, exponent: float) -> float:
    """A step's GPU and host (launch) times together: ``(gpu^k + host^k)^(1/k)``. Eager PyTorch queues kernels
    ahead of the GPU, so the slower of the two sets the pace; near balance, runs of short kernels drain the queue
    and the GPU waits for the host, which a sharp max misses (``Calibration.host_overlap_exponent``)."""
    hi, lo = max(gpu_seconds, host_seconds), min(gpu_seconds, host_seconds)
    if hi <= 0.0 or lo <= 0.0:
        return hi
    return hi * (1.0 + (lo / hi) ** exponent) ** (1.0 / exponent)


# How long a machine's CPU takes to launch one of eager PyTorch's kernels varies by machine, and the step model
# carries one figure (``Calibration.host_seconds_per_op``, 40 us, measured on one lent H200's host). Measured per
# launch on eight hosts: 40 us there; at most 10.1, 11.0, 13.9, 20.8, 20.9, 22.7 and 30.2 us on seven students'
# (B200 x3, RTX 5090, H100, H800 PCIe, A100 PCIe; bench/README.md, "CS336 students' tables"). Their log-sd is
# 0.48; its 80% half-width, 1.28 x 0.48, is what a wholly host-bound step's from-specs time cannot know better.
HOST_LAUNCH_SIGMA = 0.61


def host_sigma(step: StepPrediction, exponent: float) -> float:
    """The log half-width that the machine's launch cost adds to ``step``'s interval: ``HOST_LAUNCH_SIGMA`` times
    d log(step) / d log(host time) under ``overlapped`` with ``exponent`` (0 where the GPU sets the pace, up to
    ``HOST_LAUNCH_SIGMA`` where the host does)."""
    gpu, host = step.gpu_seconds, step.host_seconds
    if not host > 0 or not step.seconds > 0:
        return 0.0
    weight = 1.0 / (1.0 + (gpu / host) ** exponent)  # host^k / (gpu^k + host^k)
    return HOST_LAUNCH_SIGMA * weight * overlapped(gpu, host, exponent) / step.seconds


def _grad_scaler(priced: dict, analysis: Analysis, spec: GpuSpec, cal: Calibration, tensors: int) -> float:
    """fp16's GradScaler: ``unscale_`` reads and writes every fp32 gradient once (a foreach kernel per ~48
    tensors, ``_amp_foreach_non_finite_check_and_unscale_``) and ``update`` runs one more kernel. Adds its
    time to ``priced`` and returns its launches."""
    launches = math.ceil(max(tensors, 1) / cal.optimizer_tensors_per_launch) + 1
    t = 2.0 * analysis.gradient_bytes / (spec.memory_bandwidth_gbs * 1e9 * cal.memory_efficiency)
    t += launches * cal.kernel_latency_seconds
    priced["per_kind"]["optimizer"] = priced["per_kind"].get("optimizer", 0.0) + t
    priced["per_phase"]["optimizer"] += t
    priced["memory_bound"] += t
    priced["bytes"] += 2.0 * analysis.gradient_bytes
    return launches


def _tf32_note(table: OpTable, precision: str) -> str | None:
    """What an ``fp32`` step is allowed to run in TF32 on this GPU, when any of it is."""
    if precision != "fp32" or "tf32" not in table.classes_used:
        return None
    matmul, conv = table.tf32
    faster = "priced at the faster of TF32 and FP32 kernels"
    if matmul and conv:
        return ("fp32: the workload allows TF32 (torch.backends.cuda.matmul.allow_tf32 or "
                f"set_float32_matmul_precision): matmuls and convolutions may use TF32 on this GPU ({faster})")
    if matmul:
        return (f"fp32: the workload allows TF32 for matmuls ({faster}); convolutions run in full FP32 (it turned "
                "cuDNN's TF32 off)")
    return f"fp32: convolutions may use TF32 on this GPU (PyTorch's default; {faster}); matmuls run in full FP32"


def _finish(priced: dict, table: OpTable, spec: GpuSpec, batch_size: int, precision: str, cal: Calibration,
            notes: list[str], kernels: float, compiled: bool = False) -> StepPrediction:
    """The step from its operators' sums: foreach optimizer launches, host time, step overhead."""
    latency = cal.kernel_latency_seconds
    per_kind, per_phase, memory_bound = priced["per_kind"], priced["per_phase"], priced["memory_bound"]
    model_kernels = kernels
    # CUDA PyTorch's optimizers run foreach kernels: one launch covers many tensors.
    opt_launches = sum(math.ceil(n / cal.optimizer_tensors_per_launch) for n in table.optimizer_calls.values())
    if opt_launches:
        per_kind["optimizer"] = per_kind.get("optimizer", 0.0) + opt_launches * latency
        per_phase["optimizer"] += opt_launches * latency
        memory_bound += opt_launches * latency
        kernels += opt_launches
    gpu_seconds = priced["compute_bound"] + memory_bound
    # torch.compile compiles the model, not the optimizer step: the optimizer's launches keep eager's host cost.
    host_seconds = cal.host_seconds_per_op * (model_kernels * (COMPILED_HOST_FRACTION if compiled else 1.0)
                                              + opt_launches)
    seconds = overlapped(gpu_seconds, host_seconds, cal.host_overlap_exponent) + cal.step_overhead_seconds
    without_optimizer = overlapped(max(gpu_seconds - per_phase["optimizer"], 0.0),
                                   max(host_seconds - cal.host_seconds_per_op * opt_launches, 0.0),
                                   cal.host_overlap_exponent) + cal.step_overhead_seconds
    note = _tf32_note(table, precision)
    if note:
        notes.append(note)
    step = StepPrediction(
        seconds=seconds, compute_bound_seconds=priced["compute_bound"], memory_bound_seconds=memory_bound,
        overhead_seconds=seconds - gpu_seconds, per_kind=per_kind, gpu=spec.name, batch_size=int(batch_size),
        precision=precision, kernels=int(kernels), flops=priced["flops"], bytes=priced["bytes"], notes=notes,
        per_phase=per_phase, gpu_seconds=gpu_seconds, host_seconds=host_seconds,
        layout_seconds=priced.get("layout", 0.0), plane_seconds=priced.get("planes", 0.0),
        optimizer_saved_seconds=seconds - without_optimizer)
    host_note = host_bound_note(step, compiled=compiled)
    if host_note:
        notes.append(host_note)  # the step's own list
    return step


def host_bound_note(step: StepPrediction, *, compiled: bool = False) -> str | None:
    """What a user can do about a step whose GPU waits for the host's launches (None when it does not)."""
    if not step.host_seconds > step.gpu_seconds > 0:
        return None
    remedies = "A larger batch per GPU" + ("" if compiled else ", torch.compile (COMPILE = True)") + " or CUDA graphs"
    return (f"host-bound: at batch {step.batch_size} per GPU the step launches {step.kernels} kernels, "
            f"~{step.host_seconds * 1e3:.1f} ms of Python and dispatch, while the {step.gpu} needs "
            f"{step.gpu_seconds * 1e3:.1f} ms for them: the GPU waits. {remedies} would use it better; a smaller "
            "GPU may cost less for the same time.")


def layout_note(step: StepPrediction, *, probed: bool = False) -> str | None:
    """What channels-last memory would save a step that runs channels-first: cuDNN's transposes around its 16-bit
    convolutions and its batch norms' one-block-per-channel kernels (None when together they are under
    ``LAYOUT_NOTE_SHARE`` of the step). ``probed``: the job's time on this GPU comes from a probe of it, so the
    note gives the analysis' share of the step, not its milliseconds."""
    saved = step.layout_seconds + step.plane_seconds
    if not step.seconds > 0 or saved < LAYOUT_NOTE_SHARE * step.seconds:
        return None
    share = f"{100 * saved / step.seconds:.0f}%"
    how_much = (f"by the model's analysis ~{share} of the step on the {step.gpu}, which the probe's time includes"
                if probed else f"~{saved * 1e3:.1f} ms of the {step.seconds * 1e3:.1f} ms compute step of one "
                               f"{step.gpu} ({share}; before any all-reduce and the host side)")
    work = [w for w, t in ((f"cuDNN transposes the step's {step.precision} convolutions to channels-last and back",
                            step.layout_seconds),
                           ("its batch norms run one thread block per channel", step.plane_seconds)) if t > 0]
    # What this estimate implies, not what others measured: a 7% share is at most 1.08x, though published pairs
    # read 1.3x and more (other models, GPUs and precisions).
    gain = step.seconds / (step.seconds - saved) if saved < step.seconds else math.inf
    return (f"channels-first: at batch {step.batch_size} per GPU, {' and '.join(work)}, {how_much}. "
            "model.to(memory_format=torch.channels_last) with channels-last inputs avoids that work: by this "
            f"estimate at most ~{gain:.2f}x faster on that compute step, less on the whole step. Measured on other "
            "setups: published ResNet pairs ran 1.26-1.47x faster so (timm, RTX 3090), and bf16 ResNet-18/50 "
            "1.9-2.3x (advisor's own trace, H200).")


def advice_notes(step: StepPrediction, *, compiled: bool = False, probed: bool = False) -> list[str]:
    """What a user could change about a step: its host-bound and layout notes when it was priced from the
    analysis; the layout note alone when the job's time on this GPU comes from a probe of it (``probed``: the
    analysis' host time is no match for a measured step)."""
    if probed:
        return [n for n in (layout_note(step, probed=True),) if n]
    return [n for n in (host_bound_note(step, compiled=compiled), layout_note(step)) if n]


def predict_step(analysis: Analysis | None, spec: GpuSpec, batch_size: int, precision: str,
                 calibration: Calibration, *, compiled: bool = False) -> StepPrediction:
    """Per-GPU compute time of one training step at per-GPU ``batch_size`` (see the module docstring).

    ``compiled``: the step runs under ``torch.compile`` (the workload's ``COMPILE``).
    """
    return StepModel(analysis, spec, precision, calibration, compiled=compiled)(batch_size)


class StepModel:
    """``predict_step`` of one (analysis, GPU, precision, calibration, compiled) at any batch size: what no batch
    size changes (the checks, how the analysis is retyped, its operator table) worked out once, for a caller
    that prices many batch sizes of one target (a server: every job's last, smaller batch)."""

    def __init__(self, analysis: Analysis | None, spec: GpuSpec, precision: str, calibration: Calibration, *,
                 compiled: bool = False) -> None:
        _check_target(analysis, spec, precision)
        self.analysis, self.spec, self.precision, self.calibration, self.compiled = (
            analysis, spec, precision, calibration, compiled)
        self.retype = _Retype.for_precision(analysis, precision)
        self.table = op_table(analysis, spec, precision, calibration, compiled, self.retype, _rate,
                              tf32_allowed(analysis, precision))
        self._eager_bytes = compiled and not any(r.fused_bytes is not None for r in analysis.ops)

    @property
    def tf32_note(self) -> str | None:
        """What of an ``fp32`` step may run in TF32 on this GPU (None when nothing may)."""
        return _tf32_note(self.table, self.precision)

    @property
    def rate_notes(self) -> list[str]:
        """The notes on the rates this GPU runs the step's matrix work at: what may run in TF32 (``tf32_note``), and
        a float64 model's FP64 rate (``fp64.fp64_note``)."""
        return [n for n in (self.tf32_note, fp64_note(self.analysis, self.spec)) if n]

    def __call__(self, batch_size: int) -> StepPrediction:
        _check_batch(batch_size)
        notes: list[str] = [self.retype.note] if self.retype.note else []
        table = self.table
        priced = table.price(batch_size)
        kernels = table.kernels
        if self.precision == "fp16":
            kernels += _grad_scaler(priced, self.analysis, self.spec, self.calibration,
                                    max(table.optimizer_calls.values(), default=1))
        if self._eager_bytes:
            notes.append("compiled: the analysis predates fusion accounting; priced with eager bytes "
                         "(re-analyse the workload for torch.compile's fused kernels)")
        return _finish(priced, table, self.spec, batch_size, self.precision, self.calibration, notes, kernels,
                       self.compiled)


def split_step(analysis: Analysis | None, spec: GpuSpec, batch_size: int, precision: str,
               calibration: Calibration, *, compiled: bool = False) -> dict[str, float]:
    """``predict_step``'s seconds split by phase: {"forward", "backward", "optimizer", "overhead"}.

    forward/backward are the GPU time of the operators the analysis tags with that phase; "optimizer" is what the
    step takes less without its update (``StepPrediction.optimizer_saved_seconds``: its foreach kernels where the
    GPU sets the pace, their launches where the host does); "overhead" is the rest (the step overhead plus host
    time beyond the GPU's).
    The four sum to ``predict_step(...).seconds``. Gradient accumulation runs forward + backward per micro-step
    and the optimizer once; an evaluation pass runs forward only (with the share of overhead the caller
    chooses).
    """
    return step_phases(predict_step(analysis, spec, batch_size, precision, calibration, compiled=compiled))


def step_phases(step: StepPrediction) -> dict[str, float]:
    """A predicted step's seconds by phase (see ``split_step``); they sum to ``step.seconds``."""
    phases = {k: step.per_phase.get(k, 0.0) for k in ("forward", "backward")}
    phases["optimizer"] = step.optimizer_saved_seconds
    phases["overhead"] = step.seconds - sum(phases.values())
    return phases
