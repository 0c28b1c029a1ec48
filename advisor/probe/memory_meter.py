"""Peak memory of the timed steps at one batch size: ``CudaMemory`` on a GPU, ``CpuMemory`` on a CPU.

On a GPU, ``torch.cuda.max_memory_allocated`` over the timed steps at that batch size
(everything the caching allocator handed out: weights, gradients, optimizer state, activations). On a CPU it
is rough: the growth of the process's resident memory during the timed steps at that batch size over what it
held just before them (after the warm-up, with freed heap memory handed back to the OS through glibc's
``malloc_trim``; Linux: the kernel's peak-RSS counter, reset per batch size). Where that counter cannot be reset
(macOS, a sandbox without /proc), ``RssSampler`` reads RSS from a background thread every few milliseconds during
the timed steps (between steps the step's activations are freed already: macOS's allocator hands large blocks back
at once, and a 27 GiB job read 0 GiB), and the process's lifetime peak (``getrusage``'s ``ru_maxrss``) is taken
where it rose during them; the sampled figure may miss a short peak, a lower bound. So on a CPU it counts the
batch, activations and gradients, not the weights or optimizer state.

On a CPU it also says how the operating system supplied that memory during the timed steps: minor page faults
per step and the kernel's share of the process's CPU time (``getrusage``). glibc's malloc hands large freed blocks
back to the kernel and takes fresh, zeroed pages on the next allocation; for a wide MLP on this project's 2-core
VM that was 4,400 faults and 27% of the CPU time a step (12.5 ms a step; 7.5 ms with that memory kept), and the
count moved 0.5-2x from one process to the next (bench/README.md, "Page faults").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import sys
import threading
import weakref
from typing import Any

try:
    import resource
except ImportError:  # not a Unix: no page-fault counts
    resource = None

from advisor.units import BYTES_PER_GIB

# How often RssSampler reads RSS: short enough to catch a step's activations, which live for much of its forward
# and backward; each read is one system call (tens of microseconds), so well under 1% of a core.
SAMPLE_INTERVAL_SECONDS = 0.002


def rss_bytes() -> int | None:
    """This process's resident memory now; None where it cannot be read (/proc not mounted or denied)."""
    import psutil

    try:
        return int(psutil.Process().memory_info().rss)
    except (psutil.Error, OSError):
        return None


def max_rss_bytes() -> int | None:
    """The process's peak resident memory over its life (``getrusage``'s ``ru_maxrss``: bytes on macOS, KiB on
    Linux and the BSDs); None where not counted."""
    if resource is None:
        return None
    peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak if sys.platform == "darwin" else peak * 1024


class RssSampler:
    """The highest RSS a background thread read every ``SAMPLE_INTERVAL_SECONDS`` until ``stop``.

    The thread holds no reference to its owner: ``CpuMemory`` stops it through ``weakref.finalize`` as well, so a
    step that raises (out of memory) before ``stop`` leaves no thread behind.
    """

    def __init__(self, interval_seconds: float | None = None) -> None:
        interval_seconds = SAMPLE_INTERVAL_SECONDS if interval_seconds is None else interval_seconds
        self.highest = [0]  # shared with the thread: a list, so it needs no reference to self
        self._stop = threading.Event()
        self._thread = threading.Thread(target=_sample, args=(self._stop, self.highest, interval_seconds),
                                        name="advisor-rss-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> int:
        """Stop the thread (waiting for it) and return the highest RSS it read, bytes."""
        self._stop.set()
        self._thread.join()
        return self.highest[0]


def _sample(stop: threading.Event, highest: list[int], interval_seconds: float) -> None:
    import psutil

    try:
        process = psutil.Process()
        while not stop.is_set():
            highest[0] = max(highest[0], int(process.memory_info().rss))
            stop.wait(interval_seconds)
    except (psutil.Error, OSError):
        return  # RSS unreadable: what it read so far stands


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM) of this process; False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


@functools.lru_cache(maxsize=4)
def glibc_function(name: str) -> Any:
    """glibc's malloc function ``name`` (``malloc_trim``, ``mallopt``) through ctypes; None elsewhere."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return getattr(libc, name)  # glibc only
    except (OSError, AttributeError):
        return None


def minor_faults() -> int | None:
    """This process's minor page faults so far (``getrusage``); None where not counted (not a Unix)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource is not None else None


def malloc_trim() -> None:
    """Hand the heap memory glibc holds free back to the OS (``malloc_trim(0)``); a no-op elsewhere."""
    trim = glibc_function("malloc_trim")
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
        self.before = rss_bytes()  # None: RSS unreadable (no /proc), and the peak is not recorded
        self.kernel_peak = reset_peak_rss()
        self.seen = self.before or 0
        self.usage = resource.getrusage(resource.RUSAGE_SELF) if resource is not None else None
        self.sampler: RssSampler | None = None
        self.max_rss_before = None if self.kernel_peak else max_rss_bytes()
        if not self.kernel_peak and self.before is not None:
            self.sampler = RssSampler()
            weakref.finalize(self, self.sampler.stop)

    def fields(self, steps: int) -> dict[str, Any]:
        """The Measurement fields of the timed steps: peak memory, page faults a step, the kernel's CPU share."""
        out: dict[str, Any] = {"peak_memory_gib": self.peak_gib()}
        if self.usage is not None and steps > 0:
            now = resource.getrusage(resource.RUSAGE_SELF)
            user, system = now.ru_utime - self.usage.ru_utime, now.ru_stime - self.usage.ru_stime
            out["page_faults_per_step"] = max(0, now.ru_minflt - self.usage.ru_minflt) / steps
            out["kernel_cpu_share"] = system / (user + system) if user + system > 0 else None
        return out

    def after_step(self) -> None:
        """Called after each timed step."""
        if not self.kernel_peak:
            self.seen = max(self.seen, rss_bytes() or 0)

    def peak_gib(self) -> float | None:
        """The peak over the timed steps, GiB (the first call ends the sampling); None where RSS is unreadable."""
        if self.before is None:
            return None
        peak = peak_rss_bytes() if self.kernel_peak else None
        peak = max(peak or 0, self.seen)
        if self.sampler is not None:
            self.seen = peak = max(peak, self.sampler.stop())
            self.sampler = None
            lifetime = max_rss_bytes()
            if lifetime is not None and self.max_rss_before is not None and lifetime > self.max_rss_before:
                self.seen = peak = max(peak, lifetime)  # the process's peak rose, so it was reached in these steps
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

    def fields(self, steps: int) -> dict[str, Any]:
        """The Measurement fields of the timed steps: the peak (the device's memory is not paged)."""
        return {"peak_memory_gib": self.peak_gib()}


def is_oom(exc: BaseException) -> bool:
    """An out-of-memory error from torch (CUDA or CPU allocator) or Python.

    cuBLAS and cuDNN report running out of device memory for a handle or workspace as ``..._STATUS_ALLOC_FAILED``
    (a RuntimeError near the memory limit): the batch's limit, not a fault of the workload.
    """
    import torch

    oom_types = tuple(t for t in (getattr(torch, "OutOfMemoryError", None),
                                  getattr(torch.cuda, "OutOfMemoryError", None)) if isinstance(t, type))
    if isinstance(exc, MemoryError) or (oom_types and isinstance(exc, oom_types)):
        return True
    if isinstance(exc, RuntimeError):
        text = str(exc).lower()
        return any(s in text for s in ("out of memory", "can't allocate memory", "cannot allocate memory",
                                       "failed to allocate", "status_alloc_failed"))
    return False
