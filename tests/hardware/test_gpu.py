from __future__ import annotations

import pytest

import advisor.hardware.nvml as nvml_module
from advisor.hardware.gpu import detect_gpus, visible_nvml_indices
from advisor.hardware.nvml import Nvml, NvmlLike


def test_detects_gpus_with_spec_names(fake_nvml, boards):
    fake_nvml(devices=[boards.H100, boards.A100_40, boards.RTX4090_NO_POWER])
    gpus = detect_gpus(use_torch=False)
    assert [g.index for g in gpus] == [0, 1, 2]
    assert [g.spec_name for g in gpus] == ["H100-SXM", "A100-40GB", "RTX4090"]
    h100 = gpus[0]
    assert h100.name == "NVIDIA H100 80GB HBM3"
    assert h100.memory_gib == pytest.approx(79.65, abs=0.01)
    assert h100.power_limit_watts == 700.0
    assert h100.sm_clock_mhz == 1980.0
    assert h100.uuid == "GPU-aaaa-1111"
    assert gpus[2].power_limit_watts is None


def test_no_driver_is_an_empty_list(fake_nvml, boards):
    fake_nvml(init_error=boards.DRIVER_NOT_LOADED)
    assert detect_gpus(use_torch=False) == []


def test_no_pynvml_is_an_empty_list(monkeypatch):
    monkeypatch.setattr(nvml_module, "pynvml", None)
    assert detect_gpus(use_torch=False) == []


def test_unknown_gpu_has_no_spec(fake_nvml, boards):
    fake_nvml(devices=[dict(boards.H100, name="NVIDIA H800 PCIe")])
    (gpu,) = detect_gpus(use_torch=False)
    assert gpu.spec_name is None


@pytest.mark.parametrize("visible, names", [
    ("1", ["NVIDIA A100-SXM4-40GB"]),
    ("1,0", ["NVIDIA A100-SXM4-40GB", "NVIDIA H100 80GB HBM3"]),
    ("GPU-bbbb", ["NVIDIA A100-SXM4-40GB"]),
    ("", []),
    ("0,7,1", ["NVIDIA H100 80GB HBM3"]),  # like CUDA, stop at the first invalid entry
])
def test_cuda_visible_devices_picks_and_renumbers(fake_nvml, boards, monkeypatch, visible, names):
    fake_nvml(devices=[boards.H100, boards.A100_40])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    gpus = detect_gpus(use_torch=False)
    assert [g.name for g in gpus] == names
    assert [g.index for g in gpus] == list(range(len(names)))


def test_default_does_not_import_torch_or_touch_cuda(fake_nvml, boards, monkeypatch):
    import sys

    fake_nvml(devices=[boards.H100])
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    detect_gpus()
    assert "torch" not in sys.modules


@pytest.mark.gpu
def test_detects_the_real_gpu():
    import torch

    gpus = detect_gpus()
    assert len(gpus) == torch.cuda.device_count() >= 1
    props = torch.cuda.get_device_properties(0)
    assert gpus[0].name == props.name
    assert gpus[0].memory_gib == pytest.approx(props.total_memory / 1024**3, rel=0.05)
    assert gpus[0].driver_version


def _board(name: str, uuid: str, memory_gib: float = 80.0) -> dict:
    return {"name": name, "memory_gib": memory_gib, "driver_version": "550.54.15", "sm_clock_mhz": 1980.0,
            "memory_clock_mhz": 2619.0, "power_limit_watts": 700.0, "uuid": uuid}


def test_the_fakes_and_the_real_wrapper_are_nvml_like(fake_nvml_class):
    assert isinstance(Nvml(), NvmlLike)
    assert isinstance(fake_nvml_class(), NvmlLike)


def test_a_gpu_nvml_cannot_reach_is_left_out(fake_nvml_class, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    boards = [_board("NVIDIA H100 80GB HBM3", "GPU-aaaa"), None, _board("NVIDIA A100-SXM4-40GB", "GPU-bbbb", 40.0)]
    gpus = detect_gpus(nvml_factory=lambda: fake_nvml_class(boards), use_torch=False)
    # the others keep their CUDA ordinals: CUDA still counts the GPU NVML could not reach
    assert [(g.index, g.spec_name) for g in gpus] == [(0, "H100-SXM"), (2, "A100-40GB")]


@pytest.mark.parametrize("visible, indices", [
    (None, [0, 1, 2]),
    ("2,0", [2, 0]),
    ("GPU-cccc", [2]),
    ("GPU-bbbb", []),  # the unreachable GPU matches no UUID, and parsing stops there
    ("0,0", [0]),  # a repeated entry ends the list, as in CUDA
    ("-1", []),
    ("MIG-1234", []),
])
def test_visible_nvml_indices(fake_nvml_class, monkeypatch, visible, indices):
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    with fake_nvml_class([_board("A", "GPU-aaaa"), None, _board("C", "GPU-cccc")]) as nvml:
        assert visible_nvml_indices(nvml, nvml.device_count()) == indices


@pytest.mark.parametrize(("visible", "reason"), [
    ("", "CUDA_VISIBLE_DEVICES='' hides the 2 GPU(s) the NVIDIA driver lists"),
    ("-1", "CUDA_VISIBLE_DEVICES='-1' hides the 2 GPU(s) the NVIDIA driver lists"),
    ("MIG-GPU-00000000-aaaa/1/0", "CUDA_VISIBLE_DEVICES names a MIG instance (MIG-GPU-00000000-aaaa/1/0), which "
     "advisor does not map to a GPU (the driver lists 2 GPU(s)); predict a MIG slice's parent GPU with --gpu NAME"),
])
def test_why_no_gpu_is_visible_says_what_hides_them(fake_nvml, boards, monkeypatch, visible, reason):
    from advisor.hardware.gpu import no_gpu_reason

    fake_nvml(devices=[boards.H100, boards.A100_40])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert detect_gpus(use_torch=False) == []
    assert no_gpu_reason() == reason


def test_why_no_gpu_is_visible_gives_nvmls_own_error(fake_nvml, boards, monkeypatch):
    from advisor.hardware.gpu import no_gpu_reason

    fake_nvml(init_error=boards.DRIVER_NOT_LOADED)
    assert no_gpu_reason().startswith("NVML is unavailable (NVML did not start: Driver Not Loaded): ")
    monkeypatch.setattr(nvml_module, "pynvml", None)
    assert no_gpu_reason().startswith("NVML is unavailable (pynvml (package nvidia-ml-py) is not installed)")
    fake_nvml(devices=[])
    assert no_gpu_reason() == "the NVIDIA driver lists no GPU"


def test_hardware_and_device_errors_say_why_no_gpu_is_visible(fake_nvml, boards, monkeypatch):
    from typer.testing import CliRunner

    from advisor import api
    from advisor.cli.app import build_app
    from advisor.errors import HardwareError

    fake_nvml(devices=[boards.H100])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    out = CliRunner().invoke(build_app(), ["hardware"]).output
    assert "GPUs: none visible (CUDA_VISIBLE_DEVICES='' hides the 1 GPU(s) the NVIDIA driver lists)" in \
        " ".join(out.split())  # was "(no NVIDIA driver or no GPU)"
    with pytest.raises(HardwareError) as err:
        api.resolve_devices("cuda:0")
    assert err.value.message == ("No GPU cuda:0 here: this machine has no visible GPU (CUDA_VISIBLE_DEVICES='' "
                                 "hides the 1 GPU(s) the NVIDIA driver lists).")
