"""Save, set and restore the TF32 switches around one device's probe (``--precision tf32`` allows TF32).

PyTorch has two ways to set them (see ``advisor.probe.analysis.tf32``): the legacy flags
(``torch.backends.cuda.matmul.allow_tf32``, ``torch.backends.cudnn.allow_tf32``) and, since torch 2.9,
``fp32_precision`` on ``torch.backends``, ``torch.backends.cuda.matmul`` and ``torch.backends.cudnn[.conv|.rnn]``.
Once a file sets ``fp32_precision = "tf32"``, reading a legacy flag raises ("mix of the legacy and new APIs"),
so where the new API exists only it is read and written: its setters leave the legacy state alone. The restore
writes back only the switches whose value changed, parents first (setting a parent can change what its children
read), so every switch reads again as the workload left it. The legacy flags are used only on a torch without the
new API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The holders of ``fp32_precision`` that TF32 concerns, parents before their children (restore order).
_NEW_API_HOLDERS = ("", "cuda.matmul", "cudnn", "cudnn.conv", "cudnn.rnn")


@dataclass(frozen=True)
class SavedTf32Switches:
    """The switches as the workload left them: ``fp32_precision`` per holder, or the two legacy flags."""

    new_api: tuple[tuple[str, str], ...] | None = None
    legacy: tuple[bool, bool] | None = None


def _holder(torch: Any, path: str) -> Any:
    holder = torch.backends
    for name in filter(None, path.split(".")):
        holder = getattr(holder, name, None)
    return holder


def has_new_api(torch: Any) -> bool:
    """Whether this torch has the ``fp32_precision`` switches (torch >= 2.9)."""
    matmul = _holder(torch, "cuda.matmul")
    try:
        return matmul is not None and isinstance(getattr(matmul, "fp32_precision", None), str)
    except RuntimeError:  # an odd build: treat as absent, the legacy flags then decide
        return False


def save_and_set(torch: Any, allow_tf32: bool) -> SavedTf32Switches:
    """Save the switches, then allow TF32 for matmuls and convolutions when ``allow_tf32`` (``--precision tf32``).

    Args:
        torch: The imported torch module.
        allow_tf32: True to let fp32 matmuls and cuDNN convolutions run in TF32; False leaves them as they are.

    Returns:
        What ``restore`` needs to put them back.
    """
    if has_new_api(torch):
        saved = SavedTf32Switches(
            new_api=tuple(
                (path, holder.fp32_precision)
                for path in _NEW_API_HOLDERS
                if (holder := _holder(torch, path)) is not None and hasattr(holder, "fp32_precision")
            )
        )
        if allow_tf32:
            torch.backends.cuda.matmul.fp32_precision = "tf32"
            torch.backends.cudnn.conv.fp32_precision = "tf32"
        return saved
    saved = SavedTf32Switches(legacy=(torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32))
    if allow_tf32:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return saved


def restore(torch: Any, saved: SavedTf32Switches) -> None:
    """Put the switches back as ``save_and_set`` found them."""
    for path, value in saved.new_api or ():
        holder = _holder(torch, path)
        if holder.fp32_precision != value:  # one left alone: a parent's write would reach its children
            holder.fp32_precision = value
    if saved.legacy is not None:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved.legacy
