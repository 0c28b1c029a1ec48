"""Importing torch where advisor needs it, with one clear message when this Python's torch cannot load.

A CUDA build of torch raises ``OSError`` (``libcudnn.so.9: cannot open shared object file``) from its own
``__init__`` when its libraries do not match the machine, and other builds fail with other exceptions: none of
that is advisor's bug, and every one has the same fix (README "Set-up"). ``import_torch`` is the one place that
maps them to a ``HardwareError`` (outside ``advisor.hardware``, which keeps no catch-all); ``advisor.hardware``
and the probe's child call it before anything else uses torch.

It keeps nothing between calls: whether torch failed before is read from the interpreter's own record of
imports (``sys.modules``), so a failed import is tried once per process.
"""

from __future__ import annotations

import sys
from types import ModuleType

from advisor.errors import HardwareError

_MAX_REASON_CHARS = 500


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    if len(text) > _MAX_REASON_CHARS:
        text = text[:_MAX_REASON_CHARS] + "..."
    return f"{type(exc).__name__}: {text}"


def _failed_before() -> bool:
    """Whether an import of torch failed part-way in this process: Python dropped ``torch`` from ``sys.modules``
    but kept the submodules it had loaded. Importing it again would run its ``__init__`` over a half-initialised
    torch (its C extension partly registered), which fails for another reason and hides the real one."""
    return "torch" not in sys.modules and any(name.startswith("torch.") for name in list(sys.modules))


def _hint() -> str:
    return ("Fix: install the torch build for this machine (README \"Set-up\": a source checkout's setup script "
            "picks it; by hand, the CUDA wheel matching the NVIDIA driver, or the CPU-only one on a machine without a "
            f"GPU), then check it with: {sys.executable} -c \"import torch\"")


def import_torch() -> ModuleType:
    """``torch``, imported.

    Raises:
        HardwareError: torch is not installed in this Python, or its import failed (a broken or mismatched
            build; once failed part-way, it is not tried again in this process); the message gives the reason
            and the interpreter, the hint how to fix the install.
    """
    if _failed_before():
        raise HardwareError(f"torch cannot be imported in this Python ({sys.executable}): its import failed "
                            "part-way earlier in this process (the first error gave the reason), and a second try "
                            "over the half-imported torch would fail for another reason.",
                            hint=_hint() + " in a new process.")
    try:
        import torch
    except Exception as exc:  # noqa: BLE001 - any failure inside torch's __init__ is an install problem
        missing = isinstance(exc, ModuleNotFoundError) and exc.name == "torch"
        what = "is not installed" if missing else f"cannot be imported ({_reason(exc)})"
        raise HardwareError(f"torch {what} in this Python ({sys.executable}).", hint=_hint()) from None
    return torch
