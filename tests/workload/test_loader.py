"""advisor.workload.loader: the path check, importing a workload file, and its defaults read without running it."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import textwrap

import pytest
from workload_helpers import GOOD_BATCH, GOOD_MODEL, HEADER, assert_message, write

from advisor.errors import WorkloadError
from advisor.workload import JobSpec, check_path, check_workload, load_workload, read_defaults, user_line


def test_missing_file(tmp_path):
    path = tmp_path / "nope.py"
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert_message(err, str(path), "no such file")


def test_check_workload_accepts_a_path_and_reports_a_missing_file(tmp_path):
    with pytest.raises(WorkloadError) as err:
        check_workload(tmp_path / "missing_model.py")
    assert_message(err, "missing_model.py", "no such file")


@pytest.mark.parametrize("name", ["model.txt", "model.ipynb", "folder"])
def test_not_a_python_file(tmp_path, name):
    path = tmp_path / name
    if name == "folder":
        path.mkdir()
    else:
        path.write_text("def build_model(): ...\n")
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert_message(err, str(path), "is a folder, not a Python file" if name == "folder"
                   else "must be a Python file ending in .py")


def test_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "def build_model(:\n    pass\n", header=False)
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert_message(err, f"{path}:1:", "syntax error")


def test_a_syntax_error_without_a_line_names_none(tmp_path):
    path = tmp_path / "nul.py"
    path.write_bytes(b"x = 1\x00\n")
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert err.value.message.startswith(f"{path}: syntax error:") and "None" not in err.value.message


def test_an_exception_without_a_message_is_named_once(tmp_path):
    path = write(tmp_path, GOOD_MODEL + "raise MemoryError()\n" + GOOD_BATCH)
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert err.value.message.endswith("running the file failed: MemoryError (no message)")


def test_syntax_error_in_an_imported_sibling_names_the_sibling(tmp_path):
    (tmp_path / "helpers.py").write_text("x = 1\ny = (\n")
    path = write(tmp_path, "import helpers\n" + GOOD_MODEL + GOOD_BATCH)
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert_message(err, "helpers.py:", "syntax error", f"imported by {path}")


def test_import_error_inside_the_file(tmp_path):
    path = write(tmp_path, "import no_such_package_xyz\n" + GOOD_MODEL + GOOD_BATCH)
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert_message(err, f"{path}:5", "importing the file failed", "ModuleNotFoundError", "no_such_package_xyz",
                   "install")


def test_exception_while_running_the_file(tmp_path):
    path = write(tmp_path, GOOD_MODEL + "SCALE = 1 / 0\n" + GOOD_BATCH)
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert_message(err, f"{path}:7", "running the file failed", "ZeroDivisionError")


def test_sibling_imports_work_and_sys_path_is_restored(tmp_path):
    import sys

    (tmp_path / "layers.py").write_text("from torch import nn\nWIDTH = 64\n")
    path = write(tmp_path, "from layers import WIDTH\n" + GOOD_MODEL.replace("64", "WIDTH") + GOOD_BATCH)
    before = list(sys.path)
    workload = load_workload(path)
    assert sys.path == before
    assert check_workload(workload).param_count == 64 * 256 + 256 + 256 * 10 + 10


def test_dataclasses_with_postponed_annotations_load(tmp_path):
    # dataclasses look the defining module up in sys.modules; the loader must register it.
    body = "from __future__ import annotations\n" + HEADER + textwrap.dedent("""\
        from dataclasses import dataclass

        @dataclass
        class Config:
            width: int = 32

        def build_model():
            return nn.Linear(Config().width, 4)

        def make_batch(batch_size):
            return torch.randn(batch_size, Config().width), torch.randint(0, 4, (batch_size,))
        """)
    path = tmp_path / "dc.py"
    path.write_text(body)
    assert check_workload(load_workload(path)).param_count == 32 * 4 + 4


@pytest.mark.parametrize(
    "body, missing",
    [(GOOD_BATCH, "build_model"), (GOOD_MODEL, "make_batch"), ("X = 1\n", "build_model or make_batch")],
)
def test_missing_functions(tmp_path, body, missing):
    path = write(tmp_path, body)
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert_message(err, str(path), f"no {missing} function defined", "def build_model()")


def test_misspelled_function_gets_did_you_mean(tmp_path):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH.replace("def make_batch", "def make_batches"))
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert_message(err, "no make_batch function defined", "Did you mean 'make_batches'?")


def test_load_reads_defaults_and_optional_pieces(tmp_path):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + textwrap.dedent("""\
        DATASET_SIZE = 1000
        EPOCHS = 3
        BATCH_SIZE = 64

        def loss_fn(output, target):
            return F.cross_entropy(output, target)

        def configure_optimizer(params):
            return torch.optim.SGD(params, lr=0.1)
        """))
    workload = load_workload(path)
    assert workload.name == "model" and workload.path == path and len(workload.file_sha256) == 64
    assert workload.job() == JobSpec(1000, 3, 64)
    assert workload.job(epochs=1) == JobSpec(1000, 1, 64)
    result = check_workload(workload)
    assert result.optimizer_name == "SGD"


# ------------------------------------------------------------------------------ file facts, no import


def test_check_path_returns_the_path_of_a_python_file(tmp_path):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH)
    assert check_path(str(path)) == path


@pytest.mark.parametrize("name, phrase", [("nope.py", "no such file"), ("model.txt", "ending in .py")])
def test_check_path_rejects_what_load_workload_rejects(tmp_path, name, phrase):
    path = tmp_path / name
    if name.endswith(".txt"):
        path.write_text("x = 1\n")
    with pytest.raises(WorkloadError) as err:
        check_path(path)
    assert_message(err, str(path), phrase)


def test_read_defaults_reads_literals_without_running_the_file(tmp_path):
    path = write(tmp_path, "raise SystemExit('never run')\nDATASET_SIZE = 1_000\nEPOCHS: int = 3\n"
                 "BATCH_SIZE = compute()\nFLAG = True\n", header=False)
    assert read_defaults(path) == {"dataset_size": 1000, "epochs": 3}
    (tmp_path / "broken.py").write_text("def (:\n")
    assert read_defaults(tmp_path / "broken.py") == {}
    assert read_defaults(tmp_path / "missing.py") == {}


def test_user_line_names_the_deepest_line_in_the_file(tmp_path):
    path = write(tmp_path, GOOD_MODEL + "def fail():\n    raise ValueError('x')\n" + GOOD_BATCH)
    workload = load_workload(path)
    with pytest.raises(ValueError) as err:
        sys.modules[workload.make_batch.__module__].fail()
    assert user_line(err.value, path) == ":8"
    assert user_line(err.value, None) == ""
    assert user_line(err.value, tmp_path / "other.py") == ""


def test_importing_the_package_does_not_import_torch():
    code = ("import sys, advisor.workload as w; assert w.Workload and w.load_workload and w.resolve_job; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_raised_names_the_class_and_the_first_line_or_says_there_is_no_message():
    from advisor.workload.describe import raised

    assert raised(MemoryError()) == "MemoryError (no message)"
    assert raised(ValueError("\n  first\nsecond")) == "ValueError: first"
    assert raised(ValueError("first\nsecond"), whole=True) == "ValueError: first\nsecond"
    assert raised(KeyError("k")) == "KeyError: 'k'"


@pytest.mark.parametrize("keyword, meant", [
    ("build_model", "'model'? (a workload file's build_model is Workload's model=)"),
    ("configure_optimizer", "'optimizer'? (a workload file's configure_optimizer is Workload's optimizer=)"),
    ("loss", "'loss_fn'?"),
    ("epoch", "'epochs'?"),
])
def test_a_files_name_given_to_workload_names_the_keyword(keyword, meant):
    from advisor.workload import Workload

    with pytest.raises(WorkloadError) as err:
        Workload(make_batch=lambda b: None, **{keyword: 1})
    assert err.value.message == f"workload 'workload': Workload() takes no keyword {keyword!r}. Did you mean {meant}"
    assert 'README "Python API"' in err.value.hint


def test_a_workload_without_a_model_is_a_workload_error():
    from advisor.workload import Workload

    with pytest.raises(WorkloadError, match="no model given"):
        Workload(make_batch=lambda b: None)


def test_a_file_that_changes_the_working_folder_loads_by_a_relative_path(tmp_path, monkeypatch):
    # os.chdir(os.path.dirname(os.path.abspath(__file__))) at the top: the file was re-read by its relative
    # path after it ran, from the folder it moved to (FileNotFoundError).
    (tmp_path / "proj").mkdir()
    path = write(tmp_path / "proj", "import os\nos.chdir('/')\n" + GOOD_MODEL
                 + "def fail():\n    raise ValueError('x')\n" + GOOD_BATCH, name="chdir_here.py")
    monkeypatch.chdir(tmp_path)
    workload = load_workload("proj/chdir_here.py")
    assert workload.path == path and workload.label == "proj/chdir_here.py"
    assert workload.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert check_workload(workload).param_count == 64 * 256 + 256 + 256 * 10 + 10
    with pytest.raises(ValueError) as err:
        sys.modules[workload.make_batch.__module__].fail()
    assert user_line(err.value, workload.path) == ":10"


def test_an_error_after_the_working_folder_changed_names_the_path_as_written(tmp_path, monkeypatch):
    (tmp_path / "proj").mkdir()
    write(tmp_path / "proj", "import os\nos.chdir('/')\n" + GOOD_MODEL + "SCALE = 1 / 0\n" + GOOD_BATCH,
          name="chdir_here.py")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WorkloadError) as err:
        load_workload("proj/chdir_here.py")
    assert err.value.message.startswith("proj/chdir_here.py:9: running the file failed: ZeroDivisionError")


def package_project(tmp_path, package: str, train: str):
    """``proj/<package>/{__init__,model,train}.py``: a project laid out as a package, its train.py importing
    ``Net`` from its sibling module as ``train`` says."""
    folder = tmp_path / "proj" / package
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "model.py").write_text("from torch import nn\n\n\nclass Net(nn.Linear):\n    pass\n")
    return write(folder, train + "\ndef build_model():\n    return Net(64, 10)\n" + GOOD_BATCH, name="train.py")


@pytest.fixture
def forget_modules():
    """The test's packages leave sys.modules as they found it (each is imported from a tmp folder)."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_a_relative_import_in_a_package_says_what_works_not_pip_install(tmp_path, monkeypatch, forget_modules):
    path = package_project(tmp_path, "relpkg", "from .model import Net\n")
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert_message(err, f"{path}:5: importing the file failed: ImportError: attempted relative import")
    root = tmp_path / "proj"
    assert err.value.hint == (
        "Fix: advisor imports the file on its own, as `python FILE` does, not as a module of its package relpkg, so "
        "a relative import (`from .model import Net`) cannot work there: write it absolute (`from relpkg.model "
        f"import Net`) and put the folder holding relpkg on the import path: `PYTHONPATH={root} advisor ...`.")
    # What it says works: the import made absolute, the project's root on the path.
    path.write_text(path.read_text().replace("from .model", "from relpkg.model"))
    monkeypatch.syspath_prepend(str(root))
    assert check_workload(load_workload(path)).param_count == 64 * 10 + 10


