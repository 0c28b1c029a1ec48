"""Shape-level analysis of one training step, without running it at full size.

``analyze(workload)`` builds the model and runs forward + loss + backward + ``optimizer.step()`` under
torch's ``FakeTensorMode`` (tensors carry shapes and dtypes but no data, so nothing of the activations is
allocated), with a ``TorchDispatchMode`` on top that sees every aten operator the step runs. For each one
it records:

- FLOPs, from torch's own per-operator formulas (``torch.utils.flop_counter.flop_registry``, the table
  ``FlopCounterMode`` uses: matrix multiplies, convolutions and fused attention, forward and backward, at 2
  FLOPs per multiply-add; 8 for a complex matmul's, ``recorder.COMPLEX_FLOPS_FACTOR``, while a complex
  convolution reaches the trace as the three real ones PyTorch runs). Other operators count 0 FLOPs: on a GPU
  they are bound by memory traffic.
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
losses, exp/log/pow, ...) get fp32 inputs; sums and fp16 softmax read 16-bit input and write fp32, while a
bf16 softmax reads an fp32 copy (ATen's one-kernel ``half_to_float`` path is for Half only); everything
else follows its inputs (batch norm and ReLU of a 16-bit activation stay 16-bit; a 16-bit + fp32 residual
add is fp32). A gradient has the dtype of the tensor it is the gradient of, as autograd makes it (the fp32
activations' backward ops read and write fp32 gradients), and an explicit ``x.float()`` of a 16-bit
activation is the copy kernel it is on the GPU. The optimizer works on fp32 master weights. A float64 tensor is
never cast (autocast casts float32 tensors only): a float64 model traces in float64 at every precision. "tf32" changes
no byte and no FLOP (it is ``advisor.predictor.roofline``'s business), so "fp32" and "tf32" analyses are the
same.

The trace runs on the CPU, but where CUDA PyTorch takes another path the trace follows the GPU's (a
``TorchFunctionMode``): ``F.scaled_dot_product_attention`` is one fused attention kernel forward and one
backward (flash / memory-efficient attention: q, k, v and the output move, the attention matrix never does),
where the CPU would run the unfused math; ``F.dropout`` is CUDA's single ``native_dropout`` kernel, not
bernoulli + mul + div. Batch and group norm read their input twice (statistics, then normalisation), as their
CUDA kernels do.

Known simplifications: the optimizer is traced per tensor, where CUDA PyTorch runs ``foreach`` kernels over
many tensors at once (the roofline counts launches accordingly); otherwise bytes assume every operand is read
from and written to memory once (no cache reuse, no fusion beyond the kernels PyTorch itself fuses).

Any failure raises ``advisor.errors.PredictionError``: callers treat the analysis as optional. The one exception
is ``advisor.errors.UnbuildableModelError`` (a ``WorkloadError``): a model that can be built only for real, too
big for this machine's memory to build at all (``real_build``).

This module owns ``analyze`` (and assembles its ``Analysis``) and ``summarize``, and imports torch only inside
``analyze``. ``ops`` holds the op tables and ``classify`` (torch-free), ``recorder`` the dispatch mode that
records the step, ``gpu_paths`` the function mode that sends it down CUDA's paths, ``tracing`` the step run on
fake tensors, ``checkpointing`` the activations an activation-checkpointed region holds when recomputed;
``python -m advisor.probe.analysis WORKLOAD.py``
prints an analysis (``__main__``).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, NamedTuple

from advisor.errors import AdvisorError, PredictionError, UnbuildableModelError
from advisor.probe.analysis.ops import RawOp, classify
from advisor.schemas import PRECISIONS, Analysis, OpRecord, at_batch

if TYPE_CHECKING:  # pragma: no cover
    from advisor.probe.analysis.tracing import Trace

__all__ = ["analyze", "classify", "summarize"]


def analyze(workload, batch_sizes: tuple[int, int] = (2, 8), precision: str = "fp32", *,
            one_sample: bool = True) -> Analysis:
    """Per-operator FLOPs and bytes of one training step of ``workload``, as linear functions of the batch.

    ``precision`` is the training precision to account bytes for ("fp32"/"tf32": everything fp32;
    "bf16"/"fp16": CUDA autocast's mixed precision). ``one_sample``: check the forward at batch size 1 (module
    ``one_sample``; a second analysis of the model at another precision need not). Raises ``PredictionError``
    when the model cannot be traced with fake tensors (the message says why and what to do), and
    ``UnbuildableModelError`` when it can be built only for real and that would not fit this machine's memory.
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
        from advisor.probe.analysis.tracing import trace_step  # imports torch

        return _assemble(trace_step(workload, b0, b1, precision, one_sample=one_sample), b0, b1, started)
    except (PredictionError, UnbuildableModelError):
        raise
    except AdvisorError as exc:
        raise PredictionError(f"could not analyse {getattr(workload, 'label', workload)}: {exc.cli_message}",
                              hint=exc.cli_hint) from exc
    except Exception as exc:  # noqa: BLE001 - user code and torch's fake tensors: the analysis is optional
        from advisor.probe.analysis.dynamic_shapes import dynamic_shape_error

        raise dynamic_shape_error(str(getattr(workload, "label", workload)), exc) or PredictionError(
            f"could not analyse {getattr(workload, 'label', workload)} with fake tensors: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            hint="Fix: the shape-level analysis (needed only to predict GPUs you do not have) runs the step on "
            "fake tensors; avoid data-dependent Python in forward (.item(), .tolist(), .numpy(), shapes that "
            "depend on values). Probes on real devices still work without it.",
        ) from exc


