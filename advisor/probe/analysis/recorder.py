"""The torch dispatch mode that watches one traced training step: ``StepRecorder``.

``StepRecorder`` (a ``TorchDispatchMode``, as torch's ``FlopCounterMode``) records every aten operator's FLOPs,
bytes, kind and phase, and carries each tensor's *virtual* dtype for mixed precision (and its gradient's);
its ``pack`` is the saved-tensor hook that measures the activations autograd keeps. ``gpu_paths.GpuPaths``
(a ``TorchFunctionMode``) sends the trace down CUDA's paths where the CPU's differ. The rules are the package
docstring's; the tables are ``ops``'s.

Imports torch at the top: ``advisor.probe.analysis`` imports this module only when it analyses.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import flop_registry, sdpa_backward_flop_count, sdpa_flop_count
from torch.utils.weak import WeakTensorKeyDictionary

from advisor.probe.analysis.gemm import gemm_dims, grouped_conv, winograd_share
from advisor.probe.analysis.ops import (
    AUTOCAST_FP32_CAST,
    AUTOCAST_FP32_OUT,
    BATCH_NORM_INPUT,
    BF16_UPCAST_FIRST,
    FREE,
    FUSIBLE_KINDS,
    METADATA,
    SECOND_READ,
    SOFTMAX_BACKWARD,
    SOFTMAX_FORWARD,
    WRITE_ONLY,
    RawOp,
    autocast_lowers,
    classify,
    is_pointwise,
    lowbit_align,
)

__all__ = ["StepRecorder", "storage_key"]

_HALF = {"bf16": torch.bfloat16, "fp16": torch.float16}


def storage_key(t: Any) -> int | None:
    """Identity of a tensor's storage (shared by its views), or None for a tensor without one."""
    try:
        return t.untyped_storage()._cdata
    except (RuntimeError, AttributeError):  # sparse/nested tensors have no storage (NotImplementedError)
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


def _channels_last(tensors: list) -> bool:
    """Whether a convolution call's data is laid out channels-last: its first 4-D tensor (the input, or the
    gradient in a backward call) that is contiguous in exactly one of the two layouts decides (one with a
    single channel or a 1 x 1 image is both, and says nothing)."""
    for t in tensors:
        if t.dim() != 4:
            continue
        first, last = t.is_contiguous(), t.is_contiguous(memory_format=torch.channels_last)
        if first != last:
            return last
    return False


def _channel_planes(name: str, args: tuple) -> tuple[int, float]:
    """(channels, elements of one channel) of a training batch norm whose CUDA kernels run one thread block per
    channel: an input of 3 or more dimensions laid out channels-first (PyTorch takes its channels-last kernels,
    which split every channel across blocks, where the channel stride is 1: channels-last images, (N, C)
    inputs). (0, 0.0) for any other op, and for a forward in eval mode (running statistics: no reduction)."""
    pos = BATCH_NORM_INPUT.get(name)
    if pos is None or pos >= len(args) or not isinstance(args[pos], torch.Tensor):
        return 0, 0.0
    if not name.endswith("_backward") and len(args) > 5 and args[5] is False:
        return 0, 0.0
    t = args[pos]
    if t.dim() < 3 or t.stride(1) == 1 or t.shape[1] < 1:
        return 0, 0.0
    return int(t.shape[1]), float(t.numel() / t.shape[1])


def _dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


def _itemsize(dtype) -> int:
    try:
        return int(dtype.itemsize)
    except AttributeError:  # pragma: no cover - torch < 2.1
        return torch.empty((), dtype=dtype, device="meta").element_size()


# Real FLOPs per complex multiply-add over a real one's: (a + bi)(c + di) + (e + fi) is 4 real multiplies and 4 real
# adds, 8 FLOPs, where torch's formulas (which read only shapes) count 2 for every multiply-add.
COMPLEX_FLOPS_FACTOR = 4.0


def _op_flops(func, name: str, args: tuple, kwargs: dict, out: Any) -> float:
    """FLOPs of one aten call: torch's own formulas, x ``COMPLEX_FLOPS_FACTOR`` where the operands are complex (a
    complex matmul or convolution); CPU attention kernels mapped onto the CUDA ones."""
    try:
        if func._overloadpacket in flop_registry:
            flops = float(flop_registry[func._overloadpacket](*args, **kwargs, out_val=out))
            complex_operands = any(isinstance(a, torch.Tensor) and a.is_complex() for a in tree_flatten(args)[0])
            return flops * COMPLEX_FLOPS_FACTOR if complex_operands else flops
        if "attention" in name:
            return _attention_flops(name, args)
    except Exception:  # noqa: BLE001 - torch's formulas unpack/assert on argument forms they do not model: 0 FLOPs
        return 0.0
    return 0.0


