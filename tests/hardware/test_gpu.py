from __future__ import annotations

import os

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
     "NVML does not map to a GPU (the driver lists 2 GPU(s)) and torch.cuda did not list either; predict the slice "
     'with --gpu "<its GPU> MIG <profile>", e.g. --gpu "A100-40GB MIG 1g.5gb"'),
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


@pytest.fixture
def torch_child(monkeypatch):
    """install(answer, nodes=True): what torch, asked in a child process, lists ([(name, GiB)] or why not); the
    questions asked are in the returned list."""
    from advisor.hardware import torch_gpus

    asked: list[str | None] = []

    def install(answer, nodes: bool = True) -> list:
        torch_gpus.torch_gpus.cache_clear()
        monkeypatch.setattr(torch_gpus, "gpu_device_nodes", lambda: nodes)

        def query():
            asked.append(os.environ.get("CUDA_VISIBLE_DEVICES"))
            return answer
        monkeypatch.setattr(torch_gpus, "query_torch_gpus", query)
        return asked
    yield install
    torch_gpus.torch_gpus.cache_clear()


def test_a_gpu_nvml_does_not_list_is_found_through_torch(fake_nvml, boards, torch_child, monkeypatch):
    """No NVML (a container without the driver's NVML library, NVML failing): was no GPU at all, though torch can
    use it; now torch's GPUs, asked in a child process, with a note saying so."""
    fake_nvml(init_error=boards.DRIVER_NOT_LOADED)
    asked = torch_child([("NVIDIA A100-SXM4-40GB", 39.39), ("NVIDIA A100-SXM4-40GB", 39.39)])
    gpus = detect_gpus()
    assert [(g.index, g.name, g.spec_name) for g in gpus] == [(0, "NVIDIA A100-SXM4-40GB", "A100-40GB"),
                                                             (1, "NVIDIA A100-SXM4-40GB", "A100-40GB")]
    assert gpus[0].memory_gib == pytest.approx(39.39)
    assert gpus[0].note == ("found through torch.cuda (a child process), as NVML is unavailable (NVML did not "
                            "start: Driver Not Loaded): its name and memory are torch's; no clocks, power limit or "
                            "NVML samples")
    detect_gpus()
    assert len(asked) == 1  # once per process: an API call detects several times
    monkeypatch.setattr(nvml_module, "pynvml", None)  # no pynvml installed
    torch_child([("NVIDIA H100 80GB HBM3", 79.2)])
    (gpu,) = detect_gpus()
    assert gpu.spec_name == "H100-SXM" and "NVML is unavailable (pynvml (package nvidia-ml-py)" in gpu.note


def test_a_mig_slice_cuda_visible_devices_names_is_found_through_torch(fake_nvml, boards, torch_child, monkeypatch):
    """CUDA_VISIBLE_DEVICES=MIG-...: NVML lists the whole GPU, which that names not; torch lists the slice."""
    fake_nvml(devices=[boards.A100_40])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f")
    torch_child([("NVIDIA A100-SXM4-40GB MIG 1g.5gb", 4.75)])
    (gpu,) = detect_gpus()
    assert (gpu.index, gpu.spec_name, gpu.driver_version) == (0, "A100-40GB MIG 1g.5gb", None)
    assert gpu.note.startswith("found through torch.cuda (a child process), as NVML lists 1 GPU(s), none of them "
                               "as CUDA_VISIBLE_DEVICES='MIG-c6d4f1ef")


