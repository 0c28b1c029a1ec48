"""The roofline's constants, fitted on published benchmarks (``profiles/calibration.json``).

A handful of global, physically meaningful parameters (no per-GPU or per-model ones), and one factor per GPU
architecture:

- ``compute_efficiency["<kind>.<class>"]``: the fraction of the datasheet peak that large matrix
  multiplies / convolutions reach, per precision class: ``fp32`` (CUDA cores), ``tf32`` and ``half``
  (FP16/BF16 tensor cores). The fit ties the two kinds to one value per class (``calibration_fit.TIES``;
  per-kind values were tried and generalised worse to GPUs and models left out, see bench/README.md), but the
  file keeps the structure. The classes are not one value: tied, they judged worse (bench/README.md, "GEMMs
  alone on the H200"). TF32's value (0.43) is below what a TF32 GEMM alone reaches on an H200 (0.69-0.77 of its
  peak): fitted on whole steps, it also carries their 32-bit non-GEMM kernels.
- ``arch_efficiency["<architecture>.half"]``: how much more (or less) of its datasheet 16-bit tensor peak an
  architecture's kernels reach than the shared ``half`` efficiency says (1 where absent). The architecture is
  ``profiles/gpus.csv``'s column (GPU die family: ``Ampere-GA10x`` holds the RTX 3080/3090, A6000, A10G...).
  Why one per architecture: the datasheet peak is quoted at a rated boost clock that GeForce and workstation
  cards exceed under load while SXM parts sit at or below it under their power cap, and each generation's
  cuBLAS/cuDNN kernels get to a different share of it. The rows show it: with one shared value, the 25
  GA10x 16-bit rows of three sources (both Lambda tables, timm) ran a median 24% faster than predicted, while
  Volta, Turing and A100 rows of the same models were within +-6% on median. A factor is fitted only for an
  architecture that has 16-bit rows, with a prior of 1 (log-sd ``ARCH_PRIOR``), so a GPU of an unseen
  architecture (Blackwell) is predicted with the shared value. TF32 and memory factors were tried and moved
  the cross-validated error by less than 0.3 points: not fitted.
- ``operand_reuse``: how many times an operand element staged into shared memory is served from on-chip
  caches (L2) rather than fetched anew, beyond its tile's own reuse. A GEMM tile reuses each element
  ``2 tm tn / (tm + tn)`` times (:mod:`advisor.predictor.gemm`, from the GEMM's M and N), so it needs
  ``F x element_bytes / (tile reuse x operand_reuse)`` bytes through the memory system and the SMs' on-chip
  path; GPUs whose peak FLOPS outgrew their bandwidth (A100, H100) are fed-bound on narrow GEMMs sooner.
- ``gemm_k_fill``: the K loop's fill and drain per output tile, in elements of K at an A100's tensor rate per
  SM clock (the compute term is scaled by ``1 + share x gemm_k_fill / K``, ``optable.k_fill_share``: the same
  SM clocks are fewer elements of K where an SM does fewer tensor FLOPs a clock): short reductions run
  further from peak.
- ``conv_layout_passes``: extra passes over a tensor-core convolution's data, at memory speed: cuDNN
  transposes PyTorch's default NCHW tensors to NHWC and back around its TF32/FP16 kernels.
- ``conv_index_ops``: operations per staged operand element of a tensor-core convolution (its implicit GEMM's
  im2col gather, integer arithmetic on the SMs), at ``optable.sm_clock_flops`` (SM count x clock): it slows
  convolutions most on GPUs whose tensor rate far outgrew their SMs' clock rate (A100, H100). Fitted with a
  prior of 4 (log-sd 1): bench/README.md, "the im2col index work".
- ``memory_efficiency``: the fraction of the datasheet memory bandwidth streaming kernels reach.
- ``half_memory_efficiency``: the further fraction 16-bit memory-bound kernels reach (eager PyTorch loads 4
  elements per access: 8 bytes in fp16/bf16, 16 in fp32; pytorch/pytorch#141959 measured bf16 GELU 12-13%
  faster once 16-byte loads were used for 2-byte types, fp32 unchanged; PaddlePaddle/CINN#1323 the same for
  ResNet-50's BN+ReLU on A100, 1142 -> 1433 images/s); not applied on GeForce cards, whose DRAM ECC is off:
  ``optable.dram_ecc_off``).
- ``bn_plane_seconds["<library>.<direction>"]`` and ``bn_plane_blocks_per_sm``: a batch norm on a
  channels-first input (``OpRecord.channel_planes``) runs one thread block per channel, and a block streams its
  channel's elements at a latency-bound pace whatever their width; PyTorch's own kernels run bf16 (library
  ``native``), cuDNN's fp16 and fp32 (``cudnn``). A call takes at least ``plane_elements x seconds x max(1,
  channels / (blocks_per_sm x SM-equivalents))``, SM-equivalents being ``optable.sm_clock_flops`` over
  128 FLOP x 1.8 GHz. Measured, not fitted: a kernel trace of ResNet-18/50 on an H200 (bench/kernel_trace_h200.py;
  bench/README.md, "Where the H200's steps go"). Taken to be the same on every GPU (memory latency, not
  bandwidth, sets the pace): an assumption the published CNN rows judge.
- ``attention_score_seconds["<option>.<direction>"]``: what in-kernel dropout (a random number per score) and
  an additive mask (a read and an add per score) cost one fused attention call per score (batch x heads x
  queries x keys), on top of its matrix products (``OpRecord.attention``), at an H200's SM count x clock and
  scaled by ``optable.sm_clock_flops`` elsewhere: integer and load work on the SMs. Measured, not fitted: cuDNN's
  kernels (PyTorch's choice on Hopper) on an H200 (bench/kernel_paces_h200.py; bench/README.md, "Fused
  attention's options"). FlashAttention-2's dropout costs 0.4-0.9 of cuDNN's there, the memory-efficient
  kernel's 2-10x: a GPU where PyTorch picks another backend pays another pace, which this does not know.
- ``kernel_latency_seconds``: fixed GPU time per kernel (launch, ramp-up, tail); it makes efficiency
  size-dependent (see :mod:`advisor.predictor.roofline`).
- ``host_seconds_per_op``: eager PyTorch's CPU time per operator (dispatch, autograd, launch).
- ``step_overhead_seconds``: fixed per step (zero_grad, Python, the step's synchronisations).
- ``host_overlap_exponent``: how well the host's launches hide behind the GPU's work: the step's GPU and host
  times combine as ``(gpu^k + host^k)^(1/k)``, a sharp max (a queue that never drains) for large k, their sum
  for k = 1. Near balance, runs of short kernels drain the launch queue and the GPU idles. Fitted (prior 3,
  log-sd 1): bench/README.md, "host and GPU near balance".
- ``optimizer_tensors_per_launch``: tensors one ``foreach`` optimizer kernel covers.

The free ones are fitted offline on published benchmarks by :mod:`advisor.predictor.calibration_fit`
(``python bench/gpu_rows.py``, over every published source); this module only loads the result.

``rel_sigma`` is the half-width, in log space, of the 80% interval of predictions from the analysis and the
datasheet: ``seconds x exp(+-rel_sigma)``. It is the 90th percentile of the cross-validated |log error| (a
margin over the 80th: the predictor is judged on GPUs, models and software it was not fitted on, so the
cross-validated figures are used, never the in-sample ones). ``ratio_sigma`` is the same for predictions
scaled from a probe of another GPU (the cross-validated error of GPU-to-GPU ratios).

``sigma_by_kind`` holds the same two figures, and the median signed error (``bias``), over the rows of one
kind of job only (``workload_kind``): ``"conv"`` where convolutions do at least half the step's matrix FLOPs,
``"matmul"`` otherwise, each with ``"/tensor-heavy"`` on a GPU whose 16-bit tensor rate is at least
``TENSOR_HEAVY_RATIO`` times its FP32 rate (A100, H100, H200, B200, GH200; V100 and T4 are 8, workstation and
GeForce cards 2-4). The validation rows say these are known to different precision: CNNs on tensor-heavy GPUs
took a median ~20% longer than predicted when never fitted (1.6-2.9x on advisor's own H200 runs), CNNs
elsewhere ~10% less time. So a job's interval is its kind's, and its kind's bias is told (``kind_bias``), where the
calibration has them. A kind's ``ratio_sigma`` is over every GPU pair of its op kind, either class: a probe of
a GeForce card scaled to an H100 crosses classes.

Each kind is also split by the job's precision class, ``"/16-bit"`` (bf16, fp16) or ``"/32-bit"`` (fp32, tf32),
where the calibration has a figure for it (a split with too few rows is not written): the same GPU runs a
16-bit step on other units (tensor cores, half-width elementwise kernels, cuDNN's layout transposes) than a
32-bit one, and the validation rows lean differently there (CNNs in 16 bits on tensor-heavy GPUs +36%, in
32 bits +16%). A job looks up its kind with its precision first, then without it.

Each precision split is split once more by the GPU's architecture (``"matmul/16-bit@Ampere-GA10x"``) where
that has enough rows, and a job on a GPU of that architecture takes that figure first: the class "not
tensor-heavy" holds Volta and Turing cards whose 16-bit rows ran as predicted or slower beside GA10x cards whose
rows ran a fifth faster, and a pooled figure would tell neither's users.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from advisor.errors import PredictionError
from advisor.predictor.job import interval
from advisor.schemas import HALF_PRECISIONS, Analysis, GpuSpec

CALIBRATION_FILE = "calibration.json"

# Physical priors: (value, log-sd of the prior in the fit). Where they come from:
# - compute efficiencies: cuBLAS/cuDNN reach ~70-85% of FP32 peak on large GEMMs/convolutions, less of the
#   tensor-core peaks (~50-70% for FP16, ~40-60% for TF32 in whole-network training).
# - memory: streaming kernels reach ~75-90% of datasheet bandwidth.
# - latency: a kernel's launch-to-finish floor is ~2-5 us on recent GPUs.
# - host: eager PyTorch's CPU time per launched kernel (dispatch, autograd, autocast, the model's Python),
#   measured where the step is host-bound (flat across batch sizes) on a lent H200 host (16 cores, torch 2.11,
#   2026-11-30; bench/README.md "GPU against real runs"): BERT-base bf16 at batch 4 39.7 ms for 981 kernels,
#   GPT-2 124M bf16 at batch 1-3 26.5 ms for 673, the tabular MLP 1.6-2.0 ms for 27: 39-54 us each past the
#   step overhead. Published rows cannot tell it apart (their steps are GPU-bound): it is not fitted.
# - step overhead: zero_grad, the Python training loop and a sync: ~0.5 ms.
# - host overlap: between a sharp max (k large) and a sum (k = 1); 3, wide (log-sd 1), set after a sweep of
#   fixed values on the fitted rows (bench/README.md, "host and GPU near balance"), not before.
# - operand reuse beyond the tile: an element staged from L2 is fetched from DRAM once per few tiles that
#   share it (L2-resident panels, thread-block swizzling): a few times.
# - K fill: a multistage pipeline's prologue (3-5 stages of 32-64 elements of K) plus the epilogue: ~128-256.
# - layout: measured, not assumed (2026-12-04): cuDNN's nchwToNhwc / nhwcToNchw kernels of channels-first 16-bit
#   convolutions on an H200 took 1.9-2.2 passes over the convolutions' bytes in ResNet-50/101/152 (bf16 and
#   fp16, batch 64-256) and 4.9 in ResNet-18 (bench/kernel_trace_h200.py): 2, log-sd 0.36 (the six traces'
#   spread, ResNet-18's included; 0.15 fitted 1.99 and the same LOSO within 0.1 point). Before that trace the
#   prior was 1 (one read and one write of the activations), log-sd 1, and the fit used the passes to stand in
#   for the batch norms' one-block-per-channel kernels, which ``bn_plane_seconds`` now prices.
# - conv index work: an implicit-GEMM convolution's loads carry address and predicate arithmetic (filter tap,
#   stride, padding) a GEMM's do not: a few CUDA-core operations per staged element, chosen before fitting
#   (4, wide: log-sd 1).
# - 16-bit memory-bound kernels: 1/1.13 of fp32's bandwidth fraction (pytorch/pytorch#141959, see above).
PRIORS: dict[str, tuple[float, float]] = {
    "matmul.fp32": (0.75, 0.3),
    "matmul.tf32": (0.45, 0.4),
    "matmul.half": (0.55, 0.4),
    "conv.fp32": (0.70, 0.3),
    "conv.tf32": (0.40, 0.4),
    "conv.half": (0.45, 0.4),
    "memory_efficiency": (0.80, 0.2),
    "kernel_latency_seconds": (4e-6, 0.7),
    "host_seconds_per_op": (40e-6, 0.7),
    "step_overhead_seconds": (5e-4, 1.0),
    "operand_reuse": (3.0, 0.7),
    "gemm_k_fill": (192.0, 0.7),
    "conv_layout_passes": (2.0, 0.36),
    "half_memory_efficiency": (0.88, 0.2),
    "conv_index_ops": (4.0, 1.0),
    "host_overlap_exponent": (3.0, 1.0),
}
# Channels-first batch norm (module docstring), from the H200 trace of 2026-12-04 (bench/kernel_trace_h200.py
# prints the derivation): seconds per plane element of one block, and the blocks per SM-equivalent
# at which the calls stop running side by side.
BN_PLANE_SECONDS = {"native.forward": 1.07e-9, "native.backward": 1.98e-9, "cudnn.forward": 0.73e-9,
                    "cudnn.backward": 1.43e-9}
BN_PLANE_BLOCKS_PER_SM = 1.91
# Fused attention's options (module docstring), seconds per score on an H200 (bench/kernel_paces_h200.py, cuDNN
# 9.19, torch 2.11: the median over head sizes 64 and 128 and sequences 128, 384 and 512 of each option's time
# less the same call's without it), and the SM count x clock they were measured at (the H200's
# ``optable.sm_clock_flops``: 67 TFLOP/s FP32 over 128 lanes per SM).
ATTENTION_SCORE_SECONDS = {"dropout.forward": 0.88e-12, "dropout.backward": 0.50e-12, "mask.forward": 0.49e-12,
                           "mask.backward": 0.73e-12}
ATTENTION_SCORE_SM_CLOCK_FLOPS = 33.5e12
# An architecture's tensor-core efficiency relative to the shared one (``Calibration.arch_efficiency``): the
# prior is 1 (no difference), with a log-sd of 0.2 (boost clocks above the rated one, ~+-15%, and a
# generation's kernel libraries; chosen before fitting: 0.1 and 0.4 cross-validated worse, bench/README.md).
ARCH_PRIOR = (1.0, 0.2)
# A GPU of an architecture with no rows in the calibration (Blackwell) is priced with the shared 16-bit
# efficiency, and no row ever judged it there. Its interval (``Calibration.unseen_arch_sigma``): the widest of the
# per-architecture figures of the job's split (it may be as poorly served as the worst-served architecture that
# has rows), widened in quadrature by ARCH_PRIOR's log-sd at the 80% two-sided z (1.2816: its 16-bit factor is
# unknown by as much as the fit's prior allows). bench/README.md, "Blackwell: published rows, judged".
UNSEEN_ARCH_Z80 = 1.2816
ARCH_CLASSES = ("half",)  # the precision classes fitted per architecture (TF32 and memory moved nothing)
ARCH_PREFIX = "arch."


def prior(name: str) -> tuple[float, float]:
    """(value, log-sd) of a fitted parameter's prior: ``PRIORS``, or ``ARCH_PRIOR`` for an "arch.*" name."""
    return ARCH_PRIOR if name.startswith(ARCH_PREFIX) else PRIORS[name]


