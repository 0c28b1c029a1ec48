"""A step's operators as arrays, priced at any batch size in one vectorised pass (the roofline's inner loop).

``op_table(analysis, spec, precision, calibration, compiled, ...)`` turns an analysis into numpy arrays of what
does not depend on the batch size (each op's count, FLOPs and bytes at the first analysis batch and their
slope per sample, GEMM dimensions, the rate it computes at, the bandwidth it streams at, its launches), once
per (analysis, GPU, precision, calibration, compiled); ``OpTable.price(batch_size)`` then prices every op
with ``advisor.predictor.roofline``'s formulas in a few array operations. The tables are kept on the analysis
object, keyed by the other objects' identities: ``advisor.api.recommend`` prices one analysis hundreds of times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from advisor.predictor.calibration import ATTENTION_SCORE_SM_CLOCK_FLOPS, Calibration
from advisor.predictor.fp64 import FP64_DTYPES
from advisor.predictor.gemm import LARGE, k_fill_factor, tile_reuse
from advisor.schemas import Analysis, GpuSpec

HALF_DTYPES = ("float16", "bfloat16")
TENSOR_KINDS = ("matmul", "conv")
PHASES = ("forward", "backward", "optimizer")
# The SMs' on-chip operand path (L2 -> shared memory -> tensor cores), in bytes per second per FLOP/s of
# ``sm_clock_flops``: it grows with SM count x clock (shared memory moves 128 bytes a clock per SM on every
# architecture priced here).
ON_CHIP_BYTES_PER_FP32_FLOP = 1.0 / 16.0
# FP32 lanes per SM by architecture (CUDA cores / SMs): 64 on Volta (V100: 5,120 / 80), Turing (RTX 2080 Ti:
# 4,352 / 68) and GA100 (A100: 6,912 / 108); 128 on GP102 (GTX 1080 Ti: 3,584 / 28), GA10x (RTX 3090:
# 10,496 / 82; NVIDIA's GA102 whitepaper: a second datapath that runs FP32 or INT32), Ada (RTX 4090:
# 16,384 / 128), Hopper (H100 SXM5: 16,896 / 132, glennklockwood.com/garden/processors/h100, retrieved
# 2026-12-01, with INT32 at half the FP32 rate) and Blackwell (RTX 5090: 21,760 / 170; the B200's SM taken to
# be the same). The doubled lanes double the FP32 rate but not the clock or the shared-memory path, which set
# the pace of operand staging, nor (GA10x, Ada, Hopper) the INT32 rate of a convolution's index arithmetic.
# "Pascal" here is GP102 (the catalog's GTX 1080 Ti; a P100 would be 64). An architecture not listed counts 64.
FP32_LANES_PER_SM = {"Pascal": 128, "Ampere-GA10x": 128, "Ada": 128, "Hopper": 128, "Blackwell-GB100": 128,
                     "Blackwell-GB20x": 128}
BASE_LANES_PER_SM = 64


def sm_clock_flops(spec: GpuSpec) -> float:
    """SM count x clock of ``spec``, in FP32 FLOP/s of a 64-lane SM: its FP32 rate on Volta, Turing and GA100,
    half of it where an SM has 128 FP32 lanes (``FP32_LANES_PER_SM``)."""
    lanes = FP32_LANES_PER_SM.get(spec.architecture or "", BASE_LANES_PER_SM)
    return spec.fp32_tflops * 1e12 * BASE_LANES_PER_SM / lanes


# Tensor-core alignment (NVIDIA, "Matrix Multiplication Background User's Guide", "Tensor Core Requirements",
# retrieved 2026-11-30): operands whose leading dimensions are multiples of 16 bytes get the full-speed
# kernels; misaligned ones run through narrower loads, ~2x slower at 4-8 byte alignment, ~4x when odd.
ALIGNED_BYTES = 16
MISALIGNED_EFFICIENCY = {8: 0.5, 4: 0.5, 2: 0.25, 1: 0.25}
# Where an architecture's odd-aligned GEMMs run slower still: on Hopper cuBLAS falls back to CUTLASS's
# Turing-generation align1 kernels (cutlass_75_tensorop_bf16_s1688gemm_*_align1: mma.sync, no wgmma or TMA). GPT-2's
# LM head over 50,257 tokens on an H200 (bench/kernel_trace_h200.py, session 41): its three GEMMs took 30.4 ms a
# step against 20.0 priced at 0.25, so 0.25 x 20.0 / 30.4 = 0.16. Measured on one GPU of the architecture.
MISALIGNED_EFFICIENCY_BY_ARCH = {"Hopper": {2: 0.16, 1: 0.16}}


@dataclass
class OpTable:
    """Per-op arrays of one (analysis, GPU, precision, calibration, compiled); see the module docstring."""

    b0: float
    count: np.ndarray
    flops0: np.ndarray
    flops_slope: np.ndarray
    bytes0: np.ndarray
    bytes_slope: np.ndarray
    gemm0: np.ndarray  # (3, n): M, N, K at b0
    gemm_slope: np.ndarray  # (3, n)
    half_tile: np.ndarray  # 16-bit tile shape
    tensor: np.ndarray  # matmul/conv with FLOPs: tensor/CUDA-core rate + operand staging
    seconds_per_flop: np.ndarray  # 1 / (peak x efficiency x alignment); CUDA-core rate for other FLOPs
    staging_seconds: np.ndarray  # seconds per (FLOP / tile reuse): bytes per element / reuse beyond tile / rate
    seconds_per_byte: np.ndarray  # 1 / (bandwidth x efficiency [x 16-bit fraction])
    layout_per_byte: np.ndarray  # 16-bit convolutions: extra transposes, seconds per byte of the op
    pad_per_byte: np.ndarray  # compiled misaligned matmuls: inductor's padding copies, seconds per byte of the op
    index_seconds: np.ndarray  # tensor-core convolutions: im2col index work, seconds per staged element
    plane0: np.ndarray  # channels-first batch norms: a call's latency-bound floor at b0, seconds
    plane_slope: np.ndarray  # and its growth per sample
    score_per_flop: np.ndarray  # fused attention's dropout and mask: seconds per FLOP of the call (per score)
    fixed_seconds: np.ndarray  # launches x kernel latency (0 for optimizer ops: counted per foreach launch)
    kind_index: np.ndarray
    kinds: tuple[str, ...]
    phase_index: np.ndarray
    kernels: float  # launches of the non-optimizer ops
    optimizer_calls: dict[str, int]
    classes_used: frozenset[str]
    k_fill: np.ndarray  # per op: the K loop's fill, elements of K (``k_fill_share``)
    overlap: bool
    tf32: tuple[bool, bool]  # (matmuls, convolutions) allowed TF32

    # Every whole batch size from 1 up, priced at once (``price``): {"rows": n, name: array (n, ...)}.
    _curve: dict | None = field(default=None, repr=False)
    _singles: int = field(default=0, repr=False)  # batch sizes priced one by one, not off the curve

    def price(self, batch_size: float) -> dict:
        """Every op at ``batch_size``: seconds per kind and phase, compute/memory-bound, FLOPs and bytes.

        A table asked for many whole batch sizes (a server pricing the last batches of many jobs) reads them off
        its curve: every batch size from 1 to the next power of two, priced in one array pass, once the table
        has priced ``CURVE_AFTER`` batch sizes one by one (a calibration fit prices each of its many tables at
        a few batch sizes: a curve there would cost more than it saves)."""
        b = float(batch_size)
        if b.is_integer() and 1 <= b <= CURVE_MAX_BATCH:
            if self._curve is not None and self._curve["rows"] >= b:
                return self._as_dict(self._curve, int(b) - 1)
            self._singles += 1
            if self._singles > CURVE_AFTER:
                rows = max(CURVE_MIN_ROWS, 1 << (int(b) - 1).bit_length())
                self._curve = {"rows": rows, **self.price_rows(np.arange(1.0, rows + 1.0))}
                return self._as_dict(self._curve, int(b) - 1)
        return self._as_dict(self.price_rows(np.array([b])), 0)

    def price_rows(self, batch_sizes: np.ndarray) -> dict[str, np.ndarray]:
        """Every op at each of ``batch_sizes`` (one row each), summed per row in op order: any batch size's
        sums are the same to the last bit whichever rows it is priced with."""
        rows = len(batch_sizes)
        t, bound, flops, nbytes, t_layout, t_plane = self.op_seconds(batch_sizes)
        row = np.arange(rows)[:, None]

        def per_row(index: np.ndarray, width: int, weights: np.ndarray) -> np.ndarray:
            # bincount adds in index order: each row's ops in op order, whatever the number of rows
            flat = (row * width + index).ravel()
            return np.bincount(flat, weights=weights.ravel(), minlength=rows * width).reshape(rows, width)

        by_bound = per_row(bound.astype(np.int64), 2, t)
        whole = np.zeros((1, len(self.count)), dtype=np.int64)
        return {"per_kind": per_row(self.kind_index[None, :], len(self.kinds), t),
                "per_phase": per_row(self.phase_index[None, :], 3, t),
                "compute_bound": by_bound[:, 1], "memory_bound": by_bound[:, 0],
                "flops": per_row(whole, 1, self.count * flops)[:, 0],
                "bytes": per_row(whole, 1, self.count * nbytes)[:, 0],
                # cuDNN's transposes of channels-first 16-bit convolutions (already inside the conv kind's time)
                "layout": per_row(whole, 1, t_layout * self.count)[:, 0],
                # channels-first batch norms: their one-block-per-channel floor above their bandwidth time
                "planes": per_row(whole, 1, t_plane * self.count)[:, 0]}

    def op_seconds(self, batch_sizes: np.ndarray) -> tuple[np.ndarray, ...]:
        """Each op's seconds in one step (all its calls), at each of ``batch_sizes`` (rows x ops), with whether
        it is compute-bound, its FLOPs and bytes per call, its layout seconds per call and what a channels-first
        batch norm's floor adds to a call (``plane0``; 0 for every other op)."""
        db = (np.asarray(batch_sizes, dtype=float) - self.b0)[:, None]
        flops = np.maximum(0.0, self.flops0 + self.flops_slope * db)
        nbytes = np.maximum(0.0, self.bytes0 + self.bytes_slope * db)
        m, n, k = np.maximum(1.0, self.gemm0[:, None, :] + self.gemm_slope[:, None, :] * db[None, :, :])
        staged = flops / tile_reuse(m, n, self.half_tile)
        t_core = (flops * self.seconds_per_flop * np.where(self.tensor, k_fill_factor(k, self.k_fill), 1.0)
                  + staged * self.index_seconds)
        t_stage = staged * self.staging_seconds
        t_comp = np.maximum(t_core, t_stage) if self.overlap else t_core + t_stage
        t_mem = nbytes * self.seconds_per_byte
        t_layout = nbytes * self.layout_per_byte
        t_pad = nbytes * self.pad_per_byte
        t_roof = np.maximum(t_comp, t_mem)
        t_plane = np.maximum(0.0, self.plane0 + self.plane_slope * db - t_roof)
        t = (t_roof + t_plane + t_layout + t_pad + flops * self.score_per_flop + self.fixed_seconds) * self.count
        return t, t_comp > t_mem, flops, nbytes, t_layout, t_plane

    def _as_dict(self, priced: dict[str, np.ndarray], i: int) -> dict:
        """Row ``i`` of ``price_rows`` as ``price`` returns it (new dicts: the roofline adds to them)."""
        return {"per_kind": {kd: float(v) for kd, v in zip(self.kinds, priced["per_kind"][i], strict=True)},
                "per_phase": {ph: float(v) for ph, v in zip(PHASES, priced["per_phase"][i], strict=True)},
                "compute_bound": float(priced["compute_bound"][i]), "memory_bound": float(priced["memory_bound"][i]),
                "flops": float(priced["flops"][i]), "bytes": float(priced["bytes"][i]),
                "layout": float(priced["layout"][i]), "planes": float(priced["planes"][i])}


