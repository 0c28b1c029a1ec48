"""``advisor.Workload`` refuses a value that is not a function where one goes as it is made, naming the keyword: a
string or a number passed as ``optimizer=``, ``loss_fn=``, ``make_batch=`` or ``model=`` was found only seconds
later by the probe, in words naming the file's function (``configure_optimizer() raised TypeError: 'str' object
is not callable``)."""

from __future__ import annotations

import time

import pytest
import torch
from torch import nn
from workload_helpers import GOOD_BATCH, GOOD_MODEL, assert_message, write

import advisor
from advisor.errors import WorkloadError
from advisor.workload import load_workload


def build_model() -> nn.Module:
    return nn.Linear(64, 10)


def make_batch(batch_size: int):
    return torch.randn(batch_size, 64), torch.randint(0, 10, (batch_size,))


CASES = {
    "model": (
        5,
        "model= must be an nn.Module, or a function with no arguments that returns one, not an int (5).",
        "Fix: pass model=build_model (a function returning an nn.Module) or an nn.Module.",
    ),
    "make_batch": (
        5,
        "make_batch= must be a function make_batch(batch_size) that returns (inputs, target), not an int (5).",
        "Fix: pass make_batch=a function of the batch size returning (inputs, target), or leave it out "
        "and pass make_dataloader=.",
    ),
    "loss_fn": (
        "cross_entropy",
        "loss_fn= must be a function loss_fn(output, target) that returns a scalar tensor, "
        "not a str ('cross_entropy').",
        "Fix: pass a function such as loss_fn=torch.nn.functional.cross_entropy, or leave it out for "
        "cross-entropy on integer targets (mean squared error otherwise).",
    ),
    "optimizer": (
        "adam",
        "optimizer= must be a function of the model's parameters that returns a "
        "torch.optim.Optimizer, not a str ('adam').",
        "Fix: pass a function such as optimizer=functools.partial(torch.optim.SGD, lr=0.1), or leave it "
        "out for AdamW(lr=1e-3).",
    ),
}


@pytest.mark.parametrize("keyword", sorted(CASES))
def test_a_value_that_is_not_a_function_is_refused_as_the_workload_is_made(keyword):
    value, message, hint = CASES[keyword]
    given = {"model": build_model, "make_batch": make_batch, keyword: value}
    started = time.monotonic()
    with pytest.raises(advisor.WorkloadError) as err:
        advisor.Workload(**given)
    assert time.monotonic() - started < 1.0  # no probe ran
    assert (err.value.message, err.value.hint) == (f"workload 'workload': {message}", hint)
    assert "configure_optimizer" not in str(err.value) and "the probe reported" not in str(err.value)


def test_a_module_and_functions_are_taken():
    workload = advisor.Workload(
        model=nn.Linear(64, 10), make_batch=make_batch, loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.SGD
    )
    assert isinstance(workload.build_model(), nn.Linear)
    assert isinstance(workload.build_optimizer(workload.build_model().parameters()), torch.optim.SGD)


def test_a_file_is_told_in_its_own_names(tmp_path):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + 'configure_optimizer = "adam"\n')
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert_message(
        err,
        f"{path}: configure_optimizer must be a function of the model's parameters that returns a "
        "torch.optim.Optimizer, not a str ('adam').",
        "Fix: define `def configure_optimizer(params)` returning e.g. torch.optim.SGD(params, lr=0.1), or "
        "remove the name for AdamW(lr=1e-3).",
    )