EFFICIENCY_KEYS = ("matmul.fp32", "matmul.tf32", "matmul.half", "conv.fp32", "conv.tf32", "conv.half")
# Where a fitted parameter may go (the fit's bounds); any other: (1e-8, 1e6). A fraction of a peak is at most
# 1; an exponent below 1 would make the overlapped step longer than the sum of its parts.
BOUNDS: dict[str, tuple[float, float]] = {
    **{k: (1e-3, 1.0) for k in (*EFFICIENCY_KEYS, "memory_efficiency", "half_memory_efficiency")},
    "host_overlap_exponent": (1.0, 1e6),
}


def bounds(name: str) -> tuple[float, float]:
    """(lowest, highest) value the fit may give the parameter ``name`` (``BOUNDS``)."""
    return BOUNDS.get(name, (1e-8, 1e6))


@dataclass(frozen=True)
class Calibration:
    """Constants of :func:`advisor.predictor.roofline.predict_step`; see the module docstring."""

    compute_efficiency: dict[str, float] = field(
        default_factory=lambda: {k: PRIORS[k][0] for k in EFFICIENCY_KEYS})
    memory_efficiency: float = PRIORS["memory_efficiency"][0]
    kernel_latency_seconds: float = PRIORS["kernel_latency_seconds"][0]
    host_seconds_per_op: float = PRIORS["host_seconds_per_op"][0]
    step_overhead_seconds: float = PRIORS["step_overhead_seconds"][0]
    operand_reuse: float = PRIORS["operand_reuse"][0]
    gemm_k_fill: float = PRIORS["gemm_k_fill"][0]
    conv_layout_passes: float = PRIORS["conv_layout_passes"][0]
    half_memory_efficiency: float = PRIORS["half_memory_efficiency"][0]
    conv_index_ops: float = PRIORS["conv_index_ops"][0]
    host_overlap_exponent: float = PRIORS["host_overlap_exponent"][0]
    # {"<library>.<direction>": seconds per element of one channel's plane} (module docstring); measured on an
    # H200 (bench/kernel_trace_h200.py): the median over calls of at most 128 channels (one block per SM).
    bn_plane_seconds: dict[str, float] = field(default_factory=lambda: dict(BN_PLANE_SECONDS))
    bn_plane_blocks_per_sm: float = BN_PLANE_BLOCKS_PER_SM
    # {"<option>.<direction>": seconds per score at the H200's SM clock} of a fused attention's dropout and mask
    attention_score_seconds: dict[str, float] = field(default_factory=lambda: dict(ATTENTION_SCORE_SECONDS))
    # {"<architecture>.<class>": x}: that GPU architecture's tensor-core rate reaches x times the shared
    # efficiency of its class (only "half" is fitted, ``ARCH_CLASSES``); 1 where absent (module docstring).
    arch_efficiency: dict[str, float] = field(default_factory=dict)
    optimizer_tensors_per_launch: float = 48.0  # PyTorch's multi_tensor_apply: 36-110 tensors per launch
    rel_sigma: float = 0.35  # log half-width of the 80% interval of from-specs predictions (module docstring)
    ratio_sigma: float = 0.25  # the same for predictions scaled from a probe of another GPU
    # {workload_kind: {"rel_sigma": x, "ratio_sigma": y, "bias": b, "rows": n}}: per kind of job (module docstring)
    sigma_by_kind: dict[str, dict[str, Any]] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def compute_eff(self, kind: str, precision_class: str) -> float:
        key = f"{'conv' if kind == 'conv' else 'matmul'}.{precision_class}"
        return self.compute_efficiency.get(key, PRIORS.get(key, (0.5, 0))[0])

    def arch_eff(self, spec: GpuSpec, precision_class: str) -> float:
        """``spec``'s architecture's multiplier of ``precision_class``'s efficiency (1 where not fitted)."""
        if not spec.architecture:
            return 1.0
        return float(self.arch_efficiency.get(f"{spec.architecture}.{precision_class}", 1.0))

    def sigma(self, analysis: Analysis | None = None, spec: GpuSpec | None = None, *,
              from_probe: bool = False, precision: str | None = None) -> float:
        """The 80% half-width (log) of a from-specs (or, ``from_probe``, a probe-scaled) prediction of
        ``analysis``'s steps on ``spec`` at ``precision``: its kind's where the calibration has one, else the
        global one."""
        name = "ratio_sigma" if from_probe else "rel_sigma"
        key, figures = self._per_kind(analysis, spec, precision)
        value = float(figures[name]) if figures.get(name) is not None else float(getattr(self, name))
        if spec is None or self.has_rows(spec):
            return value
        return self.unseen_arch_sigma(key, value, name)

    def has_rows(self, spec: GpuSpec) -> bool:
        """Whether the calibration was fitted on rows of ``spec``'s architecture: it has that architecture's
        16-bit factor (fitted for every architecture with rows) or a figure of its own. True for a GPU without
        an architecture, and for a calibration fitted on none (the defaults): nothing to tell apart there."""
        arch = spec.architecture
        if not arch or not self.arch_efficiency:
            return True
        return any(k.rpartition(".")[0] == arch for k in self.arch_efficiency) or any(
            split_architecture(k)[1] == arch for k in self.sigma_by_kind)

    def unseen_arch_sigma(self, key: str | None, value: float, name: str) -> float:
        """The half-width ``value`` (``name``: rel_sigma / ratio_sigma, of the figure ``key``) for a GPU whose
        architecture has no rows (``UNSEEN_ARCH_RULE``): the widest of that split's per-architecture figures, the
        split's own included, widened in quadrature by the 80% half-width of ``ARCH_PRIOR``."""
        split = split_architecture(key)[0] if key else None
        siblings = [float(f[name]) for k, f in self.sigma_by_kind.items()
                    if split and split_architecture(k)[0] == split and f.get(name) is not None]
        return math.hypot(max([value, *siblings]), UNSEEN_ARCH_Z80 * ARCH_PRIOR[1])

    def kind_bias(self, analysis: Analysis | None, spec: GpuSpec | None,
                  precision: str | None = None) -> tuple[str, float] | None:
        """(kind, median signed log error of from-specs predictions never fitted on their source) of the job's
        kind, where the calibration has it: > 0 means such jobs ran slower than predicted."""
        kind, figures = self._per_kind(analysis, spec, precision)
        bias = figures.get("bias")
        return None if kind is None or bias is None else (kind, float(bias))

    def _per_kind(self, analysis: Analysis | None, spec: GpuSpec | None,
                  precision: str | None = None) -> tuple[str | None, dict]:
        """(the job's kind, that kind's figures: {} where the calibration has none); (None, {}) without an
        analysis. The kind at ``precision``'s class on ``spec``'s architecture first, then at that class, then the
        kind alone (module docstring)."""
        if analysis is None:
            return None, {}
        kind = workload_kind(analysis, spec)
        split = workload_kind(analysis, spec, precision) if precision else None
        for key in (architecture_split(split, spec) if split else None, split, kind):
            if key and self.sigma_by_kind.get(key):
                return key, self.sigma_by_kind[key]
        return kind, {}

    def interval(self, seconds: float, *, from_probe: bool = False, analysis: Analysis | None = None,
                 spec: GpuSpec | None = None, precision: str | None = None) -> tuple[float, float]:
        """(low, high) around a scaled prediction, meant to hold the true time 80% of the time."""
        # rel_sigma is already the 80% half-width in log space: z = 1, not job.Z80.
        return interval(seconds, self.sigma(analysis, spec, from_probe=from_probe, precision=precision), z=1.0)

    # -- the parameter vector of the fit
    def get(self, name: str) -> float:
        if name in EFFICIENCY_KEYS:
            return self.compute_eff(*name.split("."))
        if name.startswith(ARCH_PREFIX):
            return float(self.arch_efficiency.get(name[len(ARCH_PREFIX):], 1.0))
        return float(getattr(self, name))

    def with_values(self, values: dict[str, float]) -> Calibration:
        eff, arch = dict(self.compute_efficiency), dict(self.arch_efficiency)
        other = {}
        for k, v in values.items():
            if k in EFFICIENCY_KEYS:
                eff[k] = float(v)
            elif k.startswith(ARCH_PREFIX):
                arch[k[len(ARCH_PREFIX):]] = float(v)
            else:
                other[k] = float(v)
        return replace(self, compute_efficiency=eff, arch_efficiency=arch, **other)

    def to_json(self) -> dict:
        return asdict(self)