# Whole batch sizes read off a table's curve (``OpTable.price``), once it has priced ``CURVE_AFTER`` one by one:
# priced from 1 to the next power of two at or above the one asked for (at least ``CURVE_MIN_ROWS``); a larger
# one than ``CURVE_MAX_BATCH`` is always priced alone.
CURVE_AFTER = 16
CURVE_MIN_ROWS = 64
CURVE_MAX_BATCH = 8192
TABLES_PER_ANALYSIS = 256  # (GPU, precision, calibration, compiled) combinations kept on one analysis


def op_table(analysis: Analysis, spec: GpuSpec, precision: str, cal: Calibration, compiled: bool,
             retype, rate, tf32: tuple[bool, bool]) -> OpTable:
    """The table of ``analysis`` on ``spec``, kept on the analysis object itself (``Analysis._derived``);
    ``retype``/``rate`` are the roofline's own rules, ``tf32`` the (matmuls, convolutions) allowed TF32. An
    entry holds the objects it was built from, so an identity in its key can never be another object's (a
    copy with other ops misses)."""
    tables = analysis._derived.entries.setdefault("op_tables", {})
    key = (id(analysis.ops), id(spec), precision, id(cal), compiled, tf32)
    hit = tables.get(key)
    if hit is not None and hit[0] is analysis.ops and hit[1] is spec and hit[2] is cal:
        return hit[3]
    table = _build(analysis, spec, precision, cal, compiled, retype, rate, tf32)
    if len(tables) >= TABLES_PER_ANALYSIS:
        tables.clear()
    tables[key] = (analysis.ops, spec, cal, table)
    return table


