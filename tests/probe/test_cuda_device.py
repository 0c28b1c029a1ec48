"""The probe child's CUDA set-up (``advisor.probe.cuda_device``), driven through a stand-in torch: no GPU here."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from probe_helpers import tiny_batch, tiny_model

from advisor.errors import HardwareError
from advisor.probe import cuda_device
from advisor.probe.measure import DeviceProbe, ProbeOptions
from advisor.workload import Workload


class _CudaScaler:
    def __init__(self) -> None:
        self.kind = "torch.cuda.amp"


def _old_torch() -> SimpleNamespace:
    """torch 2.1/2.2: ``torch.amp`` has no GradScaler; ``torch.cuda.amp`` has one."""
    return SimpleNamespace(__version__="2.2.2", amp=SimpleNamespace(),
                           cuda=SimpleNamespace(amp=SimpleNamespace(GradScaler=_CudaScaler)))


def test_fp16_on_cuda_uses_torch_cuda_amp_scaler_on_torch_before_2_3():
    old = _old_torch()
    cuda_device.check_fp16_scaler(old, "cuda")  # no error: the CUDA scaler exists
    assert cuda_device.grad_scaler(old, "cuda").kind == "torch.cuda.amp"


def test_fp16_on_cpu_before_torch_2_3_is_one_clear_error(monkeypatch):
    monkeypatch.delattr(torch.amp, "GradScaler")
    probe = DeviceProbe(Workload(model=tiny_model, make_batch=tiny_batch), "cpu",
                        ProbeOptions(batch_size=4, budget_seconds=1.0, precision="fp16"))
    with pytest.raises(HardwareError) as err:
        probe.run()
    assert "torch.amp.GradScaler, which torch has from 2.3" in str(err.value)
    assert "--precision bf16" in err.value.hint


def test_the_current_torch_scaler_is_torch_amp():
    assert isinstance(cuda_device.grad_scaler(torch, "cpu"), torch.amp.GradScaler)


def test_a_bf16_probe_on_a_gpu_without_bfloat16_runs_and_records_fp16(monkeypatch):
    monkeypatch.setattr(cuda_device, "check_cuda_device", lambda torch_, device, name: device)  # no GPU here
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 0))  # a V100
    probe = DeviceProbe(Workload(model=tiny_model, make_batch=tiny_batch), "cuda:0",
                        ProbeOptions(batch_size=4, precision="bf16"))
    probe._check_device()
    assert probe.options.precision == "fp16" and probe._autocast is torch.float16


def test_a_gpu_probe_records_the_memory_free_as_it_began(monkeypatch):
    from advisor.units import BYTES_PER_GIB

    props = SimpleNamespace(name="NVIDIA GeForce RTX 4090", total_memory=24 * BYTES_PER_GIB)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device=None: props)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (4 * BYTES_PER_GIB, 24 * BYTES_PER_GIB))
    probe = DeviceProbe(Workload(model=tiny_model, make_batch=tiny_batch), "cuda:0", ProbeOptions(batch_size=4))
    assert probe._describe().free_memory_gib == 4.0


def test_an_oom_on_a_gpu_others_held_memory_on_is_flagged():
    from advisor.probe.device_notes import shared_gpu_notes
    from advisor.schemas import DeviceProfile

    def gpu(free, oom):
        return DeviceProfile(device="cuda:0", kind="gpu", name="NVIDIA GeForce RTX 4090", spec_name="RTX4090",
                             memory_gib=24.0, free_memory_gib=free, oom_batch_size=oom)

    assert shared_gpu_notes([gpu(4.0, 64)]) == [
        "cuda:0: other processes held 20.0 GiB of its 24 GiB when the probe began, and it ran out of memory at "
        "batch size 64: that limit may be theirs, not the model's, so it bounds only GPUs with no more memory than "
        "the 4.0 GiB that was free. Probe again with the GPU free for the model's own limit."]
    assert shared_gpu_notes([gpu(23.4, 64), gpu(23.4, None), gpu(None, 64)]) == []  # own context; unknown


def test_a_gpu_others_held_memory_on_is_flagged_without_an_oom():
    """Another job's 20 GiB on the probed GPU: its steps were probably shared, and every GPU is scaled from them."""
    from advisor.probe.device_notes import shared_gpu_notes
    from advisor.schemas import DeviceProfile

    gpu = DeviceProfile(device="cuda:0", kind="gpu", name="NVIDIA GeForce RTX 4090", spec_name="RTX4090",
                        memory_gib=24.0, free_memory_gib=4.0, oom_batch_size=None)
    assert shared_gpu_notes([gpu]) == [
        "cuda:0: other processes held 20.0 GiB of its 24 GiB when the probe began, so they were probably running on "
        "it: its steps may be slower than an idle GPU's, and every GPU's estimate is scaled from them. Probe again "
        "with the GPU free, or name an idle one (--device cuda:N)."]
