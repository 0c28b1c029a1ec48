"""What to tell a user whose forward calls an operator whose output size depends on the data.

Under fake tensors an operator such as ``nonzero`` or ``_pack_padded_sequence`` raises torch's
``DynamicOutputShapeException``: the values, not the shapes, set how large its output is, so the shape-level
analysis (FLOPs and bytes per operator, for GPUs not probed here) cannot size anything after it. The generic fix
("avoid .item(), .tolist() ...") sends such a user looking for Python they did not write: a packed LSTM's forward
has none. This names the operator the user called and gives the fix that applies to it.
"""

from __future__ import annotations

from advisor.errors import PredictionError

_PROBE_ON_A_GPU = "or probe on a GPU (a GPU probed on its own machine is priced from its timed steps)"
_MASKED = "keep the shapes fixed with the mask instead (torch.where(mask, x, 0), x * mask, a masked mean)"
_UNIQUE = ("unique (torch.unique)", "use a fixed-size alternative (a one-hot or bincount with minlength, or "
           "scatter into a tensor of the full size)")
# aten's name -> (what the user called, the shape-static way to write it)
_OPERATORS: dict[str, tuple[str, str]] = {
    "_pack_padded_sequence": (
        "pack_padded_sequence", "pad instead of pack to price GPUs (cuDNN runs the padded length)"),
    "nonzero": ("nonzero (torch.nonzero, torch.where(mask) with one argument, or boolean indexing x[mask])", _MASKED),
    "masked_select": ("masked_select (torch.masked_select)", _MASKED),
    **dict.fromkeys(("_unique", "_unique2", "unique_dim", "unique_consecutive", "unique_dim_consecutive"), _UNIQUE),
}


def operator_name(exc: BaseException) -> str | None:
    """The aten operator (its packet name: "nonzero", "_pack_padded_sequence") whose output size depends on the
    data, where ``exc`` is torch's ``DynamicOutputShapeException``; None for any other error."""
    if type(exc).__name__ != "DynamicOutputShapeException":
        return None
    func = getattr(exc, "func", None)
    packet = getattr(func, "_overloadpacket", None)
    name = getattr(packet, "__name__", None) or str(func or "").removeprefix("aten.").split(".")[0]
    return name or None


def dynamic_shape_error(label: str, exc: BaseException) -> PredictionError | None:
    """The analysis' error where ``exc`` is an operator whose output size depends on the data, naming it, with
    the fix for it; None for any other error (the caller's generic one stands)."""
    name = operator_name(exc)
    if name is None:
        return None
    called, fix = _OPERATORS.get(name, (name, "compute it with shapes that do not depend on the values"))
    return PredictionError(
        f"could not analyse {label} with fake tensors: `{called}` gives an output whose size depends on the data "
        f"(aten.{name}), so the shape analysis, which prices GPUs not probed here, cannot size the step after it.",
        hint=f"Fix: GPU prices need a shape-static forward: {fix}, {_PROBE_ON_A_GPU}. Probes on real devices "
        "still work without it.")
