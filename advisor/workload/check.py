"""``check_workload``: one real training step on the CPU that turns every way a workload can be wrong into a
``WorkloadError`` naming the workload, the problem and the fix.

Run before any timing (the probe's child calls it first) and by Python users directly. Side-effect free: RNG
states and grad mode are restored, and a model object the user passed in is copied, never trained. Imports
torch at the top; ``advisor.workload`` imports this module only when one of its names is asked for.
"""

from __future__ import annotations

import copy
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from advisor.errors import WorkloadError
from advisor.schemas.spread import SHAPES_VARY
from advisor.workload.call_hints import float64_hint, lazy_model_check, whole_dict_hint
from advisor.workload.dataloader import LoaderRun, user_line
from advisor.workload.describe import cpu_hint, describe, gist, input_summary, raised
from advisor.workload.job import positive_int
from advisor.workload.loader import Workload, load_workload
from advisor.workload.optimizers import optimizer_name, several_note, uncovered_note
from advisor.workload.step import call_model, compute_loss, move_to, split_batch


@dataclass(frozen=True)
class CheckResult:
    """What one real training step on the CPU showed about a workload (``check_workload``)."""

    param_count: int
    trainable_param_count: int
    optimizer_name: str
    input_summary: str
    target_summary: str = "None"
    loss: float = math.nan
    batch_size: int = 2
    seconds: float = 0.0  # wall time of the whole check: build, batch, step
    cpu_seconds: float = 0.0  # this process's CPU time over the same (the probe's start-up on a busy machine)
    # Several optimizers stepped as one; parameters no optimizer updates (``optimizers``: the notes)
    optimizer_notes: tuple[str, ...] = ()


def check_workload(workload: Workload | str | Path, batch_size: int = 2) -> CheckResult:
    """Run ONE real training step on the CPU at a small batch size and report what it found.

    Raises ``WorkloadError`` naming the workload, the problem and the fix for: a broken ``make_batch`` or
    ``make_dataloader`` (raises, returns something that is not iterable, yields nothing or non-tensors: its first
    batch at ``make_dataloader(batch_size, 0)`` is checked like make_batch's), a batch of the wrong structure or
    one that ignores its ``batch_size``, a batch that does not fit the model, a loss that is not a finite scalar
    depending on the parameters, and a failing backward pass or optimizer step. Side-effect free: RNG states and
    grad mode are restored, and a model object the user passed in is copied, never trained.
    """
    if not isinstance(workload, Workload):
        workload = load_workload(workload)
    label = workload.label
    if positive_int(batch_size) is None:
        raise WorkloadError(f"{label}: the check's batch size must be a positive whole number, got {batch_size!r}.",
                            hint="Fix: pass batch_size=2 (or any value of 1 or more).")
    batch_size = positive_int(batch_size)
    start, cpu_start = time.perf_counter(), time.process_time()
    with _preserved_state(), torch.enable_grad():
        model, restore = _model_for_check(workload)
        try:
            return _check_step(workload, model, batch_size, start, cpu_start)
        finally:
            restore()


def _check_step(workload: Workload, model: Any, batch_size: int, start: float, cpu_start: float) -> CheckResult:
    label = workload.label
    # The batch first: a lazy model's fix is a dry run on it, written as the inputs are passed (model(*x)...)
    inputs, target = _checked_batch(workload, batch_size)
    _check_batch_size_used(workload, batch_size, inputs)
    params = list(model.parameters())
    lazy_model_check(label, model, inputs)
    param_count = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    if trainable == 0:
        raise WorkloadError(
            f"{label}: the model has no trainable parameters ({param_count:,} parameters, none with "
            "requires_grad=True), so there is nothing to train.",
            hint="Fix: leave requires_grad=True on the parameters to train (don't freeze the whole model).",
        )
    optimizer = workload.build_optimizer(model.parameters())

    inputs, target = move_to(inputs, "cpu"), move_to(target, "cpu")
    fed = input_summary(inputs)

    optimizer.zero_grad(set_to_none=True)  # the modes build_model() left are kept, as the probe keeps them
    try:
        output = call_model(model, inputs)
    except Exception as exc:  # noqa: BLE001 - user code: the model's forward
        raise _forward_error(workload, exc, fed, whole_dict_hint(model, inputs),
                             float64_hint(model, inputs, exc)) from exc

    loss = _checked_loss(workload, output, target, fed)
    try:
        loss.backward()
    except Exception as exc:  # noqa: BLE001 - user code: autograd through the user's model
        raise WorkloadError(
            f"{label}{user_line(exc, workload.path)}: the backward pass failed: {raised(exc)}",
            hint="Fix: a usual cause is an in-place change (x += ..., relu(inplace=True) on a needed tensor) "
            "of something autograd saved; make that operation out-of-place.",
        ) from exc
    try:
        optimizer.step()
    except Exception as exc:  # noqa: BLE001 - user code: the user's optimizer
        raise _optimizer_error(workload, optimizer, exc) from exc
    return CheckResult(
        param_count=param_count,
        trainable_param_count=trainable,
        optimizer_name=optimizer_name(optimizer),
        input_summary=fed,
        target_summary=input_summary(target),
        loss=float(loss.detach()),
        batch_size=batch_size,
        seconds=time.perf_counter() - start,
        cpu_seconds=time.process_time() - cpu_start,
        optimizer_notes=tuple(filter(None, (several_note(optimizer), uncovered_note(model, optimizer)))),
    )


