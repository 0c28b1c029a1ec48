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


@pytest.mark.parametrize("precision", ["half", "fp64"])
def test_the_cli_words_an_unknown_precision_as_the_python_api(precision):
    # The CLI had its own check: --precision half offered no name, and --precision fp64 "did you mean 'fp16'".
    expected = str(_raised(advisor.predict, source=PROFILE, dataset_size=100, epochs=1, precision=precision))
    out = _cli("predict", "--profile", PROFILE, "--dataset-size", "100", "--epochs", "1", "--gpu", "A100-80GB",
               "--precision", precision, "--no-save")
    assert out == f"error: {expected}\n"


@pytest.mark.parametrize("precision", ["fp64", "float64", "torch.float64", "double"])
def test_float64_is_told_to_be_the_models_dtype_not_a_precision(precision):
    message = str(_raised(advisor.predict, source=PROFILE, dataset_size=100, epochs=1, precision=precision))
    assert "Did you mean" not in message
    assert message.startswith(f"Precision {precision!r} is not a setting: a model trains in float64 when the "
                              "workload builds it so (model.double()")


def test_a_workload_files_float64_precision_is_told_the_same(tmp_path):
    source = Path(WORKLOAD).read_text().replace("\nBATCH_SIZE", '\nPRECISION = "fp64"\nBATCH_SIZE', 1)
    assert 'PRECISION = "fp64"' in source
    (tmp_path / "job.py").write_text(source)
    err = _raised(advisor.predict, source=str(tmp_path / "job.py"), dataset_size=100, epochs=1)
    assert "PRECISION = 'fp64': must be one of fp32, tf32, bf16, fp16, mixed; float64 is not a setting" in err.message
    assert err.hint == ("Fix: set PRECISION to one of fp32, tf32, bf16, fp16, mixed in the workload file, or pass "
                        "precision=P.")