def _assemble(trace: Trace, b0: int, b1: int, started: float) -> Analysis:
    """The ``Analysis`` of a trace at batch sizes ``b0`` < ``b1``: grouped ops and per-sample totals."""
    recs0, recs1 = trace.step_records
    ops = _group(recs0, recs1, trace.optimizer_records)

    def total(recs: list[RawOp], phases: tuple[str, ...]) -> float:
        return sum(r.flops for r in recs if r.phase in phases)

    step = b1 - b0
    both = ("forward", "backward")
    flops_per_sample = (total(recs1, both) - total(recs0, both)) / step
    fwd_per_sample = (total(recs1, ("forward",)) - total(recs0, ("forward",))) / step
    if min(flops_per_sample, fwd_per_sample) < 0:  # Analysis refuses it, with a pydantic error that helps no one
        raise PredictionError(
            f"the training step traced at batch size {b1} does fewer FLOPs than at {b0} "
            f"({total(recs1, both):.3g} against {total(recs0, both):.3g}), so the cost of a sample is unknown.",
            hint="Fix: make the step's work depend on the batch size alone: make_batch returning the same shapes "
            "at every call (pad to a fixed length), and no branches on the data's values in forward.")
    # With activation checkpointing the peak comes in backward, when a region is recomputed: its activations
    # (and a gradient in flight) on top of every region's saved inputs. The largest region's recompute counts.
    act0, act1 = (saved + recomputed for saved, recomputed in zip(trace.saved_bytes, trace.recomputed_bytes,
                                                                   strict=True))
    act_per_sample = max(0.0, (act1 - act0) / step)
    act_fixed = max(0.0, act0 - act_per_sample * b0)
    recomputed = trace.recomputed_bytes
    recomputed_per_sample = max(0.0, (recomputed[1] - recomputed[0]) / step) if trace.checkpointed_regions else None
    redone = trace.recomputed_flops  # the recompute's share of flops_per_sample, which MFU leaves out
    redone_per_sample = min(flops_per_sample, max(0.0, (redone[1] - redone[0]) / step)) \
        if trace.checkpointed_regions else None
    return Analysis(
        batch_sizes=(b0, b1),
        ops=ops,
        flops_per_sample=flops_per_sample,
        forward_flops_per_sample=fwd_per_sample,
        param_count=trace.param_count,
        trainable_param_count=trace.trainable_param_count,
        param_bytes=trace.param_bytes,
        gradient_bytes=trace.gradient_bytes,
        autocast_held_weight_bytes=trace.autocast_held_weight_bytes,
        optimizer=trace.optimizer,
        optimizer_state_bytes=trace.optimizer_state_bytes,
        activation_bytes_per_sample=act_per_sample,
        activation_bytes_fixed=act_fixed,
        recomputed_activation_bytes_per_sample=recomputed_per_sample,
        recomputed_flops_per_sample=redone_per_sample,
        matmul_allow_tf32=trace.tf32_switches[0],
        cudnn_allow_tf32=trace.tf32_switches[1],
        one_sample_error=trace.one_sample_error,
        analysis_seconds=time.perf_counter() - started,
    )


