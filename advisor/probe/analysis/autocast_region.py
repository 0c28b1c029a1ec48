"""The model's own mixed-precision code in the trace: CUDA autocast's switch, and the model's casts to 16 bits.

The trace runs in fp32 on the CPU and gives tensors a *virtual* 16-bit dtype where CUDA autocast would
(``recorder.StepRecorder``). Model code can ask for autocast and step outside it: llm-foundry's ``LPLayerNorm``
(``llmfoundry/models/layers/norm.py``) casts a LayerNorm's input, weight and bias to the autocast dtype and runs
``F.layer_norm`` under ``torch.autocast("cuda", enabled=False)``, a LayerNorm in bf16 where autocast's own rule
runs it in fp32. This module owns

- ``gpu_autocast``: CUDA autocast's switch set as the GPU step sets it, so that such code takes its GPU path (the
  recorder reads the switch per torch function, ``StepRecorder.see_autocast``, and drops autocast's rules where
  the model turned it off);
- ``Downcast``: the model's own ``x.to(torch.bfloat16)`` of an fp32 tensor, run as the copy kernel it is while the
  trace stays fp32 (a tensor really in 16 bits would lead the fake trace's autograd into casts no GPU runs);
- ``only_downcast``: which ``Tensor.to`` calls are such a cast.
"""

from __future__ import annotations

import contextlib

import torch

__all__ = ["Downcast", "gpu_autocast", "only_downcast"]


@contextlib.contextmanager
def gpu_autocast(recorder):
    """CUDA autocast's switch on, in the recorder's 16-bit dtype, while the step runs (nothing at fp32 or tf32).

    Only CUDA tensors carry autocast's CUDA dispatch key: the switch changes no CPU tensor's dispatch, only what
    model code reads from ``torch.is_autocast_enabled("cuda")`` and ``torch.get_autocast_dtype("cuda")``.
    """
    if recorder.half_dtype is None:
        yield
        return
    before = (torch.is_autocast_enabled("cuda"), torch.get_autocast_dtype("cuda"))
    torch.set_autocast_enabled("cuda", True)
    torch.set_autocast_dtype("cuda", recorder.half_dtype)
    recorder.switched = True
    try:
        yield
    finally:
        recorder.switched = False
        torch.set_autocast_enabled("cuda", before[0])
        torch.set_autocast_dtype("cuda", before[1])


class Downcast(torch.autograd.Function):
    """The model's cast of an fp32 tensor to 16 bits: recorded as autocast's casts are (the copy, and its gradient's
    cast back in backward), the result fp32 in the trace and 16-bit virtually. Its backward hands the gradient
    on in fp32, as the GPU's cast back does."""

    @staticmethod
    def forward(ctx, t, recorder, dtype):
        ctx.recorder = recorder
        recorder.suppress += 1
        try:
            out = torch.ops.aten._to_copy.default(t, dtype=torch.float32)
        finally:
            recorder.suppress -= 1
        if recorder.phase == "forward":  # a checkpointed region's recompute: as autocast's casts, not recorded
            recorder.fusion.boundary()
            recorder.cast(t, dtype)
        recorder.vdtype[out] = dtype
        return out

    @staticmethod
    def backward(ctx, grad):
        ctx.recorder.vdtype[grad] = torch.float32
        return grad, None, None


def only_downcast(args, kwargs) -> torch.dtype | None:
    """The 16-bit dtype a ``Tensor.to`` call asks for when it asks for nothing else (no device, memory format or
    other tensor); None otherwise."""
    rest = list(args[1:]) + list(kwargs.values())
    dtypes = [a for a in rest if isinstance(a, torch.dtype)]
    if len(dtypes) != 1 or dtypes[0] not in (torch.bfloat16, torch.float16):
        return None
    return dtypes[0] if all(isinstance(a, (torch.dtype, bool)) for a in rest) else None
