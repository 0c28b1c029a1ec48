"""The check, as a ``Workload`` is made, that the functions it is given are functions.

A string (``optimizer="adam"``, ``loss_fn="cross_entropy"``) or a number passed where a function goes was only
found once a probe process had started, seconds later, in words that named the file's function
(``configure_optimizer() raised TypeError: 'str' object is not callable``) under "the probe reported". It is
refused where it is given instead, naming the ``Workload`` keyword (a file's name for a workload file), what it
was given and what it takes. An ``nn.Module`` is callable, so ``model=`` needs no torch import to be checked.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from advisor.errors import WorkloadError
from advisor.workload.describe import describe


class Takes(NamedTuple):
    """What one of ``Workload``'s function keywords takes, in the words of the Python API and of a file."""

    file_name: str  # the workload file's name for it
    takes: str  # a noun phrase: what it must be
    python_fix: str  # the fix for an in-memory workload
    file_fix: str  # the fix in a workload file


FUNCTIONS = {
    "model": Takes(
        "build_model",
        "an nn.Module, or a function with no arguments that returns one",
        "pass model=build_model (a function returning an nn.Module) or an nn.Module.",
        "define `def build_model()` returning a torch.nn.Module.",
    ),
    "make_batch": Takes(
        "make_batch",
        "a function make_batch(batch_size) that returns (inputs, target)",
        "pass make_batch=a function of the batch size returning (inputs, target), or leave it out "
        "and pass make_dataloader=.",
        "define `def make_batch(batch_size)` returning (inputs, target).",
    ),
    "loss_fn": Takes(
        "loss_fn",
        "a function loss_fn(output, target) that returns a scalar tensor",
        "pass a function such as loss_fn=torch.nn.functional.cross_entropy, or leave it out for "
        "cross-entropy on integer targets (mean squared error otherwise).",
        "define `def loss_fn(output, target)` returning a scalar tensor, or remove the name for the default loss.",
    ),
    "optimizer": Takes(
        "configure_optimizer",
        "a function of the model's parameters that returns a torch.optim.Optimizer",
        "pass a function such as optimizer=functools.partial(torch.optim.SGD, lr=0.1), or leave it "
        "out for AdamW(lr=1e-3).",
        "define `def configure_optimizer(params)` returning e.g. torch.optim.SGD(params, lr=0.1), "
        "or remove the name for AdamW(lr=1e-3).",
    ),
    "make_dataloader": Takes(
        "make_dataloader",
        "a function make_dataloader(batch_size, num_workers) that returns an iterable of (inputs, target) batches",
        "pass make_dataloader=a function returning e.g. a torch.utils.data.DataLoader.",
        "define `def make_dataloader(batch_size, num_workers)` returning an iterable of "
        "(inputs, target) batches, e.g. a torch.utils.data.DataLoader.",
    ),
}


def check_functions(label: str, from_file: bool, given: dict[str, Any]) -> None:
    """Raise a ``WorkloadError`` for the first of ``given`` (``Workload`` keyword -> value; None: not given) that
    is not callable. ``from_file``: name it as a workload file does (``configure_optimizer``), else as the
    keyword (``optimizer=``)."""
    for keyword, value in given.items():
        if value is None or callable(value):
            continue
        takes = FUNCTIONS[keyword]
        name = takes.file_name if from_file else f"{keyword}="
        got = describe(value) + (f" ({value!r:.60})" if isinstance(value, (str, int, float)) else "")
        raise WorkloadError(
            f"{label}: {name} must be {takes.takes}, not {got}.",
            hint="Fix: " + (takes.file_fix if from_file else takes.python_fix),
        )
