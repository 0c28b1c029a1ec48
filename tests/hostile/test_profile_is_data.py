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
    # The fix points at the workload argument, and never at `-o evil.py` (which would overwrite the code).
    assert "pass evil.py as the workload (the first argument) without --profile" in result.output
    assert "-o evil.py" not in result.output


def test_profile_refuses_to_write_over_its_own_workload(invoke, tmp_path):
    workload = tmp_path / "model.py"
    workload.write_text(EVIL.format(marker=str(tmp_path / "marker")))
    before = workload.read_text()
    (tmp_path / "alias.json").symlink_to(workload)
    for output in (workload, tmp_path / "alias.json", tmp_path / "other.py"):
        result = invoke("profile", workload, "-o", output, "--device", "cpu")
        assert result.exit_code == 1, result.output
        assert "writing there would replace code with the output" in result.output
        assert "Fix: pass -o with another name, e.g. -o profile.json." in result.output
    # refused before the probe: the file is untouched and the workload never ran
    assert workload.read_text() == before and not (tmp_path / "marker").exists()
    assert not (tmp_path / "other.py").exists()


def test_a_profile_is_read_by_content_whatever_its_name(invoke, tmp_path, profile_data):
    named_txt = tmp_path / "profile.txt"
    named_txt.write_text(json.dumps(profile_data))
    result = invoke("predict", "--profile", named_txt, "--device", "cpu", "--dataset-size", "1000",
                    "--epochs", "1", "--batch-size", "64", "--json", "--no-save")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["method"] == "measured"


@pytest.mark.parametrize("path", ["/dev/zero", "fifo"])
def test_a_profile_that_is_not_a_regular_file_is_refused_without_reading_it(invoke, tmp_path, path):
    import os

    if path == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)
    result = invoke("predict", "--profile", path, "--device", "cpu", "--dataset-size", "10", "--epochs", "1",
                    "--batch-size", "2")
    assert result.exit_code == 1 and "not a regular file" in result.output and "Traceback" not in result.output


def test_a_profile_that_cannot_be_written_leaves_no_temporary_file(tmp_path, monkeypatch, profile_data):
    from pathlib import Path

    from advisor.errors import ProbeError
    from advisor.probe.storage import save_profile
    from advisor.schemas import Profile

    def full_disk(self, *args, **kwargs):
        Path.write_bytes(self, b"{half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(ProbeError, match="No space left"):
        save_profile(Profile.model_validate(profile_data), tmp_path / "p.json")
    assert list(tmp_path.iterdir()) == []
