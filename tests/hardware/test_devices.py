"""Device names against the GPUs detected here: resolve_devices and local_gpu_target (no NVML called)."""

from __future__ import annotations

from pathlib import Path

import pytest

import advisor.hardware.nvml as nvml_module
from advisor.errors import HardwareError
from advisor.hardware.devices import gpu_devices, local_gpu_target, one_device, resolve_devices
from advisor.schemas import GpuInfo, Target

H100 = GpuInfo(index=0, name="NVIDIA H100 80GB HBM3", spec_name="H100-SXM", memory_gib=79.6)
UNKNOWN = GpuInfo(index=1, name="NVIDIA H800 PCIe", spec_name=None, memory_gib=79.6)
TWO = [H100, UNKNOWN]


@pytest.fixture(autouse=True)
def _no_nvml(monkeypatch):
    """The functions take the GPUs as an argument: NVML must not be touched."""
    class Untouchable:
        def __getattr__(self, name):
            raise AssertionError(f"NVML called: pynvml.{name}")

    monkeypatch.setattr(nvml_module, "pynvml", Untouchable())


def test_gpu_devices():
    assert gpu_devices(TWO) == ["cuda:0", "cuda:1"]
    assert gpu_devices([]) == []


@pytest.mark.parametrize("spec, expected", [
    (None, ["cpu", "cuda:0", "cuda:1"]),
    ("auto", ["cpu", "cuda:0", "cuda:1"]),
    ("all", ["cpu", "cuda:0", "cuda:1"]),
    ("cpu", ["cpu"]),
    ("cuda", ["cuda:0"]),
    (" CUDA:1 , cpu", ["cuda:1", "cpu"]),
    (["cpu", "cuda:0"], ["cpu", "cuda:0"]),
    (["cuda:1", "all"], ["cuda:1", "cpu", "cuda:0"]),  # 'all' adds what is not there yet
    ("cpu,,", ["cpu"]),
    ([], []),
])
def test_resolve_devices(spec, expected):
    assert resolve_devices(spec, TWO) == expected


def test_auto_without_gpus_is_the_cpu():
    assert resolve_devices("auto", []) == ["cpu"]


def test_unknown_device_name_suggests():
    with pytest.raises(HardwareError) as err:
        resolve_devices("cpuu", TWO)
    assert err.value.message == "Unknown device 'cpuu'. Did you mean 'cpu'?"
    assert err.value.hint == "Fix: use cpu, cuda:N or all."


def test_a_gpu_that_is_not_here():
    with pytest.raises(HardwareError) as err:
        resolve_devices("cuda:2", TWO)
    assert err.value.message == "No GPU cuda:2 here: this machine has cuda:0, cuda:1."
    with pytest.raises(HardwareError) as err:
        resolve_devices("cuda", [])
    assert err.value.message == "No GPU cuda:0 here: this machine has no visible GPU."
    assert "--gpu NAME" in err.value.hint


def test_local_gpu_target():
    assert local_gpu_target("cuda:0", TWO) == Target.gpu("H100-SXM", 1)
    assert local_gpu_target("cuda", TWO) == Target.gpu("H100-SXM", 1)


def test_local_gpu_without_a_spec_is_named_as_the_driver_reports_it():
    # was a HardwareError: a GPU without a spec row got no estimate, though its own probe is one
    assert local_gpu_target("cuda:1", TWO) == Target.gpu("NVIDIA H800 PCIe", 1)


def test_local_gpu_that_is_not_here():
    with pytest.raises(HardwareError) as err:
        local_gpu_target("cuda:3", TWO)
    assert err.value.message == "No GPU cuda:3 here."
    assert "advisor hardware" in err.value.hint


@pytest.mark.parametrize("device", ["tpu", "gpu", "all", "cpu:3", "", "cuda:abc", "cuda:-1"])
def test_predict_refuses_a_device_it_would_have_priced_as_the_cpu(device):
    """``predict --device`` names one device here: anything else was predicted on the CPU without a word (and
    ``cuda:abc`` raised a ValueError); now one message and exit 1."""
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    profile = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
    res = CliRunner().invoke(build_app(), ["predict", "--profile", str(profile), "--device", device, "--no-save"])
    assert res.exit_code == 1, res.output
    assert f"Unknown device {device!r} for one prediction" in res.output and "Traceback" not in res.output
    assert one_device(" CUDA:1 ") == "cuda:1" and one_device("Cpu") == "cpu"