def _attention_flops(name: str, args: tuple) -> float:
    """FLOPs of CPU attention kernels the flop registry does not list (same formulas as its CUDA ones)."""
    if name.endswith("_backward"):
        grad_out, q, k, v = args[0], args[1], args[2], args[3]
        return float(sdpa_backward_flop_count(tuple(grad_out.shape), tuple(q.shape), tuple(k.shape),
                                              tuple(v.shape)))
    q, k, v = args[0], args[1], args[2]
    return float(sdpa_flop_count(tuple(q.shape), tuple(k.shape), tuple(v.shape)))


class StepRecorder(TorchDispatchMode):
    """Records every aten op of a training step (see the package docstring); tracks virtual dtypes.

    Args:
        precision: the training precision; "bf16"/"fp16" follow CUDA autocast, anything else is fp32.
        param_storages: storage keys of the model's parameters and buffers (autocast caches their casts per
            forward; they are not activations).

    Attributes:
        phase: "forward", "backward" or "optimizer", set by the caller as the step goes.
        recording: False while an op's cost must not count (the optimizer's first, state-creating step).
        records: the recorded calls, in order.
        saved: bytes of each storage autograd saved for backward (the activations).
        saved_weights: storage keys of the parameters and buffers autograd saved for backward.
        suppress: > 0 inside a fused op's own implementation: its inner ops are not recorded.
    """

    def __init__(self, precision: str, param_storages: set[int]) -> None:
        super().__init__()
        self.half_dtype = _HALF.get(precision)
        self.param_storages = param_storages
        self.phase = "forward"
        self.recording = True
        self.records: list[RawOp] = []
        self.mirrored_casts: list[RawOp] = []  # gradient casts of forward casts, added to backward
        self.vdtype = WeakTensorKeyDictionary()
        self.cast_cache: set[int] = set()
        self.saved: dict[int, float] = {}
        self.saved_weights: set[int] = set()
        self.suppress = 0
        self.fusion = FusionRuns()
        # a softmax's output storage -> the dtype its input was read in (autograd hands backward the saved output
        # as another tensor object over the same storage)
        self.softmax_input: dict[int, Any] = {}

    # -- virtual dtypes
    def virtual_dtype(self, t):
        """The dtype ``t`` would have on a GPU under autocast (its real dtype in the fp32 trace otherwise)."""
        if not t.is_floating_point():
            return t.dtype
        return self.vdtype.get(t, t.dtype)

    def nbytes(self, t, dtype=None) -> float:
        """Bytes ``t`` holds in ``dtype`` (default: its virtual dtype), broadcast dimensions counted once."""
        dtype = dtype if dtype is not None else self.virtual_dtype(t)
        return float(_effective_numel(t) * _itemsize(dtype))

    def cast(self, t, to_dtype) -> None:
        """Cost of an autocast cast of t to to_dtype (and of its gradient's cast back in backward)."""
        n = _effective_numel(t)
        b = float(n * (_itemsize(self.virtual_dtype(t)) + _itemsize(to_dtype)))
        if self.recording:
            # Under torch.compile a cast is written by the kernel that produced its input: only the 16-bit
            # copy is written, no launch of its own.
            written = float(n * _itemsize(to_dtype))
            self.records.append(RawOp("aten._to_copy.default", "copy", "forward", 0.0, b, _dtype_name(to_dtype),
                                      fused_bytes=written, fused_kernels=0.0))
            self.mirror_cast(t, to_dtype)

    def mirror_cast(self, t, to_dtype) -> None:
        """The backward of a cast of ``t`` to ``to_dtype``: its gradient cast back to ``t``'s dtype."""
        if self.recording and t.requires_grad:
            n = _effective_numel(t)
            b = float(n * (_itemsize(self.virtual_dtype(t)) + _itemsize(to_dtype)))
            self.mirrored_casts.append(RawOp(
                "aten._to_copy.default", "copy", "backward", 0.0, b, _dtype_name(self.virtual_dtype(t)),
                fused_bytes=float(n * _itemsize(self.virtual_dtype(t))), fused_kernels=0.0))

    def _mark(self, outputs: list, dtype) -> None:
        """Give the floating-point outputs the virtual dtype ``dtype`` (None: keep their own)."""
        for o in outputs:
            if o.is_floating_point() and dtype is not None:
                self.vdtype[o] = dtype

    def type_gradients(self, out: Any) -> None:
        """Give each forward output's gradient, when backward reaches it, the output's virtual dtype.

        Autograd hands every tensor a gradient of its own dtype: under autocast a 16-bit op's gradient reaches
        its fp32 input through the backward of autocast's cast (priced as the mirrored cast). The fake trace
        runs in fp32 and has no such cast, so without this a 16-bit gradient would flow on into the fp32 ops'
        backward (dropout, softmax, residual adds over fp32 activations), priced at half their bytes.
        """
        if self.half_dtype is None or self.phase != "forward" or self.suppress:
            return
        for o in tree_flatten(out)[0]:
            if (isinstance(o, torch.Tensor) and o.is_floating_point() and o.requires_grad
                    and o.grad_fn is not None):
                o.register_hook(functools.partial(self._typed_gradient, self.virtual_dtype(o)))

    def _typed_gradient(self, dtype, grad) -> None:
        if isinstance(grad, torch.Tensor) and grad.is_floating_point():
            self.vdtype[grad] = dtype

    def _written(self, outputs: list, dtype) -> float:
        return sum(self.nbytes(o, dtype if o.is_floating_point() and dtype is not None else None)
                   for o in outputs)

    # -- recording
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func._overloadpacket.__name__
        if name in METADATA or func.namespace == "prim":
            return func(*args, **kwargs)
        out = func(*args, **kwargs)
        try:
            self._record(func, name, args, kwargs, out)
        except Exception:  # noqa: BLE001 - accounting must never break the trace: the op goes unrecorded
            pass
        return out

    def record_fused(self, op: str, flops: float, inputs: list, outputs: list,
                     attention: tuple[str, ...] = ()) -> None:
        """One fused GPU kernel standing for ops the CPU runs unfused (e.g. attention, with its options:
        ``OpRecord.attention``)."""
        name = op.split(".")[1] if op.count(".") >= 2 else op
        in_dtypes = self._virtual_inputs(name, inputs)
        out_dtype = self.half_dtype if self.half_dtype is not None and self.phase != "optimizer" else None
        self._mark(outputs, out_dtype)
        if not self.recording:
            return
        nbytes = sum(self.nbytes(t, d) for t, d in zip(inputs, in_dtypes, strict=False))
        nbytes += self._written(outputs, out_dtype)
        floats = [d for t, d in zip(inputs, in_dtypes, strict=False) if t.is_floating_point()]
        dtype = floats[0] if floats else torch.float32
        self.fusion.boundary()
        q, k = (inputs[1], inputs[2]) if name.endswith("_backward") else (inputs[0], inputs[1])
        # Flash/memory-efficient attention tiles the queries and loops over the keys: P @ V's output tile is
        # (query block x head size) with the keys as the reduction.
        gemm = (float(q.shape[-2]), float(q.shape[-1]), float(k.shape[-2])) if q.dim() >= 2 else None
        self.records.append(RawOp(op, "matmul", self.phase, float(flops), nbytes, _dtype_name(dtype),
                                  align=lowbit_align([inputs[0].shape[-1]]), gemm=gemm, attention=attention))

    def _record(self, func, name, args, kwargs, out) -> None:
        if self.suppress:
            return
        in_tensors = [a for a in tree_flatten((args, kwargs))[0] if isinstance(a, torch.Tensor)]
        out_tensors = [o for o in tree_flatten(out)[0] if isinstance(o, torch.Tensor)]
        if func.is_view or name in FREE:
            if self.half_dtype is not None and in_tensors:
                self._mark(out_tensors, self.virtual_dtype(in_tensors[0]))
            return
        kind = "optimizer" if self.phase == "optimizer" else classify(name, func.tags)
        in_dtypes = self._virtual_inputs(name, in_tensors)
        out_dtype = self._virtual_output(func, name, in_tensors, in_dtypes, out_tensors, kwargs)
        self._mark(out_tensors, out_dtype)
        if name in SOFTMAX_FORWARD and in_dtypes and out_tensors and (key := storage_key(out_tensors[0])):
            self.softmax_input[key] = in_dtypes[0]
        if not self.recording:
            return
        flops = _op_flops(func, name, args, kwargs, out)
        nbytes = self._read(name, in_tensors, in_dtypes) + self._written(out_tensors, out_dtype)
        dtype = out_dtype if out_dtype is not None else (out_tensors[0].dtype if out_tensors else None)
        align = 8
        if kind in ("matmul", "conv") and in_dtypes:
            floats = [d for d in in_dtypes if d.is_floating_point]
            dtype = floats[0] if floats else dtype
            align = self._align(kind, in_tensors + out_tensors)
        planes, plane_elements = _channel_planes(name, args)
        rec = RawOp(str(func), kind, self.phase, flops, nbytes, _dtype_name(dtype) if dtype is not None else "none",
                    align=align, gemm=gemm_dims(name, args, out) if kind in ("matmul", "conv") and flops else None,
                    winograd=winograd_share(name, args) if kind == "conv" and flops else 0.0,
                    channels_last=kind == "conv" and _channels_last(in_tensors),
                    grouped=kind == "conv" and grouped_conv(name, args), planes=planes,
                    plane_elements=plane_elements)
        if kind in FUSIBLE_KINDS and self.phase != "optimizer":
            self.fusion.add(rec, [(t, self.nbytes(t, d)) for t, d in zip(in_tensors, in_dtypes, strict=False)],
                            [(o, self.nbytes(o, out_dtype if o.is_floating_point() and out_dtype is not None
                                             else None)) for o in out_tensors])
        else:
            self.fusion.boundary()
        self.records.append(rec)

    def _align(self, kind: str, tensors: list) -> int:
        """Tensor-core alignment of a matmul/conv: its operands' contiguous extents (GEMM K/N, channels)."""
        dims = []
        for t in tensors:
            if not t.is_floating_point() or t.dim() < 2:
                continue
            if kind == "conv":
                weight = storage_key(t) in self.param_storages
                dims.extend([t.shape[0], t.shape[1]] if weight else [t.shape[1]])
            else:
                dims.append(t.shape[-1] if t.stride(-1) == 1 else t.shape[-2])
        return lowbit_align(dims)

    def _read(self, name: str, in_tensors: list, in_dtypes: list) -> float:
        """Bytes an op reads: each distinct input once, plus its kernel's second passes (in-place: self too)."""
        if name in WRITE_ONLY:
            return 0.0
        seen: set[int] = set()
        read = 0.0
        for t, dt in zip(in_tensors, in_dtypes, strict=False):
            if id(t) in seen:
                continue
            seen.add(id(t))
            if name == "copy_" and t is in_tensors[0]:
                continue  # the destination is written, not read
            read += self.nbytes(t, dt)
        for pos in SECOND_READ.get(name, ()):
            if pos < len(in_tensors):
                read += self.nbytes(in_tensors[pos], in_dtypes[pos])
        return read

    def _virtual_inputs(self, name, in_tensors):
        """The dtypes the op reads its inputs in (after autocast's casts, which are recorded here)."""
        dts = [self.virtual_dtype(t) for t in in_tensors]
        if self.half_dtype is None or self.phase == "optimizer":
            return [t.dtype for t in in_tensors]
        if autocast_lowers(name):
            return [self._cast_to_half(t, d) for t, d in zip(in_tensors, dts, strict=False)]
        if self.phase == "forward" and (name in AUTOCAST_FP32_CAST
                                        or (name in BF16_UPCAST_FIRST and self.half_dtype == torch.bfloat16)):
            return [self._cast_to_fp32(t, d) for t, d in zip(in_tensors, dts, strict=False)]
        return dts

    def _cast_to_half(self, t, d):
        """Autocast's cast of a 16-bit op's input; a weight is cast once per forward (autocast's cache). A float64
        input is not cast: autocast casts float32 tensors only (``is_eligible`` in ATen's autocast_mode.h)."""
        half = self.half_dtype
        if not (t.is_floating_point() and d not in (half, torch.float64) and t.dim() > 0):
            return d
        if self.phase == "forward":
            key = storage_key(t)
            if key in self.param_storages:
                if key not in self.cast_cache:
                    self.cast_cache.add(key)
                    self.cast(t, half)
            else:
                self.cast(t, half)
        return half

    def _cast_to_fp32(self, t, d):
        """Autocast's cast of an fp32-list op's 16-bit input."""
        if t.is_floating_point() and d != torch.float32 and t.dim() > 0:
            self.cast(t, torch.float32)
            return torch.float32
        return d

    def _virtual_output(self, func, name, in_tensors, in_dtypes, out_tensors, kwargs):
        """The dtype the op writes its floating-point outputs in under autocast (None: no such output)."""
        real = next((o.dtype for o in out_tensors if o.is_floating_point()), None)
        if self.half_dtype is None or self.phase == "optimizer" or real is None:
            return real
        if name in ("_to_copy", "to") and kwargs.get("dtype") is not None:
            return kwargs["dtype"]
        if autocast_lowers(name):
            return real if real == torch.float64 else self.half_dtype  # autocast leaves float64 ops in float64
        if name in SOFTMAX_BACKWARD and len(in_tensors) > 1:
            # ATen writes a softmax's input gradient in the dtype the forward read its input in: fp16 for the
            # half_to_float kernel, fp32 after an upcast (an fp32 input, or any bf16 one).
            return self.softmax_input.get(storage_key(in_tensors[1]), torch.float32)
        if name in AUTOCAST_FP32_CAST or name in AUTOCAST_FP32_OUT:
            return torch.float32
        floats = [(t, d) for t, d in zip(in_tensors, in_dtypes, strict=False) if t.is_floating_point()]
        if not floats:
            return real
        if is_pointwise(func.tags):
            dims = [d for t, d in floats if t.dim() > 0] or [d for _, d in floats]
            return torch.float32 if torch.float32 in dims else dims[0]
        return floats[0][1]

    # -- saved activations
    def pack(self, t):
        """The saved-tensor hook: counts each storage autograd keeps for backward once, in its virtual dtype."""
        key = storage_key(t)
        if key in self.param_storages:  # a weight kept for backward: a frozen one's 16-bit cast lives until then
            self.saved_weights.add(key)
        elif key is not None and key not in self.saved:
            self.saved[key] = self.storage_bytes(t)
        return t

    def storage_bytes(self, t) -> float:
        """Bytes of the storage under ``t``, in its virtual dtype (a saved view keeps all of its storage)."""
        try:
            return float(t.untyped_storage().nbytes()) * (
                _itemsize(self.virtual_dtype(t)) / _itemsize(t.dtype) if t.is_floating_point() else 1.0)
        except Exception:  # noqa: BLE001 - a hook that raises breaks the user's step: use the tensor's extent
            return self.nbytes(t)


