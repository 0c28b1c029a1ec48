"""advisor.workload.check: check_workload's one real CPU step, and the error for each way a workload is wrong."""

from __future__ import annotations

import random
import textwrap

import pytest
import torch
from torch import nn
from workload_helpers import GOOD_BATCH, GOOD_MODEL, assert_message, check_file, write

from advisor.errors import WorkloadError
from advisor.workload import CheckResult, Workload, check_workload, input_summary, load_workload


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


@pytest.mark.parametrize("body", [
    "def build_model():\n    return nn.Linear(64, 10, device='meta')\n",
    "def build_model():\n    with torch.device('meta'):\n        return nn.Sequential(nn.Linear(64, 10))\n",
])
def test_a_model_built_on_the_meta_device_is_the_users_error(tmp_path, body):
    """It was NotImplementedError ("Cannot copy out of meta tensor"), which the CLI shows as advisor's bug."""
    path = write(tmp_path, body + GOOD_BATCH)
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "build_model() returned a model that has 2 of its 2 parameters and buffers on "
                   "the meta device", "model.to_empty(device='cpu')")
    with pytest.raises(WorkloadError, match="the model has 2 of its 2 parameters and buffers on the meta device"):
        check_workload(Workload(model=nn.Linear(64, 10, device="meta"), make_batch=lambda b: (
            torch.randn(b, 64), torch.randint(0, 10, (b,)))))
    with torch.device("meta"):  # a caller that asks for a meta model (to count parameters) gets one
        assert next(load_workload(path).build_model().parameters()).is_meta


def test_a_make_batch_whose_shapes_vary_between_calls_gets_a_note_naming_them():
    """A random sequence length with no seed made the answer differ up to 200x from run to run, with no word."""
    from advisor.workload.check import varying_shapes_note

    lengths = iter([8, 512, 8])

    def varying(b):
        return torch.randint(0, 10, (b, next(lengths))), torch.zeros(b, dtype=torch.long)

    note = varying_shapes_note(Workload(model=lambda: nn.Embedding(10, 4), make_batch=varying), 2)
    assert note.startswith("make_batch(2) returned inputs of shape (2, 8), then (2, 512): their shapes vary between "
                           "calls"), note
    assert "Fix: return the same shapes at a batch size" in note
    fixed = Workload(model=lambda: nn.Embedding(10, 4), make_batch=lambda b: (torch.randint(0, 10, (b, 8)), None))
    assert varying_shapes_note(fixed, 2) is None

    def broken(b):
        raise ValueError("the check reports this")

    assert varying_shapes_note(Workload(model=lambda: nn.Embedding(10, 4), make_batch=broken), 2) is None


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
                   "return the scalar loss from forward()", "a .loss attribute", 'a dict with a "loss" entry',
                   "loss_fn")


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


@pytest.mark.parametrize("dtype", ["int32", "int16", "bool"])
def test_default_cross_entropy_with_labels_of_another_integer_type_says_long(tmp_path, dtype):
    # The labels were in range; the hint blamed their values, where `y.long()` was the fix.
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH.replace("(batch_size,))", f"(batch_size,)).to(torch.{dtype})"))
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "the default loss (cross-entropy for integer targets) failed",
                   f"target: Tensor[2] {dtype}")
    assert err.value.hint == (f"Fix: cross-entropy needs int64 class indices, and make_batch returned torch.{dtype} "
                              "ones: return y.long() from make_batch (labels made by numpy or pandas are often "
                              "int32); or define loss_fn(output, target).")


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


