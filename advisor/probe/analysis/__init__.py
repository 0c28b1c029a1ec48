"""Shape-level analysis of one training step, without running it at full size.

``analyze(workload)`` builds the model and runs forward + loss + backward + ``optimizer.step()`` under
torch's ``FakeTensorMode`` (tensors carry shapes and dtypes but no data, so nothing of the activations is
allocated), with a ``TorchDispatchMode`` on top that sees every aten operator the step runs. For each one
it records:

- FLOPs, from torch's own per-operator formulas (``torch.utils.flop_counter.flop_registry``, the table
  ``FlopCounterMode`` uses: matrix multiplies, convolutions and fused attention, forward and backward, at 2
  FLOPs per multiply-add). Other operators count 0 FLOPs: on a GPU they are bound by memory traffic.
- bytes read + written: every tensor argument and output, ``numel x element size`` (a broadcast/expanded
  argument counts its real extent; views, reshapes and allocations move nothing and are not recorded).
- kind (``matmul``, ``conv``, ``norm``, ``softmax``, ``embedding``, ``elementwise``, ``reduction``,
  ``optimizer``, ``copy``, ``other``) and phase (``forward``, ``backward``, ``optimizer``).

The step is traced at two small batch sizes (default 2 and 8) so every operator's FLOPs and bytes are known
as linear functions of the batch size; a large batch is then extrapolated, never traced (ResNet-50 at 256
costs the same as at 8: a few seconds on a laptop CPU). Identical operators (same op, kind, phase, dtype
and the same cost at both batch sizes, which identical shapes imply) are grouped with a ``count``;
``OpRecord.flops`` and ``OpRecord.bytes`` are per single call, at ``Analysis.batch_sizes[0]`` and ``[1]``.

Mixed precision (``precision="bf16"|"fp16"``) follows CUDA autocast's rules rather than the CPU's: the trace
runs in fp32 on the CPU, and each tensor carries a *virtual* dtype. Matrix multiplies, convolutions and
attention run in 16 bits, fed by casts (a weight's cast once per forward, as autocast's cache does; each
cast also costs a cast of its gradient in backward); CUDA autocast's fp32 operators (layer/group norm,
losses, exp/log/pow, ...) get fp32 inputs; softmax and sums read 16-bit input and write fp32; everything
else follows its inputs (batch norm and ReLU of a 16-bit activation stay 16-bit; a 16-bit + fp32 residual
add is fp32). The optimizer works on fp32 master weights. "tf32" changes no byte and no FLOP (it is
``advisor.predictor.roofline``'s business), so "fp32" and "tf32" analyses are the same.

The trace runs on the CPU, but where CUDA PyTorch takes another path the trace follows the GPU's (a
``TorchFunctionMode``): ``F.scaled_dot_product_attention`` is one fused attention kernel forward and one
backward (flash / memory-efficient attention: q, k, v and the output move, the attention matrix never does),
where the CPU would run the unfused math; ``F.dropout`` is CUDA's single ``native_dropout`` kernel, not
bernoulli + mul + div. Batch and group norm read their input twice (statistics, then normalisation), as their
CUDA kernels do.

Known simplifications: the optimizer is traced per tensor, where CUDA PyTorch runs ``foreach`` kernels over
many tensors at once (the roofline counts launches accordingly); otherwise bytes assume every operand is read
from and written to memory once (no cache reuse, no fusion beyond the kernels PyTorch itself fuses).

Any failure raises ``advisor.errors.PredictionError``: callers treat the analysis as optional.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from advisor.errors import AdvisorError, PredictionError
from advisor.schemas import PRECISIONS, Analysis, OpRecord, at_batch

# ----------------------------------------------------------------------------------------- op tables

# Operators that launch no kernel and move no data (allocation, metadata, host-side scalars).
_FREE = {
    "_unsafe_view", "lift_fresh", "lift_fresh_copy", "empty", "empty_like", "empty_strided", "new_empty",
    "new_empty_strided", "_local_scalar_dense", "scalar_tensor", "detach", "alias", "set_", "resize_",
    "_record_function_enter_new", "_record_function_exit", "_record_function_enter", "sym_size", "sym_stride",
    "sym_numel", "sym_storage_offset", "is_contiguous", "dim", "numel", "size", "stride", "device", "layout",
    "_has_compatible_shallow_copy_type", "is_same_size", "_to_dense", "copy_sparse_to_sparse_",
}

_MATMUL = {"mm", "addmm", "bmm", "baddbmm", "addbmm", "matmul", "mv", "addmv", "dot", "vdot", "linear",
           "_scaled_mm", "_int_mm", "addr", "einsum", "tensordot"}
_CONV_PREFIXES = ("convolution", "_convolution", "cudnn_convolution", "_slow_conv2d", "slow_conv",
                  "mkldnn_convolution", "miopen_convolution", "conv_depthwise", "_conv_depthwise", "conv1d",
                  "conv2d", "conv3d", "conv_transpose", "_nnpack_spatial_convolution", "thnn_conv")
_NORM_WORDS = ("batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "_batch_norm")
_REDUCTION = {"sum", "mean", "amax", "amin", "max", "min", "argmax", "argmin", "var", "var_mean", "std",
              "std_mean", "norm", "linalg_vector_norm", "prod", "cumsum", "cumprod", "logsumexp", "any", "all",
              "nll_loss_forward", "nll_loss_backward", "nll_loss2d_forward", "nll_loss2d_backward", "mse_loss",
              "mse_loss_backward", "l1_loss", "smooth_l1_loss", "smooth_l1_loss_backward", "huber_loss",
              "huber_loss_backward", "binary_cross_entropy", "binary_cross_entropy_backward",
              "binary_cross_entropy_with_logits", "kl_div", "count_nonzero", "topk", "sort"}
_COPY = {"copy_", "_to_copy", "clone", "cat", "stack", "_copy_from", "repeat", "contiguous", "constant_pad_nd",
         "index_select", "gather", "flip", "roll", "_pin_memory"}
# Operators that only write their output (the argument they overwrite is not read).
_WRITE_ONLY = {"zero_", "fill_", "bernoulli_", "uniform_", "normal_", "random_", "exponential_",
               "geometric_", "log_normal_", "cauchy_", "zeros", "ones", "full", "zeros_like", "ones_like",
               "full_like", "arange", "randn", "rand", "randint", "randn_like", "rand_like", "randint_like",
               "randperm", "new_zeros", "new_ones", "new_full", "linspace"}

# Operators whose CUDA kernels read some inputs twice (by argument position): batch/group norm compute the
# statistics in one pass over the input and normalise in a second; their backward reduces over
# (grad_output, input) and then applies the result in another pass over both.
_SECOND_READ = {"native_batch_norm": (0,), "_native_batch_norm_legit": (0,),
                "_native_batch_norm_legit_functional": (0,), "cudnn_batch_norm": (0,),
                "native_batch_norm_backward": (0, 1), "cudnn_batch_norm_backward": (0, 1),
                "native_group_norm": (0,), "native_group_norm_backward": (0, 1)}

# CUDA autocast (torch/csrc/autograd/autocast_mode.cpp, "lower_precision_fp" list): run in 16 bits. Their
# backward runs in 16 bits too (the saved operands are the 16-bit casts).
_LOWER = _MATMUL | {"convolution", "_convolution", "convolution_backward", "cudnn_convolution",
                    "cudnn_convolution_transpose", "_slow_conv2d_forward", "_slow_conv2d_backward",
                    "mkldnn_convolution", "prelu", "_prelu_kernel", "_prelu_kernel_backward"}
_ATTENTION_WORDS = ("attention",)  # _scaled_dot_product_*_attention(_backward), _flash/_efficient_attention_*
# CUDA autocast's "fp32" list: inputs are cast to fp32 first (a separate cast kernel per 16-bit input).
_FP32_CAST = {"native_layer_norm", "native_layer_norm_backward", "native_group_norm",
              "native_group_norm_backward", "layer_norm", "group_norm", "nll_loss_forward", "nll_loss_backward",
              "nll_loss2d_forward", "nll_loss2d_backward", "mse_loss", "mse_loss_backward", "l1_loss",
              "smooth_l1_loss", "smooth_l1_loss_backward", "huber_loss", "huber_loss_backward",
              "binary_cross_entropy_with_logits", "kl_div", "pow", "exp", "log", "log1p", "log2", "log10",
              "expm1", "reciprocal", "rsqrt", "softplus", "softplus_backward", "erfinv", "acos", "asin", "cosh",
              "sinh", "tan", "cdist", "_cdist_forward", "_cdist_backward", "dist", "renorm", "logsumexp",
              "_fused_rms_norm", "rms_norm", "upsample_nearest2d", "upsample_bilinear2d", "cosine_similarity",
              "poisson_nll_loss", "cosine_embedding_loss", "hinge_embedding_loss", "margin_ranking_loss",
              "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss", "multilabel_margin_loss"}
# CUDA autocast's "fp32_set_opt_dtype" list: read the 16-bit input as is, compute and write in fp32.
_FP32_OUT = {"_softmax", "_log_softmax", "_safe_softmax", "_softmax_backward_data",
             "_log_softmax_backward_data", "sum", "prod", "cumsum", "cumprod", "linalg_vector_norm", "norm"}

_METADATA_PACKETS = {"sym_is_contiguous", "is_contiguous", "is_strides_like_format",
                     "is_non_overlapping_and_dense", "size", "sym_size", "stride", "sym_stride", "numel",
                     "sym_numel", "dim", "layout", "device", "sym_storage_offset", "storage_offset"}


def classify(op_name: str, tags: Any = ()) -> str:
    """Kind of an aten operator by its overload-packet name (``"mm"``, ``"native_batch_norm"``, ...)."""
    import torch

    name = op_name
    if "attention" in name or name in _MATMUL:
        return "matmul"
    if name.startswith(_CONV_PREFIXES) or name in {"convolution_backward", "cudnn_convolution_transpose"}:
        return "conv"
    if any(w in name for w in _NORM_WORDS):
        return "norm"
    if "softmax" in name:
        return "softmax"
    if "embedding" in name:
        return "embedding"
    if name in _COPY:
        return "copy"
    if name in _REDUCTION or name.endswith("_loss") or "loss_" in name:
        return "reduction"
    if torch.Tag.pointwise in tags or name in _WRITE_ONLY or name.rstrip("_") in {"where", "masked_fill", "clamp",
                                                                                    "threshold", "dropout"}:
        return "elementwise"
    return "other"


# ---------------------------------------------------------------------------------------- recording


@dataclass
class _Raw:
    op: str
    kind: str
    phase: str
    flops: float
    bytes: float
    dtype: str


def _storage_key(t) -> int | None:
    try:
        return t.untyped_storage()._cdata
    except Exception:
        return None


def _effective_numel(t) -> int:
    """Elements actually held: a broadcast (stride-0) dimension holds one element, not ``size``."""
    n = 1
    for size, stride in zip(t.shape, t.stride(), strict=False):
        if size == 0:
            return 0
        if stride != 0:
            n *= int(size)
    return n


def _dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


def _attention_flops(name: str, args: tuple, out: Any) -> float:
    """FLOPs of CPU attention kernels the flop registry does not list (same formulas as its CUDA ones)."""
    from torch.utils import flop_counter as fc

    try:
        if name.endswith("_backward"):
            grad_out, q, k, v = args[0], args[1], args[2], args[3]
            return float(fc.sdpa_backward_flop_count(tuple(grad_out.shape), tuple(q.shape), tuple(k.shape),
                                                     tuple(v.shape)))
        q, k, v = args[0], args[1], args[2]
        return float(fc.sdpa_flop_count(tuple(q.shape), tuple(k.shape), tuple(v.shape)))
    except Exception:
        return 0.0


def _make_recorder(precision: str, param_storages: set[int]):
    import torch
    from torch.utils import flop_counter as fc
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten
    from torch.utils.weak import WeakTensorKeyDictionary

    half = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    registry = fc.flop_registry

    class Recorder(TorchDispatchMode):
        """Records every aten op (see the module docstring); tracks virtual dtypes for mixed precision."""

        def __init__(self) -> None:
            super().__init__()
            self.phase = "forward"
            self.recording = True
            self.records: list[_Raw] = []
            self.mirrored_casts: list[_Raw] = []  # gradient casts of forward casts, added to backward
            self.vdtype = WeakTensorKeyDictionary()
            self.cast_cache: set[int] = set()
            self.saved: dict[int, float] = {}
            self.suppress = 0  # > 0 inside a fused op's own implementation: its inner ops are not recorded

        # -- virtual dtypes
        def vd(self, t):
            if not t.is_floating_point():
                return t.dtype
            return self.vdtype.get(t, t.dtype)

        def nbytes(self, t, dtype=None) -> float:
            dtype = dtype if dtype is not None else self.vd(t)
            return float(_effective_numel(t) * _itemsize(dtype))

        def cast(self, t, to_dtype) -> None:
            """Cost of an autocast cast of t to to_dtype (and of its gradient's cast back in backward)."""
            n = _effective_numel(t)
            b = float(n * (_itemsize(self.vd(t)) + _itemsize(to_dtype)))
            if self.recording:
                self.records.append(_Raw("aten._to_copy.default", "copy", "forward", 0.0, b,
                                         _dtype_name(to_dtype)))
                if t.requires_grad:
                    self.mirrored_casts.append(_Raw("aten._to_copy.default", "copy", "backward", 0.0, b,
                                                    _dtype_name(self.vd(t))))

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            name = func._overloadpacket.__name__
            if name in _METADATA_PACKETS or func.namespace == "prim":
                return func(*args, **kwargs)
            out = func(*args, **kwargs)
            try:
                self._record(func, name, args, kwargs, out)
            except Exception:  # never let accounting break the trace; the op simply goes unrecorded
                pass
            return out

        def record_fused(self, op: str, flops: float, inputs: list, outputs: list) -> None:
            """One fused GPU kernel standing for ops the CPU runs unfused (e.g. attention)."""
            name = op.split(".")[1] if op.count(".") >= 2 else op
            in_dtypes = self._virtual_inputs(name, inputs)
            out_dtype = half if half is not None and self.phase != "optimizer" else None
            for o in outputs:
                if o.is_floating_point() and out_dtype is not None:
                    self.vdtype[o] = out_dtype
            if not self.recording:
                return
            nbytes = sum(self.nbytes(t, d) for t, d in zip(inputs, in_dtypes, strict=False))
            nbytes += sum(self.nbytes(o, out_dtype if o.is_floating_point() and out_dtype is not None else None)
                          for o in outputs)
            floats = [d for t, d in zip(inputs, in_dtypes, strict=False) if t.is_floating_point()]
            dtype = floats[0] if floats else torch.float32
            self.records.append(_Raw(op, "matmul", self.phase, float(flops), nbytes, _dtype_name(dtype)))

        def _record(self, func, name, args, kwargs, out) -> None:
            if self.suppress:
                return
            in_tensors = [a for a in tree_flatten((args, kwargs))[0] if isinstance(a, torch.Tensor)]
            out_tensors = [o for o in tree_flatten(out)[0] if isinstance(o, torch.Tensor)]
            if func.is_view or name in _FREE:
                if half is not None and in_tensors:
                    base = self.vd(in_tensors[0])
                    for o in out_tensors:
                        if o.is_floating_point():
                            self.vdtype[o] = base
                return
            kind = "optimizer" if self.phase == "optimizer" else classify(name, func.tags)
            in_dtypes = self._virtual_inputs(name, in_tensors)
            out_dtype = self._virtual_output(func, name, in_tensors, in_dtypes, out_tensors, kwargs)
            for o in out_tensors:
                if o.is_floating_point() and out_dtype is not None:
                    self.vdtype[o] = out_dtype
            if not self.recording:
                return

            # FLOPs: torch's own formulas; CPU attention kernels mapped onto the CUDA ones.
            flops = 0.0
            if func._overloadpacket in registry:
                try:
                    flops = float(registry[func._overloadpacket](*args, **kwargs, out_val=out))
                except Exception:
                    flops = 0.0
            elif "attention" in name:
                flops = _attention_flops(name, args, out)

            # Bytes: unique inputs read, outputs written (in-place: read + write of self).
            seen: set[int] = set()
            read = 0.0
            if name not in _WRITE_ONLY:
                for t, dt in zip(in_tensors, in_dtypes, strict=False):
                    if id(t) in seen:
                        continue
                    seen.add(id(t))
                    if name == "copy_" and t is in_tensors[0]:
                        continue  # the destination is written, not read
                    read += self.nbytes(t, dt)
                for pos in _SECOND_READ.get(name, ()):
                    if pos < len(in_tensors):
                        read += self.nbytes(in_tensors[pos], in_dtypes[pos])
            written = sum(self.nbytes(o, out_dtype if o.is_floating_point() and out_dtype is not None
                                      else None) for o in out_tensors)
            dtype = out_dtype if out_dtype is not None else (out_tensors[0].dtype if out_tensors else None)
            if kind in ("matmul", "conv") and in_dtypes:
                floats = [d for d in in_dtypes if d.is_floating_point]
                dtype = floats[0] if floats else dtype
            self.records.append(_Raw(str(func), kind, self.phase, flops, read + written,
                                     _dtype_name(dtype) if dtype is not None else "none"))

        def _virtual_inputs(self, name, in_tensors):
            """The dtypes the op reads its inputs in (after autocast's casts, which are recorded here)."""
            dts = [self.vd(t) for t in in_tensors]
            if half is None or self.phase == "optimizer":
                return [t.dtype for t in in_tensors]
            lower = name in _LOWER or any(w in name for w in _ATTENTION_WORDS)
            if lower:
                new = []
                for t, d in zip(in_tensors, dts, strict=False):
                    if t.is_floating_point() and d != half and t.dim() > 0:
                        if self.phase == "forward":
                            key = _storage_key(t)
                            if key in param_storages:
                                if key not in self.cast_cache:  # autocast caches weight casts per forward
                                    self.cast_cache.add(key)
                                    self.cast(t, half)
                            else:
                                self.cast(t, half)
                        d = half
                    new.append(d)
                return new
            if name in _FP32_CAST and self.phase == "forward":
                new = []
                for t, d in zip(in_tensors, dts, strict=False):
                    if t.is_floating_point() and d != torch.float32 and t.dim() > 0:
                        self.cast(t, torch.float32)
                        d = torch.float32
                    new.append(d)
                return new
            return dts

        def _virtual_output(self, func, name, in_tensors, in_dtypes, out_tensors, kwargs):
            real = next((o.dtype for o in out_tensors if o.is_floating_point()), None)
            if half is None or self.phase == "optimizer" or real is None:
                return real
            if name in ("_to_copy", "to") and kwargs.get("dtype") is not None:
                return kwargs["dtype"]
            if name in _LOWER or any(w in name for w in _ATTENTION_WORDS):
                return half
            if name in _FP32_CAST or name in _FP32_OUT:
                return torch.float32
            floats = [(t, d) for t, d in zip(in_tensors, in_dtypes, strict=False) if t.is_floating_point()]
            if not floats:
                return real
            if torch.Tag.pointwise in func.tags:
                dims = [d for t, d in floats if t.dim() > 0] or [d for _, d in floats]
                return torch.float32 if torch.float32 in dims else dims[0]
            return floats[0][1]

        # -- saved activations
        def pack(self, t):
            key = _storage_key(t)
            if key is not None and key not in param_storages and key not in self.saved:
                try:
                    self.saved[key] = float(t.untyped_storage().nbytes()) * (
                        _itemsize(self.vd(t)) / _itemsize(t.dtype) if t.is_floating_point() else 1.0)
                except Exception:
                    self.saved[key] = self.nbytes(t)
            return t

    return Recorder()


def _make_gpu_paths(recorder):
    """A TorchFunctionMode that sends the trace down the paths CUDA PyTorch takes where the CPU's differ.

    - ``F.scaled_dot_product_attention``: on a GPU one fused kernel (flash / memory-efficient attention)
      forward and one backward, reading q, k, v (and the mask) and writing the output; the CPU runs it
      as unfused math (matmul, softmax, dropout, matmul) over the whole attention matrix. Recorded as the
      fused kernels, with the fused kernels' saved tensors (q, k, v, output) for the activation memory.
    - ``F.dropout`` in training: CUDA runs ``native_dropout`` (one kernel writing the output and a bool
      mask); the CPU runs bernoulli + mul + div.
    """
    import torch
    import torch.nn.functional as F
    from torch.overrides import TorchFunctionMode
    from torch.utils import flop_counter as fc

    sdpa = F.scaled_dot_product_attention

    class FusedAttention(torch.autograd.Function):
        @staticmethod
        def forward(ctx, q, k, v, mask, call):
            recorder.suppress += 1
            try:
                out = call(q, k, v)
            finally:
                recorder.suppress -= 1
            ctx.save_for_backward(q, k, v, out)
            ctx.mask = mask
            lse = q.new_empty(q.shape[:-1], dtype=torch.float32)
            flops = fc.sdpa_flop_count(tuple(q.shape), tuple(k.shape), tuple(v.shape))
            ins = [q, k, v] + ([mask] if isinstance(mask, torch.Tensor) else [])
            recorder.record_fused("aten._scaled_dot_product_efficient_attention.default", flops, ins, [out, lse])
            return out

        @staticmethod
        def backward(ctx, grad_out):
            q, k, v, out = ctx.saved_tensors
            recorder.suppress += 1
            try:
                grads = [torch.empty_like(t) for t in (q, k, v)]
                lse = q.new_empty(q.shape[:-1], dtype=torch.float32)
            finally:
                recorder.suppress -= 1
            flops = fc.sdpa_backward_flop_count(tuple(grad_out.shape), tuple(q.shape), tuple(k.shape),
                                                tuple(v.shape))
            mask = ctx.mask
            ins = [grad_out, q, k, v, out, lse] + ([mask] if isinstance(mask, torch.Tensor) else [])
            recorder.record_fused("aten._scaled_dot_product_efficient_attention_backward.default", flops, ins,
                                  grads)
            return grads[0], grads[1], grads[2], None, None

    class GpuPaths(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func is sdpa and not recorder.suppress:
                return self._attention(func, args, kwargs)
            if func is F.dropout and not recorder.suppress:
                return self._dropout(func, args, kwargs)
            return func(*args, **kwargs)

        @staticmethod
        def _attention(func, args, kwargs):
            names = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")
            bound = dict(zip(names, args, strict=False))
            bound.update(kwargs)
            q, k, v = bound.get("query"), bound.get("key"), bound.get("value")
            mask = bound.get("attn_mask")
            if (not all(isinstance(t, torch.Tensor) for t in (q, k, v))
                    or (isinstance(mask, torch.Tensor) and mask.requires_grad)):
                return func(*args, **kwargs)
            rest = {n: bound[n] for n in names[3:] if n in bound}

            def call(q_, k_, v_):
                return func(q_, k_, v_, **rest)

            return FusedAttention.apply(q, k, v, mask, call)

        @staticmethod
        def _dropout(func, args, kwargs):
            names = ("input", "p", "training", "inplace")
            bound = dict(zip(names, args, strict=False))
            bound.update(kwargs)
            x, p = bound.get("input"), bound.get("p", 0.5)
            training, inplace = bound.get("training", True), bound.get("inplace", False)
            if not isinstance(x, torch.Tensor) or not training or inplace or not (0.0 < p < 1.0):
                return func(*args, **kwargs)
            return torch.ops.aten.native_dropout.default(x, p, True)[0]

    return GpuPaths()


def _itemsize(dtype) -> int:
    try:
        return int(dtype.itemsize)
    except AttributeError:  # pragma: no cover - torch < 2.1
        import torch

        return torch.empty((), dtype=dtype, device="meta").element_size()


# ------------------------------------------------------------------------------------------ analysis


def analyze(workload, batch_sizes: tuple[int, int] = (2, 8), precision: str = "fp32") -> Analysis:
    """Per-operator FLOPs and bytes of one training step of ``workload``, as linear functions of the batch.

    ``precision`` is the training precision to account bytes for ("fp32"/"tf32": everything fp32;
    "bf16"/"fp16": CUDA autocast's mixed precision). Raises ``PredictionError`` when the model cannot be
    traced with fake tensors (the message says why and what to do).
    """
    if precision not in PRECISIONS:
        raise PredictionError(f"unknown precision {precision!r}.",
                              hint=f"Fix: use one of {', '.join(PRECISIONS)}.")
    b0, b1 = (int(b) for b in batch_sizes)
    if not (0 < b0 < b1):
        raise PredictionError(f"analysis batch sizes must be two increasing positive integers, got {batch_sizes}.",
                              hint="Fix: pass e.g. batch_sizes=(2, 8).")
    started = time.perf_counter()
    try:
        return _analyze(workload, b0, b1, precision, started)
    except PredictionError:
        raise
    except AdvisorError as exc:
        raise PredictionError(f"could not analyse {getattr(workload, 'label', workload)}: {exc.message}",
                              hint=exc.hint) from exc
    except Exception as exc:
        raise PredictionError(
            f"could not analyse {getattr(workload, 'label', workload)} with fake tensors: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            hint="Fix: the shape-level analysis (needed only to predict GPUs you do not have) runs the step on "
            "fake tensors; avoid data-dependent Python in forward (.item(), .tolist(), .numpy(), shapes that "
            "depend on values). Probes on real devices still work without it.",
        ) from exc


def _fakeify_module(model, fake_mode) -> None:
    """Replace a real module's parameters and buffers by fake ones (fallback when building under fake fails)."""
    import torch

    for module in model.modules():
        for name, p in list(module._parameters.items()):
            if p is not None:
                module._parameters[name] = torch.nn.Parameter(fake_mode.from_tensor(p.detach()),
                                                              requires_grad=p.requires_grad)
        for name, b in list(module._buffers.items()):
            if b is not None:
                module._buffers[name] = fake_mode.from_tensor(b)


def _analyze(workload, b0: int, b1: int, precision: str, started: float) -> Analysis:
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils._pytree import tree_map

    from advisor.workload import call_model, compute_loss, split_batch

    fake_mode = FakeTensorMode(allow_non_fake_inputs=True)
    if isinstance(workload.model, torch.nn.Module):
        # The user's own module object: never touch it; analyse a copy with fake tensors instead.
        import copy

        model = copy.deepcopy(workload.model)
        _fakeify_module(model, fake_mode)
    else:
        try:
            with fake_mode:
                model = workload.build_model()
        except Exception:
            # e.g. reads its weights' values or loads a checkpoint: build for real (a genuine error in
            # build_model() is raised from here), then fake its tensors
            model = workload.build_model()
            _fakeify_module(model, fake_mode)
    model.train()

    params = list(OrderedDict((id(p), p) for p in model.parameters()).values())
    param_storages = {_storage_key(p) for p in params} | {_storage_key(b) for b in model.buffers()}
    param_storages.discard(None)
    with fake_mode:
        optimizer = workload.build_optimizer(params)

    def fake_batch(batch_size: int):
        batch = workload.make_batch(batch_size)
        inputs, target = split_batch(workload, batch)
        convert = lambda t: fake_mode.from_tensor(t) if isinstance(t, torch.Tensor) else t  # noqa: E731
        return tree_map(convert, inputs), tree_map(convert, target)

    runs: dict[int, tuple[list[_Raw], float]] = {}
    optimizer_records: list[_Raw] = []
    for i, b in enumerate((b0, b1)):
        inputs, target = fake_batch(b)
        rec = _make_recorder(precision, param_storages)
        gpu_paths = _make_gpu_paths(rec)
        optimizer.zero_grad(set_to_none=True)
        with fake_mode, rec:
            rec.phase = "forward"
            with torch.autograd.graph.saved_tensors_hooks(rec.pack, lambda t: t), gpu_paths:
                output = call_model(model, inputs)
                loss = compute_loss(workload, output, target)
            if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                raise PredictionError(
                    f"{workload.label}: the loss is {type(loss).__name__}"
                    f"{tuple(loss.shape) if isinstance(loss, torch.Tensor) else ''}, not a scalar tensor.",
                    hint="Fix: the model (target None) or loss_fn must return a scalar loss tensor.")
            rec.phase = "backward"
            loss.backward()
            rec.records.extend(rec.mirrored_casts)
            rec.phase = "optimizer"
            # The first step initialises the optimizer's state (zeros_like ...): not a steady-state step.
            rec.recording = i == 1
            optimizer.step()
            if i == 1:
                rec.recording = False
                optimizer_records = [r for r in rec.records if r.phase == "optimizer"]
        step_records = [r for r in rec.records if r.phase != "optimizer"]
        runs[b] = (step_records, sum(rec.saved.values()))
        del output, loss, inputs, target

    ops = _group(runs[b0][0], runs[b1][0], optimizer_records)

    def total(recs: list[_Raw], phases: tuple[str, ...]) -> float:
        return sum(r.flops for r in recs if r.phase in phases)

    step = b1 - b0
    both = ("forward", "backward")
    flops_per_sample = (total(runs[b1][0], both) - total(runs[b0][0], both)) / step
    fwd_per_sample = (total(runs[b1][0], ("forward",)) - total(runs[b0][0], ("forward",))) / step
    act0, act1 = runs[b0][1], runs[b1][1]
    act_per_sample = max(0.0, (act1 - act0) / step)
    act_fixed = max(0.0, act0 - act_per_sample * b0)

    param_count = sum(p.numel() for p in params)
    trainable = [p for p in params if p.requires_grad]
    param_bytes = float(sum(p.numel() * p.element_size() for p in params))
    gradient_bytes = float(sum(p.numel() * p.element_size() for p in trainable))
    state_bytes = 0.0
    for state in optimizer.state.values():
        for v in state.values():
            if isinstance(v, torch.Tensor):
                state_bytes += float(v.numel() * v.element_size())

    return Analysis(
        batch_sizes=(b0, b1),
        ops=ops,
        flops_per_sample=flops_per_sample,
        forward_flops_per_sample=fwd_per_sample,
        param_count=int(param_count),
        trainable_param_count=int(sum(p.numel() for p in trainable)),
        param_bytes=param_bytes,
        gradient_bytes=gradient_bytes,
        optimizer=type(optimizer).__name__,
        optimizer_state_bytes=state_bytes,
        activation_bytes_per_sample=act_per_sample,
        activation_bytes_fixed=act_fixed,
        analysis_seconds=time.perf_counter() - started,
    )


def _group(recs0: list[_Raw], recs1: list[_Raw], optimizer_records: list[_Raw]) -> list[OpRecord]:
    """Pair the two traces op by op and group identical ops; fall back to per-op totals if they differ."""
    groups: OrderedDict[tuple, list] = OrderedDict()
    paired = len(recs0) == len(recs1) and all(
        (a.op, a.phase) == (b.op, b.phase) for a, b in zip(recs0, recs1, strict=False))
    if paired:
        for a, b in zip(recs0, recs1, strict=False):
            key = (b.op, b.kind, b.phase, b.dtype, a.flops, b.flops, a.bytes, b.bytes)
            g = groups.setdefault(key, [0, (a.flops, b.flops), (a.bytes, b.bytes)])
            g[0] += 1
    else:
        # Data-dependent control flow: the traces differ. Keep per-(op, kind, phase, dtype) totals, with the
        # count of the larger batch's trace, so that count x per-call cost is right at both sizes.
        totals: OrderedDict[tuple, list] = OrderedDict()
        for idx, recs in enumerate((recs0, recs1)):
            for r in recs:
                t = totals.setdefault((r.op, r.kind, r.phase, r.dtype), [[0, 0], [0.0, 0.0], [0.0, 0.0]])
                t[0][idx] += 1
                t[1][idx] += r.flops
                t[2][idx] += r.bytes
        for key, (counts, fl, by) in totals.items():
            n = max(counts[1], 1)
            groups[key + ("total",)] = [n, (fl[0] / n, fl[1] / n), (by[0] / n, by[1] / n)]
    for r in optimizer_records:
        key = (r.op, r.kind, r.phase, r.dtype, r.flops, r.flops, r.bytes, r.bytes)
        g = groups.setdefault(key, [0, (r.flops, r.flops), (r.bytes, r.bytes)])
        g[0] += 1
    return [OpRecord(op=k[0], kind=k[1], phase=k[2], dtype=k[3], count=g[0], flops=g[1], bytes=g[2])
            for k, g in groups.items()]


# --------------------------------------------------------------------------------- using an analysis


def summarize(analysis: Analysis, batch_size: int) -> dict[str, dict[str, float]]:
    """Totals per kind at a batch size: {"conv": {"flops": ..., "bytes": ..., "count": ...}, ...}."""
    out: dict[str, dict[str, float]] = {}
    for r in analysis.ops:
        d = out.setdefault(r.kind, {"flops": 0.0, "bytes": 0.0, "count": 0})
        d["flops"] += r.count * at_batch(r.flops, analysis.batch_sizes, batch_size)
        d["bytes"] += r.count * at_batch(r.bytes, analysis.batch_sizes, batch_size)
        d["count"] += r.count
    return out


def _main(argv: list[str] | None = None) -> int:  # pragma: no cover - a developer's tool
    """python -m advisor.probe.analysis WORKLOAD.py [--batch N] [--precision P]: print the analysis."""
    import argparse

    from advisor.workload import load_workload

    ap = argparse.ArgumentParser(description=_main.__doc__)
    ap.add_argument("workload")
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--precision", default="fp32", choices=PRECISIONS)
    ns = ap.parse_args(argv)
    wl = load_workload(ns.workload)
    a = analyze(wl, precision=ns.precision)
    b = ns.batch or wl.batch_size or 32
    print(f"{wl.name}: analysed in {a.analysis_seconds:.2f} s; {a.param_count:,} parameters; "
          f"{a.forward_flops_per_sample / 1e9:.3f} GFLOP forward / sample, {a.flops_per_sample / 1e9:.3f} "
          f"GFLOP forward+backward / sample; optimizer {a.optimizer} ({a.optimizer_state_bytes / 2**20:.1f} MiB "
          f"state); activations {a.activation_bytes_per_sample / 2**20:.1f} MiB/sample + "
          f"{a.activation_bytes_fixed / 2**20:.1f} MiB; {len(a.ops)} op groups")
    print(f"at batch {b}:")
    for kind, d in sorted(summarize(a, b).items(), key=lambda kv: -kv[1]["bytes"]):
        print(f"  {kind:12s} {d['count']:6d} ops  {d['flops'] / 1e9:10.1f} GFLOP  {d['bytes'] / 1e9:8.2f} GB")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main())