# Inductor's layout optimisation (torch/_inductor/config.py ``layout_optimization``: on by default on CUDA;
# ``GraphLowering.decide_layout_opt``, read in torch 2.13): a compiled graph's convolutions, and the tensors
# that feed them, run channels-last, so a channels-first model pays no NCHW <-> NHWC transposes around its
# 16-bit convolutions. It stays channels-first where the graph holds a grouped convolution with more than one
# input channel a group, or has ``INDUCTOR_NODES_PER_CONV`` nodes or more per convolution (a ViT's one patch
# embedding); the analysis' forward calls stand in for the graph's nodes.
INDUCTOR_NODES_PER_CONV = 300


def inductor_channels_last(analysis: Analysis) -> bool:
    """Whether torch.compile runs this analysis' convolutions channels-last (``INDUCTOR_NODES_PER_CONV``)."""
    forward = [r for r in analysis.ops if r.phase == "forward"]
    convs = sum(r.count for r in forward if r.kind == "conv")
    if convs == 0 or any(r.grouped for r in forward):
        return False
    return sum(r.count for r in forward) < INDUCTOR_NODES_PER_CONV * convs


# The K loop's fill (``Calibration.gemm_k_fill``) is fitted in elements of K at an A100's rate per SM clock
# (FLOPs an SM does in a clock, in units of a 64-lane SM's FP32 FLOPs: ``sm_clock_flops``; A100 SXM4 datasheet,
# 312 / 156 TFLOP/s dense 16-bit / TF32 against 19.5 FP32). A tensor-core tile's fill and drain (its pipeline's
# prologue, the epilogue writing C) take about the same SM clocks on any GPU, while one element of K takes
# 2 Tm Tn / (FLOPs an SM does in a clock): where an SM does fewer tensor FLOPs a clock (GeForce Ampere and Ada,
# 4 units at 16 bits with FP32 accumulation, against the A100's 16; Volta, Turing and workstation Ampere and
# Ada, 8) the same clocks are fewer elements of K. Two limits: a tensor-core kernel on a GPU whose rate a clock
# is above the A100's (Hopper: twice) counts the A100's fill, because its persistent, warp-specialised kernels
# overlap one tile's epilogue with the next tile's main loop; and a CUDA-core kernel (FP32, a TF32 op that runs
# faster there, a 16-bit op on a GPU without tensor cores) keeps the fitted fill, because an SM's FP32 rate a
# clock is not what its GEMMs reach where 64 of its 128 lanes also run the integer work (GA10x, Ada).
# What moved which rows, and the variants tried: bench/README.md, "The K loop's fill in SM clocks".
K_FILL_REFERENCE_PER_CLOCK = {"half": 16.0, "tf32": 8.0}