@pytest.mark.parametrize(("returned", "names"), [
    ("(torch.optim.Adam(g), torch.optim.Adam(d))", "Adam+Adam"),
    ("[torch.optim.Adam(g), torch.optim.SGD(d, lr=0.1)]", "Adam+SGD"),
    ("{'generator': torch.optim.Adam(g), 'discriminator': torch.optim.Adam(d)}", "Adam+Adam"),
])
def test_several_optimizers_are_stepped_together_after_one_backward(tmp_path, returned, names):
    """Several optimizers were refused, with a fix (one optimizer, a group per network) that cannot work for
    SparseAdam beside Adam. Each is now zeroed and stepped in the step, as the job does after its one backward."""
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + textwrap.dedent(f"""\
        def configure_optimizer(params):
            params = list(params)
            g, d = params[:1], params[1:]
            return {returned}
        """))
    result = check_workload(load_workload(path))
    assert result.optimizer_name == names
    assert result.optimizer_notes == (
        f"configure_optimizer returned 2 optimizers ({names}): each is stepped after the one backward of the one "
        "loss, as a job that updates its sparse and dense parameters with their own optimizers does; a GAN's "
        "alternating updates (a backward per network) take longer.",)
    workload = load_workload(path)
    model = workload.build_model()
    optimizer = workload.build_optimizer(model.parameters())
    before = [p.detach().clone() for p in model.parameters()]
    from advisor.workload import train_step

    train_step(workload, model, optimizer, *workload.make_batch(4))
    assert all(not torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))  # every one updated
    assert len(optimizer.state) == (1 if "SGD" in names else len(before))  # Adam keeps moments, SGD none


def test_sparse_adam_beside_adam_is_stepped_and_part_coverage_is_noted(tmp_path):
    """A sparse-embedding recommender: SparseAdam for the embeddings alone left the dense layers' update out of the
    step without a word; SparseAdam + Adam (DLRM's recipe) was refused."""
    alone = write(tmp_path, SPARSE_MODEL + "def configure_optimizer(params):\n"
                  "    return torch.optim.SparseAdam([p for p in params if p.shape[0] == 100], lr=1e-3)\n", "alone.py")
    result = check_workload(load_workload(alone))
    dense = 16 * 10 + 10
    assert result.optimizer_notes == (
        f"{dense:,} of {100 * 16 + dense:,} trainable parameters have no optimizer: their update is not timed "
        "(SparseAdam from configure_optimizer covers the rest). A job that updates them with another optimizer "
        "(Adam for the dense layers beside SparseAdam for the embeddings) takes longer: return every optimizer it "
        "steps, as a tuple.",)
    pair = write(tmp_path, SPARSE_MODEL + textwrap.dedent("""\
        def configure_optimizer(params):
            params = list(params)
            sparse = [p for p in params if p.shape[0] == 100]
            return torch.optim.SparseAdam(sparse, lr=1e-3), torch.optim.Adam(params[1:], lr=1e-3)
        """), "pair.py")
    result = check_workload(load_workload(pair))
    assert result.optimizer_name == "SparseAdam+Adam"
    assert not any("have no optimizer" in note for note in result.optimizer_notes)


def test_a_tuple_of_one_optimizer_and_something_else_keeps_the_plain_message(tmp_path):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH
                 + "def configure_optimizer(params):\n    return torch.optim.SGD(params, lr=0.1), 3\n")
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, "configure_optimizer() returned a tuple of 2 items, not a torch.optim.Optimizer")


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
        Workload(model=42, make_batch=lambda b: (torch.randn(b, 2), None), name="api")  # refused as it is made
    assert_message(err, "workload 'api': model= must be an nn.Module, or a function with no arguments that returns "
                        "one, not an int (42).")


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


SPARSE_MODEL = """\
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.EmbeddingBag(100, 16, sparse=True)
        self.out = nn.Linear(16, 10)

    def forward(self, x):
        return self.out(self.emb(x))

def build_model():
    return Net()

def make_batch(batch_size):
    return torch.randint(0, 100, (batch_size, 5)), torch.randint(0, 10, (batch_size,))
"""


def test_sparse_gradients_with_the_default_optimizer_say_it_is_the_default(tmp_path):
    """The fix pointed at a configure_optimizer the file does not have."""
    path = write(tmp_path, SPARSE_MODEL)
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    message = assert_message(err, str(path), "the optimizer step (advisor's default AdamW: the workload defines no "
                             "configure_optimizer) failed", "does not support sparse gradients",
                             "Fix: the default AdamW does not take sparse gradients",
                             "define configure_optimizer(params) returning one that does", "or drop sparse=True")
    assert "must return an optimizer over the `params` it is given" not in message


