"""A dict batch for a forward() that takes the dict whole (``forward(self, batch)`` reading ``batch["x"]``, as
Lightning-style modules do): advisor calls model(**x), which failed with "unexpected keyword argument 'x'" and a
fix ("match forward()'s parameters; for several inputs return ((x1, x2), target)") that did not say how to pass
the dict as one argument. The hint now says: a tuple of one, ((batch_dict,), target)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from advisor.errors import WorkloadError
from advisor.workload import Workload, check_workload


class WholeDict(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, batch):
        return self.fc(batch["x"])


class Keywords(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, input_ids, attention_mask=None):
        return self.fc(input_ids)


def dict_batch(b: int):
    return {"x": torch.randn(b, 16)}, torch.randint(0, 4, (b,))


def test_a_dict_for_a_forward_of_one_argument_is_told_to_pass_it_whole():
    with pytest.raises(WorkloadError) as info:
        check_workload(Workload(model=WholeDict, make_batch=dict_batch), batch_size=2)
    assert "unexpected keyword argument 'x'" in str(info.value)
    assert "forward(batch) takes one argument" in info.value.hint
    assert "((batch_dict,), target)" in info.value.hint


def test_the_fix_it_names_runs():
    result = check_workload(Workload(model=WholeDict, make_batch=lambda b: ((dict_batch(b)[0],), dict_batch(b)[1])),
                            batch_size=2)
    assert result.loss > 0


def test_a_keyword_mismatch_on_a_forward_of_several_parameters_gets_the_general_hint_only():
    batch = lambda b: ({"input_ids": torch.randn(b, 16), "token_type_ids": torch.zeros(b, 16)},  # noqa: E731
                       torch.randint(0, 4, (b,)))
    with pytest.raises(WorkloadError) as info:
        check_workload(Workload(model=Keywords, make_batch=batch), batch_size=2)
    assert "unexpected keyword argument 'token_type_ids'" in str(info.value)
    assert "takes one argument" not in info.value.hint and "match forward()'s parameters" in info.value.hint


class OneTensor(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(x)


class WholeDictKeywords(WholeDict):
    def forward(self, batch, **kwargs):
        return self.fc(batch["x"])


def test_a_one_key_dict_for_a_forward_of_a_tensor_is_told_the_key_too():
    # The hint misfired: {"inputs": t} for forward(self, x), which takes the tensor, was told only "to pass it whole
    # as `x`, return it in a tuple of one from make_batch", and the workload so changed failed again ("linear():
    # argument 'input' (position 1) must be Tensor, not dict"). Renaming the key is the fix there.
    batch = lambda b: ({"inputs": torch.randn(b, 16)}, torch.randint(0, 4, (b,)))  # noqa: E731
    with pytest.raises(WorkloadError) as info:
        check_workload(Workload(model=OneTensor, make_batch=batch), batch_size=2)
    assert info.value.hint.endswith(
        "forward(x) takes one argument, and a dict is spread over keywords (model(**x)): if forward() takes the "
        "tensor itself, name the dict's key 'x', not 'inputs'; if it reads the dict (x['inputs']), return it in a "
        "tuple of one from make_batch, ((batch_dict,), target), passed as model(*x).")
    renamed = lambda b: ({"x": torch.randn(b, 16)}, torch.randint(0, 4, (b,)))  # noqa: E731
    assert check_workload(Workload(model=OneTensor, make_batch=renamed), batch_size=2).loss > 0


class WholeDictStep(WholeDict):
    """Lightning's step signature: the batch and its index, which has a default."""

    def forward(self, batch, batch_idx=None):
        return self.fc(batch["x"])


@pytest.mark.parametrize(("model", "takes", "raised"), [
    (WholeDictKeywords, "forward(batch) takes one argument", "missing 1 required positional argument: 'batch'"),
    # forward(self, batch, batch_idx=None) got the general hint only ("match forward()'s parameters")
    (WholeDictStep, "forward() takes one argument without a default, batch", "unexpected keyword argument 'x'"),
])
def test_a_forward_that_also_takes_keywords_is_told_to_pass_the_dict_whole(model, takes, raised):
    # forward(self, batch, **kwargs): model(**{"x": t, "mask": m}) raised "missing 1 required positional argument:
    # 'batch'" and got the general hint alone.
    batch = lambda b: ({"x": torch.randn(b, 16), "mask": torch.ones(b, 16)}, torch.randint(0, 4, (b,)))  # noqa: E731
    with pytest.raises(WorkloadError) as info:
        check_workload(Workload(model=model, make_batch=batch), batch_size=2)
    assert raised in str(info.value)
    assert info.value.hint.endswith(f"{takes}, and a dict is spread over keywords (model(**x)): to pass it whole as "
                                    "`batch`, return it in a tuple of one from make_batch, ((batch_dict,), target), "
                                    "passed as model(*x).")
    whole = lambda b: ((batch(b)[0],), batch(b)[1])  # noqa: E731
    assert check_workload(Workload(model=model, make_batch=whole), batch_size=2).loss > 0


def test_a_dict_whose_key_names_a_defaulted_parameter_gets_the_general_hint_only():
    # {"inputs": ..., "attention_mask": ...} for forward(self, input_ids, attention_mask=None): meant to be spread,
    # a key misnamed; passing it whole would be the wrong fix
    batch = lambda b: ({"inputs": torch.randn(b, 16), "attention_mask": torch.ones(b)},  # noqa: E731
                       torch.randint(0, 4, (b,)))
    with pytest.raises(WorkloadError) as info:
        check_workload(Workload(model=Keywords, make_batch=batch), batch_size=2)
    assert "takes one argument" not in info.value.hint and "match forward()'s parameters" in info.value.hint
