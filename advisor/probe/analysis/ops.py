"""What the analysis knows about aten operators by name: kinds, byte rules and CUDA autocast's lists.

Owns the op tables the recorder consults (keyed by an operator's overload-packet name, ``"mm"``,
``"native_batch_norm"``, ...), ``classify`` (an operator's kind) and ``RawOp`` (one recorded call). Imports no
torch: ``classify`` reads operator tags by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["FUSIBLE_KINDS", "RawOp", "autocast_lowers", "classify", "is_pointwise", "lowbit_align"]

# Operators that launch no kernel and move no data (allocation, metadata, host-side scalars).
FREE = {
    "_unsafe_view", "lift_fresh", "lift_fresh_copy", "empty", "empty_like", "empty_strided", "new_empty",
    "new_empty_strided", "_local_scalar_dense", "scalar_tensor", "detach", "alias", "set_", "resize_",
    "_record_function_enter_new", "_record_function_exit", "_record_function_enter", "sym_size", "sym_stride",
    "sym_numel", "sym_storage_offset", "is_contiguous", "dim", "numel", "size", "stride", "device", "layout",
    "_has_compatible_shallow_copy_type", "is_same_size", "_to_dense", "copy_sparse_to_sparse_",
}

MATMUL = {"mm", "addmm", "bmm", "baddbmm", "addbmm", "matmul", "mv", "addmv", "dot", "vdot", "linear",
          "_scaled_mm", "_int_mm", "addr", "einsum", "tensordot"}
CONV_PREFIXES = ("convolution", "_convolution", "cudnn_convolution", "_slow_conv2d", "slow_conv",
                 "mkldnn_convolution", "miopen_convolution", "conv_depthwise", "_conv_depthwise", "conv1d",
                 "conv2d", "conv3d", "conv_transpose", "_nnpack_spatial_convolution", "thnn_conv")
_CONV_OTHERS = {"convolution_backward", "cudnn_convolution_transpose"}
NORM_WORDS = ("batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "_batch_norm")
REDUCTION = {"sum", "mean", "amax", "amin", "max", "min", "argmax", "argmin", "var", "var_mean", "std",
             "std_mean", "norm", "linalg_vector_norm", "prod", "cumsum", "cumprod", "logsumexp", "any", "all",
             "nll_loss_forward", "nll_loss_backward", "nll_loss2d_forward", "nll_loss2d_backward", "mse_loss",
             "mse_loss_backward", "l1_loss", "smooth_l1_loss", "smooth_l1_loss_backward", "huber_loss",
             "huber_loss_backward", "binary_cross_entropy", "binary_cross_entropy_backward",
             "binary_cross_entropy_with_logits", "kl_div", "count_nonzero", "topk", "sort"}
COPY = {"copy_", "_to_copy", "clone", "cat", "stack", "_copy_from", "repeat", "contiguous", "constant_pad_nd",
        "index_select", "gather", "flip", "roll", "_pin_memory"}
# Operators that only write their output (the argument they overwrite is not read).
WRITE_ONLY = {"zero_", "fill_", "bernoulli_", "uniform_", "normal_", "random_", "exponential_",
              "geometric_", "log_normal_", "cauchy_", "zeros", "ones", "full", "zeros_like", "ones_like",
              "full_like", "arange", "randn", "rand", "randint", "randn_like", "rand_like", "randint_like",
              "randperm", "new_zeros", "new_ones", "new_full", "linspace"}
# Pointwise by nature though not tagged so (compared without a trailing "_", so in-place forms count too).
_ELEMENTWISE_STEMS = {"where", "masked_fill", "clamp", "threshold", "dropout", "native_dropout"}

# Operators whose CUDA kernels read some inputs twice (by argument position): batch/group norm compute the
# statistics in one pass over the input and normalise in a second; their backward reduces over
# (grad_output, input) and then applies the result in another pass over both. LayerNorm's backward runs the
# input-gradient kernel and then a separate gamma/beta kernel, each reading grad_output and the input
# (aten/src/ATen/native/cuda/layer_norm_kernel.cu, LayerNormBackwardKernelImplInternal); its forward is one
# vectorised pass where the row width allows (launch_vectorized_layer_norm_kernel), so it is not listed.
# Batch norms whose CUDA kernels (PyTorch's own for bf16, cuDNN's for fp16/fp32) give each channel of a
# channels-first input one thread block (see ``OpRecord.channel_planes``); the value is the input's position.
BATCH_NORM_INPUT = {"native_batch_norm": 0, "_native_batch_norm_legit": 0, "_native_batch_norm_legit_functional": 0,
                    "cudnn_batch_norm": 0, "native_batch_norm_backward": 1, "cudnn_batch_norm_backward": 0}
SECOND_READ = {"native_batch_norm": (0,), "_native_batch_norm_legit": (0,),
               "_native_batch_norm_legit_functional": (0,), "cudnn_batch_norm": (0,),
               "native_batch_norm_backward": (0, 1), "cudnn_batch_norm_backward": (0, 1),
               "native_layer_norm_backward": (0, 1),
               "native_group_norm": (0,), "native_group_norm_backward": (0, 1)}

# CUDA autocast (torch/csrc/autograd/autocast_mode.cpp, "lower_precision_fp" list): run in 16 bits. Their
# backward runs in 16 bits too (the saved operands are the 16-bit casts).
AUTOCAST_LOWER = MATMUL | {"convolution", "_convolution", "convolution_backward", "cudnn_convolution",
                           "cudnn_convolution_transpose", "_slow_conv2d_forward", "_slow_conv2d_backward",
                           "mkldnn_convolution", "prelu", "_prelu_kernel", "_prelu_kernel_backward"}
ATTENTION_WORDS = ("attention",)  # _scaled_dot_product_*_attention(_backward), _flash/_efficient_attention_*
# CUDA autocast's "fp32" list: inputs are cast to fp32 first (a separate cast kernel per 16-bit input).
AUTOCAST_FP32_CAST = {
    "native_layer_norm", "native_layer_norm_backward", "native_group_norm", "native_group_norm_backward",
    "layer_norm", "group_norm", "nll_loss_forward", "nll_loss_backward", "nll_loss2d_forward",
    "nll_loss2d_backward", "mse_loss", "mse_loss_backward", "l1_loss", "smooth_l1_loss", "smooth_l1_loss_backward",
    "huber_loss", "huber_loss_backward", "binary_cross_entropy_with_logits", "kl_div", "pow", "exp", "log",
    "log1p", "log2", "log10", "expm1", "reciprocal", "rsqrt", "softplus", "softplus_backward", "erfinv", "acos",
    "asin", "cosh", "sinh", "tan", "cdist", "_cdist_forward", "_cdist_backward", "dist", "renorm", "logsumexp",
    "_fused_rms_norm", "rms_norm", "upsample_nearest2d", "upsample_bilinear2d", "cosine_similarity",
    "poisson_nll_loss", "cosine_embedding_loss", "hinge_embedding_loss", "margin_ranking_loss",
    "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
}
# CUDA autocast's "fp32_set_opt_dtype" list: read the 16-bit input as is, compute and write in fp32.
AUTOCAST_FP32_OUT = {"_softmax", "_log_softmax", "_safe_softmax", "_softmax_backward_data",
                     "_log_softmax_backward_data", "sum", "prod", "cumsum", "cumprod", "linalg_vector_norm", "norm"}
# ...except that softmax reads a 16-bit input as is only when it is fp16: ATen's ``softmax(input, dim, dtype)``
# (aten/src/ATen/native/SoftMax.cpp) takes the one-kernel ``half_to_float`` path for CUDA Half alone, and
# casts any other input to the dtype asked for first (a bf16 input: a bf16 -> fp32 copy kernel, then an fp32
# softmax; kopernik278/megatron-performance-lab's A40 trace shows both, bench/kernel_trace_a40.py).
BF16_UPCAST_FIRST = {"_softmax", "_log_softmax"}
# A softmax's backward -> its forward: the backward reads the forward's output (its second argument) and writes
# the input gradient in the dtype the forward read its input in.
SOFTMAX_BACKWARD = {"_softmax_backward_data": "_softmax", "_log_softmax_backward_data": "_log_softmax"}
SOFTMAX_FORWARD = frozenset(SOFTMAX_BACKWARD.values())

# Kinds TorchInductor fuses into one generated kernel when they run back to back (pointwise ops, norms,
# softmax, reductions, casts and copies); matmuls, convolutions and attention stay library calls that end a run.
FUSIBLE_KINDS = frozenset({"elementwise", "norm", "softmax", "reduction", "copy"})

# Metadata queries: answered without a kernel, passed through before any accounting.
METADATA = {"sym_is_contiguous", "is_contiguous", "is_strides_like_format", "is_non_overlapping_and_dense",
            "size", "sym_size", "stride", "sym_stride", "numel", "sym_numel", "dim", "layout", "device",
            "sym_storage_offset", "storage_offset"}


@dataclass
class RawOp:
    """One recorded operator call, before the two traces are paired and grouped.

    Attributes:
        op: the full overload name, e.g. ``"aten.addmm.default"``.
        align: tensor-core alignment in elements (matmul/conv/attention; 8 otherwise), see ``lowbit_align``.
        fused_bytes: bytes the call still moves under torch.compile (see ``OpRecord.fused_bytes``).
        fused_kernels: kernels it launches under torch.compile (0 when fused into the run's first op).
        gemm: (M, N, K) of the GEMM a matmul/conv/attention kernel tiles (see ``OpRecord.gemm``), else None.
        winograd: share of a convolution's FLOPs that can run as Winograd (see ``OpRecord.winograd_share``).
        channels_last: a convolution on a channels-last input (see ``OpRecord.channels_last``).
        grouped: a grouped convolution, more than one input channel a group (see ``OpRecord.grouped``).
        planes: a channels-first batch norm's channel count (see ``OpRecord.channel_planes``), else 0.
        plane_elements: elements of one channel of that batch norm's input (batch x spatial), else 0.
        attention: a fused attention kernel's options (see ``OpRecord.attention``), else ().
        kind: what ``classify`` says, or ``"optimizer"`` / ``"copy"`` (autocast casts) / ``"matmul"`` (fused).
        phase: ``"forward"``, ``"backward"`` or ``"optimizer"``.
        flops: FLOPs of this call.
        bytes: bytes read + written by this call.
        dtype: the dtype it computes in, without the ``torch.`` prefix (``"none"`` without a tensor output).
    """

    op: str
    kind: str
    phase: str
    flops: float
    bytes: float
    dtype: str
    align: int = 8
    fused_bytes: float | None = None
    fused_kernels: float = 1.0
    gemm: tuple[float, float, float] | None = None
    winograd: float = 0.0
    channels_last: bool = False
    grouped: bool = False
    planes: int = 0
    plane_elements: float = 0.0
    attention: tuple[str, ...] = ()


def lowbit_align(dims: Iterable[int]) -> int:
    """The largest of 8, 4, 2, 1 that divides every dimension (tensor cores want multiples of 8 in 16 bits)."""
    align = 8
    for d in dims:
        d = int(d)
        while align > 1 and d % align:
            align //= 2
    return align


def is_pointwise(tags: Iterable[Any]) -> bool:
    """Whether an operator's tags (``func.tags``, a list of ``torch.Tag``) include ``torch.Tag.pointwise``."""
    return any(getattr(tag, "name", None) == "pointwise" for tag in tags)


def autocast_lowers(name: str) -> bool:
    """Whether CUDA autocast runs the operator in 16 bits (matrix multiplies, convolutions, attention)."""
    return name in AUTOCAST_LOWER or any(w in name for w in ATTENTION_WORDS)


def classify(op_name: str, tags: Iterable[Any] = ()) -> str:
    """Kind of an aten operator by its overload-packet name (``"mm"``, ``"native_batch_norm"``, ...)."""
    name = op_name
    if "attention" in name or name in MATMUL:
        return "matmul"
    if name.startswith(CONV_PREFIXES) or name in _CONV_OTHERS:
        return "conv"
    if any(w in name for w in NORM_WORDS):
        return "norm"
    if "softmax" in name:
        return "softmax"
    if "embedding" in name:
        return "embedding"
    if name in COPY:
        return "copy"
    if name in REDUCTION or name.endswith("_loss") or "loss_" in name:
        return "reduction"
    if is_pointwise(tags) or name in WRITE_ONLY or name.rstrip("_") in _ELEMENTWISE_STEMS:
        return "elementwise"
    return "other"