def test_sparse_gradients_with_the_files_optimizer_name_it(tmp_path):
    path = write(tmp_path, SPARSE_MODEL + "def configure_optimizer(params):\n"
                                          "    return torch.optim.Adam(params, lr=1e-3)\n")
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, str(path), "the optimizer step (Adam, from configure_optimizer) failed",
                   "does not support sparse gradients", "that takes sparse gradients (SGD), or a tuple of two: "
                   "torch.optim.SparseAdam over the sparse embeddings' parameters and torch.optim.Adam over the rest",
                   "or drop sparse=True")


def test_a_failing_default_optimizer_step_says_the_default_was_used(tmp_path, monkeypatch):
    def broken_step(self, closure=None):
        raise RuntimeError("broken step")

    monkeypatch.setattr(torch.optim.AdamW, "step", broken_step)
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH)
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, "advisor's default AdamW", "RuntimeError: broken step",
                   "Fix: define configure_optimizer(params) returning an optimizer that suits the model (the "
                   "default is AdamW(params, lr=1e-3)).")


_OWN_LOSS_MODEL = """\
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        logits = self.fc(x)
        return {RETURNED}

def build_model():
    return Net()

def make_batch(batch_size):
    return torch.randn(batch_size, 4), None
"""


def test_an_hf_style_loss_logits_tuple_is_told_the_forms_that_work(tmp_path):
    path = write(tmp_path, _OWN_LOSS_MODEL.replace("{RETURNED}", "logits.sum(), logits"))
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, "the model returned a tuple of 2 items", "a .loss attribute", 'a dict with a "loss" entry',
                   "(loss, logits): pass return_dict=True, or define `loss_fn(output, target)` returning output[0]")


def test_a_non_scalar_loss_entry_of_a_dict_is_named_as_the_entry(tmp_path):
    path = write(tmp_path, _OWN_LOSS_MODEL.replace("{RETURNED}", '{"loss": logits.sum(1), "logits": logits}'))
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, 'the model returned a dict whose "loss" entry is a tensor of shape (2,)')
    assert "(loss, logits)" not in str(err.value)


def test_a_loss_fn_returning_loss_and_metrics_is_told_to_return_the_loss_alone(tmp_path):
    loss = "def loss_fn(output, target):\n    return F.cross_entropy(output, target), {'acc': 0.5}\n"
    path = write(tmp_path, "import torch.nn.functional as F\n" + GOOD_MODEL + GOOD_BATCH + loss)
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, "loss_fn returned a tuple of 2 items ((Tensor[] float32, {acc: 0.5})), not the loss tensor",
                   "return only the scalar loss tensor from loss_fn (log metrics such as accuracy elsewhere)")
    assert ".item()" not in str(err.value)


def test_a_build_model_with_a_required_parameter_is_told_to_give_it_a_default(tmp_path):
    path = write(tmp_path, "def build_model(hidden):\n    return nn.Linear(64, hidden)\n" + GOOD_BATCH)
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, "build_model() raised TypeError")
    assert err.value.hint == ("Fix: advisor calls build_model() with no arguments: give 'hidden' a default (e.g. "
                              "`def build_model(hidden=...)`), or set the values inside build_model.")


def test_the_run_it_alone_command_quotes_the_path_without_shell_escapes(tmp_path):
    path = write(tmp_path, "def build_model():\n    raise ValueError('broken')\n" + GOOD_BATCH)
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert f"""runpy.run_path("{path}")["build_model"]()""" in err.value.hint
    assert "'\"'\"'" not in err.value.hint


def test_a_configure_optimizer_taking_the_model_is_told_params_is_already_its_parameters(tmp_path):
    opt = "def configure_optimizer(model):\n    return torch.optim.SGD(model.parameters(), lr=0.1)\n"
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + opt)
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, "configure_optimizer() raised AttributeError", "which is already model.parameters()",
                   "not the model: pass it as it is")
