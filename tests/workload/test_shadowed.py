"""advisor.workload.shadowed: a sibling module named as one the process imported before the workload file
(``secrets.py``, ``advisor.py``) is shadowed; the error names the clash and says to rename it, not pip install."""

from __future__ import annotations

import secrets  # noqa: F401 - imported before the workload file, as advisor's child has it
import sys

import pytest

from advisor.errors import WorkloadError
from advisor.workload import load_workload

BODY = """\
import torch
{imports}


def build_model():
    return torch.nn.Linear(16, 4)


def make_batch(batch_size):
    return torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,))
"""


@pytest.mark.parametrize(("module", "imports", "line"), [
    ("secrets", "from secrets import WANDB_KEY", 2),
    ("secrets", "import secrets\nKEY = secrets.WANDB_KEY", 3),
    ("advisor", "from advisor import Helper", 2),
])
def test_a_shadowed_sibling_is_named_with_the_rename_fix(tmp_path, module, imports, line):
    (tmp_path / f"{module}.py").write_text("WANDB_KEY = 'abc'\n\n\nclass Helper:\n    pass\n")
    path = tmp_path / "train.py"
    path.write_text(BODY.format(imports=imports))
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert err.value.message.startswith(f"{path}:{line}: ")
    assert err.value.hint == (
        f"Fix: `{module}.py` beside the file is not the `{module}` it imports: the process running the file "
        f"(advisor's) had already imported another `{module}` ({sys.modules[module].__file__}), and Python imports "
        f"a module once per process, so yours is shadowed there (not under `python FILE`). Rename yours (e.g. "
        f"`my_{module}.py`) and the imports of it.")


def test_a_missing_name_in_an_installed_module_without_a_sibling_still_says_pip(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(BODY.format(imports="from secrets import WANDB_KEY"))
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert "pip install" in err.value.hint and "Rename" not in err.value.hint
