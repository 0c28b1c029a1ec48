"""GPUs the driver lists here, as the API probes them: no GPU is needed (NVML's answer is a stand-in, and this
torch cannot run on it, as a CPU-only torch build on a GPU machine cannot)."""

from __future__ import annotations

import warnings

import pytest
import torch

from advisor import api
from advisor.schemas import GpuInfo
from advisor.workload import Workload

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(torch.cuda.is_available(), reason="needs a torch that cannot use a GPU")]


def _tiny_model():
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))


def _tiny_batch(batch_size):
    return torch.randn(batch_size, 8), torch.randint(0, 2, (batch_size,))


def _nvml_lists_a_4090(monkeypatch):
    import advisor.hardware

    gpu = GpuInfo(index=0, name="NVIDIA GeForce RTX 4090", spec_name="RTX4090", memory_gib=23.99)
    monkeypatch.setattr(advisor.hardware, "detect_gpus", lambda *a, **k: [gpu])


def test_auto_leaves_out_a_gpu_torch_cannot_use_and_says_why(monkeypatch):
    _nvml_lists_a_4090(monkeypatch)
    wl = Workload(model=_tiny_model, make_batch=lambda b: _tiny_batch(b), name="tiny")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        prof = api.profile(wl, devices="auto", batch_size=8, probe_seconds=2, threads=1, analyze=False)
    assert [d.device for d in prof.devices] == ["cpu"]  # it failed: "cannot probe on cuda:0"
    (note,) = [n for n in prof.notes if n.startswith("cuda:0")]
    assert "torch sees no CUDA GPU here" in note and "left out" in note and "Fix:" not in note


def test_an_explicit_gpu_torch_cannot_use_is_still_an_error(monkeypatch):
    from advisor.errors import HardwareError

    _nvml_lists_a_4090(monkeypatch)
    wl = Workload(model=_tiny_model, make_batch=lambda b: _tiny_batch(b), name="tiny")
    with pytest.raises(HardwareError, match="torch sees no CUDA GPU"):
        api.profile(wl, devices="cuda:0", batch_size=8, probe_seconds=2, threads=1, analyze=False)
