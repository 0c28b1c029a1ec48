"""The one seam to NVIDIA's management library (NVML): the only module in advisor that imports pynvml.

Everything GPU-related that does not need CUDA (what GPUs are here, their clocks and power limit, a utilisation
and power sample while a probe runs) goes through ``Nvml``. Tests replace the module attribute ``pynvml`` with a
fake, so no other code may import pynvml.

Facts about NVML this relies on (the same ones Zeus' ``zeus.device.gpu.nvidia`` relies on):

- ``nvmlInit`` raises an ``NVMLError`` subclass when there is no driver (``NVML_ERROR_DRIVER_NOT_LOADED``) or no
  library (``NVML_ERROR_LIBRARY_NOT_FOUND``); that is the normal "no GPU here" state, not an error.
- Queries a board or driver does not support raise ``NVMLError`` with value ``NVML_ERROR_NOT_SUPPORTED``; power is
  not readable on many consumer and virtualised GPUs. Each query is therefore read on its own, and a failed one
  becomes ``None``. Only ``pynvml.NVMLError`` (with its subclasses, as Zeus' ``_handle_nvml_errors``) is caught:
  anything else is a bug to see, not a missing figure. A device NVML cannot reach is a ``HardwareError``.
- Power is reported in milliwatts, memory in bytes, clocks in MHz. Old bindings return bytes for strings.
- NVML numbers devices in PCI bus order and ignores ``CUDA_VISIBLE_DEVICES``; mapping to CUDA ordinals is the
  caller's job (``advisor.hardware.gpu``).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from advisor.errors import HardwareError

try:  # the nvidia-ml-py distribution installs the module "pynvml"
    import pynvml
except ImportError:  # pragma: no cover - depends on the installation
    pynvml = None

from advisor.units import BYTES_PER_GIB as _GIB


@runtime_checkable
class NvmlLike(Protocol):
    """What advisor asks of NVML: the interface of ``Nvml``, and of the fakes tests put in its place.

    ``device_count``, ``device`` and ``sample`` follow ``Nvml``'s contract: nothing when ``available`` is
    False, ``None`` for a figure the board does not report, ``HardwareError`` from ``device`` for a GPU that
    cannot be reached.
    """

    available: bool

    def __enter__(self) -> NvmlLike: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def device_count(self) -> int: ...

    def device(self, index: int) -> dict[str, Any]: ...

    def sample(self, index: int) -> tuple[float | None, float | None]: ...


def _try(fn: Any, *args: Any) -> Any:
    """fn(*args), or None when NVML refuses (a query the driver or board does not support, a lost GPU)."""
    try:
        return fn(*args)
    except pynvml.NVMLError:
        return None


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class Nvml:
    """NVML for the duration of a ``with`` block (``nvmlInit`` ... ``nvmlShutdown``). Never raises on init.

    ``available`` is False when pynvml is not installed or NVML cannot start (no driver, no GPU, a container
    without the library). Queries on an unavailable ``Nvml`` return nothing: ``device_count() == 0``.
    Implements ``NvmlLike``.
    """

    def __init__(self) -> None:
        self.available = False
        self.error: str | None = None  # why NVML is unavailable, for messages
        self._handles: dict[int, Any] = {}

    # -------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> Nvml:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def open(self) -> None:
        if pynvml is None:
            self.error = "pynvml (package nvidia-ml-py) is not installed"
            return
        try:
            pynvml.nvmlInit()
        except (pynvml.NVMLError, OSError) as err:  # OSError: a broken library that loads but cannot start
            self.error = f"NVML did not start: {_text(err) or type(err).__name__}"
            return
        self.available = True

    def close(self) -> None:
        if not self.available:
            return
        self.available = False
        self._handles.clear()
        try:
            pynvml.nvmlShutdown()
        except Exception:  # noqa: BLE001 - shutting down must never fail the caller, whatever the binding raises
            pass

    # ---------------------------------------------------------------------------------- queries

    def device_count(self) -> int:
        if not self.available:
            return 0
        try:
            return int(pynvml.nvmlDeviceGetCount())
        except pynvml.NVMLError:
            return 0

    def _handle(self, index: int) -> Any:
        """NVML's handle of device ``index``; HardwareError when NVML is not running or cannot reach it."""
        if not self.available:
            raise HardwareError("NVML is not available", hint=self.error)
        if index not in self._handles:
            try:
                self._handles[index] = pynvml.nvmlDeviceGetHandleByIndex(index)
            except pynvml.NVMLError as err:
                raise HardwareError(f"NVML cannot reach GPU {index}: {_text(err) or type(err).__name__}") from err
        return self._handles[index]

    def device(self, index: int) -> dict[str, Any]:
        """Static facts of NVML device ``index`` (PCI order): name, memory_gib, driver_version, sm_clock_mhz
        (the maximum SM clock), memory_clock_mhz (maximum), power_limit_watts, uuid, mig_enabled (MIG mode on: CUDA
        sees its slices, not it). Unsupported -> None (mig_enabled: False).
        HardwareError when the device cannot be reached (a lost GPU, an index NVML does not have)."""
        handle = self._handle(index)
        name = _try(pynvml.nvmlDeviceGetName, handle)
        memory = _try(pynvml.nvmlDeviceGetMemoryInfo, handle)
        driver = _try(pynvml.nvmlSystemGetDriverVersion)
        sm_clock = _try(pynvml.nvmlDeviceGetMaxClockInfo, handle, pynvml.NVML_CLOCK_SM)
        mem_clock = _try(pynvml.nvmlDeviceGetMaxClockInfo, handle, pynvml.NVML_CLOCK_MEM)
        # The enforced limit is what the board runs under (an admin may have lowered it); the management
        # limit is the fallback on drivers that lack the former.
        power_mw = _try(pynvml.nvmlDeviceGetEnforcedPowerLimit, handle)
        if power_mw is None:
            power_mw = _try(pynvml.nvmlDeviceGetPowerManagementLimit, handle)
        uuid = _try(pynvml.nvmlDeviceGetUUID, handle)
        # (current, pending); older bindings lack the call, and a board without MIG raises NOT_SUPPORTED
        mig = _try(pynvml.nvmlDeviceGetMigMode, handle) if hasattr(pynvml, "nvmlDeviceGetMigMode") else None
        return {
            "name": _text(name) if name is not None else f"NVIDIA GPU {index}",
            "memory_gib": (memory.total / _GIB) if memory is not None else None,
            "driver_version": _text(driver) if driver is not None else None,
            "sm_clock_mhz": float(sm_clock) if sm_clock else None,
            "memory_clock_mhz": float(mem_clock) if mem_clock else None,
            "power_limit_watts": (power_mw / 1000.0) if power_mw else None,
            "uuid": _text(uuid) if uuid is not None else None,
            "mig_enabled": bool(mig[0]) if mig else False,
        }

    def sample(self, index: int) -> tuple[float | None, float | None]:
        """(GPU utilisation %, power draw W) right now; None for what the driver does not report."""
        if not self.available:
            return None, None
        try:
            handle = self._handle(index)
        except HardwareError:
            return None, None
        rates = _try(pynvml.nvmlDeviceGetUtilizationRates, handle)
        power_mw = _try(pynvml.nvmlDeviceGetPowerUsage, handle)
        util = float(rates.gpu) if rates is not None else None
        power = (power_mw / 1000.0) if power_mw is not None else None
        return util, power
