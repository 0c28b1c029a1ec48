"""Importing scikit-learn, as advisor does to fit, leaves the process's environment as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, os, sys
sys.path.insert(0, {repo!r})
{call}
print(json.dumps({{k: os.environ.get(k) for k in ("KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK")}}))
"""
CALLS = {
    "learned correction": "from advisor.predictor.learned_fit import pipeline; pipeline()",
    "cross-validation": ("import sys; sys.path.insert(0, {tests!r}); from test_learned import synthetic; "
                         "from advisor.predictor.learned import evaluate; evaluate(synthetic(20, lambda r: 1.5))"),
    "step-time line": ("import numpy as np; from advisor.predictor.fit import _huber_line; "
                       "_huber_line(np.array([8., 16., 32.]), np.array([1., 2., 4.]), np.array([1., 1., 1.]), "
                       "np.array([1., 1., 1.]))"),
    "service warm-up": "from advisor.service.backend import _WARM_MODULES\n"
                       "from advisor.sklearn_env import quiet_environ\nimport importlib\n"
                       "with quiet_environ():\n    [importlib.import_module(m) for m in _WARM_MODULES]",
}


def _environ_after(call: str, extra: dict[str, str] | None = None) -> dict[str, str | None]:
    env = {k: v for k, v in os.environ.items() if k not in ("KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK")}
    env.update(extra or {})
    code = SCRIPT.format(repo=str(REPO), call=call.format(tests=str(REPO / "tests" / "predictor")))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("what", sorted(CALLS))
def test_a_fit_leaves_no_openmp_variables_behind(what):
    """scikit-learn's import set KMP_DUPLICATE_LIB_OK=True and KMP_INIT_AT_FORK=FALSE for the rest of the process:
    a service's probe children and the API user's own later subprocesses got them."""
    assert _environ_after(CALLS[what]) == {"KMP_DUPLICATE_LIB_OK": None, "KMP_INIT_AT_FORK": None}


def test_a_value_the_user_set_stays():
    got = _environ_after(CALLS["learned correction"], {"KMP_INIT_AT_FORK": "TRUE"})
    assert got == {"KMP_DUPLICATE_LIB_OK": None, "KMP_INIT_AT_FORK": "TRUE"}


def test_without_the_guard_scikit_learn_does_set_them():
    """The check above can fail: a bare import sets both."""
    got = _environ_after("import sklearn.linear_model")
    assert got == {"KMP_DUPLICATE_LIB_OK": "True", "KMP_INIT_AT_FORK": "FALSE"}
