from __future__ import annotations

import pytest

import advisor.hardware.nvml as nvml_module
from advisor.errors import HardwareError
from advisor.hardware.nvml import Nvml


def test_available_device_facts_and_shutdown(fake_nvml, boards):
    module = fake_nvml(devices=[boards.H100, boards.A100_40])
    with Nvml() as nvml:
        assert nvml.available is True
        assert nvml.device_count() == 2
        d = nvml.device(0)
        assert d["name"] == "NVIDIA H100 80GB HBM3"
        assert d["memory_gib"] == pytest.approx(79.647, abs=1e-3)
        assert d["driver_version"] == "550.54.15"
        assert d["sm_clock_mhz"] == 1980.0
        assert d["memory_clock_mhz"] == 2619.0
        assert d["power_limit_watts"] == 700.0
        assert d["uuid"] == "GPU-aaaa-1111"
        assert nvml.device(1)["name"] == "NVIDIA A100-SXM4-40GB"
        assert d["mig_enabled"] is False  # the board does not support MIG (NOT_SUPPORTED)
        module.devices[1]["mig"] = [1, 1]
        assert nvml.device(1)["mig_enabled"] is True
    assert (module.init_calls, module.shutdown_calls) == (1, 1)
    assert nvml.available is False


def test_init_error_means_unavailable_not_an_exception(fake_nvml, boards):
    module = fake_nvml(init_error=boards.DRIVER_NOT_LOADED)
    with Nvml() as nvml:
        assert nvml.available is False
        assert "Driver Not Loaded" in nvml.error
        assert nvml.device_count() == 0
        assert nvml.sample(0) == (None, None)
    assert module.shutdown_calls == 0  # nothing to shut down


def test_no_pynvml_installed(monkeypatch):
    monkeypatch.setattr(nvml_module, "pynvml", None)
    with Nvml() as nvml:
        assert nvml.available is False
        assert "nvidia-ml-py" in nvml.error
        assert nvml.device_count() == 0


def test_sample_converts_milliwatts(fake_nvml, boards):
    fake_nvml(devices=[boards.H100])
    with Nvml() as nvml:
        util, power = nvml.sample(0)
    assert util == 97.0
    assert power == pytest.approx(612.345)


def test_missing_power_support_gives_none(fake_nvml, boards):
    fake_nvml(devices=[boards.RTX4090_NO_POWER], driver=b"535.104.05")
    with Nvml() as nvml:
        d = nvml.device(0)
        util, power = nvml.sample(0)
    assert d["name"] == "NVIDIA GeForce RTX 4090"  # bytes from old bindings are decoded
    assert d["driver_version"] == "535.104.05"
    assert d["power_limit_watts"] is None
    assert util == 55.0
    assert power is None


def test_sample_of_a_missing_device_is_none(fake_nvml, boards):
    fake_nvml(devices=[boards.H100])
    with Nvml() as nvml:
        assert nvml.sample(5) == (None, None)


def test_real_module_is_the_only_import_site():
    """pynvml is imported by advisor.hardware.nvml alone (the seam the fakes replace)."""
    import re
    from pathlib import Path

    root = Path(nvml_module.__file__).resolve().parents[1]
    offenders = [p for p in root.rglob("*.py")
                 if p.name != "nvml.py" and re.search(r"^\s*(import pynvml|from pynvml)", p.read_text(), re.M)]
    assert offenders == []


def test_a_device_nvml_cannot_reach_is_a_hardware_error(fake_nvml, boards):
    fake_nvml(devices=[boards.H100])
    with Nvml() as nvml:
        with pytest.raises(HardwareError, match="GPU 3"):
            nvml.device(3)


def test_only_nvml_errors_become_none(fake_nvml, boards, monkeypatch):
    """A missing figure is NVML's NVMLError; anything else is a bug and is not swallowed."""
    module = fake_nvml(devices=[boards.H100])

    def broken(handle):
        raise TypeError("a bug, not an unsupported query")

    monkeypatch.setattr(module, "nvmlDeviceGetUUID", broken, raising=False)
    with Nvml() as nvml:
        with pytest.raises(TypeError):
            nvml.device(0)


def test_a_library_that_cannot_load_means_unavailable(fake_nvml, monkeypatch):
    module = fake_nvml(devices=[])

    def no_library():
        raise OSError("libnvidia-ml.so.1: cannot open shared object file")

    monkeypatch.setattr(module, "nvmlInit", no_library, raising=False)
    with Nvml() as nvml:
        assert nvml.available is False
        assert "cannot open shared object" in nvml.error


def test_device_count_failure_is_zero(fake_nvml, boards, monkeypatch):
    module = fake_nvml(devices=[boards.H100])

    def lost():
        raise module.NVMLError(15)  # NVML_ERROR_GPU_IS_LOST

    monkeypatch.setattr(module, "nvmlDeviceGetCount", lost, raising=False)
    with Nvml() as nvml:
        assert nvml.device_count() == 0
