"""Whether the model can train on a batch of one sample, checked on the fake model after the trace.

A BatchNorm over ``(N, C)`` features raises "Expected more than 1 value per channel when training" at batch size 1,
so a job whose epoch ends with a batch of one sample fails there (``advisor.schemas.small_batch``). The probe's
ladder tries batch size 1 only for jobs of batch 8-15, so the analysis asks the model itself: a forward pass at
batch size 1 on fake tensors, in training mode, costs no real compute. It is asked only of a model with a BatchNorm
in training mode, the one layer known to refuse a single sample; a make_batch that fails at 1 leaves it unjudged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from advisor.probe.failure import text_of
from advisor.probe.frames import child_text
from advisor.workload import call_model


def one_sample_error(model: Any, fake_mode: Any, fake_batch: Callable[[int], tuple[Any, Any]]) -> str | None:
    """The first line of what the model's training-mode forward raised at batch size 1 ("the forward at batch size
    1 raised ValueError: ..."), or None: it ran, the model has no BatchNorm in training mode, or ``fake_batch(1)``
    (the workload's make_batch, made fake) itself failed."""
    if not isinstance(model, torch.nn.Module) or not any(
            isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.training for m in model.modules()):
        return None
    try:
        inputs, _ = fake_batch(1)
    except Exception:  # noqa: BLE001 - the workload's make_batch: its failure at 1 is not the model's
        return None
    try:
        with fake_mode, torch.no_grad():
            call_model(model, inputs)
    except Exception as exc:  # noqa: BLE001 - user code on fake tensors: what it raised is the finding
        # text_of: a user exception whose __str__ raises lost the whole analysis ("could not analyse ..."); and
        # child_text over the whole line: a NUL in the class's name (a metaclass's) failed the probe's frame
        first = text_of(exc).strip().partition("\n")[0]
        return child_text(f"the forward at batch size 1 raised {type(exc).__name__}: {first}", 1000)
    return None