# SparseAdam takes only sparse gradients and Adam only dense ones: the pair, stepped together (optimizers.py).
_SPARSE_PAIR = ("a tuple of two: torch.optim.SparseAdam over the sparse embeddings' parameters and torch.optim.Adam "
                "over the rest")


def _optimizer_error(workload: Workload, optimizer: Any, exc: Exception) -> WorkloadError:
    """The failed ``optimizer.step()``, with a fix for whose optimizer it was: the file's, or advisor's default
    AdamW where the workload defines no configure_optimizer (pointing at a function it lacks misleads)."""
    name = optimizer_name(optimizer)
    sparse = "sparse gradient" in str(exc).lower()
    if workload.optimizer is None:
        whose = f"the optimizer step (advisor's default {name}: the workload defines no configure_optimizer) failed"
        if sparse:
            hint = (f"Fix: the default {name} does not take sparse gradients (sparse=True on an Embedding or "
                    "EmbeddingBag): define configure_optimizer(params) returning one that does (SGD), or "
                    f"{_SPARSE_PAIR}, or drop sparse=True.")
        else:
            hint = ("Fix: define configure_optimizer(params) returning an optimizer that suits the model "
                    f"(the default is {name}(params, lr=1e-3)).")
    else:
        whose = f"the optimizer step ({name}, from configure_optimizer) failed"
        hint = ("Fix: configure_optimizer(params) must return an optimizer over the `params` it is given"
                + (f" that takes sparse gradients (SGD), or {_SPARSE_PAIR}, or drop sparse=True." if sparse
                   else "."))
    return WorkloadError(f"{workload.label}{user_line(exc, workload.path)}: {whose}: {raised(exc)}", hint=hint)


def _checked_batch(workload: Workload, batch_size: int) -> tuple[Any, Any]:
    """``(inputs, target)`` from make_batch(batch_size), with their structure validated; with a
    make_dataloader, its first batch is validated too (and is the batch when make_batch is derived from it)."""
    if workload.make_dataloader is not None:
        with LoaderRun(workload, batch_size, 0) as run:
            batch = run.next_batch()
            if batch is None:
                raise run.empty_error()
        from_loader = _checked_structure(workload, batch, f"{run.call} yielded", "make_dataloader")
        if workload.make_batch_derived:
            return from_loader
    label = workload.label
    try:
        batch = workload.make_batch(batch_size)
    except Exception as exc:  # noqa: BLE001 - user code: make_batch
        raise WorkloadError(
            f"{label}{user_line(exc, workload.path)}: make_batch({batch_size}) raised {raised(exc)}",
            hint=cpu_hint(exc, "make_batch", "the batch") or "Fix: make_batch(batch_size) must run on its own and "
            "return (inputs, target) for any batch size of 1 or more.",
        ) from exc
    return _checked_structure(workload, batch, f"make_batch({batch_size}) returned", "make_batch")


