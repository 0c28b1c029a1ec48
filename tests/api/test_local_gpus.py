"""GPUs the driver lists here, as the API probes them: no GPU is needed (NVML's answer is a stand-in, and this
torch cannot run on it, as a CPU-only torch build on a GPU machine cannot)."""

from __future__ import annotations

import warnings

import pytest
import torch

from advisor import api
from advisor.schemas import GpuInfo
from advisor.workload import Workload

_NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a torch that cannot use a GPU")


def _tiny_model():
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))


def _tiny_batch(batch_size):
    return torch.randn(batch_size, 8), torch.randint(0, 2, (batch_size,))


def _nvml_lists_a_4090(monkeypatch):
    import advisor.hardware

    gpu = GpuInfo(index=0, name="NVIDIA GeForce RTX 4090", spec_name="RTX4090", memory_gib=23.99)
    monkeypatch.setattr(advisor.hardware, "detect_gpus", lambda *a, **k: [gpu])


@pytest.mark.slow
@_NO_GPU
def test_auto_leaves_out_a_gpu_torch_cannot_use_and_says_why(monkeypatch):
    _nvml_lists_a_4090(monkeypatch)
    wl = Workload(model=_tiny_model, make_batch=lambda b: _tiny_batch(b), name="tiny")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        prof = api.profile(wl, devices="auto", batch_size=8, probe_seconds=2, threads=1, analyze=False)
    assert [d.device for d in prof.devices] == ["cpu"]  # it failed: "cannot probe on cuda:0"
    (note,) = [n for n in prof.notes if n.startswith("cuda:0")]
    assert "torch sees no CUDA GPU here" in note and "left out" in note and "Fix:" not in note


@pytest.mark.slow
@_NO_GPU
def test_an_explicit_gpu_torch_cannot_use_is_still_an_error(monkeypatch):
    from advisor.errors import HardwareError

    _nvml_lists_a_4090(monkeypatch)
    wl = Workload(model=_tiny_model, make_batch=lambda b: _tiny_batch(b), name="tiny")
    with pytest.raises(HardwareError, match="torch sees no CUDA GPU"):
        api.profile(wl, devices="cuda:0", batch_size=8, probe_seconds=2, threads=1, analyze=False)


class _Probed(Exception):
    pass


def _probed_devices(monkeypatch, call) -> tuple[list[str], bool]:
    """The devices (and ``optional_gpus``) the probe is asked for on a machine with two H100s and an RTX 4090
    between them."""
    import advisor.hardware
    import advisor.probe

    gpus = [GpuInfo(index=i, name=n, spec_name=s, memory_gib=m) for i, (n, s, m) in enumerate([
        ("NVIDIA H100 80GB HBM3", "H100-SXM", 79.65), ("NVIDIA GeForce RTX 4090", "RTX4090", 23.99),
        ("NVIDIA H100 80GB HBM3", "H100-SXM", 79.65)])]
    monkeypatch.setattr(advisor.hardware, "detect_gpus", lambda *a, **k: gpus)
    asked = {}

    def run_profile(source, **kwargs):
        asked.update(kwargs)
        raise _Probed

    monkeypatch.setattr(advisor.probe, "run_profile", run_profile)
    with pytest.raises(_Probed):
        call()
    return asked["devices"], asked["optional_gpus"]


_JOB = {"dataset_size": 1000, "epochs": 1, "save": False, "use_history": False}


