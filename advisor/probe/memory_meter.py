"""Peak memory of the timed steps at one batch size: ``CudaMemory`` on a GPU, ``CpuMemory`` on a CPU.

On a GPU, ``torch.cuda.max_memory_allocated`` over the timed steps at that batch size
(everything the caching allocator handed out: weights, gradients, optimizer state, activations). On a CPU it
is rough: the growth of the process's resident memory during the timed steps at that batch size over what it
held just before them (after the warm-up, with freed heap memory handed back to the OS through glibc's
``malloc_trim``; Linux: the kernel's peak-RSS counter, reset per batch size; elsewhere RSS read after each
step). So on a CPU it counts the batch, activations and gradients, not the weights or optimizer state.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
from typing import Any

from advisor.units import BYTES_PER_GIB


def rss_bytes() -> int:
    """This process's resident memory now."""
    import psutil

    return int(psutil.Process().memory_info().rss)


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM) of this process; False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


@functools.lru_cache(maxsize=1)
def _libc_malloc_trim() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim  # glibc only
    except (OSError, AttributeError):
        return None


def malloc_trim() -> None:
    """Hand the heap memory glibc holds free back to the OS (``malloc_trim(0)``); a no-op elsewhere."""
    trim = _libc_malloc_trim()
    if trim is not None:
        trim(0)


def peak_rss_bytes() -> int | None:
    """The kernel's peak-RSS counter (VmHWM) of this process; None where it cannot be read."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class CpuMemory:
    """RSS growth during the steps at one batch size (rough: see the module docstring)."""

    def __init__(self) -> None:
        gc.collect(1)  # young garbage only: a full collection scans all of torch (~0.2 s)
        malloc_trim()  # hand memory freed by earlier (larger) batches back, so it is not counted as free here
        self.before = rss_bytes()
        self.kernel_peak = reset_peak_rss()
        self.seen = self.before

    def after_step(self) -> None:
        """Called after each timed step."""
        if not self.kernel_peak:
            self.seen = max(self.seen, rss_bytes())

    def peak_gib(self) -> float:
        """The peak over the timed steps, GiB."""
        peak = peak_rss_bytes() if self.kernel_peak else None
        peak = max(peak or 0, self.seen)
        return max(0, peak - self.before) / BYTES_PER_GIB


class CudaMemory:
    """What the caching allocator handed out during the steps at one batch size."""

    def __init__(self, torch: Any, device: Any) -> None:
        self._torch, self._device = torch, device
        torch.cuda.reset_peak_memory_stats(device)

    def after_step(self) -> None:
        """Called after each timed step."""
        pass

    def peak_gib(self) -> float:
        """The peak over the timed steps, GiB."""
        return self._torch.cuda.max_memory_allocated(self._device) / BYTES_PER_GIB


def is_oom(exc: BaseException) -> bool:
    """An out-of-memory error from torch (CUDA or CPU allocator) or Python."""
    import torch

    oom_types = tuple(t for t in (getattr(torch, "OutOfMemoryError", None),
                                  getattr(torch.cuda, "OutOfMemoryError", None)) if isinstance(t, type))
    if isinstance(exc, MemoryError) or (oom_types and isinstance(exc, oom_types)):
        return True
    if isinstance(exc, RuntimeError):
        text = str(exc).lower()
        return any(s in text for s in ("out of memory", "can't allocate memory", "cannot allocate memory",
                                       "failed to allocate"))
    return False