def test_a_gpu_in_mig_mode_is_its_slices_as_torch_lists_them(fake_nvml_class, torch_child, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    board = {**_board("NVIDIA H100 80GB HBM3", "GPU-aaaa"), "mig_enabled": True}
    torch_child([("NVIDIA H100 80GB HBM3 MIG 3g.40gb", 39.5)])
    (gpu,) = detect_gpus(nvml_factory=lambda: fake_nvml_class([board]))
    assert (gpu.name, gpu.spec_name, gpu.driver_version) == ("NVIDIA H100 80GB HBM3 MIG 3g.40gb",
                                                              "H100-SXM MIG 3g.40gb", "550.54.15")
    assert "as NVML lists NVIDIA H100 80GB HBM3 in MIG mode, whose slices CUDA sees instead" in gpu.note
    torch_child("torch could not list CUDA devices (RuntimeError: no CUDA-capable device)")
    (gpu,) = detect_gpus(nvml_factory=lambda: fake_nvml_class([board]))  # torch cannot say: NVML's list stands
    assert gpu.spec_name == "H100-SXM" and gpu.note is None


def test_torch_is_not_asked_without_device_nodes_nor_where_nvml_lists_the_gpus(fake_nvml, boards, torch_child):
    fake_nvml(init_error=boards.DRIVER_NOT_LOADED)
    asked = torch_child([("NVIDIA A100-SXM4-40GB", 39.39)], nodes=False)
    assert detect_gpus() == [] and asked == []  # a machine without a GPU pays nothing
    asked = torch_child([("NVIDIA A100-SXM4-40GB", 39.39)])
    assert detect_gpus(torch_child=False) == [] and detect_gpus(use_torch=False) == [] and asked == []
    fake_nvml(devices=[boards.H100])
    assert [g.note for g in detect_gpus()] == [None] and asked == []


@pytest.mark.slow
def test_the_torch_query_runs_in_a_child_process():
    """The real query, on this machine's torch: a list (empty without a usable GPU), never an exception."""
    import torch

    from advisor.hardware.torch_gpus import query_torch_gpus

    found = query_torch_gpus()
    assert isinstance(found, list) and len(found) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)


def test_torch_in_this_process_lists_the_slices_of_a_gpu_in_mig_mode(fake_nvml_class, monkeypatch):
    """Where CUDA is initialised here already, torch is asked in this process: a GPU in MIG mode was NVML's whole
    GPU (cut to torch's count), not the slice CUDA runs on."""
    from types import SimpleNamespace

    import advisor.hardware.gpu as gpu_module

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    props = SimpleNamespace(name="NVIDIA A100-SXM4-40GB MIG 3g.20gb", total_memory=19.62 * 1024**3)
    cuda = SimpleNamespace(is_available=lambda: True, device_count=lambda: 1,
                           get_device_properties=lambda i: props)
    monkeypatch.setattr(gpu_module, "_torch_cuda", lambda use_torch: cuda)
    board = {**_board("NVIDIA A100-SXM4-40GB", "GPU-aaaa", 40.0), "mig_enabled": True}
    (gpu,) = detect_gpus(nvml_factory=lambda: fake_nvml_class([board]))
    assert (gpu.spec_name, gpu.driver_version) == ("A100-40GB MIG 3g.20gb", "550.54.15")
    assert gpu.note.startswith("found through torch.cuda, as NVML lists NVIDIA A100-SXM4-40GB in MIG mode")
    (whole,) = detect_gpus(nvml_factory=lambda: fake_nvml_class([{**board, "mig_enabled": False}]))
    assert whole.spec_name == "A100-40GB" and whole.note is None


@pytest.mark.slow
def test_the_torch_query_ignores_the_current_folder_and_orders_devices_as_the_probe(tmp_path, monkeypatch):
    """The query child ran ``python -c`` in the user's folder: a json.py there was imported in place of the standard
    library's. It runs as the probe child does (-P), and with the probe's PCI bus order of devices."""
    import torch

    from advisor.hardware import torch_gpus

    (tmp_path / "json.py").write_text("raise SystemExit('the folder json.py was imported')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)
    found = torch_gpus.query_torch_gpus()
    assert isinstance(found, list) and len(found) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)
    seen = {}

    def run(argv, **kwargs):
        seen.update(kwargs["env"])
        raise OSError("stop here")

    monkeypatch.setattr(torch_gpus.subprocess, "run", run)
    assert torch_gpus.query_torch_gpus() == "asking torch failed (OSError)"
    assert seen["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID"


def test_why_no_gpu_is_visible_on_macos_says_the_apple_gpu_is_not_probed(fake_nvml, boards, monkeypatch):
    """On a Mac the NVIDIA wording ("no NVIDIA driver, no GPU, ...") told a user with an Apple GPU there was none."""
    from advisor.hardware import gpu

    fake_nvml(init_error=boards.DRIVER_NOT_LOADED)
    monkeypatch.setattr(gpu.sys, "platform", "darwin")
    assert gpu.no_gpu_reason() == ("macOS: an Apple GPU (MPS) is not probed by advisor, which measures NVIDIA GPUs "
                                   "(CUDA) only; GPU figures are for rented NVIDIA GPUs")
    monkeypatch.setattr(gpu.sys, "platform", "linux")
    assert gpu.no_gpu_reason().startswith("NVML is unavailable (NVML did not start: Driver Not Loaded): ")
