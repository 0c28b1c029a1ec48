"""The torch function mode that sends a traced step down CUDA's paths where the CPU's differ: ``GpuPaths``.

Fused attention (one kernel forward, one backward, ``FusedAttention``), dropout as CUDA's one
``native_dropout`` kernel, and an explicit upcast of a 16-bit activation as the copy kernel it is. Each
forward output's gradient is given the output's virtual dtype here too (``StepRecorder.type_gradients``): a
torch function's outputs are the tensors autograd gives gradients to. The rules are the package docstring's.

Imports torch at the top: ``advisor.probe.analysis`` imports this module only when it analyses.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode
from torch.utils.flop_counter import sdpa_backward_flop_count, sdpa_flop_count

from advisor.probe.analysis.recorder import StepRecorder

__all__ = ["FusedAttention", "GpuPaths"]


class FusedAttention(torch.autograd.Function):
    """``F.scaled_dot_product_attention`` as CUDA runs it: one fused kernel forward and one backward."""

    @staticmethod
    def forward(ctx, q, k, v, mask, call, recorder: StepRecorder, options: tuple[str, ...] = ()):
        recorder.suppress += 1
        try:
            out = call(q, k, v)
        finally:
            recorder.suppress -= 1
        ctx.save_for_backward(q, k, v, out)
        ctx.mask = mask
        ctx.recorder = recorder
        ctx.options = options
        lse = q.new_empty(q.shape[:-1], dtype=torch.float32)
        flops = sdpa_flop_count(tuple(q.shape), tuple(k.shape), tuple(v.shape))
        ins = [q, k, v] + ([mask] if isinstance(mask, torch.Tensor) else [])
        recorder.record_fused("aten._scaled_dot_product_efficient_attention.default", flops, ins, [out, lse],
                              options)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        q, k, v, out = ctx.saved_tensors
        recorder = ctx.recorder
        recorder.suppress += 1
        try:
            grads = [torch.empty_like(t) for t in (q, k, v)]
            lse = q.new_empty(q.shape[:-1], dtype=torch.float32)
        finally:
            recorder.suppress -= 1
        flops = sdpa_backward_flop_count(tuple(grad_out.shape), tuple(q.shape), tuple(k.shape), tuple(v.shape))
        mask = ctx.mask
        ins = [grad_out, q, k, v, out, lse] + ([mask] if isinstance(mask, torch.Tensor) else [])
        recorder.record_fused("aten._scaled_dot_product_efficient_attention_backward.default", flops, ins, grads,
                              ctx.options)
        return grads[0], grads[1], grads[2], None, None, None, None


class GpuPaths(TorchFunctionMode):
    """Sends the trace down the paths CUDA PyTorch takes where the CPU's differ.

    - ``F.scaled_dot_product_attention``: on a GPU one fused kernel (flash / memory-efficient attention)
      forward and one backward, reading q, k, v (and the mask) and writing the output; the CPU runs it
      as unfused math (matmul, softmax, dropout, matmul) over the whole attention matrix. Recorded as the
      fused kernels, with the fused kernels' saved tensors (q, k, v, output) for the activation memory.
    - ``F.dropout`` in training: CUDA runs ``native_dropout`` (one kernel writing the output and a bool
      mask); the CPU runs bernoulli + mul + div.

    Args:
        recorder: the step's recorder, which the fused kernels are recorded in.
    """

    def __init__(self, recorder: StepRecorder) -> None:
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.scaled_dot_product_attention and not self.recorder.suppress:
            out = self._attention(func, args, kwargs)
        elif func is F.dropout and not self.recorder.suppress:
            out = _dropout(func, args, kwargs)
        elif (func in _UPCASTS and not self.recorder.suppress and self._virtually_16_bit(args)
              and _only_upcast(func, args, kwargs)):
            out = torch.ops.aten._to_copy.default(args[0], dtype=torch.float32)
            self.recorder.mirror_cast(args[0], torch.float32)
        else:
            out = func(*args, **kwargs)
        self.recorder.type_gradients(out)
        return out

    def _virtually_16_bit(self, args) -> bool:
        x = args[0] if args else None
        return (isinstance(x, torch.Tensor) and x.dtype == torch.float32
                and self.recorder.virtual_dtype(x) in (torch.float16, torch.bfloat16))

    def _attention(self, func, args, kwargs):
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

        return FusedAttention.apply(q, k, v, mask, call, self.recorder, attention_options(bound, mask))


def attention_options(bound: dict, mask) -> tuple[str, ...]:
    """The options of one ``F.scaled_dot_product_attention`` call that change its kernel's pace
    (``OpRecord.attention``): a causal mask (the call's ``is_causal``), in-kernel dropout (``dropout_p`` > 0:
    the function draws it whether or not the module is training) and an explicit mask tensor."""
    options = []
    if bound.get("is_causal"):
        options.append("causal")
    p = bound.get("dropout_p")
    if isinstance(p, (int, float)) and p > 0:
        options.append("dropout")
    if isinstance(mask, torch.Tensor):
        options.append("mask")
    return tuple(options)


def _dropout(func, args, kwargs):
    """``F.dropout`` in training as CUDA's one ``native_dropout`` kernel."""
    names = ("input", "p", "training", "inplace")
    bound = dict(zip(names, args, strict=False))
    bound.update(kwargs)
    x, p = bound.get("input"), bound.get("p", 0.5)
    training, inplace = bound.get("training", True), bound.get("inplace", False)
    if not isinstance(x, torch.Tensor) or not training or inplace or not (0.0 < p < 1.0):
        return func(*args, **kwargs)
    return torch.ops.aten.native_dropout.default(x, p, True)[0]


# A 16-bit activation's explicit cast to fp32 (``x.float()``, ``x.to(torch.float32)``, ``x.to(residual.dtype)``):
# a copy kernel on the GPU, a no-op in the fp32 trace, so it is run as the copy it is.
_UPCASTS = (torch.Tensor.float, torch.Tensor.to)


def _only_upcast(func, args, kwargs) -> bool:
    """Whether an ``_UPCASTS`` call asks for nothing but fp32 (not another dtype, a device or a memory format):
    then it is run as the copy it is."""
    rest = list(args[1:]) + list(kwargs.values())
    if func is not torch.Tensor.to:
        return not rest
    dtypes = [a for a in rest if isinstance(a, torch.dtype)] + [a.dtype for a in rest if isinstance(a, torch.Tensor)]
    return dtypes == [torch.float32] and all(isinstance(a, (torch.dtype, torch.Tensor, bool)) for a in rest)