def _checked_structure(workload: Workload, batch: Any, what: str, source: str) -> tuple[Any, Any]:
    """``(inputs, target)`` of a batch that ``what`` ("make_batch(2) returned") names, once they are tensors."""
    label = workload.label
    inputs, target = split_batch(workload, batch, source=what)
    problem = _structure_problem(inputs, "inputs", top=True)
    if problem:
        raise WorkloadError(
            f"{label}: {what} inputs that are not tensors: {problem}.",
            hint="Fix: inputs must be a tensor (model(x)), a tuple/list of tensors (model(*x)) or a dict of "
            "tensors keyed by forward()'s parameter names (model(**x)); convert numpy arrays with "
            f"torch.from_numpy(a) and lists with torch.tensor(v) (in {source}).",
        )
    if target is not None and not isinstance(target, torch.Tensor):
        nested_ok = (workload.loss_fn is not None and isinstance(target, (tuple, list, dict))
                     and not _structure_problem(target, "target", top=True))
        if not nested_ok:
            raise WorkloadError(
                f"{label}: {what} a target that is {describe(target)}"
                + (f" ({input_summary(target)})" if isinstance(target, (tuple, list, dict)) else "")
                + ", not a tensor or None.",
                hint="Fix: return the target as a tensor (torch.tensor(v), torch.from_numpy(a)), or None "
                f"when the model computes its own loss; a structured target needs a loss_fn (in {source}).",
            )
    for name, part in (("inputs", inputs), ("target", target)):
        if _has_meta(part):
            # A meta tensor has a shape but no data: nothing can be computed from it or copied to a device.
            raise WorkloadError(
                f"{label}: {what} {name} on the meta device, which hold no data.",
                hint=f"Fix: make the batch on the CPU in {source} (e.g. torch.randn(...) without device='meta'); "
                "advisor moves it to each device it probes.")
    return inputs, target


def _has_meta(obj: Any) -> bool:
    if isinstance(obj, torch.Tensor):
        return obj.is_meta
    if isinstance(obj, dict):
        return any(_has_meta(v) for v in obj.values())
    if isinstance(obj, (tuple, list)):
        return any(_has_meta(v) for v in obj)
    return False


def _structure_problem(obj: Any, where: str, top: bool = False) -> str | None:
    """Why ``obj`` is not a tensor or a (nested) tuple/list/dict holding tensors, or None when it is."""
    if isinstance(obj, torch.Tensor):
        return None
    if isinstance(obj, (tuple, list, dict)):
        if not obj:
            return f"{where} is an empty {type(obj).__name__}"
        items = obj.items() if isinstance(obj, dict) else enumerate(obj)
        for key, value in items:
            if isinstance(obj, dict) and not isinstance(key, str):
                return f"{where} has the key {key!r}; dict keys must be forward()'s parameter names (strings)"
            sub = f"{where}[{key!r}]"
            if value is None or isinstance(value, (bool, int, float, str)):
                continue  # plain options such as use_cache=False are passed through as they are
            problem = _structure_problem(value, sub)
            if problem:
                return problem
        if not _has_tensor(obj):
            return f"{where} is {describe(obj)} holding no tensor: {input_summary(obj, limit=3)}"
        return None
    return f"{where} is {describe(obj)}"


def _has_tensor(obj: Any) -> bool:
    if isinstance(obj, torch.Tensor):
        return True
    if isinstance(obj, dict):
        return any(_has_tensor(v) for v in obj.values())
    if isinstance(obj, (tuple, list)):
        return any(_has_tensor(v) for v in obj)
    return False


def _shapes(obj: Any) -> list[tuple[int, ...]]:
    if isinstance(obj, torch.Tensor):
        return [tuple(obj.shape)]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _shapes(v)]
    if isinstance(obj, (tuple, list)):
        return [s for v in obj for s in _shapes(v)]
    return []


def varying_shapes_note(workload: Workload, batch_size: int = 2) -> str | None:
    """A note where calls of make_batch(batch_size) (three) return inputs of different shapes (a random sequence
    length, no seed), else None. The probe and the analysis price whichever shapes their calls draw, so such a
    workload's answer changes from run to run. A make_batch that raises is left to the check; one derived from
    make_dataloader (real data, whose batches may vary by design) is not asked."""
    if workload.make_batch_derived:
        return None
    try:  # three draws (a random choice of 3 lengths matches itself twice in a row 1 time in 3); the RNG state
        # is not restored in between, so that the analysis' own draws after these are independent of them
        draws = [split_batch(workload, workload.make_batch(batch_size))[0] for _ in range(3)]
    except Exception:  # noqa: BLE001 - user code: make_batch; the check reports it
        return None
    shapes = list(dict.fromkeys(", ".join(str(s) for s in _shapes(x)) for x in draws))
    if len(shapes) == 1:
        return None
    return (f"make_batch({batch_size}) returned inputs of shape {shapes[0]}, then {shapes[1]}: {SHAPES_VARY}, "
            "and the timed steps and the shape analysis (GPU predictions) each priced whichever "
            "shape a call drew, so this answer can change widely from run to run. Fix: return the same shapes "
            "at a batch size (pad to the length the job pads to, or use the typical length).")


