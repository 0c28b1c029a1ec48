"""A model with lazy layers (nn.LazyLinear) that build_model() returned without a forward: the check counted its
parameters first and raised PyTorch's ValueError ("Attempted to use an uninitialized parameter in <method 'numel'
...>"), which `advisor predict` showed as "the probe failed unexpectedly ... probably a bug in advisor" with a
traceback. It is now the workload's error, naming the lazy layer and the fix (a dry-run forward in build_model,
which PyTorch advises before making the optimizer)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from advisor.errors import WorkloadError
from advisor.workload import Workload, check_workload


def images(b: int):
    return torch.randn(b, 3, 8, 8), torch.randint(0, 10, (b,))


def lazy() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))


def lazy_dry_run() -> nn.Module:
    model = lazy()
    with torch.no_grad():
        model(images(2)[0])
    return model


def test_unshaped_lazy_layers_are_the_workloads_error_naming_the_layer_and_the_fix():
    with pytest.raises(WorkloadError) as info:
        check_workload(Workload(model=lazy, make_batch=images), batch_size=2)
    message = str(info.value)
    assert "lazy layers have no shapes yet (3 (LazyLinear): 2 uninitialized parameters)" in message
    assert "run one forward on a small batch" in info.value.hint
    assert "model(make_batch(2)[0])" in info.value.hint


def test_the_dry_run_the_fix_names_passes_the_check():
    result = check_workload(Workload(model=lazy_dry_run, make_batch=images), batch_size=2)
    assert result.param_count == 3 * 4 * 9 + 4 + 4 * 6 * 6 * 10 + 10