# 16-bit tensor rate over FP32 rate from which a GPU is "tensor-heavy": A100 16, H100/H200 14.8, B200 28 against
# V100 / T4 8 and workstation / GeForce cards 2-4. On such a GPU everything that is not a tensor-core GEMM
# (normalisation, elementwise, layout kernels) weighs more, and the validation rows' errors differ there.
TENSOR_HEAVY_RATIO = 10.0


def workload_kind(analysis: Analysis, spec: GpuSpec | None = None, precision: str | None = None) -> str:
    """``dominant_kind(analysis)``, plus ``"/tensor-heavy"`` on a GPU whose 16-bit tensor rate is at least
    ``TENSOR_HEAVY_RATIO`` times its FP32 rate, plus ``precision``'s width (``bit_width``) where given."""
    kind = dominant_kind(analysis)
    if spec is not None and spec.fp16_bf16_tflops and spec.fp32_tflops \
            and spec.fp16_bf16_tflops >= TENSOR_HEAVY_RATIO * spec.fp32_tflops:
        kind += "/tensor-heavy"
    return kind if precision is None else f"{kind}/{bit_width(precision)}"


def architecture_split(split: str, spec: GpuSpec | None) -> str | None:
    """``split`` (``workload_kind`` at a precision class) on ``spec``'s architecture, ``"<split>@<architecture>"``:
    the key of ``sigma_by_kind``'s per-architecture figures (None for a GPU without an architecture)."""
    return f"{split}@{spec.architecture}" if spec is not None and spec.architecture else None