def _check_batch_size_used(workload: Workload, batch_size: int, inputs: Any) -> None:
    """make_batch must honour its argument: a batch one larger must change some input's shape."""
    try:
        bigger = workload.make_batch(batch_size + 1)
        other = split_batch(workload, bigger)[0]
    except Exception:  # noqa: BLE001 - user code
        return  # make_batch worked at batch_size; a failure at batch_size + 1 shows up when probing
    if _shapes(other) == _shapes(inputs):
        raise WorkloadError(
            f"{workload.label}: make_batch ignores its batch_size: make_batch({batch_size}) and "
            f"make_batch({batch_size + 1}) both returned inputs {input_summary(inputs)}.",
            hint="Fix: build tensors of batch_size samples, e.g. torch.randn(batch_size, ...); the advisor "
            "times steps at several batch sizes.",
        )


def _forward_error(workload: Workload, exc: BaseException, fed: str, whole_dict: str = "",
                   float64: str = "") -> WorkloadError:
    """The error for a failed ``model(inputs)``: a call that does not match forward() (``whole_dict``: the hint
    for a dict batch that forward() takes whole), or a batch that does not fit (``float64``: the hint for float64
    inputs to a float32 model; advisor.workload.call_hints)."""
    short = gist(exc)
    where = user_line(exc, workload.path)
    if isinstance(exc, TypeError) and ("forward()" in short or "positional argument" in short
                                       or "keyword argument" in short):
        return WorkloadError(
            f"{workload.label}{where}: calling the model with the batch's inputs failed: {short} "
            f"(inputs: {fed}).",
            hint="Fix: a tensor is passed as model(x), a tuple/list as model(*x) and a dict as model(**x), so "
            "match forward()'s parameters; for several inputs return ((x1, x2), target) from make_batch."
            + whole_dict,
        )
    return WorkloadError(
        f"{workload.label}{where}: the batch does not fit the model: {type(exc).__name__}: {short} "
        f"(inputs fed: {fed}).",
        hint="Fix: make make_batch's shapes and dtypes match what the model expects (e.g. the first layer's "
        "in_features / in_channels, integer token ids below the vocabulary size), or change the model." + float64,
    )


def _checked_loss(workload: Workload, output: Any, target: Any, fed: str) -> Any:
    """The step's loss, once it is known to be a finite scalar tensor that depends on the parameters."""
    _check_loss_inputs(workload, output, target)
    try:
        loss = compute_loss(workload, output, target)
    except WorkloadError:
        raise
    except Exception as exc:  # noqa: BLE001 - user code: loss_fn, or the default loss on the user's output
        raise _loss_error(workload, exc, output, target) from exc
    label = workload.label
    source = "loss_fn" if workload.loss_fn is not None else "the loss"
    if isinstance(loss, (tuple, list, dict)):  # (loss, metrics): a training script's logging habit
        raise WorkloadError(
            f"{label}: {source} returned {describe(loss)} ({input_summary(loss)}), not the loss tensor.",
            hint="Fix: return only the scalar loss tensor from loss_fn (log metrics such as accuracy elsewhere).",
        )
    if not isinstance(loss, torch.Tensor):
        raise WorkloadError(
            f"{label}: {source} is {describe(loss)} ({loss!r:.40}), not a tensor.",
            hint="Fix: return the loss tensor itself; don't call .item() or float() on it.",
        )
    if loss.numel() != 1:
        raise WorkloadError(
            f"{label}: {source} is not a scalar: it has shape {tuple(loss.shape)}.",
            hint="Fix: reduce it to one number, e.g. loss.mean() (or reduction='mean' in the loss function).",
        )
    if not loss.requires_grad:
        raise WorkloadError(
            f"{label}: {source} does not depend on the model's trainable parameters (requires_grad=False).",
            hint="Fix: compute the loss from the model's output without torch.no_grad(), .detach(), .item() or "
            "numpy in between.",
        )
    value = float(loss.detach())
    if not math.isfinite(value):
        raise WorkloadError(
            f"{label}: the loss is {value} on the first step (inputs fed: {fed}).",
            hint="Fix: check the batch's values and the loss (log of zero, division by zero, huge inputs, "
            "uninitialised torch.empty tensors); training would diverge from the first step.",
        )
    return loss