def test_a_relative_import_outside_a_package_says_to_import_the_sibling_by_name(tmp_path):
    (tmp_path / "model.py").write_text("WIDTH = 64\n")
    path = write(tmp_path, "from .model import WIDTH\n" + GOOD_MODEL + GOOD_BATCH, name="train.py")
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert "it is in no package (no __init__.py beside it)" in err.value.hint
    assert "import its sibling by name (`from model import Net`)" in err.value.hint
    assert "pip install" not in err.value.hint


def test_a_package_absolute_import_says_to_put_the_project_on_the_path(tmp_path, monkeypatch, forget_modules):
    # `python -m abspkg.train` from proj works (the current folder is on the path); `advisor predict
    # abspkg/train.py` from proj did not, and was told to pip install abspkg.
    path = package_project(tmp_path, "abspkg", "from abspkg.model import Net\n")
    monkeypatch.chdir(tmp_path / "proj")
    with pytest.raises(WorkloadError) as err:
        load_workload("abspkg/train.py")
    assert_message(err, "abspkg/train.py:5: importing the file failed: ModuleNotFoundError: No module named 'abspkg'")
    root = tmp_path / "proj"
    assert err.value.hint == (
        f"Fix: abspkg is in {root}, which is not on the import path: advisor imports the file by its path, as "
        "`python FILE` does, not as `python -m` (which puts the current folder on it). Run with that folder on it: "
        f"`PYTHONPATH={root} advisor ...`; or, if abspkg is a package to install, pip install it.")
    monkeypatch.syspath_prepend(str(root))
    assert load_workload(path).name == "train"


