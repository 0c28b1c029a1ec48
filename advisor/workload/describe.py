"""The wording of workload error messages: how a value, a batch and an exception are named to the user.

Shared by the loader (``Workload.build_model`` / ``build_optimizer``), the training step and the check.
torch is imported only inside the functions, so that the loader stays torch-free at import.
"""

from __future__ import annotations

from typing import Any


def describe(obj: Any) -> str:
    """A noun phrase for ``obj``: ``a tensor of shape (2, 3) (torch.float32)``, ``a list of 2 items``, ``an int``."""
    try:
        import torch

        if isinstance(obj, torch.Tensor):
            return f"a tensor of shape {tuple(obj.shape)} ({obj.dtype})"
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    if obj is None:
        return "None"
    if isinstance(obj, (tuple, list)):
        return f"a {type(obj).__name__} of {len(obj)} items"
    name = type(obj).__name__
    shape = getattr(obj, "shape", None)
    if isinstance(shape, tuple):  # numpy arrays and the like
        return f"a {type(obj).__module__.split('.')[0]}.{name} of shape {shape}"
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def input_summary(obj: Any, *, limit: int = 8) -> str:
    """Shapes and dtypes of a batch, e.g. ``Tensor[2, 3, 224, 224] float32``,
    ``(Tensor[2, 64] float32, Tensor[2] int64)`` or ``{input_ids: Tensor[2, 384] int64, ...}``."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        torch = None
    if torch is not None and isinstance(obj, torch.Tensor):
        dims = ", ".join(str(d) for d in obj.shape)
        return f"Tensor[{dims}] {str(obj.dtype).removeprefix('torch.')}"
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return repr(obj) if not isinstance(obj, str) or len(obj) <= 20 else repr(obj[:17] + "...")
    if isinstance(obj, dict):
        items = [f"{k}: {input_summary(v, limit=limit)}" for k, v in list(obj.items())[:limit]]
        more = ", ..." if len(obj) > limit else ""
        return "{" + ", ".join(items) + more + "}"
    if isinstance(obj, (tuple, list)):
        items = [input_summary(v, limit=limit) for v in list(obj)[:limit]]
        more = ", ..." if len(obj) > limit else ""
        if isinstance(obj, tuple):
            return "(" + ", ".join(items) + ("," if len(obj) == 1 else "") + more + ")"
        return "[" + ", ".join(items) + more + "]"
    shape = getattr(obj, "shape", None)
    if shape is not None:
        return f"{type(obj).__module__.split('.')[0]}.{type(obj).__name__}{list(shape)}"
    return type(obj).__name__


# The most of an exception's message an error repeats: the user's own text, which can be megabytes.
MESSAGE_LIMIT = 2000


def exception_text(exc: BaseException, limit: int = MESSAGE_LIMIT) -> str:
    """``str(exc)``, shortened to ``limit`` characters; a placeholder when the user's ``__str__`` itself raises
    (the error is still the user's, not advisor's)."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ in user code
        return f"(its message could not be read: {type(exc).__name__}.__str__ raised)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def gist(exc: BaseException, limit: int = 300) -> str:
    """The first non-empty line of an exception's message, shortened (its class's name where it has none)."""
    return _first_line(exc, limit) or type(exc).__name__


def raised(exc: BaseException, limit: int = 300, *, whole: bool = False) -> str:
    """"ValueError: the first line of its message" (``whole``: all of it, to ``MESSAGE_LIMIT``), or "MemoryError
    (no message)": what a user's code raised."""
    line = exception_text(exc).strip() if whole else _first_line(exc, limit)
    return f"{type(exc).__name__}: {line}" if line else f"{type(exc).__name__} (no message)"


def _first_line(exc: BaseException, limit: int) -> str:
    text = exception_text(exc, 100_000).strip()
    if isinstance(exc, KeyError) and exc.args:
        text = repr(exc.args[0])
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


# How PyTorch says there is no CUDA device to put a tensor on (a CPU-only build, no driver, no visible GPU).
_NO_CUDA = ("Torch not compiled with CUDA enabled", "Found no NVIDIA driver", "No CUDA GPUs are available",
            "no CUDA-capable device", "CUDA driver initialization failed")


def cpu_hint(exc: BaseException, source: str, made: str) -> str | None:
    """The fix for user code (``source``: "build_model()") that put what it ``made`` ("the model") on CUDA where
    this machine has none; None when ``exc`` is not that. Training scripts often call ``.cuda()``: advisor wants it
    on the CPU and moves it to each device it probes, a GPU included."""
    if not any(words in exception_text(exc) for words in _NO_CUDA):  # a user's __str__ may raise
        return None
    return (f"Fix: create {made} on the CPU in {source}: drop .cuda() / .to('cuda') / device='cuda' there; advisor "
            "moves it to each device it probes (this machine has no CUDA device).")
