"""Fixtures for hardware tests: a stand-in for the pynvml module, installed at the one seam
(``advisor.hardware.nvml.pynvml``) instead of a real driver, and ``FakeNvml``, a stand-in for the
``advisor.hardware.nvml.Nvml`` wrapper itself (it implements ``NvmlLike``)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import advisor.hardware.nvml as nvml_module
from advisor.errors import HardwareError

NVML_CLOCK_SM = 1
NVML_CLOCK_MEM = 2
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_DRIVER_NOT_LOADED = 9


class NVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return {3: "Not Supported", 9: "Driver Not Loaded"}.get(self.value, f"NVML error {self.value}")


class FakePynvml:
    """``devices``: dicts with name, memory_bytes, uuid, sm_mhz, mem_mhz, power_limit_mw, util, power_mw;
    a value of None makes that query raise NVML_ERROR_NOT_SUPPORTED. ``init_error`` makes nvmlInit fail."""

    NVML_CLOCK_SM = NVML_CLOCK_SM
    NVML_CLOCK_MEM = NVML_CLOCK_MEM
    NVMLError = NVMLError

    def __init__(self, devices: list[dict] | None = None, init_error: int | None = None,
                 driver: str | bytes = "550.54.15") -> None:
        self.devices = devices or []
        self.init_error = init_error
        self.driver = driver
        self.init_calls = 0
        self.shutdown_calls = 0

    def _get(self, handle: int, key: str):
        value = self.devices[handle].get(key)
        if value is None:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return value

    def nvmlInit(self) -> None:
        self.init_calls += 1
        if self.init_error is not None:
            raise NVMLError(self.init_error)

    def nvmlShutdown(self) -> None:
        self.shutdown_calls += 1

    def nvmlSystemGetDriverVersion(self):
        return self.driver

    def nvmlDeviceGetCount(self) -> int:
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        if not 0 <= index < len(self.devices):
            raise NVMLError(2)
        return index

    def nvmlDeviceGetName(self, handle):
        return self._get(handle, "name")

    def nvmlDeviceGetMemoryInfo(self, handle):
        return SimpleNamespace(total=self._get(handle, "memory_bytes"), used=0, free=0)

    def nvmlDeviceGetMaxClockInfo(self, handle, kind):
        return self._get(handle, "sm_mhz" if kind == NVML_CLOCK_SM else "mem_mhz")

    def nvmlDeviceGetEnforcedPowerLimit(self, handle):
        return self._get(handle, "power_limit_mw")

    def nvmlDeviceGetPowerManagementLimit(self, handle):
        return self._get(handle, "power_limit_mw")

    def nvmlDeviceGetUUID(self, handle):
        return self._get(handle, "uuid")

    def nvmlDeviceGetMigMode(self, handle):  # (current, pending); a board without "mig" has no MIG
        return self._get(handle, "mig")

    def nvmlDeviceGetUtilizationRates(self, handle):
        return SimpleNamespace(gpu=self._get(handle, "util"), memory=0)

    def nvmlDeviceGetPowerUsage(self, handle):
        return self._get(handle, "power_mw")


class FakeNvml:
    """An ``NvmlLike``: ``devices`` are the dicts ``Nvml.device`` returns (None for a GPU NVML cannot reach),
    ``readings`` the (utilisation %, watts) each index samples."""

    def __init__(self, devices: list[dict | None] | None = None,
                 readings: dict[int, tuple[float | None, float | None]] | None = None) -> None:
        self.available = False
        self.devices = devices or []
        self.readings = readings or {}

    def __enter__(self) -> FakeNvml:
        self.available = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.available = False

    def device_count(self) -> int:
        return len(self.devices) if self.available else 0

    def device(self, index: int) -> dict:
        if not 0 <= index < len(self.devices) or self.devices[index] is None:
            raise HardwareError(f"NVML cannot reach GPU {index}")
        return self.devices[index]

    def sample(self, index: int) -> tuple[float | None, float | None]:
        return self.readings.get(index, (None, None))


GIB = 1024**3

H100 = {"name": "NVIDIA H100 80GB HBM3", "memory_bytes": 81559 * 1024**2, "uuid": "GPU-aaaa-1111",
        "sm_mhz": 1980, "mem_mhz": 2619, "power_limit_mw": 700_000, "util": 97, "power_mw": 612_345}
A100_40 = {"name": "NVIDIA A100-SXM4-40GB", "memory_bytes": 40 * GIB, "uuid": "GPU-bbbb-2222",
           "sm_mhz": 1410, "mem_mhz": 1215, "power_limit_mw": 400_000, "util": 12, "power_mw": 80_000}
# A consumer board that reports neither power nor its power limit.
RTX4090_NO_POWER = {"name": b"NVIDIA GeForce RTX 4090", "memory_bytes": 24 * GIB, "uuid": "GPU-cccc-3333",
                    "sm_mhz": 3120, "mem_mhz": 10501, "power_limit_mw": None, "util": 55, "power_mw": None}


@pytest.fixture
def fake_nvml(monkeypatch):
    """install(devices=[...], init_error=None, driver=...) -> the FakePynvml now behind advisor's NVML seam."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)

    def install(**kwargs) -> FakePynvml:
        module = FakePynvml(**kwargs)
        monkeypatch.setattr(nvml_module, "pynvml", module)
        return module
    return install


@pytest.fixture
def boards():
    return SimpleNamespace(H100=H100, A100_40=A100_40, RTX4090_NO_POWER=RTX4090_NO_POWER,
                           DRIVER_NOT_LOADED=NVML_ERROR_DRIVER_NOT_LOADED)


@pytest.fixture
def fake_nvml_class():
    """The ``FakeNvml`` class, to build ``NvmlLike`` stand-ins (``detect_gpus(nvml_factory=...)``)."""
    return FakeNvml
