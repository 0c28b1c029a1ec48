"""advisor.workload.siblings: a workload file's sibling modules import as under ``python FILE``, inside its
functions too (``def build_model(): from model import Net``), in the caller's process."""

from __future__ import annotations

import pickle
import shlex
import subprocess
import sys

import pytest

from advisor.errors import WorkloadError
from advisor.workload import check_workload, load_workload
from advisor.workload.loader import load_workload_for_life

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
def forget_modules(tmp_path):
    """The projects' modules (model, data, ...) leave sys.modules as the test found it (torch's own submodules,
    imported lazily as the test runs, stay: a second import of some fails)."""
    before = dict(sys.modules)
    yield
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]
    sys.modules.update({name: module for name, module in before.items() if name not in sys.modules})


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


TOP_LEVEL = """\
import torch
from model import Net


def build_model():
    return Net()


def make_batch(batch_size):
    from data import batch
    return batch(batch_size)
"""


def params(model) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("train", [TOP_LEVEL, LAZY], ids=["top-level import", "import inside build_model"])
def test_two_projects_in_one_process_each_get_their_own_sibling_model(tmp_path, forget_modules, train):
    first, second = project(tmp_path / "a", width=4), project(tmp_path / "b", width=1000)
    first.write_text(train)
    second.write_text(train)
    a = load_workload(first)
    assert params(a.model()) == 16 * 4 + 4 and a.make_batch(2)[0].shape == (2, 16)
    b = load_workload(second)  # its folder's model.py, not the cached one of the first project
    assert params(b.model()) == 16 * 1000 + 1000
    assert params(a.model()) == 16 * 4 + 4  # and the first keeps its own
    assert params(b.model()) == 16 * 1000 + 1000
    assert check_workload(b).param_count == 16 * 1000 + 1000
    # Between calls the process's cache holds the first project's model, as it did before the second loaded.
    assert sys.modules["model"].__file__ == str(tmp_path / "a" / "model.py")
    assert sys.modules["data"].__file__ == str(tmp_path / "a" / "data.py")


def test_a_module_of_the_callers_own_folder_is_set_aside_for_the_file(tmp_path, monkeypatch, forget_modules):
    mine = tmp_path / "notebook"
    mine.mkdir()
    (mine / "model.py").write_text("NOTEBOOK = True\n")
    monkeypatch.syspath_prepend(str(mine))
    import model  # the caller's own model.py, imported before the workload file

    workload = load_workload(project(tmp_path / "proj", width=8))
    assert params(workload.model()) == 16 * 8 + 8
    assert sys.modules["model"] is model and model.NOTEBOOK


def test_the_run_it_alone_command_imports_the_files_siblings_from_any_folder(tmp_path, forget_modules):
    # The command ran runpy.run_path alone: from another folder a sibling imported in build_model failed in it
    # (No module named 'model') before the error advisor reported could show.
    project = tmp_path / "proj"
    project.mkdir()
    (project / "model.py").write_text("def broken():\n    raise ValueError('broken in model.py')\n")
    path = project / "train.py"
    path.write_text(LAZY.replace("from model import Net", "from model import broken as Net"))
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert "build_model() raised ValueError: broken in model.py" in err.value.message
    command = shlex.split(err.value.hint.split("on its own (", 1)[1].rsplit(").", 1)[0])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ran = subprocess.run([sys.executable, *command[1:]], cwd=elsewhere, capture_output=True, text=True, check=False)
    assert "ValueError: broken in model.py" in ran.stderr and "ModuleNotFoundError" not in ran.stderr


def test_the_probe_childs_workload_holds_the_files_own_functions_and_keeps_its_folder(tmp_path, monkeypatch,
                                                                                    forget_modules):
    # The child keeps the folder first for good, so it times the file's functions bare: wrapped, a file whose top
    # level put another folder first (sys.path.insert(0, "lib")) paid a whole path change in every timed step.
    path = project(tmp_path / "proj")
    path.write_text("import os, sys\nsys.path.insert(0, os.path.join(os.path.dirname(__file__), 'lib'))\n" + LAZY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the child's path change, undone for the next test
    workload = load_workload_for_life(path)
    module = sys.modules[workload.model.__module__]
    assert (workload.model, workload.make_batch) == (module.build_model, module.make_batch)
    assert str(path.resolve().parent) in sys.path  # the lazy sibling imports find it, as under python FILE
    assert params(workload.model()) == 16 * 4 + 4
    assert workload.make_batch(3)[0].shape == (3, 16)