def test_input_at_the_top_level_says_there_is_no_standard_input(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # the probe child's: nothing to read
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + "answer = input('continue? ')\n")
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert_message(err, f"{path}:9: running the file failed: EOFError: EOF when reading a line")
    assert err.value.hint == (
        "Fix: the file runs with no standard input when advisor probes it, so input() at its top level reads end of "
        "file: move the prompt under `if __name__ == \"__main__\":` (which the probe does not run), or take the "
        "answer from an environment variable (os.environ.get(\"NAME\", \"default\")).")


@pytest.mark.parametrize("body, command, shows", [
    (GOOD_MODEL + "raise ValueError('boom')\n", "python 'dir with spaces/bad file.py'", "ValueError: boom"),
    ("def build_model(:\n", "python -m py_compile 'dir with spaces/bad file.py'", "SyntaxError"),
])
def test_the_command_in_the_fix_is_quoted_for_a_shell(tmp_path, monkeypatch, body, command, shows):
    # Pasted, the unquoted "python dir with spaces/bad file.py" ran `python dir`.
    (tmp_path / "dir with spaces").mkdir()
    write(tmp_path / "dir with spaces", body, name="bad file.py")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WorkloadError) as err:
        load_workload("dir with spaces/bad file.py")
    assert f"({command} s" in err.value.hint
    ran = subprocess.run(["bash", "-c", command.replace("python", sys.executable, 1)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 1 and shows in ran.stderr


@pytest.mark.parametrize("installable", [True, False], ids=["pyproject.toml", "no project file"])
def test_a_src_layout_package_says_to_install_the_project_or_put_src_on_the_path(
        tmp_path, monkeypatch, forget_modules, installable):
    # scripts/train.py doing `from srcpkg.models import Net`, srcpkg in src/: the fix said to pip install srcpkg.
    project = tmp_path / "proj"
    (project / "src" / "srcpkg").mkdir(parents=True)
    (project / "src" / "srcpkg" / "__init__.py").write_text("")
    (project / "src" / "srcpkg" / "models.py").write_text("from torch import nn\n\n\nclass Net(nn.Linear):\n    pass\n")
    if installable:
        (project / "pyproject.toml").write_text("[project]\nname = 'srcpkg'\n")
    (project / "scripts").mkdir()
    path = write(project / "scripts", "from srcpkg.models import Net\n\ndef build_model():\n    return Net(64, 10)\n"
                 + GOOD_BATCH, name="train.py")
    monkeypatch.chdir(project)
    with pytest.raises(WorkloadError) as err:
        load_workload("scripts/train.py")
    src = project / "src"
    install = f"install the project in this environment (`pip install -e {project}`), or " if installable else ""
    assert err.value.hint == (
        f"Fix: srcpkg is in {src} (a src layout), which is not on the import path: advisor imports the file by its "
        f"path, as `python FILE` does: {install}run with that folder on it: `PYTHONPATH={src} advisor ...`.")
    monkeypatch.syspath_prepend(str(src))  # what it says works
    assert check_workload(load_workload(path)).param_count == 64 * 10 + 10
