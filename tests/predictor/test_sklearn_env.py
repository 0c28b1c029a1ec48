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
import json, os, random, sys, warnings
import numpy as np
sys.path.insert(0, {repo!r})
random.seed(0)
np.random.seed(0)
before, numpy_before = random.getstate(), np.random.get_state()[1].tolist()
warnings.filterwarnings("ignore", message="a caller's own filter")
filters_before = list(warnings.filters)
{call}
kept = {{"random": random.getstate() == before, "numpy": np.random.get_state()[1].tolist() == numpy_before}}
kept["filters"] = [repr(f) for f in warnings.filters if f not in filters_before] or warnings.filters == filters_before
print(json.dumps({{"kept": kept, **{{k: os.environ.get(k) for k in ("KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK")}}}}))
"""
CALLS = {
    "learned correction": "from advisor.predictor.learned_fit import pipeline; pipeline()",
    "cross-validation": ("import sys; sys.path.insert(0, {tests!r}); from test_learned import synthetic; "
                         "from advisor.predictor.learned import evaluate; evaluate(synthetic(20, lambda r: 1.5))"),
    "step-time line": ("import numpy as np; from advisor.predictor.fit import _huber_line; "
                       "_huber_line(np.array([8., 16., 32.]), np.array([1., 2., 4.]), np.array([1., 1., 1.]), "
                       "np.array([1., 1., 1.]))"),
    "paired test": ("import numpy as np; from advisor.predictor.learned import _p_better; "
                    "_p_better(np.array([3., 2., 5., 4.]), np.array([1., 1., 1., 1.]))"),
    "service warm-up": "from advisor.service.backend import _WARM_MODULES\n"
                       "from advisor.sklearn_env import quiet_environ\nimport importlib\n"
                       "with quiet_environ():\n    [importlib.import_module(m) for m in _WARM_MODULES]",
}


def _after(call: str, extra: dict[str, str] | None = None) -> dict:
    """The two variables after ``call`` in a fresh interpreter, and whether Python's and numpy's shared random
    generators were as seeded (``kept``)."""
    env = {k: v for k, v in os.environ.items() if k not in ("KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK")}
    env.update(extra or {})
    code = SCRIPT.format(repo=str(REPO), call=call.format(tests=str(REPO / "tests" / "predictor")))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _environ_after(call: str, extra: dict[str, str] | None = None) -> dict[str, str | None]:
    return {k: v for k, v in _after(call, extra).items() if k != "kept"}


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


@pytest.mark.parametrize("what", sorted(CALLS))
def test_a_fit_draws_nothing_from_the_callers_random_generators(what):
    """scikit-learn's import loads rich, whose rich.style draws random.getrandbits(24): a caller who had seeded
    ``random`` got another stream after advisor's first fit (the first advisor.recommend, before the step-time
    line stopped importing scikit-learn)."""
    kept = _after(CALLS[what])["kept"]
    assert (kept["random"], kept["numpy"]) == (True, True)


def test_without_the_guard_the_import_does_draw():
    """The check above can fail: a bare import moves the shared generator."""
    kept = _after("import sklearn.linear_model")["kept"]
    assert (kept["random"], kept["numpy"]) == (False, True)
    assert kept["filters"] == [
        "('always', None, <class 'scipy.special._sf_error.SpecialFunctionWarning'>, None, 0)",
        "('ignore', re.compile('the matrix subclass is not the recommended way', re.IGNORECASE), <class 'Warning'>, "
        "None, 0)",
    ]


@pytest.mark.parametrize("what", sorted(CALLS))
def test_a_fit_leaves_the_callers_warning_filters_as_they_were(what):
    """SciPy's import (scikit-learn's, the Huber fit's, the paired test's) added ("always", SpecialFunctionWarning)
    and an "ignore" of NumPy's matrix-subclass warning to the caller's filters after advisor's first fit, though
    the README says a call leaves them as it found them."""
    assert _after(CALLS[what])["kept"]["filters"] is True


def test_the_random_functions_are_the_shared_generators_again_after_overlapping_blocks():
    """Two threads' blocks, the second opened inside the first and closed after it: each function of ``random`` is
    the shared generator's once both have closed, and draws from it."""
    import random

    from advisor.sklearn_env import own_random

    shared = random._inst.getstate()
    first, second = own_random(), own_random()
    first.__enter__()
    second.__enter__()
    random.getrandbits(24)  # what rich.style draws: from the first block's generator
    first.__exit__(None, None, None)
    second.__exit__(None, None, None)
    assert random._inst.getstate() == shared
    assert all(getattr(random, name).__self__ is random._inst for name in ("random", "getrandbits", "seed"))
    random.seed(7)
    assert random.random() == random.Random(7).random()


def test_a_filter_of_the_callers_that_the_block_moves_stays_and_one_removed_meanwhile_stays_removed():
    """``simplefilter`` of a filter already there moves it to the front as a new entry: it is still the caller's
    (at the front, where the block moved it)."""
    import warnings

    from advisor.sklearn_env import kept_warning_filters

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ResourceWarning)
        doomed = warnings.filters[0]
        before = list(warnings.filters)
        with kept_warning_filters():
            warnings.simplefilter("always", SyntaxWarning)  # the import's own
            warnings.simplefilter("error", UserWarning)  # moved to the front: the caller's, kept
            warnings.filters.remove(doomed)  # another thread's removal
        assert sorted(map(repr, warnings.filters)) == sorted(repr(f) for f in before if f is not doomed)
        assert warnings.filters[0] == ("error", None, UserWarning, None, 0)  # where the block moved it
