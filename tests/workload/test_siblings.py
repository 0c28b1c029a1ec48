"""advisor.workload.siblings: a workload file's sibling modules import as under ``python FILE``, inside its
functions too (``def build_model(): from model import Net``), in the caller's process."""

from __future__ import annotations

import pickle
import sys

import pytest

from advisor.workload import check_workload, load_workload

LAZY = """\
import torch


def build_model():
    from model import Net  # imported when called, as many training scripts guard heavy imports
    return Net()


def make_batch(batch_size):
    from data import batch  # noqa
    return batch(batch_size)
"""
NET = """\
import torch


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(16, {width})

    def forward(self, x):
        return self.layer(x)
"""
DATA = """\
import torch


def batch(batch_size):
    return torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,))
"""


def project(folder, width: int = 4):
    """``folder/{train,model,data}.py``: train.py imports its siblings inside its functions."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.py").write_text(NET.format(width=width))
    (folder / "data.py").write_text(DATA)
    (folder / "train.py").write_text(LAZY)
    return folder / "train.py"


@pytest.fixture
def forget_modules():
    """The projects' modules (model, data, ...) leave sys.modules as the test found it."""
    before = dict(sys.modules)
    yield
    for name in set(sys.modules) - set(before):
        del sys.modules[name]
    sys.modules.update(before)


def test_a_sibling_imported_inside_build_model_imports_from_another_folder(tmp_path, monkeypatch, forget_modules):
    path = project(tmp_path / "proj")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    path_before = list(sys.path)
    workload = load_workload(path)
    assert sys.path == path_before  # the caller's import path is its own between the workload's calls
    assert check_workload(workload).param_count == 16 * 4 + 4  # build_model's and make_batch's lazy imports
    assert sys.path == path_before
    assert sum(p.numel() for p in workload.model().parameters()) == 68
    assert workload.make_batch(3)[0].shape == (3, 16)
    assert workload.model.__name__ == "build_model"
    # Pickled as the function itself, as before it was wrapped (a fresh probe child finds it by name or forks).
    assert pickle.loads(pickle.dumps(workload.model)) is sys.modules[workload.model.__module__].build_model
