"""One training step of a workload: split the batch, place it, forward, loss, backward, optimizer step.

What the probe times and the check validates, with neither timing nor validation here (callers own both).
Imports torch at the top; ``advisor.workload`` imports this module only when one of its names is asked for.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from advisor.errors import WorkloadError
from advisor.workload.describe import describe

if TYPE_CHECKING:  # pragma: no cover
    from advisor.workload.loader import Workload


def split_batch(workload: Workload, batch: Any, source: str = "make_batch() returned") -> tuple[Any, Any]:
    """``(inputs, target)`` from a batch (``source`` says where it came from, e.g. "make_dataloader(2, 0)
    yielded"), or a WorkloadError naming the expected shape."""
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise WorkloadError(
            f"{workload.label}: {source} {describe(batch)}; expected a pair (inputs, target).",
            hint="Fix: `return x, y` where x is a tensor, tuple or dict of tensors and y a tensor or None.",
        )
    return batch[0], batch[1]


def move_to(obj: Any, device: Any) -> Any:
    """Tensors inside tensors/tuples/lists/dicts moved to ``device`` (non_blocking where it can)."""
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, dict):
        return {k: move_to(v, device) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)):
        return type(obj)(move_to(v, device) for v in obj)
    return obj


def call_model(model: Any, inputs: Any) -> Any:
    """``model(x)``, ``model(*x)`` or ``model(**x)`` by the type of ``inputs``."""
    if isinstance(inputs, dict):
        return model(**inputs)
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    return model(inputs)


def compute_loss(workload: Workload, output: Any, target: Any) -> Any:
    """The scalar loss: the user's loss_fn, the model's own loss when target is None, else the default."""
    if workload.loss_fn is not None:
        return workload.loss_fn(output, target)
    if target is None:
        # Models that compute their own loss return it (HF-style outputs carry it as .loss or ["loss"]).
        if isinstance(output, dict) and "loss" in output:
            return output["loss"]
        return getattr(output, "loss", output)
    if not isinstance(output, torch.Tensor):
        raise WorkloadError(
            f"{workload.label}: the model returned {describe(output)}, which the default loss cannot use.",
            hint="Fix: define loss_fn(output, target) in the workload file.",
        )
    if not target.is_floating_point():
        return F.cross_entropy(output, target)
    return F.mse_loss(output, target)


def train_step(workload: Workload, model: Any, optimizer: Any, inputs: Any, target: Any,
               autocast_dtype: Any = None, device_type: str = "cpu", scaler: Any = None) -> Any:
    """forward + loss + backward + optimizer step on already-placed tensors; returns the loss tensor.

    ``autocast_dtype`` (torch.bfloat16 / torch.float16) runs forward and loss under autocast, as mixed
    precision training does; ``scaler`` (a ``torch.amp.GradScaler``, what fp16 training uses) scales the loss,
    unscales and checks the gradients, and steps through it. No timing and no validation here: callers own both.
    """
    optimizer.zero_grad(set_to_none=True)
    ctx = (torch.autocast(device_type=device_type, dtype=autocast_dtype) if autocast_dtype is not None
           else contextlib.nullcontext())
    with ctx:
        output = call_model(model, inputs)
        loss = compute_loss(workload, output, target)
    if scaler is None:
        loss.backward()
        optimizer.step()
    else:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    return loss
