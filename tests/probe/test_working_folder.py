"""A workload file that changes the working folder as it runs (``os.chdir`` at its top level, a common way to
make data paths relative to the script), named by a relative path: the probe child imports it by its absolute
path, and messages still name it as the user wrote it. It crashed the probe ("No such file or directory:
'proj/chdir_here.py'", "probably a bug in advisor"): the child re-read the relative path after the chdir."""

from __future__ import annotations

import textwrap

import pytest

from advisor.errors import WorkloadError
from advisor.probe import run_profile

pytestmark = pytest.mark.slow

CHDIR = """
import os
os.chdir("/")
import torch
from torch import nn


class Stop(BaseException):
    pass


def build_model():
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))


def make_batch(batch_size):
    if STOP:
        raise Stop("from make_batch")
    return torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,))
"""


def relative_workload(tmp_path, monkeypatch, stop: bool) -> str:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "chdir_here.py").write_text(textwrap.dedent(CHDIR) + f"STOP = {stop}\n")
    monkeypatch.chdir(tmp_path)
    return "proj/chdir_here.py"


def test_a_file_that_changes_the_working_folder_is_probed(tmp_path, monkeypatch):
    path = relative_workload(tmp_path, monkeypatch, stop=False)
    prof = run_profile(path, devices=[], batch_size=8, probe_seconds=1, analyze=False)
    # stored absolute (two projects' train.py are told apart by it: advisor.history.name_paths)
    assert prof.workload.path == str(tmp_path / "proj" / "chdir_here.py") and prof.workload.name == "chdir_here"
    assert prof.workload.param_count == 16 * 32 + 32 + 32 * 4 + 4


def test_its_errors_name_the_path_as_written_and_the_line(tmp_path, monkeypatch):
    path = relative_workload(tmp_path, monkeypatch, stop=True)
    with pytest.raises(WorkloadError) as info:
        run_profile(path, devices=[], batch_size=8, probe_seconds=1, analyze=False)
    assert info.value.message == ("proj/chdir_here.py: the workload raised Stop (in make_batch, chdir_here.py:18): "
                                  "from make_batch")
