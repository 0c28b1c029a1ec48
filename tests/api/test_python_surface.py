"""Every public entry point of the Python API (each name ``advisor`` exports, and ``advisor.api``'s functions)
words its errors in the API's words: no flag that has a parameter (``advisor.option_words``) reaches a Python
caller. ``load_workload``, ``Workload``'s, ``Target.cpu`` / ``gpu``, ``api.resolve_target`` / ``resolve_devices``
and ``Client``'s constructor were outside the boundary and named ``--dataset-size``, ``--threads``, ``--server``."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import advisor
import advisor.api as api
from advisor.option_words import FLAG_PARAMETERS, FLAG_SWITCHES, python_surface, python_words

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
_SURFACE_CODE = python_surface(lambda: None).__code__
# Public members that take no user input and raise no user error.
_NO_INPUT = {"close", "label", "json_contract", "job_constants", "engine", "__enter__", "__exit__", "__repr__",
             "__del__"}


def _on_surface(func: object) -> bool:
    func = getattr(func, "__func__", func)  # a classmethod's function
    return getattr(func, "__code__", None) is _SURFACE_CODE


def _workload_file(tmp_path: Path, body: str) -> str:
    path = tmp_path / "wl.py"
    path.write_text("def build_model():\n    return None\n\ndef make_batch(batch_size):\n    return None, None\n"
                    + body)
    return str(path)


def _in_memory() -> advisor.Workload:
    return advisor.Workload(model=lambda: None, make_batch=lambda batch_size: (None, None))


# (entry point, the call with a bad input, a parameter word its message must name where the CLI's names a flag)
CALLS = [
    ("profile", lambda tmp: advisor.profile(_workload_file(tmp, ""), batch_size=-1), "batch_size="),
    ("predict", lambda tmp: advisor.predict(str(PROFILE), dataset_size=-1, epochs=1, target="cpu", save=False),
     "dataset_size="),
    ("recommend", lambda tmp: advisor.recommend(str(PROFILE), dataset_size=20_000, epochs=1, grad_accum_steps=0,
                                                save=False), "grad_accum_steps="),
    ("load_workload", lambda tmp: advisor.load_workload(tmp / "absent.py"), None),
    ("Workload", lambda tmp: advisor.Workload(model=lambda: None, make_batch=None), None),
    ("Workload.job", lambda tmp: _in_memory().job(dataset_size=-1, epochs=1, batch_size=8), "dataset_size="),
    ("Workload.job (no size)", lambda tmp: _in_memory().job(epochs=1, batch_size=8), "dataset_size="),
    ("Workload.job (a file's)", lambda tmp: advisor.load_workload(_workload_file(tmp, "DATASET_SIZE = -3\n"))
     .job(epochs=1, batch_size=8), "dataset_size="),
    ("Workload.default_count", lambda tmp: advisor.Workload(model=lambda: None, make_batch=lambda b: None,
                                                            epochs=0).default_count("epochs"), None),
    ("Target.cpu", lambda tmp: advisor.Target.cpu(0), None),
    ("Target.gpu", lambda tmp: advisor.Target.gpu("A100-80GB", 0), None),
    ("api.resolve_target", lambda tmp: api.resolve_target("cpu", threads=0), "threads="),
    ("api.resolve_devices", lambda tmp: api.resolve_devices("bogus"), None),
    ("api.load_profile", lambda tmp: api.load_profile(tmp / "absent.json"), None),
    ("api.save_profile", lambda tmp: api.save_profile(api.load_profile(PROFILE), tmp), None),
    ("api.job_profile", lambda tmp: api.job_profile(str(PROFILE), target="cpu", grad_accum_steps=0),
     "grad_accum_steps="),
    ("api.record_outcome", lambda tmp: api.record_outcome(1, -5), "actual_seconds="),
    ("History", lambda tmp: advisor.History(12), None),
    ("History.list", lambda tmp: advisor.History().list(since="garbage"), "since="),
    ("track", lambda tmp: advisor.track("seven"), None),
    ("Client", lambda tmp: advisor.Client("ftp://example.com"), "url="),
    ("Client.list", lambda tmp: advisor.Client("http://127.0.0.1:9").list(limit=0), None),
]


@pytest.mark.parametrize(("name", "call", "word"), CALLS, ids=[c[0] for c in CALLS])
def test_no_public_entry_point_names_a_flag_to_a_python_caller(tmp_path, name, call, word):
    with pytest.raises(advisor.AdvisorError) as caught:
        call(tmp_path)
    err = caught.value
    # Nothing left that the API's words would change: every flag with a parameter is that parameter.
    assert python_words(str(err)) == str(err), f"{name}: {err}"
    assert not any(flag in str(err) for flag in (*FLAG_PARAMETERS, *FLAG_SWITCHES)), f"{name}: {err}"
    if word is not None:
        assert word in str(err), f"{name}: {err}"
        assert word not in f"{err.cli_message}\n{err.cli_hint}"  # as written, a flag: kept for the CLI and data


def _public_members(cls: type) -> list[tuple[str, object]]:
    return [(n, v) for n, v in vars(cls).items()
            if (not n.startswith("_") or n == "__init__") and n not in _NO_INPUT
            and (inspect.isfunction(v) or isinstance(v, classmethod))]


def test_every_public_entry_point_is_on_the_boundary():
    """A new function of ``advisor.api`` or a new public method of an exported class is outside the boundary
    until ``python_surface`` wraps it: this names it."""
    outside = [f"api.{n}" for n, v in vars(api).items()
               if inspect.isfunction(v) and v.__module__ == "advisor.api" and not n.startswith("_")
               and not _on_surface(v)]
    for name in sorted(advisor._LAZY):
        obj = getattr(advisor, name)
        if inspect.isfunction(obj) and not _on_surface(obj):
            outside.append(name)
        elif inspect.isclass(obj) and name in ("Workload", "Target", "History", "Client", "track"):
            outside += [f"{name}.{n}" for n, v in _public_members(obj) if not _on_surface(v)]
    assert outside == []


def test_the_cli_keeps_the_flags_of_the_entry_points_it_calls(tmp_path):
    from advisor.option_words import flag_words

    with flag_words(), pytest.raises(advisor.AdvisorError) as caught:
        api.resolve_target("cpu", threads=0)
    assert str(caught.value) == "--threads must be 1 or more, got 0.\nFix: e.g. --threads 8."
    with flag_words(), pytest.raises(advisor.AdvisorError) as caught:
        advisor.Client("ftp://example.com")
    assert str(caught.value) == ("The server's URL 'ftp://example.com' is not an http:// or https:// URL (--server)."
                                 "\nFix: e.g. --server http://127.0.0.1:8000.")