def split_architecture(key: str) -> tuple[str, str]:
    """(the split, the architecture) of a ``sigma_by_kind`` key: ``architecture_split`` undone, "" for a key
    without an architecture."""
    split, _, architecture = key.partition("@")
    return split, architecture


def bit_width(precision: str) -> str:
    """``"16-bit"`` for the mixed precisions (bf16, fp16), ``"32-bit"`` for fp32 and tf32: the split of
    ``sigma_by_kind`` (not the efficiency classes "fp32" / "tf32" / "half" of ``compute_eff``)."""
    return "16-bit" if precision in HALF_PRECISIONS else "32-bit"


def dominant_kind(analysis: Analysis) -> str:
    """``"conv"`` when convolutions do at least half of ``analysis``'s matmul + conv FLOPs, else ``"matmul"``
    (a step without either is ``"matmul"``: the global figures' side)."""
    # Kept on the analysis (recommend asks once per candidate GPU); keyed by its ops list, as the op tables are.
    cached = analysis._derived.entries.get("dominant_kind")
    if cached is not None and cached[0] is analysis.ops:
        return cached[1]
    conv = sum(r.count * r.flops[1] for r in analysis.ops if r.kind == "conv")
    mm = sum(r.count * r.flops[1] for r in analysis.ops if r.kind == "matmul")
    kind = "conv" if conv > 0 and conv >= mm else "matmul"
    analysis._derived.entries["dominant_kind"] = (analysis.ops, kind)
    return kind


