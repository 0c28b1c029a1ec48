"""advisor.workload: loading workload files, the job's defaults, and check_workload's one real CPU step.

Every user error asserts the exception type and the message's parts: the file (or workload), the problem
and the "Fix:" line. The examples load and train one step.
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

from advisor.errors import AdvisorError, WorkloadError
from advisor.workload import (
    CheckResult,
    JobSpec,
    Workload,
    check_workload,
    input_summary,
    load_workload,
)

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"

HEADER = """\
import torch
import torch.nn.functional as F
from torch import nn

"""

# A small good workload; the error tests below change one piece of it.
GOOD_MODEL = """\
def build_model():
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
"""
GOOD_BATCH = """\
def make_batch(batch_size):
    return torch.randn(batch_size, 64), torch.randint(0, 10, (batch_size,))
"""


def write(tmp_path: Path, body: str, name: str = "model.py", header: bool = True) -> Path:
    path = tmp_path / name
    path.write_text((HEADER if header else "") + textwrap.dedent(body))
    return path


def assert_message(err: pytest.ExceptionInfo, *phrases: str) -> str:
    message = str(err.value)
    assert isinstance(err.value, AdvisorError)
    assert err.value.exit_code == 1
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in:\n{message}"
    assert "Fix:" in message, message
    return message


def check_file(tmp_path: Path, body: str, batch_size: int = 2) -> CheckResult:
    return check_workload(load_workload(write(tmp_path, body)), batch_size=batch_size)


# ------------------------------------------------------------------------------------------- loading


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
    assert_message(err, str(path), "must be a Python file ending in .py")


def test_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "def build_model(:\n    pass\n", header=False)
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert_message(err, f"{path}:1:", "syntax error")


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


# ------------------------------------------------------------------------------------- job defaults


@pytest.mark.parametrize("const, flag, value", [
    ("DATASET_SIZE", "--dataset-size", 0), ("EPOCHS", "--epochs", -1), ("BATCH_SIZE", "--batch-size", 0),
    ("BATCH_SIZE", "--batch-size", 2.5), ("EPOCHS", "--epochs", "3"), ("EPOCHS", "--epochs", True),
])
def test_bad_defaults_in_the_file(tmp_path, const, flag, value):
    defaults = {"DATASET_SIZE": 100, "EPOCHS": 1, "BATCH_SIZE": 8}
    defaults[const] = value
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + "".join(f"{k} = {v!r}\n" for k, v in defaults.items()))
    workload = load_workload(path)
    with pytest.raises(WorkloadError) as err:
        workload.job()
    assert_message(err, str(path), f"{const} = {value!r}", "positive whole number", flag)


@pytest.mark.parametrize("kwargs, flag", [
    ({"dataset_size": 0}, "--dataset-size"), ({"epochs": 0}, "--epochs"), ({"batch_size": -8}, "--batch-size"),
])
def test_bad_explicit_job_values(kwargs, flag):
    workload = Workload(model=nn.Linear(2, 2), make_batch=lambda b: (torch.randn(b, 2), None), name="mine",
                        dataset_size=10, epochs=1, batch_size=2)
    with pytest.raises(WorkloadError) as err:
        workload.job(**kwargs)
    assert_message(err, "workload 'mine'", "must be a positive whole number", flag)


def test_missing_job_value_names_flag_and_constant():
    workload = Workload(model=nn.Linear(2, 2), make_batch=lambda b: (torch.randn(b, 2), None), name="mine")
    with pytest.raises(WorkloadError) as err:
        workload.job(dataset_size=10, epochs=1)
    assert_message(err, "workload 'mine'", "no batch size given", "--batch-size", "BATCH_SIZE = N")


def test_whole_number_values_are_accepted():
    workload = Workload(model=nn.Linear(2, 2), make_batch=lambda b: (torch.randn(b, 2), None),
                        dataset_size=5e4, epochs=torch.tensor(2).item(), batch_size=128)
    job = workload.job()
    assert job == JobSpec(50_000, 2, 128) and isinstance(job.dataset_size, int)
    assert job.steps_per_epoch == 391 and job.last_batch_size == 50_000 - 390 * 128 and job.total_steps == 782


# ------------------------------------------------------------------------------------ check_workload


def test_good_workload_check_result(tmp_path):
    result = check_file(tmp_path, GOOD_MODEL + GOOD_BATCH)
    assert isinstance(result, CheckResult)
    assert result.param_count == result.trainable_param_count == 64 * 256 + 256 + 256 * 10 + 10
    assert result.optimizer_name == "AdamW"  # the default
    assert result.input_summary == "Tensor[2, 64] float32"
    assert result.target_summary == "Tensor[2] int64"
    assert result.batch_size == 2 and 0 < result.loss < 10 and result.seconds > 0


def test_build_model_not_returning_a_module(tmp_path):
    path = write(tmp_path, "def build_model():\n    return 3\n" + GOOD_BATCH)
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "build_model() returned an int, not a torch.nn.Module")


def test_build_model_raising_names_the_line(tmp_path):
    path = write(tmp_path, "def build_model():\n    return nn.Linear(64)\n" + GOOD_BATCH)
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, f"{path}:6", "build_model() raised TypeError")


def test_make_batch_raising(tmp_path):
    path = write(tmp_path, GOOD_MODEL + "def make_batch(batch_size):\n    raise ValueError('no data here')\n")
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, f"{path}:8", "make_batch(2) raised ValueError: no data here")


@pytest.mark.parametrize("returned, phrase", [
    ("torch.randn(batch_size, 64)", "returned a tensor of shape (2, 64)"),
    ("(torch.randn(batch_size, 64), torch.zeros(batch_size), 1)", "returned a tuple of 3 items"),
    ("{'x': torch.randn(batch_size, 64)}", "returned a dict"),
    ("None", "returned None"),
])
def test_make_batch_not_a_pair(tmp_path, returned, phrase):
    path = write(tmp_path, GOOD_MODEL + f"def make_batch(batch_size):\n    return {returned}\n")
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), phrase, "expected a pair (inputs, target)")


@pytest.mark.parametrize("inputs, phrase", [
    ("torch.randn(batch_size, 64).numpy()", "inputs is a numpy.ndarray of shape (2, 64)"),
    ("[[0.5] * 64] * batch_size", "inputs[0] is a list of 64 items holding no tensor: [0.5, 0.5, 0.5, ...]"),
    ("(torch.randn(batch_size, 64), object())", "inputs[1] is an object"),
    ("{'x': torch.randn(batch_size, 64).numpy()}", "inputs['x'] is a numpy.ndarray"),
    ("{0: torch.randn(batch_size, 64)}", "dict keys must be forward()'s parameter names"),
    ("()", "inputs is an empty tuple"),
    ("('a', 'b')", "inputs is a tuple of 2 items holding no tensor: ('a', 'b')"),
    ("'text'", "inputs is a str"),
])
def test_inputs_of_the_wrong_structure(tmp_path, inputs, phrase):
    path = write(tmp_path, GOOD_MODEL + f"def make_batch(batch_size):\n    return {inputs}, None\n")
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "make_batch(2) returned inputs that are not tensors", phrase,
                   "torch.from_numpy")


@pytest.mark.parametrize("target, phrase", [
    ("[1, 2]", "a list of 2 items ([1, 2])"),
    ("torch.randint(0, 10, (batch_size,)).numpy()", "a numpy.ndarray of shape (2,)"),
    ("3", "an int"),
])
def test_target_neither_tensor_nor_none(tmp_path, target, phrase):
    path = write(tmp_path, GOOD_MODEL + f"def make_batch(batch_size):\n    return torch.randn(batch_size, 64), "
                 f"{target}\n")
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "returned a target that is", phrase, "not a tensor or None")


def test_structured_target_is_fine_with_a_loss_fn(tmp_path):
    result = check_file(tmp_path, GOOD_MODEL + textwrap.dedent("""\
        def make_batch(batch_size):
            return torch.randn(batch_size, 64), {"label": torch.randint(0, 10, (batch_size,))}

        def loss_fn(output, target):
            return F.cross_entropy(output, target["label"])
        """))
    assert result.target_summary == "{label: Tensor[2] int64}"


def test_batch_that_does_not_fit_the_model(tmp_path):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH.replace("randn(batch_size, 64)", "randn(batch_size, 32)"))
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    message = assert_message(err, str(path), "the batch does not fit the model", "RuntimeError",
                             "mat1 and mat2 shapes cannot be multiplied (2x32 and 64x256)",
                             "inputs fed: Tensor[2, 32] float32", "in_features")
    assert "\n" not in err.value.message, message  # torch's gist only, not its whole multi-line text


def test_batch_that_does_not_fit_names_the_line_in_forward(tmp_path):
    path = write(tmp_path, textwrap.dedent("""\
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(100, 8)

            def forward(self, ids):
                return self.embed(ids).mean(1)

        def build_model():
            return Net()

        def make_batch(batch_size):
            return torch.randint(0, 5000, (batch_size, 12)), torch.randint(0, 8, (batch_size,))
        """))
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, f"{path}:11", "the batch does not fit the model", "index out of range",
                   "Tensor[2, 12] int64")


def test_inputs_that_do_not_match_forward_parameters(tmp_path):
    path = write(tmp_path, GOOD_MODEL + "def make_batch(batch_size):\n"
                 "    return {'features': torch.randn(batch_size, 64)}, torch.randint(0, 10, (batch_size,))\n")
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "calling the model with the batch's inputs failed", "features",
                   "model(**x)")


def test_make_batch_ignoring_its_batch_size(tmp_path):
    path = write(tmp_path, GOOD_MODEL + "def make_batch(batch_size):\n"
                 "    return torch.randn(32, 64), torch.randint(0, 10, (32,))\n")
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "make_batch ignores its batch_size", "Tensor[32, 64] float32")


def test_loss_that_is_not_a_scalar(tmp_path):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + textwrap.dedent("""\
        def loss_fn(output, target):
            return F.cross_entropy(output, target, reduction="none")
        """))
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "loss_fn is not a scalar", "shape (2,)", ".mean()")


def test_loss_fn_returning_a_float(tmp_path):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + textwrap.dedent("""\
        def loss_fn(output, target):
            return F.cross_entropy(output, target).item()
        """))
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "loss_fn is a float", "not a tensor", ".item()")


def test_loss_fn_raising(tmp_path):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + textwrap.dedent("""\
        def loss_fn(output, target):
            return F.nll_loss(output, target[:, 0])
        """))
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, f"{path}:10", "loss_fn(output, target) failed", "IndexError",
                   "output: Tensor[2, 10] float32, target: Tensor[2] int64")


def test_detached_loss(tmp_path):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + textwrap.dedent("""\
        def loss_fn(output, target):
            return F.cross_entropy(output.detach(), target)
        """))
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "does not depend on the model's trainable parameters", "no_grad")


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_nan_or_infinite_loss(tmp_path, value):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + textwrap.dedent(f"""\
        def loss_fn(output, target):
            return F.cross_entropy(output, target) * float("{value}")
        """))
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), f"the loss is {value} on the first step", "inputs fed: Tensor[2, 64]")


def test_nan_from_the_batch(tmp_path):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH.replace("torch.randn(batch_size, 64)",
                                                           "torch.full((batch_size, 64), float('nan'))"))
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "the loss is nan")


def test_target_none_but_output_is_not_a_loss(tmp_path):
    path = write(tmp_path, GOOD_MODEL + "def make_batch(batch_size):\n    return torch.randn(batch_size, 64), None\n")
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "target None", "should be the scalar loss", "a tensor of shape (2, 10)",
                   "return the loss from forward()", "loss_fn")


def test_target_none_and_output_a_dict_without_loss(tmp_path):
    path = write(tmp_path, textwrap.dedent("""\
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 3)

            def forward(self, x):
                return {"logits": self.fc(x)}

        def build_model():
            return Net()

        def make_batch(batch_size):
            return torch.randn(batch_size, 4), None
        """))
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "should be the scalar loss", "a dict", "logits: Tensor[2, 3] float32")


def test_model_returning_its_loss_in_a_dict_is_fine(tmp_path):
    result = check_file(tmp_path, textwrap.dedent("""\
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 3)

            def forward(self, x, labels):
                logits = self.fc(x)
                return {"loss": F.cross_entropy(logits, labels), "logits": logits}

        def build_model():
            return Net()

        def make_batch(batch_size):
            return (torch.randn(batch_size, 4), torch.randint(0, 3, (batch_size,))), None
        """))
    assert result.input_summary == "(Tensor[2, 4] float32, Tensor[2] int64)"
    assert result.target_summary == "None"


def test_default_mse_with_mismatched_shapes(tmp_path):
    path = write(tmp_path, "def build_model():\n    return nn.Linear(8, 1)\n"
                 "def make_batch(batch_size):\n    return torch.randn(batch_size, 8), torch.randn(batch_size)\n")
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "mean squared error", "output (2, 1), target (2,)", "unsqueeze(1)")


def test_default_cross_entropy_with_labels_out_of_range(tmp_path):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH.replace("randint(0, 10,", "randint(50, 60,"))
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "the default loss (cross-entropy for integer targets) failed",
                   "out of bounds", "class indices")


def test_frozen_model(tmp_path):
    path = write(tmp_path, textwrap.dedent("""\
        def build_model():
            model = nn.Linear(64, 10)
            model.requires_grad_(False)
            return model
        """) + GOOD_BATCH)
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "no trainable parameters", "650 parameters", "requires_grad")


def test_bad_optimizer(tmp_path):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + "def configure_optimizer(params):\n    return 'sgd'\n")
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "configure_optimizer() returned a str, not a torch.optim.Optimizer")


def test_backward_failing(tmp_path):
    path = write(tmp_path, textwrap.dedent("""\
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(64, 10)

            def forward(self, x):
                y = torch.sigmoid(self.fc(x))
                y.add_(1)  # sigmoid saved its output for backward
                return y
        """) + "def build_model():\n    return Net()\n" + GOOD_BATCH)
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "the backward pass failed", "modified by an inplace operation", "in-place")


@pytest.mark.parametrize("batch_size", [0, -1, 1.5])
def test_bad_check_batch_size(tmp_path, batch_size):
    with pytest.raises(WorkloadError) as err:
        check_file(tmp_path, GOOD_MODEL + GOOD_BATCH, batch_size=batch_size)
    assert_message(err, "model.py", "batch size must be a positive whole number")


# ------------------------------------------------------------------------------ the Python API form


def test_python_api_workload_is_not_trained_by_the_check():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    before = {k: v.clone() for k, v in module.state_dict().items()}
    workload = Workload(model=module, make_batch=lambda b: (torch.randn(b, 6), torch.randint(0, 3, (b,))),
                        name="api")
    result = check_workload(workload, batch_size=4)
    assert result.param_count == 6 * 16 + 16 + 16 * 3 + 3
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())
    assert all(p.grad is None for p in module.parameters())


def test_python_api_error_names_the_workload():
    workload = Workload(model=nn.Linear(6, 3), make_batch=lambda b: (torch.randn(b, 5), torch.zeros(b).long()),
                        name="api")
    with pytest.raises(WorkloadError) as err:
        check_workload(workload)
    assert_message(err, "workload 'api'", "the batch does not fit the model", "(2x5 and 6x3)")


def test_model_that_is_neither_module_nor_factory():
    with pytest.raises(WorkloadError) as err:
        check_workload(Workload(model=42, make_batch=lambda b: (torch.randn(b, 2), None), name="api"))
    assert_message(err, "workload 'api'", "the model is an int, not an nn.Module or a function")


def test_check_restores_rng_state_and_grad_mode(tmp_path):
    import numpy as np

    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH)
    workload = load_workload(path)
    torch.manual_seed(123)
    random.seed(123)
    np.random.seed(123)
    expected = (torch.rand(3), random.random(), np.random.rand())
    torch.manual_seed(123)
    random.seed(123)
    np.random.seed(123)
    with torch.no_grad():
        check_workload(workload)
        assert not torch.is_grad_enabled()
    got = (torch.rand(3), random.random(), np.random.rand())
    assert torch.equal(got[0], expected[0]) and got[1:] == expected[1:]


def test_input_summary():
    assert input_summary(torch.zeros(2, 3, dtype=torch.int64)) == "Tensor[2, 3] int64"
    assert input_summary((torch.zeros(2),)) == "(Tensor[2] float32,)"
    assert input_summary([torch.zeros(1, 2), None]) == "[Tensor[1, 2] float32, None]"
    assert input_summary({"a": torch.zeros(1), "flag": False}) == "{a: Tensor[1] float32, flag: False}"
    assert input_summary(list(range(20))).endswith(", ...]")
    assert input_summary(object()) == "object"


# ------------------------------------------------------------------------------------------ examples


SMALL_EXAMPLES = {
    # name: (parameters, optimizer, inputs at batch 2)
    "tabular_mlp": (301_066, "AdamW", "Tensor[2, 64] float32"),
    "small_cnn": (94_762, "SGD", "Tensor[2, 3, 32, 32] float32"),
    "tiny_transformer_lm": (1_063_680, "AdamW", "{input_ids: Tensor[2, 64] int64, labels: Tensor[2, 64] int64}"),
    "resnet50": (25_557_032, "SGD", "Tensor[2, 3, 224, 224] float32"),
}


@pytest.mark.parametrize("name", list(SMALL_EXAMPLES))
def test_examples_pass_the_check(name):
    params, optimizer, inputs = SMALL_EXAMPLES[name]
    workload = load_workload(EXAMPLES / f"{name}.py")
    result = check_workload(workload, batch_size=2)
    assert (result.param_count, result.trainable_param_count) == (params, params)
    assert result.optimizer_name == optimizer
    assert result.input_summary == inputs
    job = workload.job()  # every example carries valid defaults
    assert job.dataset_size > 0 and job.epochs > 0 and job.batch_size > 0


def test_example_defaults():
    jobs = {p.stem: load_workload(p).job() for p in sorted(EXAMPLES.glob("*.py"))}
    assert jobs["resnet50"] == JobSpec(1_281_167, 1, 256)
    assert jobs["bert_squad"] == JobSpec(88_641, 2, 32)
    assert jobs["small_cnn"].dataset_size == 50_000
    assert set(jobs) >= {"tabular_mlp", "small_cnn", "tiny_transformer_lm", "resnet50", "bert_squad"}
    for path in EXAMPLES.glob("*.py"):
        import ast

        assert ast.get_docstring(ast.parse(path.read_text())), f"{path.name} has no docstring"


def _meta_params(workload: Workload) -> int:
    with torch.device("meta"):
        return sum(p.numel() for p in workload.build_model().parameters())


@pytest.mark.parametrize("size, params", [("base", 108_893_186), ("large", 334_094_338)])
def test_bert_parameter_counts(monkeypatch, size, params):
    # bert-base-uncased is 109,482,240 with its pooler (768 x 768 + 768 = 590,592); the SQuAD model drops
    # the pooler and adds the span head (768 x 2 + 2 = 1,538): 109,482,240 - 590,592 + 1,538.
    monkeypatch.setenv("ADVISOR_BERT_SIZE", size)
    assert _meta_params(load_workload(EXAMPLES / "bert_squad.py")) == params


def test_bert_unknown_size(monkeypatch):
    monkeypatch.setenv("ADVISOR_BERT_SIZE", "huge")
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(EXAMPLES / "bert_squad.py"))
    assert_message(err, "bert_squad.py", "build_model() raised ValueError", "'huge'", "base, large")


def test_bert_trains_one_step(monkeypatch):
    # The real code path at batch 2 and full sequence length, with a 2-layer encoder so it stays quick;
    # the full 12-layer model takes 5 s or more on a 2-core CPU.
    monkeypatch.setenv("ADVISOR_BERT_SIZE", "base")
    workload = load_workload(EXAMPLES / "bert_squad.py")
    import sys

    module = sys.modules[workload.make_batch.__module__]
    monkeypatch.setitem(module.SIZES, "base", (2, 128, 2, 512))
    result = check_workload(workload, batch_size=2)
    assert result.optimizer_name == "AdamW" and result.target_summary == "None"
    assert result.input_summary.startswith("{input_ids: Tensor[2, 384] int64, token_type_ids: Tensor[2, 384] int64")
    assert "start_positions: Tensor[2] int64, end_positions: Tensor[2] int64" in result.input_summary
    assert 0 < result.loss < 20


def test_bert_batches_are_well_formed():
    workload = load_workload(EXAMPLES / "bert_squad.py")
    inputs, target = workload.make_batch(16)
    assert target is None
    mask, types = inputs["attention_mask"], inputs["token_type_ids"]
    lengths = mask.sum(1)
    assert ((lengths >= 192) & (lengths <= 384)).all()
    assert (inputs["input_ids"][mask == 0] == 0).all() and (inputs["input_ids"][mask == 1] > 0).all()
    assert (types[mask == 0] == 0).all() and (types.sum(1) > 0).all()
    start, end = inputs["start_positions"], inputs["end_positions"]
    assert (start <= end).all() and (end < lengths).all()
    assert (types.gather(1, start[:, None]) == 1).all()  # the answer lies in the context segment



def test_train_step_through_a_grad_scaler_scales_the_loss_and_steps():
    import copy

    import torch

    from advisor.workload import Workload, train_step

    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    plain = copy.deepcopy(model)
    start = copy.deepcopy(model)
    workload = Workload(model=lambda: model, make_batch=lambda b: (torch.randn(b, 4), torch.randint(0, 2, (b,))))
    inputs, target = workload.make_batch(8)
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    seen: list[float] = []
    scale = scaler.scale
    scaler.scale = lambda loss: seen.append(loss.item()) or scale(loss)
    loss = train_step(workload, model, torch.optim.SGD(model.parameters(), lr=0.1), inputs, target,
                      autocast_dtype=torch.float16, scaler=scaler)
    train_step(workload, plain, torch.optim.SGD(plain.parameters(), lr=0.1), inputs, target,
               autocast_dtype=torch.float16)
    assert seen == [loss.item()] and scaler.get_scale() == 1024.0  # scaled once; finite gradients: no back-off
    # Scaled by 1024 for backward, unscaled before the step: the same update as without the scaler.
    for a, b in zip(model.parameters(), plain.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)
    assert not torch.allclose(model.weight, start.weight)  # and the step did move them
