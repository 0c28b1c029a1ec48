"""Running one training step of a workload on fake tensors, under the recorder, at two batch sizes.

Owns the fake model (built under ``FakeTensorMode``; or built for real and then faked, where that fits this
machine's memory: ``real_build``; or a faked copy of a module object), the fake batches, the order of the step's
phases and the parameter and optimizer-state sizes. Returns a torch-free ``Trace``; the package assembles the
``Analysis`` from it.

Imports torch at the top: ``advisor.probe.analysis`` imports this module only when it analyses.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import sys
import warnings
from dataclasses import dataclass
from typing import Any

import torch
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.autograd.graph import _engine_run_backward
from torch.utils._pytree import tree_flatten, tree_map

from advisor.errors import PredictionError
from advisor.probe.analysis.checkpointing import RecomputeWatch
from advisor.probe.analysis.gpu_paths import GpuPaths
from advisor.probe.analysis.one_sample import one_sample_error
from advisor.probe.analysis.ops import RawOp
from advisor.probe.analysis.real_build import build_for_real, registered_tensors
from advisor.probe.analysis.recorder import StepRecorder, storage_key
from advisor.probe.analysis.tf32 import read_tf32_switches
from advisor.workload import call_model, compute_loss, split_batch
from advisor.workload.optimizers import optimizer_name

__all__ = ["Trace", "trace_step"]


@dataclass
class Trace:
    """What tracing the step gives, per traced batch size and for the model.

    Attributes:
        step_records: the forward and backward calls at each of the two batch sizes, in order.
        saved_bytes: bytes autograd saved for backward (the activations) at each of the two batch sizes.
        recomputed_bytes: at each of the two batch sizes, the most one activation-checkpointed region adds when
            it is recomputed in backward (``checkpointing.RecomputeWatch.peak_bytes``); 0 without checkpointing.
        checkpointed_regions: the checkpointed regions recomputed in a step's backward.
        recomputed_flops: at each of the two batch sizes, the FLOPs of the forward ops those recomputes ran again
            (``checkpointing.RecomputeWatch.recomputed_flops``), part of ``step_records``' backward.
        optimizer_records: the optimizer's calls in a steady-state step (they do not depend on the batch).
        param_count: parameters (each shared one once).
        trainable_param_count: those that require a gradient.
        param_bytes: bytes of the parameters.
        gradient_bytes: bytes of the trainable parameters' gradients.
        autocast_held_weight_bytes: bytes of the fp32 parameters whose 16-bit cast a bf16/fp16 step holds until
            backward: the trainable ones (autocast caches a cast of a leaf that requires grad, ATen's
            ``cached_cast``) and the frozen ones autograd saves for backward (a frozen Linear or convolution whose
            input needs a gradient, as LoRA's base layers); a frozen weight's cast is otherwise freed after use.
        optimizer: the optimizer's class name.
        optimizer_state_bytes: bytes of the optimizer's state tensors after a step.
        tf32_switches: (matmuls, convolutions) may run in TF32, as the workload left torch's switches once its
            model and optimizer were built (``advisor.probe.analysis.tf32``); None where unreadable.
        one_sample_error: what the model's forward raised at batch size 1 (``one_sample``), or None.
    """

    step_records: tuple[list[RawOp], list[RawOp]]
    saved_bytes: tuple[float, float]
    optimizer_records: list[RawOp]
    param_count: int
    trainable_param_count: int
    param_bytes: float
    gradient_bytes: float
    autocast_held_weight_bytes: float
    optimizer: str
    optimizer_state_bytes: float
    tf32_switches: tuple[bool | None, bool | None] = (None, None)
    recomputed_bytes: tuple[float, float] = (0.0, 0.0)
    checkpointed_regions: int = 0
    recomputed_flops: tuple[float, float] = (0.0, 0.0)
    one_sample_error: str | None = None


# torch logs the traceback of a failed fake op (a batch the model cannot take, say) before it raises; the error
# itself reaches the user as advisor's one message, so that log would only put a torch traceback above it.
_FAKE_TENSOR_LOGGER = "torch._subclasses.fake_tensor"


# A stock nn.TransformerEncoder's fast-path check reads data_ptr(), which on the fake tensors makes torch warn
# that this is "almost definitely a bug in your code": the fake tensors are advisor's, not the user's, and the
# fast path is not taken while it trains, so the warning says nothing about the workload.
_FAKE_DATA_POINTER_WARNING = "Accessing the data pointer of FakeTensor"


@contextlib.contextmanager
def _quiet_fake_tensor_log():
    logger = logging.getLogger(_FAKE_TENSOR_LOGGER)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_FAKE_DATA_POINTER_WARNING, category=UserWarning)
            yield
    finally:
        logger.setLevel(level)


def trace_step(workload, b0: int, b1: int, precision: str, *, one_sample: bool = True) -> Trace:
    """Trace forward + loss + backward + ``optimizer.step()`` of ``workload`` at batch sizes ``b0`` and ``b1``."""
    with _quiet_fake_tensor_log():
        return _trace_step(workload, b0, b1, precision, one_sample)


def _trace_step(workload, b0: int, b1: int, precision: str, one_sample: bool = True) -> Trace:
    fake_mode = FakeTensorMode(allow_non_fake_inputs=True)
    model = _fake_model(workload, fake_mode)  # in the modes build_model() left, as the probe times it

    params = list({id(p): p for p in model.parameters()}.values())
    param_storages = {storage_key(p) for p in params} | {storage_key(b) for b in model.buffers()}
    param_storages.discard(None)
    with fake_mode:
        optimizer = workload.build_optimizer(params)

    step_records: list[list[RawOp]] = []
    saved_bytes: list[float] = []
    recomputed_bytes: list[float] = []
    recomputed_flops: list[float] = []
    regions = 0
    saved_weights: set[int] = set()
    optimizer_records: list[RawOp] = []
    shapes: list[list[tuple[int, ...]]] = []
    for steady, b in ((False, b0), (True, b1)):
        inputs, target = _fake_batch(workload, fake_mode, b)
        shapes.append([tuple(t.shape) for t in tree_flatten(inputs)[0] if isinstance(t, torch.Tensor)])
        if steady:
            _refuse_varying_shapes(shapes[0], shapes[1], b0, b1)
        rec = StepRecorder(precision, param_storages)
        watch = RecomputeWatch(rec)
        optimizer.zero_grad(set_to_none=True)
        _run_step(workload, model, optimizer, fake_mode, rec, watch, inputs, target, steady=steady)
        if steady:
            optimizer_records = [r for r in rec.records if r.phase == "optimizer"]
        step_records.append([r for r in rec.records if r.phase != "optimizer"])
        saved_bytes.append(sum(rec.saved.values()))
        recomputed_bytes.append(watch.peak_bytes())
        recomputed_flops.append(watch.recomputed_flops)
        regions = len(watch.regions)
        saved_weights |= rec.saved_weights
        del inputs, target

    trainable = [p for p in params if p.requires_grad]
    refused = one_sample_error(model, fake_mode, lambda b: _fake_batch(workload, fake_mode, b)) if one_sample else None
    return Trace(
        step_records=(step_records[0], step_records[1]),
        saved_bytes=(saved_bytes[0], saved_bytes[1]),
        optimizer_records=optimizer_records,
        param_count=int(sum(p.numel() for p in params)),
        trainable_param_count=int(sum(p.numel() for p in trainable)),
        param_bytes=float(sum(p.numel() * p.element_size() for p in params)),
        gradient_bytes=float(sum(p.numel() * p.element_size() for p in trainable)),
        autocast_held_weight_bytes=_autocast_held_weight_bytes(params, saved_weights),
        optimizer=optimizer_name(optimizer),
        optimizer_state_bytes=_state_bytes(optimizer),
        tf32_switches=read_tf32_switches(),
        recomputed_bytes=(recomputed_bytes[0], recomputed_bytes[1]),
        checkpointed_regions=regions,
        recomputed_flops=(recomputed_flops[0], recomputed_flops[1]),
        one_sample_error=refused,
    )


def _autocast_held_weight_bytes(params: list, saved_weights: set[int]) -> float:
    """Bytes of the fp32 parameters that require grad or whose storage is among ``saved_weights`` (those
    autograd saved for backward), each storage once."""
    held = {storage_key(p): p for p in params
            if p.dtype == torch.float32 and (p.requires_grad or storage_key(p) in saved_weights)}
    return float(sum(p.numel() * p.element_size() for p in held.values()))


def _fake_model(workload, fake_mode: FakeTensorMode):
    """The workload's model with fake parameters and buffers; the user's own module object is never touched."""
    if isinstance(workload.model, torch.nn.Module):
        model = copy.deepcopy(workload.model)
        _fakeify_module(model, fake_mode)
        return model
    with registered_tensors() as seen:  # the failed build's sizing, should it fail: nothing allocated
        try:
            with fake_mode:
                return workload.build_model()
        except Exception as exc:  # noqa: BLE001 - user code: build_model() may fail on fake tensors in any way
            fake_failure = exc
    # e.g. it reads its weights' values or loads a checkpoint: build for real where that fits this machine's
    # memory (a genuine error in build_model() is raised from here), then fake its tensors
    model = build_for_real(workload, fake_failure, seen)
    _fakeify_module(model, fake_mode)
    return model


def _fakeify_module(model, fake_mode: FakeTensorMode) -> None:
    """Replace a real module's parameters and buffers by fake ones (fallback when building under fake fails)."""
    for module in model.modules():
        for name, p in list(module._parameters.items()):
            if p is not None:
                module._parameters[name] = torch.nn.Parameter(fake_mode.from_tensor(p.detach()),
                                                              requires_grad=p.requires_grad)
        for name, b in list(module._buffers.items()):
            if b is not None:
                module._buffers[name] = fake_mode.from_tensor(b)


def _refuse_varying_shapes(first: list[tuple[int, ...]], second: list[tuple[int, ...]], b0: int, b1: int) -> None:
    """A ``PredictionError`` where make_batch's inputs at ``b1`` differ from those at ``b0`` other than by the
    batch: every dimension the same, or in proportion to the batch (the batch's own, a flattened batch x length).
    Two draws of a random length would make the per-sample costs, the difference of the two, meaningless (even
    negative)."""
    def same(d0: int, d1: int) -> bool:
        return d0 == d1 or d0 * b1 == d1 * b0

    if len(first) == len(second) and all(len(s0) == len(s1) and all(map(same, s0, s1))
                                         for s0, s1 in zip(first, second, strict=True)):
        return

    def text(shapes: list[tuple[int, ...]]) -> str:
        return ", ".join(str(s) for s in shapes)

    raise PredictionError(
        f"make_batch({b0}) returned inputs of shape {text(first)} and make_batch({b1}) {text(second)}: "
        "they differ by more than the batch size, so the analysis cannot tell the cost of a sample (make_batch's "
        "shapes vary between calls, e.g. a random sequence length).",
        hint="Fix: return the same shapes at every batch size, apart from the batch dimension (pad to the length "
        "the job pads to, or use the typical length).")


def _fake_batch(workload, fake_mode: FakeTensorMode, batch_size: int) -> tuple[Any, Any]:
    """``(inputs, target)`` from the workload's make_batch, with every tensor made fake. Each call starts from the
    same random state (Python's, torch's, NumPy's), restored after: a make_batch that draws a sequence length
    before its data draws the same length at both batch sizes, so the two traces differ by the batch alone."""
    with _same_random_state():
        batch = workload.make_batch(batch_size)
    inputs, target = split_batch(workload, batch)

    def convert(t):
        return fake_mode.from_tensor(t) if isinstance(t, torch.Tensor) else t

    return tree_map(convert, inputs), tree_map(convert, target)


@contextlib.contextmanager
def _same_random_state(seed: int = 0):
    """The random generators make_batch may draw from, seeded with ``seed`` and put back as they were after."""
    import random

    state = random.getstate()
    numpy = sys.modules.get("numpy")  # only if the workload imported it: seeding it is then what matters
    numpy_state = numpy.random.get_state() if numpy is not None else None
    random.seed(seed)
    if numpy is not None:
        numpy.random.seed(seed)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        random.setstate(state)
        if numpy is not None:
            numpy.random.set_state(numpy_state)


def _run_step(workload, model, optimizer, fake_mode: FakeTensorMode, rec: StepRecorder, watch: RecomputeWatch,
              inputs, target, *, steady: bool) -> None:
    """One step under the recorder; the optimizer is recorded only in a ``steady`` step. ``watch`` sizes what
    activation-checkpointed regions save when the backward recomputes them.

    The first step initialises the optimizer's state (zeros_like ...), which a steady-state step does not.
    """
    with fake_mode, rec, watch.watching():
        rec.phase = "forward"
        with torch.autograd.graph.saved_tensors_hooks(watch.forward_pack, lambda t: t), GpuPaths(rec):
            output = call_model(model, inputs)
            loss = compute_loss(workload, output, target)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise PredictionError(
                f"{workload.label}: the loss is {type(loss).__name__}"
                f"{tuple(loss.shape) if isinstance(loss, torch.Tensor) else ''}, not a scalar tensor.",
                hint="Fix: the model (target None) or loss_fn must return a scalar loss tensor.")
        rec.phase = "backward"
        # Non-reentrant activation checkpointing recomputes the forward inside backward and checks that it
        # saves the same tensors: the recompute must take the same (GPU) paths as the forward did. A mode
        # that handles ``loss.backward()`` itself is off while the call runs, so the engine is entered
        # directly, with the mode on.
        with GpuPaths(rec), torch.autograd.graph.saved_tensors_hooks(watch.pack, lambda t: t):
            _engine_run_backward((loss,), (torch.ones_like(loss),), False, False, (),
                                 allow_unreachable=True, accumulate_grad=True)
        rec.records.extend(rec.mirrored_casts)
        rec.phase = "optimizer"
        rec.recording = steady
        optimizer.step()
        rec.recording = False


def _state_bytes(optimizer) -> float:
    """Bytes of the optimizer's state tensors (momentum, Adam's moments, step counters, ...)."""
    state_bytes = 0.0
    for state in optimizer.state.values():
        for v in state.values():
            if isinstance(v, torch.Tensor):
                state_bytes += float(v.numel() * v.element_size())
    return state_bytes