def test_predict_device_cuda_n_probes_that_gpu_alone(monkeypatch, tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text("BATCH_SIZE = 8\n")
    devices = _probed_devices(monkeypatch, lambda: api.predict(path, device="cuda:2", **_JOB))
    assert devices == (["cuda:2"], False)  # was every GPU here, and the estimate came from cuda:0


def test_a_gpu_you_do_not_have_and_recommend_probe_one_gpu_of_each_model(monkeypatch, tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text("BATCH_SIZE = 8\n")
    assert _probed_devices(monkeypatch, lambda: api.predict(path, target="A100-80GB", **_JOB)) == \
        (["cuda:0", "cuda:1"], True)
    assert _probed_devices(monkeypatch, lambda: api.recommend(path, dataset_size=1000, epochs=1, save=False)) == \
        (["cpu", "cuda:0", "cuda:1"], True)


def test_the_cli_predict_device_passes_the_gpu_to_probe(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    path = tmp_path / "tiny.py"
    path.write_text("BATCH_SIZE = 8\n")
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")

    def cli():
        result = CliRunner().invoke(build_app(), ["predict", str(path), "--device", "cuda:2", "--dataset-size",
                                                  "1000", "--epochs", "1", "--no-save"])
        raise result.exception

    assert _probed_devices(monkeypatch, cli) == (["cuda:2"], False)


def test_a_gpu_found_through_torch_is_noted_in_the_profile_and_its_estimates(monkeypatch, tmp_path):
    """A GPU NVML did not list (``detect_gpus``' torch fallback): the profile says how it was found, as
    "cuda:0: ...", which the GPU's own estimates carry."""
    from pathlib import Path

    import advisor.hardware
    import advisor.probe
    from advisor.schemas import DeviceProfile, Profile

    probed = Profile.model_validate_json((Path(__file__).resolve().parents[1] / "hostile" / "data"
                                          / "tabular_profile.json").read_text())
    steps = [m.model_copy(update={"device": "cuda:0", "threads": None, "compute_seconds": m.compute_seconds / 20,
                                  "compute_seconds_samples": [s / 20 for s in m.compute_seconds_samples]})
             for m in probed.device("cpu").measurements]
    probed.devices.append(DeviceProfile(device="cuda:0", kind="gpu", name="NVIDIA A100-SXM4-40GB",
                                        spec_name="A100-40GB", memory_gib=39.4, precision="fp32", measurements=steps))
    note = "found through torch.cuda (a child process), as NVML is unavailable (x): its name and memory are torch's"
    gpu = GpuInfo(index=0, name="NVIDIA A100-SXM4-40GB", spec_name="A100-40GB", memory_gib=39.4, note=note)
    monkeypatch.setattr(advisor.hardware, "detect_gpus", lambda *a, **k: [gpu])
    monkeypatch.setattr(advisor.probe, "run_profile", lambda source, **kwargs: probed)
    path = tmp_path / "tiny.py"
    path.write_text("BATCH_SIZE = 8\n")
    prof = api.profile(path, devices="cuda:0", analyze=False)
    assert prof.notes[-1] == f"cuda:0: {note}."
    est = api.predict(prof, device="cuda:0", dataset_size=100_000, epochs=1, batch_size=512, save=False)
    assert f"cuda:0: {note}." in est.notes


def test_the_cli_predicts_a_gpu_here_without_a_spec_row_from_its_fresh_probe(monkeypatch, tmp_path):
    """predict FILE --device cuda:0 on a GPU profiles/gpus.csv lacks: was refused before probing ("is not a GPU
    advisor has a spec for"); now it is probed and its own measured steps are the estimate."""
    import json
    from pathlib import Path

    from typer.testing import CliRunner

    import advisor.hardware
    import advisor.probe
    from advisor.cli.app import build_app
    from advisor.schemas import DeviceProfile, Profile

    name = "NVIDIA GeForce RTX 5070 Laptop GPU"
    probed = Profile.model_validate_json((Path(__file__).resolve().parents[1] / "hostile" / "data"
                                          / "tabular_profile.json").read_text())
    steps = [m.model_copy(update={"device": "cuda:0", "threads": None, "compute_seconds": m.compute_seconds / 20,
                                  "compute_seconds_samples": [s / 20 for s in m.compute_seconds_samples]})
             for m in probed.device("cpu").measurements]
    probed.devices[:] = [DeviceProfile(device="cuda:0", kind="gpu", name=name, memory_gib=7.6, precision="fp32",
                                       measurements=steps)]
    monkeypatch.setattr(advisor.hardware, "detect_gpus",
                        lambda *a, **k: [GpuInfo(index=0, name=name, memory_gib=7.6)])
    asked = {}

    def run_profile(source, **kwargs):
        asked.update(kwargs)
        return probed

    monkeypatch.setattr(advisor.probe, "run_profile", run_profile)
    path = tmp_path / "tiny.py"
    path.write_text("BATCH_SIZE = 8\n")
    res = CliRunner().invoke(build_app(), ["predict", str(path), "--device", "cuda:0", "--dataset-size", "100000",
                                           "--epochs", "1", "--batch-size", "512", "--no-save", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert asked["devices"] == ["cuda:0"] and out["method"] == "measured" and out["seconds"] > 0
    assert any(n.startswith(f"{name} has no row in profiles/gpus.csv") for n in out["notes"])
