"""GPU utilisation and power, sampled through NVML on a background thread while probe steps run.

The sampler only calls ``sample(index) -> (utilisation %, watts)`` of an ``advisor.hardware.nvml.NvmlLike``: in
production ``advisor.hardware.nvml.Nvml`` (the only importer of pynvml); in tests, a fake. With no NVML (a CPU probe,
no driver, or a board that reports nothing) it records nothing and the means are ``None``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from advisor.errors import HardwareError
from advisor.hardware.gpu import visible_nvml_indices

if TYPE_CHECKING:  # pragma: no cover
    from advisor.hardware.nvml import NvmlLike


class NvmlSampler:
    """``with NvmlSampler(nvml, index): <timed steps>`` then ``.utilization_pct`` / ``.power_watts`` (means).

    ``nvml`` None, or ``index`` None, makes it a no-op. A sample that raises ends the sampling quietly: the
    probe's timings never depend on NVML working.
    """

    def __init__(self, nvml: NvmlLike | None, index: int | None, interval_seconds: float = 0.05) -> None:
        self._nvml = nvml
        self._index = index
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.utilization: list[float] = []
        self.power: list[float] = []

    @property
    def active(self) -> bool:
        """There is something to sample: NVML and a device index."""
        return self._nvml is not None and self._index is not None

    def _take(self) -> bool:
        try:
            util, watts = self._nvml.sample(self._index)  # type: ignore[union-attr]
        except (HardwareError, OSError):  # a GPU lost or a driver gone mid-probe: Nvml's contract is None, not this
            return False
        if util is not None:
            self.utilization.append(float(util))
        if watts is not None:
            self.power.append(float(watts))
        return True

    def _run(self) -> None:
        while self._take() and not self._stop.wait(self._interval):
            pass

    def start(self) -> NvmlSampler:
        """Start sampling on a background thread (a no-op when not ``active``)."""
        if self.active and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="advisor-nvml-sampler", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling, and take one closing sample."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=2.0)
            self._thread = None
            self._take()  # one closing sample, so that even a very short window has two

    def __enter__(self) -> NvmlSampler:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def utilization_pct(self) -> float | None:
        """The mean GPU utilisation, %; None without samples."""
        return sum(self.utilization) / len(self.utilization) if self.utilization else None

    @property
    def power_watts(self) -> float | None:
        """The mean power draw, W; None without samples."""
        return sum(self.power) / len(self.power) if self.power else None


def nvml_index(cuda_index: int, nvml: NvmlLike) -> int | None:
    """The NVML index of CUDA device ``cuda_index`` (CUDA_VISIBLE_DEVICES honoured), or None if unknown."""
    indices = visible_nvml_indices(nvml, nvml.device_count())
    return indices[cuda_index] if 0 <= cuda_index < len(indices) else None
