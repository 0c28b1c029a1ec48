"""NVML sampling during probe steps, through a fake ``advisor.hardware.nvml.Nvml`` (no GPU needed)."""

from __future__ import annotations

import time

import pytest

import advisor.hardware.nvml as nvml_module
from advisor.errors import HardwareError
from advisor.probe.sampler import NvmlSampler, nvml_index


class FakeNvml:
    """The interface of advisor.hardware.nvml.Nvml that the probe uses."""

    instances: list[FakeNvml] = []

    def __init__(self, readings=None, count=2, uuids=None):
        self.available = False
        self.readings = readings or {0: (40.0, 100.0), 1: (90.0, 300.0)}
        self.count = count
        self.uuids = uuids or [f"GPU-{i:08d}-aaaa" for i in range(count)]
        self.calls: list[int] = []
        FakeNvml.instances.append(self)

    def __enter__(self):
        self.available = True
        return self

    def __exit__(self, *exc):
        self.available = False

    def device_count(self):
        return self.count

    def device(self, index):
        return {"name": "NVIDIA Fake", "uuid": self.uuids[index]}

    def sample(self, index):
        self.calls.append(index)
        return self.readings[index]


def _busy(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_sampler_averages_the_samples_of_the_right_device(monkeypatch):
    monkeypatch.setattr(nvml_module, "Nvml", FakeNvml)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    with nvml_module.Nvml() as nvml:
        with NvmlSampler(nvml, nvml_index(1, nvml), interval_seconds=0.01) as sampler:
            _busy(0.15)
            deadline = time.perf_counter() + 5.0  # a busy machine may not schedule the sampler at once
            while len(nvml.calls) < 4 and time.perf_counter() < deadline:
                time.sleep(0.01)
    assert len(nvml.calls) >= 5  # ~every 10 ms while the window is open, plus a closing sample
    assert set(nvml.calls) == {1}
    assert sampler.utilization_pct == pytest.approx(90.0)
    assert sampler.power_watts == pytest.approx(300.0)


def test_sampler_takes_a_sample_even_for_a_very_short_window():
    nvml = FakeNvml().__enter__()
    with NvmlSampler(nvml, 0, interval_seconds=10.0) as sampler:
        pass
    assert sampler.utilization_pct == pytest.approx(40.0)
    assert sampler.power_watts == pytest.approx(100.0)


def test_sampler_is_a_no_op_without_nvml_or_index():
    for sampler in (NvmlSampler(None, 0), NvmlSampler(FakeNvml().__enter__(), None)):
        with sampler:
            _busy(0.02)
        assert sampler.utilization_pct is None and sampler.power_watts is None


def test_sampler_stops_quietly_when_nvml_fails():
    class Broken(FakeNvml):
        def sample(self, index):
            raise HardwareError("NVML cannot reach GPU 0: GPU is lost")

    with NvmlSampler(Broken().__enter__(), 0, interval_seconds=0.005) as sampler:
        _busy(0.05)
    assert sampler.utilization_pct is None and sampler.power_watts is None


def test_sampler_keeps_what_the_board_reports():
    nvml = FakeNvml(readings={0: (55.0, None)}, count=1).__enter__()
    with NvmlSampler(nvml, 0, interval_seconds=0.01) as sampler:
        _busy(0.03)
    assert sampler.utilization_pct == pytest.approx(55.0)
    assert sampler.power_watts is None  # power not readable on this board


def test_nvml_index_follows_cuda_visible_devices(monkeypatch):
    nvml = FakeNvml(count=4).__enter__()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,0")
    assert nvml_index(0, nvml) == 2
    assert nvml_index(1, nvml) == 0
    assert nvml_index(2, nvml) is None
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-00000003")
    assert nvml_index(0, nvml) == 3
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert nvml_index(3, nvml) == 3