def k_fill_share(spec: GpuSpec, peak: float, cls: str, on_tensor_cores: bool) -> float:
    """The share of ``gemm_k_fill`` a matmul/conv op's K loop fills on ``spec`` (``K_FILL_REFERENCE_PER_CLOCK``):
    a tensor-core kernel's rate per SM clock over the A100's in its class, at most 1; 1 for a CUDA-core kernel.
    ``peak``: the op's class rate on ``spec`` in FLOP/s."""
    fp32 = (spec.fp32_tflops or 0.0) * 1e12
    if not (on_tensor_cores and cls in K_FILL_REFERENCE_PER_CLOCK and peak > fp32 > 0):
        return 1.0
    return min(1.0, peak / sm_clock_flops(spec) / K_FILL_REFERENCE_PER_CLOCK[cls])


def _align_factor(align: int, cls: str, esize: float, architecture: str | None = None) -> float:
    if cls in ("fp32", "fp64") or align >= 8:
        return 1.0
    nbytes = int(align * esize)
    if nbytes >= ALIGNED_BYTES:
        return 1.0
    return MISALIGNED_EFFICIENCY_BY_ARCH.get(architecture or "", {}).get(nbytes,
                                                                      MISALIGNED_EFFICIENCY.get(nbytes, 0.25))