class _Key(NamedTuple):
    """What makes two traced ops one ``OpRecord``: everything the record keeps but the count and the two sizes'
    FLOPs and bytes (which ``flops_pair``/``bytes_pair`` also key, where a paired trace gives them per op)."""

    op: str
    kind: str
    phase: str
    dtype: str
    flops_pair: Any
    bytes_pair: Any
    align: Any
    fused_bytes: Any = None
    fused_kernels: float = 1.0
    gemm: Any = None
    winograd_share: float = 0.0
    channels_last: bool = False
    grouped: bool = False
    channel_planes: int = 0
    plane_elements: Any = None
    attention: tuple = ()


def _group(recs0: list[RawOp], recs1: list[RawOp], optimizer_records: list[RawOp]) -> list[OpRecord]:
    """Pair the two traces op by op and group identical ops; fall back to per-op totals if they differ."""
    groups: OrderedDict[_Key, list] = OrderedDict()
    paired = len(recs0) == len(recs1) and all(
        (a.op, a.phase) == (b.op, b.phase) for a, b in zip(recs0, recs1, strict=False))
    if paired:
        for a, b in zip(recs0, recs1, strict=False):
            fused = None if a.fused_bytes is None or b.fused_bytes is None else (a.fused_bytes, b.fused_bytes)
            gemm = None if a.gemm is None or b.gemm is None else (a.gemm, b.gemm)
            planes = (a.plane_elements, b.plane_elements) if b.planes else None
            key = _Key(b.op, b.kind, b.phase, b.dtype, (a.flops, b.flops), (a.bytes, b.bytes), b.align, fused,
                       b.fused_kernels, gemm, b.winograd, b.channels_last, b.grouped, b.planes, planes, b.attention)
            g = groups.setdefault(key, [0, (a.flops, b.flops), (a.bytes, b.bytes)])
            g[0] += 1
    else:
        # Data-dependent control flow: the traces differ. Keep per-(op, kind, phase, dtype) totals, with the
        # count of the larger batch's trace, so that count x per-call cost is right at both sizes (unfused).
        totals: OrderedDict[tuple, list] = OrderedDict()
        for idx, recs in enumerate((recs0, recs1)):
            for r in recs:
                t = totals.setdefault((r.op, r.kind, r.phase, r.dtype, r.align),
                                      [[0, 0], [0.0, 0.0], [0.0, 0.0]])
                t[0][idx] += 1
                t[1][idx] += r.flops
                t[2][idx] += r.bytes
        for (op, kind, phase, dtype, align), (counts, fl, by) in totals.items():
            n = max(counts[1], 1)
            groups[_Key(op, kind, phase, dtype, "total", "total", align)] = [
                n, (fl[0] / n, fl[1] / n), (by[0] / n, by[1] / n)]
    for r in optimizer_records:
        key = _Key(r.op, r.kind, r.phase, r.dtype, (r.flops, r.flops), (r.bytes, r.bytes), r.align)
        g = groups.setdefault(key, [0, (r.flops, r.flops), (r.bytes, r.bytes)])
        g[0] += 1
    return [OpRecord(op=k.op, kind=k.kind, phase=k.phase, dtype=k.dtype, count=g[0], flops=g[1], bytes=g[2],
                     align=k.align, fused_bytes=k.fused_bytes, fused_kernels=k.fused_kernels, gemm=k.gemm,
                     winograd_share=k.winograd_share, channels_last=k.channels_last, grouped=k.grouped,
                     channel_planes=k.channel_planes,
                     plane_elements=k.plane_elements, attention=k.attention)
            for k, g in groups.items()]


def summarize(analysis: Analysis, batch_size: int) -> dict[str, dict[str, float]]:
    """Totals per kind at a batch size: {"conv": {"flops": ..., "bytes": ..., "count": ...}, ...}."""
    out: dict[str, dict[str, float]] = {}
    for r in analysis.ops:
        d = out.setdefault(r.kind, {"flops": 0.0, "bytes": 0.0, "count": 0})
        d["flops"] += r.count * at_batch(r.flops, analysis.batch_sizes, batch_size)
        d["bytes"] += r.count * at_batch(r.bytes, analysis.batch_sizes, batch_size)
        d["count"] += r.count
    return out
