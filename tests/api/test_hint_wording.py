"""Hints a Python caller can follow as written (an audit: ``deadline=0``'s fix was "e.g. 6h", which is no Python
value; a saved profile's probe budget was refused in both vocabularies at once; ``profile`` and ``predict`` worded
an unknown precision two ways, only one with a name to use)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import advisor
from advisor.cli.app import build_app

PROFILE = str(Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json")
WORKLOAD = str(Path(__file__).resolve().parents[2] / "examples" / "tabular_mlp.py")


def _raised(call, **kwargs) -> advisor.AdvisorError:
    with pytest.raises(advisor.AdvisorError) as caught:
        call(**kwargs)
    return caught.value


def _cli(*args: str) -> str:
    result = CliRunner().invoke(build_app(), list(args))
    assert result.exit_code == 1, result.output
    return result.stderr


def _recommend(**kwargs):
    return advisor.recommend(PROFILE, dataset_size=20_000, epochs=1, save=False, **kwargs)


def test_a_deadline_fix_is_a_python_value():
    assert str(_raised(_recommend, deadline=0)) == 'The deadline must be positive, got 0.\nFix: e.g. deadline="6h".'
    assert str(_raised(_recommend, deadline="soon")) == (
        "Cannot read the deadline 'soon'.\n"
        'Fix: e.g. deadline="6h" (or 90m, 1h30m, 1h30, 2d, or a number of seconds).')
    assert _recommend(deadline="6h").constraints.deadline_seconds == 6 * 3600  # the fix, followed
    out = _cli("recommend", "--profile", PROFILE, "--dataset-size", "20000", "--epochs", "1", "--deadline", "0",
               "--no-save")
    assert out == "error: The deadline must be positive, got '0'.\nFix: e.g. --deadline 6h.\n"


def test_a_probe_budget_with_a_saved_profile_is_refused_in_one_vocabulary():
    err = _raised(advisor.predict, source=PROFILE, dataset_size=100, epochs=1, probe_seconds=4)
    assert err.message == ("probe_seconds= is the probe's budget, and a saved profile was probed already: it is not "
                           "taken with one.")
    out = _cli("predict", "--profile", PROFILE, "--dataset-size", "100", "--epochs", "1", "--device", "cpu",
               "--probe-seconds", "4", "--no-save")
    assert out.startswith("error: --probe-seconds is the probe's budget, and a saved profile was probed already: "
                          "it is not taken with one.\n")


@pytest.mark.parametrize(("precision", "meant"), [("half", "'fp16'"), ("torch.bfloat16", "'bf16'"),
                                                  ("bf32", "'tf32' or 'fp32' or 'bf16'")])
def test_profile_and_predict_word_an_unknown_precision_alike(precision, meant):
    expected = (f"Unknown precision {precision!r}. Did you mean {meant}?\n"
                "Fix: use one of fp32, tf32, bf16, fp16, or mixed (= bf16).")
    assert str(_raised(advisor.profile, workload=WORKLOAD, precision=precision)) == expected
    assert str(_raised(advisor.predict, source=PROFILE, dataset_size=100, epochs=1, precision=precision)) == expected
