"""The specific fixes for a batch that the model or the default loss refused, beside the general ones
(``advisor.workload.check``): a dict batch that forward() takes whole, and float64 inputs (NumPy's default) for a
float32 model; each returns "" where its case does not apply, so the general hint stands alone. And a model whose
lazy layers (``nn.LazyLinear``) have no shapes yet: refused with its fix.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

from advisor.errors import WorkloadError


def whole_dict_hint(model: Any, inputs: Any) -> str:
    """Where a dict batch met a forward() of one parameter without a default (and perhaps others with one, and
    ``**kwargs``), none of them its keys (``forward(self, batch)`` reading ``batch["x"]``; ``forward(self, batch,
    batch_idx=None)``): how to pass the dict whole, and for a dict of one key, which may as well be a tensor under
    another name (``{"inputs": t}`` for ``forward(self, x)``), the key to rename it to; else "". ``model(**x)``
    spreads a dict into keywords.

    Args:
        model: the module called.
        inputs: the batch's inputs as make_batch returned them.
    """
    if not isinstance(inputs, dict):
        return ""
    try:
        params = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):  # a forward without a signature (a C extension's): nothing to say
        return ""
    params = [p for p in params if p.kind != p.VAR_KEYWORD]  # forward(self, batch, **kwargs) takes it whole too
    # Those with a default may be left out: forward(self, batch, batch_idx=None) takes the dict whole as well
    required = [p for p in params if p.default is p.empty and p.kind != p.VAR_POSITIONAL]
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if len(required) != 1 or required[0].kind not in positional \
            or any(p.name in inputs for p in params):  # a key that names one: the dict was meant to be spread
        return ""
    name = required[0].name
    whole = "return it in a tuple of one from make_batch, ((batch_dict,), target), passed as model(*x)."
    said = f" forward({name}) takes one argument" if len(params) == 1 else \
        f" forward() takes one argument without a default, {name}"
    said += ", and a dict is spread over keywords (model(**x))"
    if len(inputs) == 1:  # one key: as likely a misnamed tensor ({"inputs": t} for forward(x)), whose fix is the key
        key = next(iter(inputs))
        return (f"{said}: if forward() takes the tensor itself, name the dict's key {name!r}, not {key!r}; if it "
                f"reads the dict ({name}[{key!r}]), {whole}")
    return f"{said}: to pass it whole as `{name}`, {whole}"


def _tensors(obj: Any) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in _tensors(v)]
    if isinstance(obj, (tuple, list)):
        return [t for v in obj for t in _tensors(v)]
    return []


def float64_hint(model: Any, inputs: Any, exc: BaseException) -> str:
    """Where a dtype error met float64 inputs and a model with float32 weights (``torch.from_numpy`` of a NumPy
    array keeps its float64; pandas' ``.values`` too): the fix, ``x.float()``; else "".

    Args:
        model: the module called.
        inputs: the batch's inputs.
        exc: what the call raised.
    """
    text = str(exc)
    if not any(word in text for word in ("Double", "double", "dtype", "scalar type")):
        return ""
    if any(word in text for word in ("indices", "index", "Long")):  # an embedding's ids: x.float() fails again
        return ""
    if not any(t.dtype == torch.float64 for t in _tensors(inputs)):
        return ""
    if not any(p.dtype == torch.float32 for p in model.parameters()):
        return ""
    return (" Here make_batch returned float64 inputs, and the model's weights are float32: NumPy arrays are "
            "float64 by default, and torch.from_numpy keeps that, so return x.float() (or "
            "torch.as_tensor(a, dtype=torch.float32)) from make_batch.")


def lazy_model_check(label: str, model: Any, inputs: Any = None) -> None:
    """Refuse a model whose lazy layers (``nn.LazyLinear``, ``nn.LazyConv2d``...) have not taken their shapes:
    advisor counts its parameters and builds the optimizer over them before any forward, as a training script
    must too (PyTorch's own advice: one dry-run forward before the optimizer is made).

    Args:
        label: the workload's name in messages.
        model: the built model.
        inputs: the batch's inputs as make_batch returned them: the dry run the fix shows passes them as advisor
            does (a tuple spread, model(*x); a dict as keywords, model(**x)).

    Raises:
        WorkloadError: naming the first lazy parameters' modules and the fix.
    """
    from torch.nn.parameter import is_lazy

    lazy = [name for name, p in model.named_parameters() if is_lazy(p)]
    if not lazy:
        return
    kinds = {name: type(module).__name__ for name, module in model.named_modules()}
    modules = list(dict.fromkeys(f"{name.rpartition('.')[0] or 'the model'} "
                                 f"({kinds.get(name.rpartition('.')[0], '?')})" for name in lazy))
    shown = ", ".join(modules[:3]) + (f" and {len(modules) - 3} more" if len(modules) > 3 else "")
    raise WorkloadError(
        f"{label}: build_model() returned a model whose lazy layers have no shapes yet ({shown}: "
        f"{len(lazy)} uninitialized parameters), so its parameters cannot be counted or given to an optimizer.",
        hint="Fix: in build_model(), run one forward on a small batch before returning the model, as PyTorch "
        f"advises before making the optimizer (`with torch.no_grad(): {_dry_run(inputs)}`), or give the "
        "layers their input sizes (nn.Linear(in_features, out_features) for nn.LazyLinear(out_features)).")


def _dry_run(inputs: Any) -> str:
    """The forward on make_batch's inputs, called as advisor calls it: ``model(make_batch(2)[0])`` was wrong for
    a tuple of inputs (one argument, the tuple) and a dict (forward() takes its keys)."""
    if isinstance(inputs, dict):
        return "model(**make_batch(2)[0])"
    if isinstance(inputs, (tuple, list)):
        return "model(*make_batch(2)[0])"
    return "model(make_batch(2)[0])"
