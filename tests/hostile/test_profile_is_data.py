"""A profile is data: `--profile FILE` reads JSON whatever the file's name, and never imports or runs it."""

from __future__ import annotations

import json

import pytest

EVIL = """
from pathlib import Path
Path({marker!r}).write_text("ran")
import torch
def build_model():
    return torch.nn.Linear(4, 1)
def make_batch(batch_size):
    return torch.randn(batch_size, 4), torch.randn(batch_size, 1)
"""


@pytest.mark.parametrize("command", [
    ["recommend", "--no-save"],
    ["predict", "--device", "cpu", "--dataset-size", "100", "--epochs", "1", "--batch-size", "8"],
])
def test_a_python_file_given_as_profile_is_not_run(invoke, tmp_path, command):
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.py"
    evil.write_text(EVIL.format(marker=str(marker)))
    result = invoke(*command, "--profile", evil)
    assert result.exit_code == 1, result.output
    assert "not valid JSON" in result.output and "Traceback" not in result.output
    assert not marker.exists()


def test_a_profile_is_read_by_content_whatever_its_name(invoke, tmp_path, profile_data):
    named_txt = tmp_path / "profile.txt"
    named_txt.write_text(json.dumps(profile_data))
    result = invoke("predict", "--profile", named_txt, "--device", "cpu", "--dataset-size", "1000",
                    "--epochs", "1", "--batch-size", "64", "--json", "--no-save")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["method"] == "measured"
