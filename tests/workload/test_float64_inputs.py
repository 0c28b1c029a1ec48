"""float64 inputs for a float32 model, as torch.from_numpy of a NumPy array gives them: the check said "mat1 and
mat2 must have the same dtype, but got Double and Float" with the general fix ("make make_batch's shapes and dtypes
match what the model expects ... or change the model"); it now names the cause and x.float()."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from advisor.errors import WorkloadError
from advisor.workload import Workload, check_workload


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4))


def cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 4))


def numpy_rows(b: int):
    return torch.from_numpy(np.random.randn(b, 16)), torch.randint(0, 4, (b,))


def numpy_images(b: int):
    return torch.from_numpy(np.random.randn(b, 3, 8, 8)), torch.randint(0, 4, (b,))


@pytest.mark.parametrize(("model", "batch"), [(mlp, numpy_rows), (cnn, numpy_images)])
def test_float64_inputs_to_a_float32_model_name_x_float(model, batch):
    with pytest.raises(WorkloadError) as info:
        check_workload(Workload(model=model, make_batch=batch), batch_size=2)
    assert "float64" in str(info.value)
    assert "make_batch returned float64 inputs, and the model's weights are float32" in info.value.hint
    assert "x.float()" in info.value.hint


def test_the_fix_it_names_runs_and_a_float64_model_needs_none():
    fixed = check_workload(Workload(model=mlp, make_batch=lambda b: (numpy_rows(b)[0].float(), numpy_rows(b)[1])),
                           batch_size=2)
    assert fixed.loss > 0
    doubled = check_workload(Workload(model=lambda: mlp().double(), make_batch=numpy_rows), batch_size=2)
    assert doubled.loss > 0


def test_a_shape_error_with_float32_inputs_gets_the_general_hint_only():
    with pytest.raises(WorkloadError) as info:
        check_workload(Workload(model=mlp, make_batch=lambda b: (torch.randn(b, 15), torch.randint(0, 4, (b,)))),
                       batch_size=2)
    assert "does not fit the model" in str(info.value) and "float64" not in info.value.hint


def test_float64_token_ids_for_an_embedding_are_not_told_x_float():
    # The hint misfired on an index error: an nn.Embedding fed float64 ids (np.random.randint(...).astype(float))
    # raised "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but
    # got torch.DoubleTensor", and the hint said "return x.float()", which fails the same way (ids are .long()).
    def ids(b: int):
        return torch.from_numpy(np.random.randint(0, 10, (b, 5)).astype(np.float64)), torch.randint(0, 4, (b,))

    model = lambda: nn.Sequential(nn.Embedding(10, 8), nn.Flatten(), nn.Linear(8 * 5, 4))  # noqa: E731
    with pytest.raises(WorkloadError) as info:
        check_workload(Workload(model=model, make_batch=ids), batch_size=2)
    assert "'indices'" in str(info.value) and "float64" in str(info.value)  # the error and the dtype fed, named
    assert info.value.hint.startswith("Fix: make make_batch's shapes and dtypes match") and "x.float()" not in \
        info.value.hint


@pytest.mark.parametrize("first", [lambda: nn.LSTM(16, 8, batch_first=True), lambda: nn.LayerNorm(16)])
def test_other_float64_dtype_errors_still_name_x_float(first):
    model = lambda: nn.Sequential(first(), nn.Flatten())  # noqa: E731
    batch = lambda b: (torch.from_numpy(np.random.randn(b, 3, 16)), None)  # noqa: E731
    with pytest.raises(WorkloadError) as info:
        check_workload(Workload(model=model, make_batch=batch), batch_size=2)
    assert "x.float()" in info.value.hint