def _alignment(r, cls: str, esize: float, compiled: bool, architecture: str | None = None) -> tuple[float, bool]:
    """(the tensor cores' alignment factor of matmul/conv ``r``, whether it runs padded). Compiled, inductor
    pads a misaligned matmul's operands to the tensor cores' alignment where that times faster
    (torch/_inductor/fx_passes/pad_mm.py, ``config.shape_padding``, on by default): aligned math, plus copies
    into and out of the padded buffers (``pad_per_byte``: about one pass over the op's data)."""
    factor = _align_factor(r.align, cls, esize, architecture)
    if compiled and r.kind == "matmul" and factor < 1.0:
        return 1.0, True
    return factor, False


def _fp32_seconds_per_flop(r, spec: GpuSpec, cal: Calibration) -> float:
    """Seconds per FLOP of a matmul/conv on the CUDA cores in FP32; a 3x3 stride-1 convolution's Winograd
    share at ``WINOGRAD_MULTIPLY_REDUCTION`` fewer multiplies."""
    spf = 1.0 / (spec.fp32_tflops * 1e12 * cal.compute_eff(r.kind, "fp32"))
    if r.kind == "conv" and r.winograd_share > 0:
        spf *= 1.0 - r.winograd_share + r.winograd_share / WINOGRAD_MULTIPLY_REDUCTION
    return spf


# The SM clock behind ``bn_plane_blocks_per_sm``'s SM-equivalents (``Calibration``): sm_clock_flops / (128 FLOP
# per SM-clock x this) counts SMs at a typical boost clock (H200 145 for its 132 at 1.98 GHz, RTX 3090 77 for 82).
PLANE_SM_CLOCK_HZ = 1.8e9


def _plane_floor(r, dtype: str, precision: str, spec: GpuSpec, cal: Calibration, span: float,
                 compiled: bool) -> tuple[float, float]:
    """(seconds at the first analysed batch size, growth per sample) of a channels-first batch norm call's floor
    (``OpRecord.channel_planes``): one block per channel streams the channel's plane at the library's
    latency-bound pace, the channels taking turns once they outnumber what the SMs run side by side. bf16 runs
    PyTorch's own kernels, fp16/fp32 cuDNN's; a 16-bit op runs at the priced precision's width (one fp16
    analysis prices bf16 rows in the calibration fit, a bf16 job runs in fp16 on a GPU without bfloat16).
    (0, 0) for any other op, and under torch.compile (Inductor writes its own reductions)."""
    if not r.channel_planes or r.plane_elements is None or compiled:
        return 0.0, 0.0
    if dtype in HALF_DTYPES and precision in ("bf16", "fp16"):
        library = "native" if precision == "bf16" else "cudnn"
    else:
        library = "native" if dtype == "bfloat16" else "cudnn"
    direction = "backward" if r.phase == "backward" else "forward"
    seconds = cal.bn_plane_seconds.get(f"{library}.{direction}", 0.0)
    at_once = cal.bn_plane_blocks_per_sm * sm_clock_flops(spec) / (128.0 * PLANE_SM_CLOCK_HZ)
    per_element = seconds * max(1.0, r.channel_planes / max(at_once, 1.0))
    return r.plane_elements[0] * per_element, (r.plane_elements[1] - r.plane_elements[0]) * per_element / span


