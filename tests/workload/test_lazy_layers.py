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


class LazyPair(nn.Module):
    """A lazy layer in a model of two inputs: make_batch returns them as a tuple, passed as model(*x)."""

    def __init__(self) -> None:
        super().__init__()
        self.left, self.right = nn.LazyLinear(4), nn.Linear(3, 4)

    def forward(self, x, y):
        return self.left(x) + self.right(y)


class LazyKeyed(nn.Module):
    """A lazy layer in a model whose inputs come as a dict, passed as model(**x)."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.LazyLinear(4)

    def forward(self, x, mask=None):
        return self.layer(x)


def pairs(b: int):
    return (torch.randn(b, 5), torch.randn(b, 3)), torch.randint(0, 4, (b,))


def keyed(b: int):
    return {"x": torch.randn(b, 5), "mask": torch.ones(b)}, torch.randint(0, 4, (b,))


@pytest.mark.parametrize(("model", "batch", "dry_run"), [(LazyPair, pairs, "model(*make_batch(2)[0])"),
                                                          (LazyKeyed, keyed, "model(**make_batch(2)[0])")])
def test_the_dry_run_named_passes_the_inputs_as_advisor_does(model, batch, dry_run):
    # The fix said model(make_batch(2)[0]) for every model: a tuple of inputs went in as one argument
    # ("forward() missing 1 required positional argument: 'y'") and a dict as the first
    with pytest.raises(WorkloadError) as info:
        check_workload(Workload(model=model, make_batch=batch), batch_size=2)
    assert f"`with torch.no_grad(): {dry_run}`" in info.value.hint

    def dry_run_built() -> nn.Module:
        built = model()
        with torch.no_grad():
            eval(dry_run, {"model": built, "make_batch": batch})  # the fix as the hint writes it
        return built

    assert check_workload(Workload(model=dry_run_built, make_batch=batch), batch_size=2).param_count > 0