class FusionRuns:
    """What torch.compile (TorchInductor) would fuse: runs of memory-bound ops between two tensor-core ops.

    Each run becomes one generated kernel: a tensor written by one op of the run and read by a later op of the
    same run is neither written to nor read from memory (Inductor keeps it in registers), so both the read
    and the producer's write leave the ops' ``fused_bytes``; the run's first op launches the one kernel
    (``fused_kernels`` 1, the others 0). A matmul, convolution, attention, embedding or other library call,
    and a change of phase, end the run. Tensors autograd saves for backward are assumed recomputed in
    backward rather than written (Inductor's min-cut partitioner recomputes cheap pointwise ops).
    """

    def __init__(self) -> None:
        self.run = 0
        self.open = False
        self.phase: str | None = None
        self.produced: dict[int, tuple[RawOp, float]] = {}  # storage -> (producer in this run, bytes written)

    def boundary(self) -> None:
        self.open = False
        self.produced = {}

    def add(self, rec: RawOp, inputs: list[tuple], outputs: list[tuple]) -> None:
        if not self.open or rec.phase != self.phase:
            self.boundary()
            self.run += 1
            self.open, self.phase = True, rec.phase
            rec.fused_kernels = 1.0
        else:
            rec.fused_kernels = 0.0
        fused = rec.bytes
        seen: set[int] = set()
        for t, nbytes in inputs:
            key = storage_key(t)
            if key is None or key in seen:
                continue
            seen.add(key)
            producer = self.produced.pop(key, None)
            if producer is not None:  # an intermediate of this run: the read and the write disappear
                fused -= nbytes
                producer[0].fused_bytes = max(0.0, (producer[0].fused_bytes or 0.0) - producer[1])
        rec.fused_bytes = max(0.0, fused)
        for o, nbytes in outputs:
            key = storage_key(o)
            if key is not None:
                self.produced[key] = (rec, nbytes)