# Fused attention's tiles (FlashAttention-2, Dao 2023, arXiv:2307.08691, section 3.1: blocks of queries against
# blocks of keys; cuDNN's Hopper kernels in the H200 trace: 64 x 128 forward, 64 x 64 backward): a sequence pads to
# whole blocks of ``ATTENTION_PAD_ROWS``. A causal call skips the blocks above the diagonal (forward 0.43-0.57 of
# the whole at 2,048-4,096 tokens on the H200), which is not priced: counted so, the refit moved the decoder LMs'
# efficiency onto every GEMM (bench/README.md, "Fused attention's options").
ATTENTION_PAD_ROWS = 64
# The backward kernel against the forward, per FLOP (bench/kernel_paces_h200.py, H200, cuDNN's and FlashAttention-2's
# kernels at head sizes 64 and 128, 128-4,096 tokens): ``RATE + FILL / queries`` times the forward's time per
# FLOP. Five matrix products a tile against two, with the scores recomputed (0.8 of the forward's rate at long
# sequences), and per block of keys a longer prologue and epilogue (K and V in, dK and dV out, dQ accumulated):
# the medians of the four fits, a 1.06-1.31 and b 114-187.
ATTENTION_BACKWARD_RATE = 1.25
ATTENTION_BACKWARD_FILL = 155.0


def attention_tiles(gemm: tuple[float, float, float]) -> float:
    """The share of a fused attention call's counted FLOPs (queries x keys x head size) its kernel computes,
    padded to whole tiles of queries and of keys. ``gemm`` is the call's (queries, head size, keys)."""
    queries, _, keys = (max(1.0, float(x)) for x in gemm)
    pad = math.ceil(queries / ATTENTION_PAD_ROWS) * ATTENTION_PAD_ROWS / queries
    return pad * math.ceil(keys / ATTENTION_PAD_ROWS) * ATTENTION_PAD_ROWS / keys


def attention_terms(r, spec: GpuSpec, cal: Calibration) -> tuple[float, float]:
    """(factor on a fused attention call's compute time, seconds per FLOP its dropout and mask add): its tiles
    (``attention_tiles``), the backward's rate and fill per query (``ATTENTION_BACKWARD_*``), and
    ``attention_score_seconds``."""
    tiles = attention_tiles(r.gemm[1])
    if r.phase == "backward":
        tiles *= ATTENTION_BACKWARD_RATE + ATTENTION_BACKWARD_FILL / max(1.0, float(r.gemm[1][0]))
    return tiles, attention_score_seconds(r, spec, cal)


def _tensor_seconds_per_flop(r, spec: GpuSpec, cal: Calibration, peak: float, cls: str,
                             align: float) -> tuple[float, bool]:
    """(seconds per FLOP, whether it runs on the tensor cores) of matmul/conv ``r`` in precision class ``cls``.
    TF32 is allowed, not imposed: cuDNN's benchmark mode times its FP32 CUDA-core kernels too and keeps the
    faster, which wins where the two peaks are equal (GeForce Ampere/Ada, GA102 whitepaper: RTX 3090 TF32 dense
    35.6 = FP32 35.6 TFLOPS) and TF32 runs at a lower efficiency."""
    if cls == "fp64":
        # A float64 matmul/conv at its FP64 peak (``fp64.fp64_peak``) with the fitted FP32 efficiency: no source gives
        # FP64 kernels one of their own, and none is fitted. Convolutions as direct ones: the Winograd share is an
        # FP32 rule (``WINOGRAD_MULTIPLY_REDUCTION``).
        return 1.0 / (peak * cal.compute_eff(r.kind, "fp32")), False
    cuda_spf = _fp32_seconds_per_flop(r, spec, cal)
    if cls == "fp32":
        return cuda_spf, False
    tensor_spf = 1.0 / (peak * cal.compute_eff(r.kind, cls) * cal.arch_eff(spec, cls) * align)
    on_tensor_cores = cls == "half" or (cls == "tf32" and tensor_spf < cuda_spf)
    return (tensor_spf if on_tensor_cores else cuda_spf), on_tensor_cores


def attention_score_seconds(r, spec: GpuSpec, cal: Calibration) -> float:
    """Seconds per counted FLOP that a fused attention call's dropout and mask add (``Calibration.
    attention_score_seconds``, per score at the H200's SM clock): a score is 4 x head size FLOPs forward and
    10 x backward (``torch.utils.flop_counter``'s sdpa counts)."""
    direction = "backward" if r.phase == "backward" else "forward"
    per_score = sum(cal.attention_score_seconds.get(f"{option}.{direction}", 0.0)
                    for option in r.attention if option != "causal")
    if per_score == 0.0:
        return 0.0
    head = max(1.0, float(r.gemm[1][1]))
    flops_per_score = (10.0 if direction == "backward" else 4.0) * head
    return per_score * ATTENTION_SCORE_SM_CLOCK_FLOPS / sm_clock_flops(spec) / flops_per_score


