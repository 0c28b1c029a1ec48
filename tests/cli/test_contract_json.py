"""The ``--json`` contract a pipeline reads: an infeasible answer describes the job that was ranked, an answer
that cannot be written says what was saved, flags that do not apply are refused, and read-only commands create
nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
JOB = ["--profile", str(PROFILE), "--dataset-size", "20000", "--epochs", "2"]
STEPS = ["--compile", "--grad-accum-steps", "4", "--eval-every", "10", "--eval-steps", "5"]


def _run(*args: str, code: int = 0, env: dict | None = None):
    result = CliRunner().invoke(build_app(), list(args), env=env)
    assert result.exit_code == code, result.output
    return result


def test_an_infeasible_recommendation_carries_the_jobs_steps_so_diff_sees_no_change(tmp_path):
    # It gave the schema's defaults (compiled false, grad_accum_steps 1, eval_every null, eval_steps 0), and
    # `advisor diff` against the feasible run said "how the job steps changed: compile True -> False; ...".
    ok = json.loads(_run("recommend", *JOB, *STEPS, "--json", "--no-save").stdout)
    miss = json.loads(_run("recommend", *JOB, *STEPS, "--budget", "0.00001", "--json", "--no-save", code=3).stdout)
    assert miss["status"] == "infeasible"
    for doc in (ok, miss):
        assert (doc["compiled"], doc["grad_accum_steps"], doc["eval_every"], doc["eval_steps"]) == (True, 4, 10, 5)
    assert "CPU instances run the job as probed" in miss["verdict"]["assumptions"]
    (tmp_path / "ok.json").write_text(json.dumps(ok))
    (tmp_path / "miss.json").write_text(json.dumps(miss))
    diff = _run("diff", str(tmp_path / "ok.json"), str(tmp_path / "miss.json"), "--json")
    assert "how the job steps changed" not in diff.stdout


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(("args", "saved"), [
    (["recommend", *JOB, "--json"], "The recommendation {id} was saved in history"),
    (["predict", *JOB, "--gpu", "H100", "--json"], "The prediction p{id} was saved in history"),
    (["predict", *JOB, "--gpu", "H100"], "The prediction p{id} was saved in history"),
])
def test_an_answer_that_cannot_be_written_after_it_was_saved_gives_its_id(args, saved, tmp_path):
    # It said "run the command again", which saved a second row, and never named the one already stored.
    url = f"sqlite:///{tmp_path / 'h.db'}"
    code = "import sys; from advisor.cli.app import main; sys.argv = ['advisor', *sys.argv[1:]]; main()"
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-c", code, *args], stdout=full, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "ADVISOR_DATABASE_URL": url})
    assert result.returncode == 1, result.stderr
    listed = json.loads(_run("history", "list", "--json", env={"ADVISOR_DATABASE_URL": url}).stdout)
    ids = [e["id"] for e in listed["entries"] + listed["predictions"]]
    assert len(ids) == 1
    ref = saved.format(id=ids[0]).split()[2]
    assert result.stderr.startswith("error: could not write the answer to standard output (No space left on "
                                    f"device). {saved.format(id=ids[0])}, so the command need not run again.\n")
    assert f"print it with `advisor history show {ref}`" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_an_outcome_recorded_before_its_answer_could_be_written_says_so(json_flag, tmp_path):
    # It said "then run the command again": the outcome was stored already, and a CI step retried on it failed
    # ("already has this outcome", exit 1), or with --force recorded the run twice.
    url = f"sqlite:///{tmp_path / 'h.db'}"
    env = {"ADVISOR_DATABASE_URL": url}
    rec_id = json.loads(_run("recommend", *JOB, "--json", env=env).stdout)["id"]
    code = "import sys; from advisor.cli.app import main; sys.argv = ['advisor', *sys.argv[1:]]; main()"
    args = ["history", "record", str(rec_id), "--actual-seconds", "30s", *json_flag]
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-c", code, *args], stdout=full, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, **env})
    assert result.returncode == 1, result.stderr
    outcomes = json.loads(_run("history", "show", str(rec_id), "--json", env=env).stdout)["outcomes"]
    assert len(outcomes) == 1
    assert result.stderr == (
        "error: could not write the answer to standard output (No space left on device). The outcome "
        f"{outcomes[0]['id']} of recommendation {rec_id} was recorded in history, so the command need not run "
        "again.\nFix: free some space where the output goes (or send it elsewhere); `advisor history show "
        f"{rec_id}` lists it (add --json for the JSON): running the command again would record the run twice "
        "(refused as a repeat without --force).\n")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(("flags", "gone"), [([], "The 2 outcomes of recommendation {rec} were"),
                                             (["--outcome", "{first}", "--json"], "The outcome {first} of "
                                                                                  "recommendation {rec} was")])
def test_outcomes_forgotten_before_the_answer_could_be_written_says_so(flags, gone, tmp_path):
    # It said "then run the command again": the outcomes were deleted already, and the rerun was refused ("There
    # are no outcomes for recommendation 1 to forget", exit 1).
    env = {"ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}
    rec = json.loads(_run("recommend", *JOB, "--json", env=env).stdout)["id"]
    first = json.loads(_run("history", "record", str(rec), "--actual-seconds", "3s", "--json", env=env).stdout)["id"]
    _run("history", "record", str(rec), "--actual-seconds", "4s", "--json", env=env)
    code = "import sys; from advisor.cli.app import main; sys.argv = ['advisor', *sys.argv[1:]]; main()"
    args = ["history", "forget", str(rec), *[f.format(first=first) for f in flags]]
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-c", code, *args], stdout=full, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, **env})
    assert result.returncode == 1, result.stderr
    left = json.loads(_run("history", "show", str(rec), "--json", env=env).stdout)["outcomes"]
    assert len(left) == (1 if flags else 0)
    assert result.stderr == (
        "error: could not write the answer to standard output (No space left on device). "
        f"{gone.format(rec=rec, first=first)} deleted from history, so the command need not run again.\n"
        "Fix: free some space where the output goes (or send it elsewhere); `advisor history show "
        f"{rec}` lists the outcomes left (add --json for the JSON): running the command again would find nothing "
        "left to forget.\n")


def test_predict_json_carries_a_rented_gpus_start_up_and_the_total_with_it():
    # --startup-gpu changed only the text's "with start-up" row; the JSON was the same with 1h as with 0.
    data = json.loads(_run("predict", *JOB, "--gpu", "H100", "--startup-gpu", "1h", "--json", "--no-save").stdout)
    assert data["instance_startup_seconds"] == 3600.0
    assert data["total_seconds"] == pytest.approx(3600.0 + data["seconds"])
    assert data["startup_seconds"] < data["seconds"]  # the job's own start, inside seconds
    cpu = json.loads(_run("predict", *JOB, "--device", "cpu", "--json", "--no-save").stdout)
    assert "instance_startup_seconds" not in cpu and "total_seconds" not in cpu


@pytest.mark.parametrize(("where", "named"), [(["--device", "cpu"], "(not --device cpu,"), ([], "(not a CPU,")])
def test_startup_gpu_where_no_gpu_instance_is_predicted_is_refused(where, named):
    # It was accepted and ignored (exit 0, no note), as no other flag that does not apply is.
    result = _run("predict", *JOB, *where, "--startup-gpu", "1h", "--json", "--no-save", code=1)
    assert "--startup-gpu is the paid start-up of a GPU instance you would rent: it needs --gpu NAME" in result.output
    assert named in result.output and "Fix: drop --startup-gpu" in result.output
    assert json.loads(result.stdout)["error"]["type"] == "ConfigError"


def test_history_show_of_a_number_both_kinds_have_says_which_it_shows(tmp_path):
    # `history show 1` printed recommendation 1 without a word of prediction p1; `history show 2` said only
    # "No recommendation 2", though p2 (the id predict --json printed) was there.
    env = {"ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}
    _run("recommend", *JOB, "--json", env=env)
    ids = [json.loads(_run("predict", *JOB, "--json", env=env).stdout)["history_id"] for _ in range(2)]
    assert ids == [1, 2]
    listed = json.loads(_run("history", "list", "--json", env=env).stdout)
    assert [p["ref"] for p in listed["predictions"]] == ["p2", "p1"]
    both = _run("history", "show", "1", "--json", env=env)
    assert json.loads(both.stdout)["recommendation"]["id"] == 1
    assert "note: showing recommendation 1; the saved prediction with the same number is `advisor history show " \
           "p1`." in both.stderr
    only = _run("history", "show", "2", "--json", env=env, code=1)
    assert "No recommendation 2 in history; there is a saved prediction p2." in only.stderr
    assert "Fix: `advisor history show p2` shows the prediction" in only.stderr
    assert json.loads(only.stdout)["error"]["type"] == "HistoryError"


@pytest.mark.parametrize("args", [("list", "--json"), ("show", "1"), ("show", "p1", "--json"), ("compare",),
                                  ("export", "--format", "json"), ("calibration",)])
def test_a_read_only_history_command_on_a_missing_sqlite_file_is_refused_and_creates_nothing(args, tmp_path):
    # A mistyped path made its folders and an empty history, and `history list --json` answered [] with exit 0.
    url = f"sqlite:///{tmp_path / 'typo' / 'dir' / 'h.db'}"
    result = _run("history", *args, env={"ADVISOR_DATABASE_URL": url}, code=1)
    assert not (tmp_path / "typo").exists()
    assert (json.loads(result.stdout)["error"]["type"] if "--json" in args else result.stdout) == \
        ("HistoryError" if "--json" in args else "")
    assert f"No history at {url}: the file does not exist, so nothing was ever stored there." in result.stderr
    assert "Fix: check the path in ADVISOR_DATABASE_URL" in result.stderr


@pytest.mark.parametrize("args", [("record", "1", "--actual-seconds", "5m"), ("record", "1", "--actual-seconds",
                                                                              "5m", "--json"),
                                  ("forget", "1"), ("forget", "1", "--json")])
def test_recording_or_forgetting_in_a_missing_sqlite_file_names_the_variable_as_list_does(args, tmp_path):
    # The fix was the Python API's "leave the URL out (and ADVISOR_DATABASE_URL unset)", where no URL was given
    # but the variable, as `history list` says it.
    url = f"sqlite:///{tmp_path / 'typo' / 'h.db'}"
    result = _run("history", *args, env={"ADVISOR_DATABASE_URL": url}, code=1)
    assert not (tmp_path / "typo").exists()
    assert result.stderr == (f"error: No history at {url}: the file does not exist, so nothing was ever stored "
                             "there.\nFix: check the path in ADVISOR_DATABASE_URL (sqlite:////abs/path/history.db "
                             "has four slashes), or unset it for the default history.\n")


def test_an_infeasible_recommendation_is_not_stored_and_its_id_is_null(tmp_path):
    # README said only "null with --no-save"; an infeasible answer (exit 3) is not stored either.
    env = {"ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}
    _run("recommend", *JOB, "--json", env=env)  # one stored, so that the history exists
    miss = json.loads(_run("recommend", *JOB, "--budget", "0.00001", "--json", env=env, code=3).stdout)
    assert miss["status"] == "infeasible" and miss["id"] is None
    assert len(json.loads(_run("history", "list", "--json", env=env).stdout)["entries"]) == 1
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "`id` (history id, null with `--no-save`, and for an infeasible\nanswer, exit 3, which is not stored" \
        in readme


def test_the_readme_says_a_profiles_probe_seconds_is_elapsed_and_the_flag_is_its_budget():
    # The same name is the budget on input (--probe-seconds) and the wall time spent in a profile's devices.
    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8").split())
    assert "`probe_seconds` (the wall time the device's probe took: an output, which may pass the budget) and " \
           "`budget_seconds` (the budget it was given: the `--probe-seconds` flag" in readme


@pytest.mark.parametrize("args", [("hardware", "--json"), ("pricing", "list", "--json", "--provider", "lambda"),
                                  ("db", "upgrade", "--json")])
def test_the_readme_names_every_top_level_field_of_these_json_documents(args, tmp_path):
    # hardware, pricing list and db upgrade printed JSON whose shape the README never gave.
    env = {"ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index(f"`{' '.join(a for a in args if a != '--provider' and a != 'lambda')}`:")
    said = readme[start:readme.index(";", start)]
    for key in json.loads(_run(*args, env=env).stdout):
        assert f"`{key}`" in said, key


@pytest.mark.parametrize("args", [("history", "export", "--format", "json", "-o", "-"),
                                  ("profile", "examples/tabular_mlp.py", "-o", "-", "--json")])
def test_dash_as_an_output_path_is_refused_not_a_file_named_dash(args, tmp_path, monkeypatch):
    # `-o -` wrote a file literally named "-" in the current folder.
    monkeypatch.chdir(tmp_path)
    args = tuple(str(Path(__file__).resolve().parents[2] / a) if a.endswith(".py") else a for a in args)
    flag = "--output" if args[0] == "history" else "-o"
    result = _run(*args, env={"ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}, code=1)
    assert f"{flag} - would write a file named '-' in this folder" in result.output
    assert not (tmp_path / "-").exists()


def test_an_empty_providers_list_is_refused_not_read_as_every_provider():
    result = _run("recommend", *JOB, "--providers", "", "--no-save", code=1)
    assert "--providers '' names nothing." in result.output


@pytest.mark.parametrize("name", ["ADVISOR_API_CACHE_ENTRIES", "ADVISOR_API_RATE_LIMIT"])
def test_a_services_count_setting_is_a_whole_number(name):
    from advisor.errors import ConfigError
    from advisor.service.config import ServiceConfig

    with pytest.raises(ConfigError, match=rf"{name}='2.5' is not a whole number from 0 to"):
        ServiceConfig.from_env({name: "2.5"})
    assert ServiceConfig.from_env({name: "3"}) is not None


@pytest.mark.parametrize(("args", "kind"), [
    (("predict", *JOB, "--gpu", "H900", "--json"), "HardwareError"),
    (("recommend", *JOB, "--providers", "nope", "--format", "json", "--no-save"), "CatalogError"),
    (("history", "show", "999", "--json"), "HistoryError"),
    (("recommend", "--profile", "/nonexistent/p.json", "--json"), "ProbeError"),
])
def test_an_error_under_json_is_a_json_error_object_on_stdout_with_the_same_exit_code(args, kind, tmp_path):
    # stdout was empty: a pipeline got "JSONDecodeError: Expecting value" and had to parse English on stderr.
    result = _run(*args, env={"ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}, code=1)
    error = json.loads(result.stdout)["error"]
    assert error["type"] == kind and error["message"] in result.stderr and error["hint"].startswith("Fix: ")
    assert json.loads(result.stdout)["schema_version"] == 1


def test_an_error_without_json_or_in_exported_data_leaves_stdout_empty(tmp_path):
    env = {"ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}
    assert _run("predict", *JOB, "--gpu", "H900", env=env, code=1).stdout == ""
    assert _run("history", "export", "--format", "json", "--since", "x", env=env, code=1).stdout == ""


@pytest.mark.parametrize(("command", "args", "shown", "ref"), [
    ("recommend", [], "advisor.cli.recommend._show", "{id}"),
    ("predict", ["--gpu", "H100"], "advisor.cli.predict._print_one", "p{id}"),
])
def test_ctrl_c_while_a_saved_answer_prints_gives_its_id(command, args, shown, ref, tmp_path, monkeypatch):
    # It said "Interrupted." alone: the answer was stored, but the user never learned under which id.
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(shown, interrupted)
    env = {"ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}
    result = _run(command, *JOB, *args, code=130, env=env)
    listed = json.loads(_run("history", "list", "--json", env=env).stdout)
    ids = [e["id"] for e in listed["entries"] + listed["predictions"]]
    assert len(ids) == 1
    saved = ref.format(id=ids[0])
    kind = "prediction" if saved.startswith("p") else "recommendation"
    assert result.stderr.strip().splitlines()[-1] == (
        f"Interrupted. The {kind} {saved} was saved in history: `advisor history show {saved}` prints it.")
