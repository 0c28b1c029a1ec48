"""An error names an option as the surface it reached names it: the Python API's parameter (``dataset_size=``),
the CLI's flag (``--dataset-size``), from one message written in the CLI's words (advisor.option_words)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import advisor
from advisor.cli.app import build_app
from advisor.option_words import python_words

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


def _cli(*args: str) -> str:
    result = CliRunner().invoke(build_app(), [*args, "--no-save"])
    assert result.exit_code in (1, 3), result.output
    return result.stderr


def _api(call, **kwargs) -> advisor.AdvisorError:
    with pytest.raises(advisor.AdvisorError) as caught:
        call(str(PROFILE), save=False, **kwargs)
    return caught.value


def test_a_bad_job_size_names_the_parameter_in_python_and_the_flag_in_the_cli():
    # It said "(--dataset-size)" and "pass --dataset-size" to a Python caller, who has no such flag.
    err = _api(advisor.predict, dataset_size=-1, epochs=1, target="cpu")
    assert str(err) == ("dataset size must be a positive whole number, got -1 (dataset_size=).\n"
                        "Fix: pass dataset_size= with a whole number of 1 or more.")
    out = _cli("predict", "--profile", str(PROFILE), "--dataset-size", "-1", "--epochs", "1", "--device", "cpu")
    assert "got -1 (--dataset-size).\nFix: pass --dataset-size with a whole number of 1 or more." in out
    assert "dataset_size=" not in out


def test_the_way_out_of_an_infeasible_budget_is_a_value_to_pass():
    err = _api(advisor.recommend, dataset_size=20_000, epochs=1, budget=1e-7)
    assert isinstance(err, advisor.NoFeasibleCandidateError)
    assert re.search(r"\(budget=0\.\d+ would do\)", err.hint) and "--budget" not in str(err)
    assert re.search(r"\(--budget 0\.\d+ would do\)", err.cli_hint)  # as written, for data and other processes
    out = _cli("recommend", "--profile", str(PROFILE), "--dataset-size", "20000", "--epochs", "1", "--budget", "1e-7")
    assert re.search(r"\(--budget 0\.\d+ would do\)", out) and "budget=" not in out


def test_a_bad_setting_and_a_probe_budget_with_a_profile():
    err = _api(advisor.recommend, dataset_size=20_000, epochs=1, grad_accum_steps=0)
    assert str(err) == ("grad_accum_steps= must be a whole number from 1 to 10^12, got 0.\n"
                        "Fix: pass grad_accum_steps=N with a valid value.")
    err = _api(advisor.recommend, dataset_size=20_000, epochs=1, probe_seconds=5)
    assert err.message.startswith("probe_seconds= is the probe's budget") and "Fix: drop probe_seconds=," in err.hint
    assert "`advisor profile WORKLOAD --probe-seconds S -o FILE`" in err.hint  # a command line stays as typed
    out = _cli("recommend", "--profile", str(PROFILE), "--dataset-size", "20000", "--epochs", "1",
               "--grad-accum-steps", "0")
    assert "--grad-accum-steps must be a whole number" in out and "Fix: pass --grad-accum-steps N" in out


@pytest.mark.parametrize(("written", "python"), [
    ("--precision bf16 (or fp32)", 'precision="bf16" (or fp32)'),
    ("--deadline 55m or --budget 3.54", 'deadline="55m" or budget=3.54'),
    ("e.g. --batch-sizes 8,16,32.", "e.g. batch_sizes=[8, 16, 32]."),
    ("--providers aws,gcp", 'providers="aws,gcp"'),
    ("without --no-save, or add --force", "without save=False, or add force=True"),
    ("widen --providers/--region", "widen providers=/regions="),
    ("--batch-size N", "batch_size=N"),
    ("--startup-cpu / --startup-gpu", "startup_seconds_cpu= / startup_seconds_gpu="),
    # A value as repr quotes it, and a date, are the value passed; a hint naming both spellings says it once.
    ("Cannot read --since 'garbage': it is", "Cannot read since='garbage': it is"),
    ("or --since 2026-11-01.", 'or since="2026-11-01".'),
    ("Fix: e.g. limit=50 (--limit 50); page with offset=10,000 (--offset) or", "Fix: e.g. limit=50; page with "
     "offset=10,000 or"),
    # Flags with no one parameter, and command lines quoted whole, stay as written.
    ("use --device cpu or --gpu H100", "use --device cpu or --gpu H100"),
    ("use advisor predict --device cpu --threads 8, which", "use advisor predict --device cpu --threads 8, which"),
    ("run `advisor history show 7 --json`", "run `advisor history show 7 --json`"),
])
def test_python_words(written, python):
    assert python_words(written) == python


PREDICT = frozenset({"source", "target", "device", "vcpus", "batch_size", "save"})


@pytest.mark.parametrize(("written", "python"), [
    # A function that takes target= but not threads= / gpu=: the target that means the same.
    ("Fix: add --gpu NAME, or give a CPU's size with --threads.",
     "Fix: add target=\"NAME\", or give a CPU's size with target=advisor.Target.cpu(N)."),
    ("Fix: e.g. --threads 8.", "Fix: e.g. target=advisor.Target.cpu(8)."),
    ("e.g. --gpu A100-80GB.", 'e.g. target="A100-80GB".'),
    ("pass --gpus 1 or more.", "pass target=advisor.Target.gpu(NAME, 1) or more."),
    ("use --device cpu or --device cuda:N (a GPU here)", 'use device="cpu" or device="cuda:N" (a GPU here)'),
    # A flag the function has no parameter for stays a flag; a command line stays as typed.
    ("without --no-save, or add --force", "without save=False, or add --force"),
    ("re-run `advisor profile --device cpu` with --batch-sizes 8,16", "re-run `advisor profile --device cpu` "
     "with --batch-sizes 8,16"),
])
def test_python_words_of_one_function(written, python):
    assert python_words(written, PREDICT) == python


def test_python_words_name_the_devices_parameter_of_profile_and_the_threads_of_resolve_target():
    assert python_words("use --device cuda:0 and --threads 4", {"devices", "threads"}) == (
        'use devices="cuda:0" and threads=4')
    assert python_words("--gpu H100 --gpus 8", {"target", "gpu", "gpus"}) == 'gpu="H100" gpus=8'


def test_a_hint_names_only_what_the_function_called_takes():
    """predict's hint said "give a CPU's size with threads=", a parameter predict does not take (TypeError); the
    way to a CPU's size there is its target."""
    err = _api(advisor.predict, dataset_size=100, epochs=1, batch_size=256, target="cpu", vcpus=4)
    assert str(err) == ("vcpus= applies to GPU targets (the host that feeds the GPUs).\n"
                        "Fix: add target=\"NAME\", or give a CPU's size with target=advisor.Target.cpu(N).")
    assert advisor.predict(str(PROFILE), dataset_size=100, epochs=1, batch_size=256, save=False,
                           target=advisor.Target.cpu(4)).seconds > 0  # the fix, followed, works
    out = _cli("predict", "--profile", str(PROFILE), "--dataset-size", "100", "--epochs", "1", "--device", "cpu",
               "--vcpus", "4")
    assert "Fix: add --gpu NAME, or give a CPU's size with --threads." in out