# GeForce cards (TITAN included) run with DRAM ECC off (off by default where the driver offers it, RTX 3090 Ti and
# 4090; absent on the others): support.chaos.com "ECC State for Nvidia GPUs" (retrieved 2026-12-06; ECC on cost
# an RTX 4090 and an A40 15% in rendering; notebookcheck.net: the RTX 5090 has no ECC setting). Data-centre
# GDDR cards (T4, A10, A40, L4, L40) run it on (profiles/gpu_usable_memory.csv), which costs GDDR bandwidth. With
# it off an eager 16-bit element-wise kernel reaches fp32's bandwidth fraction: a GELU at 0.89 of an RTX 3090 Ti's
# datasheet (bench/README.md, "A published per-module timing"), so ``half_memory_efficiency`` is not applied.
# Workstation cards (ECC off by default too) were tried with them and cross-validated worse: not included.
GEFORCE_MARKS = ("geforce", "titan")


def dram_ecc_off(spec: GpuSpec) -> bool:
    """Whether ``spec`` is a GeForce card (its name or an alias says GeForce or TITAN): DRAM ECC off."""
    return any(mark in name.lower() for name in (spec.name, *spec.aliases) for mark in GEFORCE_MARKS)


def _build(analysis: Analysis, spec: GpuSpec, precision: str, cal: Calibration, compiled: bool,
           retype, rate, tf32: tuple[bool, bool]) -> OpTable:
    ops, n, (b0, b1) = analysis.ops, len(analysis.ops), analysis.batch_sizes
    span = float(b1 - b0)
    arr = {name: np.zeros(n) for name in ("count", "f0", "fs", "y0", "ys", "spf", "stage", "spb", "layout", "pad",
                                          "fixed", "index", "plane0", "plane_slope", "score")}
    gemm0, gemm_slope = np.full((3, n), LARGE), np.zeros((3, n))
    half_tile, tensor = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    kinds: dict[str, int] = {}
    kind_index, phase_index = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    bandwidth = spec.memory_bandwidth_gbs * 1e9 * cal.memory_efficiency
    half_bandwidth = bandwidth * (1.0 if dram_ecc_off(spec) else cal.half_memory_efficiency)
    sm_rate = sm_clock_flops(spec)
    staging_per_byte = 1.0 / (spec.memory_bandwidth_gbs * 1e9) + 1.0 / (sm_rate * ON_CHIP_BYTES_PER_FP32_FLOP)
    kernels, optimizer_calls, classes = 0.0, {}, set()
    relaid = compiled and inductor_channels_last(analysis)
    k_fill = np.full(n, cal.gemm_k_fill)
    for i, r in enumerate(ops):
        scale, dtype, launches = 1.0, r.dtype, 1.0
        if retype.dtype is not None and r.phase != "optimizer" and r.dtype not in FP64_DTYPES:  # autocast skips float64
            if r.kind in TENSOR_KINDS:
                scale, dtype = retype.tensor_scale, retype.dtype
            else:
                scale = retype.other_scale
        has_flops = r.flops[0] > 0 or r.flops[1] > 0
        bw = bandwidth
        if has_flops and r.kind in TENSOR_KINDS:
            peak, cls = rate(spec, r.kind, dtype, precision, tf32)
            classes.add(cls)
            esize = 2.0 if dtype in HALF_DTYPES else 8.0 if dtype in FP64_DTYPES else 4.0
            tensor[i] = True
            half_tile[i] = cls == "half"
            align, padded = _alignment(r, cls, esize, compiled, spec.architecture)
            arr["pad"][i] = padded / bandwidth
            arr["spf"][i], on_tensor_cores = _tensor_seconds_per_flop(r, spec, cal, peak, cls, align)
            k_fill[i] = cal.gemm_k_fill * k_fill_share(spec, peak, cls, on_tensor_cores)
            arr["stage"][i] = esize * staging_per_byte / cal.operand_reuse
            if r.gemm is not None:
                g0, g1 = np.array(r.gemm[0]), np.array(r.gemm[1])
                gemm0[:, i], gemm_slope[:, i] = g0, (g1 - g0) / span
            if r.kind == "conv" and on_tensor_cores:
                # An implicit-GEMM convolution computes where each staged operand element comes from (the
                # im2col gather: filter tap, padding predicates) in integer arithmetic on the SMs, beside the
                # tensor-core math; a TF32 convolution that runs on the CUDA cores anyway (the faster kernel)
                # has none.
                arr["index"][i] = cal.conv_index_ops / sm_rate
            if r.kind == "conv" and cls == "half" and not (r.channels_last or relaid):
                arr["layout"][i] = cal.conv_layout_passes / bandwidth
            if "attention" in r.op and r.gemm is not None:
                tiles, arr["score"][i] = attention_terms(r, spec, cal)
                arr["spf"][i] *= tiles
                arr["stage"][i] *= tiles
        elif has_flops:
            arr["spf"][i] = 1.0 / (spec.fp32_tflops * 1e12 * cal.compute_eff("matmul", "fp32"))
        else:
            if compiled and r.fused_bytes is not None:
                total = r.bytes[0] + r.bytes[1]
                scale *= (r.fused_bytes[0] + r.fused_bytes[1]) / total if total > 0 else 1.0
                launches = r.fused_kernels
            bw = half_bandwidth if dtype in HALF_DTYPES else bw
        arr["plane0"][i], arr["plane_slope"][i] = _plane_floor(r, dtype, precision, spec, cal, span, compiled)
        arr["spb"][i], arr["count"][i] = 1.0 / bw, r.count
        arr["f0"][i], arr["fs"][i] = r.flops[0], (r.flops[1] - r.flops[0]) / span
        arr["y0"][i], arr["ys"][i] = r.bytes[0] * scale, (r.bytes[1] - r.bytes[0]) * scale / span
        if r.phase == "optimizer":
            optimizer_calls[r.op] = optimizer_calls.get(r.op, 0) + r.count
        else:
            kernels += r.count * launches
            arr["fixed"][i] = launches * cal.kernel_latency_seconds
        kind_index[i] = kinds.setdefault(r.kind, len(kinds))
        phase_index[i] = PHASES.index(r.phase)
    return OpTable(
        b0=float(b0), count=arr["count"], flops0=arr["f0"], flops_slope=arr["fs"], bytes0=arr["y0"],
        bytes_slope=arr["ys"], gemm0=gemm0, gemm_slope=gemm_slope, half_tile=half_tile, tensor=tensor,
        seconds_per_flop=arr["spf"], staging_seconds=arr["stage"], seconds_per_byte=arr["spb"],
        layout_per_byte=arr["layout"], pad_per_byte=arr["pad"], index_seconds=arr["index"],
        plane0=arr["plane0"], plane_slope=arr["plane_slope"], score_per_flop=arr["score"],
        fixed_seconds=arr["fixed"], kind_index=kind_index, kinds=tuple(kinds), phase_index=phase_index,
        kernels=kernels, optimizer_calls=optimizer_calls, classes_used=frozenset(classes), k_fill=k_fill,
        overlap=GEMM_OVERLAP, tf32=tf32)


# cuDNN runs FP32 3x3 stride-1 convolutions on CUDA cores as Winograd (Lavin & Gray 2016, arXiv:1509.09308).
# Its non-fused algorithms (forward, data and weight gradient) are priced as F(4x4, 3x3): 36 multiplies per
# 4x4 output tile instead of 144, 4x fewer (F(2x2, 3x3) saves 2.25x; cuDNN does not document its tile sizes,
# so this is judged by bench/accuracy_gpu.py's ResNet FP32 rows). cudnn.benchmark keeps the
# fastest, and the fit carries the transforms (adds, and the non-fused algorithms' transformed tensors
# through memory) in the FP32 efficiency. Tensor-core classes (TF32, 16 bits) run implicit GEMM instead.
WINOGRAD_MULTIPLY_REDUCTION = 4.0
# Whether a GEMM's operand staging overlaps its math (multistage cp.async / TMA pipelines: max of the two)
# or adds to it.
GEMM_OVERLAP = True
