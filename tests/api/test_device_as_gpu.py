"""A device name given as a GPU model ("cuda:0", "gpu") says which option takes a device (an audit: the
unknown-GPU hint told the user to add 'cuda:0' to the GPU spec file as a new GPU model)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import advisor
from advisor.cli.app import build_app

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


@pytest.mark.parametrize(("target", "device"), [("cuda:0", "cuda:0"), ("CUDA", "cuda:0"), (" gpu ", "cuda:0"),
                                                ("cuda:3", "cuda:3"), (advisor.Target.gpu("gpu:1", 2), "cuda:1")])
def test_a_device_as_predicts_target_points_to_device(target, device):
    with pytest.raises(advisor.HardwareError) as caught:
        advisor.predict(str(PROFILE), dataset_size=100, epochs=1, batch_size=64, target=target, save=False)
    name = target.strip() if isinstance(target, str) else target.gpu_name
    assert str(caught.value) == (
        f"{name!r} is a device, not a GPU model.\n"
        f'Fix: for a GPU of this machine, pass device="{device}" (`advisor hardware` lists them); for a GPU model, '
        'target="NAME", e.g. target="A100-80GB".')


def test_a_gpu_model_and_an_unknown_name_are_as_before():
    assert advisor.predict(str(PROFILE), dataset_size=100, epochs=1, batch_size=64, target="A100-80GB",
                           save=False).target.gpu_name == "A100-80GB"
    with pytest.raises(advisor.HardwareError) as caught:
        advisor.predict(str(PROFILE), dataset_size=100, epochs=1, batch_size=64, target="cudaX", save=False)
    assert "gpus.csv" in caught.value.hint


def test_the_cli_names_its_flags():
    result = CliRunner().invoke(build_app(), ["predict", "--profile", str(PROFILE), "--dataset-size", "100",
                                              "--epochs", "1", "--gpu", "cuda:0", "--no-save"])
    assert result.exit_code == 1
    assert result.stderr == ("error: 'cuda:0' is a device, not a GPU model.\n"
                             "Fix: for a GPU of this machine, pass --device cuda:0 (`advisor hardware` lists them); "
                             "for a GPU model, --gpu NAME, e.g. --gpu A100-80GB.\n")
    assert "Traceback" not in result.output