def test_an_error_from_a_function_the_api_calls_is_in_the_words_of_the_one_the_caller_called():
    """predict calls api.resolve_target, which rewords too: its words (no device=) were the ones a predict caller
    got."""
    err = _api(advisor.predict, dataset_size=100, epochs=1, device="tpu")
    assert err.hint == 'Fix: use device="cpu" or device="cuda:N" (a GPU here), or target="NAME" for any GPU.'
    with pytest.raises(advisor.AdvisorError) as caught:
        advisor.api.resolve_target(threads=0)
    assert str(caught.value) == "threads= must be 1 or more, got 0.\nFix: e.g. threads=8."


def test_the_clis_words_hold_in_its_own_thread_only():
    """The CLI's switch was a process-wide counter: while one thread ran a command, a Python caller on another thread
    (a server's worker, the user's own) got the CLI's flags. It is a context variable now, each thread its own."""
    import threading

    from advisor.option_words import flag_words

    caught: dict[str, BaseException] = {}

    def python_caller() -> None:
        try:
            advisor.predict(str(PROFILE), dataset_size=-1, epochs=1, target="cpu", save=False)
        except advisor.AdvisorError as exc:
            caught["err"] = exc

    with flag_words():
        worker = threading.Thread(target=python_caller)
        worker.start()
        worker.join()
        cli_err = _api(advisor.predict, dataset_size=-1, epochs=1, target="cpu")  # the CLI's own thread
    assert "(dataset_size=)" in str(caught["err"]) and "--dataset-size" not in str(caught["err"])
    assert "(--dataset-size)" in str(cli_err)


def test_a_profile_that_cannot_be_saved_names_no_cli_flag_to_a_python_caller(tmp_path):
    """api.save_profile's hint said "pass -o with a path" to a Python caller, whose parameter is path=."""
    from advisor.errors import ProbeError

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ProbeError) as info:  # a folder under a file cannot be made
        advisor.api.save_profile(advisor.api.load_profile(PROFILE), blocker / "p.json")
    assert "-o" not in info.value.hint and "a path in a folder you can write to" in info.value.hint


def test_a_bad_compile_value_names_the_keyword_not_a_switch_value():
    """It said "compile=True must be True or False", the switch's value as the subject of "must be"."""
    err = _api(advisor.predict, dataset_size=2000, epochs=1, batch_size=32, compile="yes")
    assert isinstance(err, advisor.ConfigError)
    assert str(err) == "compile= must be True or False, got 'yes'.\nFix: pass compile=True / compile=False."


def test_an_unknown_export_format_names_fmt_to_a_python_caller(tmp_path):
    """History.export and Client.export told a Python caller "--format csv or --format json"; its parameter is fmt."""
    import httpx

    from advisor.service.client import Client

    def unsent(request):
        raise AssertionError(f"sent {request.url}")

    with advisor.History(f"sqlite:///{tmp_path / 'h.db'}") as history, pytest.raises(advisor.ConfigError) as local:
        history.export("xml")
    with Client("http://127.0.0.1", "t" * 20, transport=httpx.MockTransport(unsent)) as client, \
            pytest.raises(advisor.ConfigError) as remote:
        client.export("xml")
    for err in (local.value, remote.value):
        assert str(err) == 'Unknown export format \'xml\'.\nFix: fmt="csv" or fmt="json".'
    out = _cli_export(tmp_path)
    assert "Fix: --format csv or --format json." in out and "fmt=" not in out


def _cli_export(tmp_path) -> str:
    result = CliRunner().invoke(build_app(), ["history", "export", "--format", "xml"],
                                env={"ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"})
    assert result.exit_code == 1, result.output
    return result.stderr
