"""Importing torch where advisor needs it, with one clear message when this Python's torch cannot load.

A CUDA build of torch raises ``OSError`` (``libcudnn.so.9: cannot open shared object file``) from its own
``__init__`` when its libraries do not match the machine, and other builds fail with other exceptions: none of
that is advisor's bug, and every one has the same fix (README "Set-up"). ``import_torch`` is the one place that
maps them to a ``HardwareError`` (outside ``advisor.hardware``, which keeps no catch-all); ``advisor.hardware``
and the probe's child call it before anything else uses torch.
"""

from __future__ import annotations

import sys
from types import ModuleType

from advisor.errors import HardwareError

# The first failure, raised again as it was: importing a half-initialised torch a second time fails differently
# (its C extension is partly registered), which would hide the real reason.
_failure: tuple[str, str] | None = None
_MAX_REASON_CHARS = 500


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    if len(text) > _MAX_REASON_CHARS:
        text = text[:_MAX_REASON_CHARS] + "..."
    return f"{type(exc).__name__}: {text}"


def import_torch() -> ModuleType:
    """``torch``, imported.

    Raises:
        HardwareError: torch is not installed in this Python, or its import failed (a broken or mismatched
            build); the message gives the reason and the interpreter, the hint how to fix the install.
    """
    global _failure
    if _failure is None:
        try:
            import torch
        except Exception as exc:  # noqa: BLE001 - any failure inside torch's __init__ is an install problem
            missing = isinstance(exc, ModuleNotFoundError) and exc.name == "torch"
            what = "is not installed" if missing else f"cannot be imported ({_reason(exc)})"
            _failure = (f"torch {what} in this Python ({sys.executable}).",
                        "Fix: install the torch build for this machine (README \"Set-up\": a source checkout's "
                        "setup script picks it; by hand, the CUDA wheel matching the NVIDIA driver, or the CPU-only "
                        f"one on a machine without a GPU), then check it with: {sys.executable} -c \"import torch\"")
        else:
            return torch
    message, hint = _failure
    raise HardwareError(message, hint=hint)