def _check_loss_inputs(workload: Workload, output: Any, target: Any) -> None:
    """Without a loss_fn: the output must be the model's own scalar loss (target None), or fit the default loss."""
    if workload.loss_fn is not None:
        return
    if target is None:
        own = output.get("loss") if isinstance(output, dict) else getattr(output, "loss", output)
        if not isinstance(own, torch.Tensor) or own.numel() != 1:
            # Name where the non-scalar came from: a dict's "loss" entry or an output's .loss is not the output.
            whose = ("a dict whose \"loss\" entry is " if isinstance(output, dict) and "loss" in output
                     else "an output whose .loss is " if own is not output else "")
            got = (f"{whose}a tensor of shape {tuple(own.shape)}" if isinstance(own, torch.Tensor)
                   else f"{describe(output)} ({input_summary(output)})")
            tuple_fix = (" A tuple such as a Hugging Face model's (loss, logits): pass return_dict=True, or define "
                         "`loss_fn(output, target)` returning output[0]." if isinstance(output, tuple) else "")
            raise WorkloadError(
                f"{workload.label}: make_batch returned target None, so the model's output should be the scalar "
                f"loss, but the model returned {got}.",
                hint="Fix: return the scalar loss from forward(): a tensor (e.g. `return F.cross_entropy(logits, "
                "labels)`), an output with a .loss attribute, or a dict with a \"loss\" entry (as Hugging Face "
                "models return with labels given)." + tuple_fix + " Or return (inputs, target) from make_batch "
                "with a real target (and define loss_fn(output, target) when the default cross-entropy / mean "
                "squared error does not fit).",
            )
    if (isinstance(target, torch.Tensor) and target.is_floating_point()
            and isinstance(output, torch.Tensor) and output.shape != target.shape):
        raise WorkloadError(
            f"{workload.label}: the default loss for a float target (mean squared error) needs the output and "
            f"the target to have the same shape; output {tuple(output.shape)}, target {tuple(target.shape)}.",
            hint="Fix: give the target the output's shape (e.g. y.unsqueeze(1) or y.view(-1, 1)), use integer "
            "class labels for classification, or define loss_fn(output, target).",
        )


def _loss_error(workload: Workload, exc: BaseException, output: Any, target: Any) -> WorkloadError:
    """The error for a loss computation that raised: the user's loss_fn, or the default loss on this batch."""
    if workload.loss_fn is not None:
        what, fix = "loss_fn(output, target)", "Fix: make loss_fn accept the model's output and the target."
    else:
        what = ("the default loss (cross-entropy for integer targets)" if not target.is_floating_point()
                else "the default loss (mean squared error for float targets)")
        fix = ("Fix: integer targets must be class indices in [0, number of classes) with the output's "
               "batch dimension; or define loss_fn(output, target).")
        if not target.is_floating_point() and target.dtype not in (torch.int64, torch.uint8):
            # cross-entropy takes int64 (or uint8) class indices only; labels from numpy or pandas are often int32
            fix = (f"Fix: cross-entropy needs int64 class indices, and make_batch returned {target.dtype} ones: "
                   "return y.long() from make_batch (labels made by numpy or pandas are often int32); or define "
                   "loss_fn(output, target).")
    return WorkloadError(
        f"{workload.label}{user_line(exc, workload.path)}: {what} failed: {raised(exc)} "
        f"(output: {input_summary(output)}, target: {input_summary(target)}).",
        hint=fix,
    )


def _model_for_check(workload: Workload) -> tuple[Any, Callable[[], None]]:
    """(a model on the CPU to train one step, a function that undoes any change to the user's objects)."""
    if not isinstance(workload.model, torch.nn.Module):
        return workload.build_model().to("cpu"), lambda: None
    module = workload.build_model()  # the user's own module, once it is checked to hold data (not meta)
    try:
        return copy.deepcopy(module).to("cpu"), lambda: None
    except Exception:  # noqa: BLE001 - user code: the module's own __deepcopy__ / state
        # Not copyable: train it in place, then put everything back.
        saved = {k: v.detach().clone() for k, v in module.state_dict(keep_vars=True).items()}
        grads = {p: p.grad for p in module.parameters()}
        training = module.training

        def restore() -> None:
            with torch.no_grad():
                state = module.state_dict(keep_vars=True)
                for key, value in saved.items():
                    state[key].copy_(value)
            for p, g in grads.items():
                p.grad = g
            module.train(training)

        return module, restore


class _preserved_state:
    """Restores torch's, Python's and numpy's global RNG states on exit."""

    def __enter__(self):
        self._torch = torch.random.get_rng_state()
        self._python = random.getstate()
        np = sys.modules.get("numpy")
        self._numpy = np.random.get_state() if np is not None else None
        return self

    def __exit__(self, *exc_info):
        torch.random.set_rng_state(self._torch)
        random.setstate(self._python)
        if self._numpy is not None:
            sys.modules["numpy"].random.set_state(self._numpy)
        return False
