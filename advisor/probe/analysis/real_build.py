"""The model built for real where ``build_model()`` fails on fake tensors, and the refusal where it cannot fit.

``build_model()`` fails under ``FakeTensorMode`` where it reads its weights' values (a checkpoint's load,
Hugging Face's ``from_pretrained``, a check such as ``assert model.fc.weight.abs().sum() > 0``). The analysis then
builds the model for real and fakes its tensors, which for a small model only costs time. A 7B model's real
build takes 27 GB of this machine's memory, before any memory check sees the step: the kernel's out-of-memory
killer (or swap) would answer it. So the failed fake build is also the model's sizing: every parameter and buffer
registered on a module while it ran is counted (shapes only, nothing allocated), a lower bound of what the real
build holds; where the model and a loaded copy of its weights would exceed the memory available (this process's,
``advisor.hardware.process_memory``: a container's or ``ulimit -v``'s limit bounds it, and the error names that
limit), the model is not built and ``UnbuildableModelError`` says why and what to change. A real build that runs
out of memory all the same gets that error too, in place of "build_model() raised" with a fix that would fail
the same way.

Imports torch at the top: only ``advisor.probe.analysis.tracing`` imports this module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch._subclasses.fake_tensor import DataDependentOutputException, DynamicOutputShapeException
from torch.nn.modules.module import (
    register_module_buffer_registration_hook,
    register_module_parameter_registration_hook,
)

from advisor.errors import UnbuildableModelError, WorkloadError
from advisor.hardware.process_memory import process_memory
from advisor.probe.memory_meter import is_oom
from advisor.units import format_gib_pair
from advisor.workload.describe import gist, raised

__all__ = ["RegisteredTensors", "build_for_real", "registered_tensors"]

# What a real build holds at its peak, in copies of the model's own tensors: the model, and the weights it loads
# into it (a state dict or checkpoint is whole in memory while load_state_dict copies it in).
REAL_BUILD_COPIES = 2.0
# Of the memory available, what the real build may take: the rest is the probe's own and the machine's.
AVAILABLE_SHARE = 0.9

GIB = float(1 << 30)

_FIX = ("Fix: build the model with random weights for advisor (a step's time and memory do not depend on the "
        "weights' values): from its config (e.g. `AutoModelForCausalLM.from_config(config)` in place of "
        "`from_pretrained(...)`), or put the checkpoint's load and any check of the weights behind an environment "
        "variable of your own (e.g. `if os.environ.get(\"LOAD_WEIGHTS\"):`) that your training run sets.")


class RegisteredTensors:
    """The parameters and buffers registered on any module while ``registered_tensors()`` is open: the last one
    under each (module, name), each tensor once (a tied weight is one tensor under two names)."""

    def __init__(self) -> None:
        # The module itself is kept, so that its id is not reused by another module while this is open.
        self._slots: dict[tuple[int, str], tuple[torch.nn.Module, torch.Tensor | None]] = {}

    def record(self, module: torch.nn.Module, name: str, tensor: torch.Tensor | None) -> None:
        """One registration hook's call (``module.name = tensor``)."""
        self._slots[(id(module), name)] = (module, tensor)

    def _tensors(self) -> list[torch.Tensor]:
        unique = {id(t): t for _, t in self._slots.values() if isinstance(t, torch.Tensor)}
        return list(unique.values())

    @property
    def elements(self) -> int:
        """Elements of the registered tensors."""
        return int(sum(t.numel() for t in self._tensors()))

    @property
    def nbytes(self) -> float:
        """Bytes of the registered tensors, as a real build allocates them."""
        return float(sum(t.numel() * t.element_size() for t in self._tensors()))


@contextlib.contextmanager
def registered_tensors() -> Iterator[RegisteredTensors]:
    """Count the parameters and buffers registered on modules while open (torch's global registration hooks)."""
    seen = RegisteredTensors()
    hooks = [register_module_parameter_registration_hook(seen.record),
             register_module_buffer_registration_hook(seen.record)]
    try:
        yield seen
    finally:
        for hook in hooks:
            hook.remove()


def build_for_real(workload, fake_failure: BaseException, seen: RegisteredTensors) -> torch.nn.Module:
    """``workload.build_model()`` run for real, after it failed on fake tensors with ``fake_failure`` having
    registered ``seen``; an ``UnbuildableModelError`` instead where that build would not fit the memory available,
    or where it ran out of memory. Any other error of the real build is raised as it is (a broken build_model)."""
    cause = fake_failure.__cause__ or fake_failure  # build_model()'s own error, under advisor's WorkloadError
    model_bytes = seen.nbytes
    needed = REAL_BUILD_COPIES * model_bytes
    available = process_memory().available
    if needed > AVAILABLE_SHARE * available.bytes:
        need_gib, available_gib = format_gib_pair(needed / GIB, available.gib, min_digits=1)
        # Which limit bound it: a container's 2 GiB, not the host's 64, is what the user has to raise.
        bound = f", bound by {limit}" if (limit := available.limit_words()) else ""
        raise UnbuildableModelError(
            f"{workload.label}: {_why_real(cause)}, so the analysis would build the model for real: about "
            f"{need_gib} GiB here (its {seen.elements:,} parameter and buffer values, and a loaded copy of its "
            f"weights as much again), with {available_gib} GiB available{bound}. It was not built.", hint=_FIX)
    try:
        return workload.build_model()
    except WorkloadError as exc:
        real = exc.__cause__
        if real is None or not is_oom(real):
            raise
        raise UnbuildableModelError(
            f"{workload.label}: {_why_real(cause)}, so the analysis built the model for real, and that ran out of "
            f"memory ({raised(real)}).", hint=_FIX) from real


def _why_real(cause: BaseException) -> str:
    """Why the model cannot be built on fake tensors, in the user's terms."""
    if isinstance(cause, DataDependentOutputException | DynamicOutputShapeException) or (
            "meta tensors" in gist(cause)):
        return ("build_model() reads its tensors' values (a checkpoint's load, from_pretrained, a check of the "
                "weights, .item()), which the analysis' fake tensors do not hold")
    return f"build_model() does not run on the analysis' fake tensors ({raised(cause)})"