def default_calibration() -> Calibration:
    """The physical priors, unfitted (what the fit starts from)."""
    return Calibration(provenance={"source": "priors (unfitted)"})


def calibration_path() -> Path:
    from advisor.data_files import data_dir

    return data_dir("profiles") / CALIBRATION_FILE


def load_calibration(path: str | Path | None = None) -> Calibration:
    """The fitted calibration from ``profiles/calibration.json`` (or ``path``).

    A missing packaged file falls back to the priors (with that said in ``provenance``); a file that exists
    but does not parse is an error.
    """
    try:
        p = Path(path) if path is not None else calibration_path()
    except FileNotFoundError:
        return default_calibration()
    if not p.exists():
        if path is not None:
            raise PredictionError(f"calibration file {p} does not exist.",
                                  hint="Fix: pass an existing file, or omit it to use the packaged one.")
        return default_calibration()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        known = {f for f in Calibration.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        return Calibration(**values)
    except (ValueError, TypeError) as exc:
        raise PredictionError(
            f"calibration file {p} is not valid: {exc}",
            hint="Fix: pass a file that parses, or reinstall advisor for the packaged one (pip install "
                 "--force-reinstall --no-deps advisor); in a source checkout, README \"How the time is "
                 "predicted\" says how to refit it.") from exc
