"""The job settings on the command line: ``--precision``, ``--compile/--no-compile``, ``--grad-accum-steps``,
``--eval-every``, ``--eval-steps`` override the workload file's constants; MFU is in ``predict``'s output."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"

WORKLOAD = textwrap.dedent("""
    import os
    import torch
    from torch import nn

    def build_model():
        return nn.Sequential(nn.Linear(256, 1024), nn.ReLU(), nn.Linear(1024, 10))

    def make_batch(batch_size):
        return torch.randn(batch_size, 256), torch.randint(0, 10, (batch_size,))

    PER_GPU = 64
    BATCH_SIZE = PER_GPU * 4
    DATASET_SIZE = 1000 * BATCH_SIZE
    EPOCHS = 1
    PRECISION = "bf16"
    COMPILE = True
    GRAD_ACCUM_STEPS = 5
    EVAL_EVERY = 50
    EVAL_STEPS = int(os.environ.get("EVAL", 20))
""")


@pytest.fixture
def workload(tmp_path) -> Path:
    path = tmp_path / "job_flags.py"
    path.write_text(WORKLOAD)
    return path


def _predict(app, *args) -> dict:
    result = CliRunner().invoke(app, ["predict", *map(str, args), "--gpu", "A100-80GB", "--gpus", "4", "--json",
                                      "--no-save"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_file_declares_the_job_and_the_flags_override_it(app, workload):
    from_file = _predict(app, workload)
    assert (from_file["batch_size"], from_file["dataset_size"], from_file["precision"], from_file["compiled"],
            from_file["grad_accum_steps"]) == (256, 256_000, "bf16", True, 5)
    # EVAL_STEPS is a call: not read from the text, so the probe child's report of the module's value is the
    # job's, and a note says so.
    assert (from_file["eval_every"], from_file["eval_steps"]) == (50, 20) and from_file["eval_seconds"] > 0
    assert any("EVAL_STEPS = int(os.environ.get(\"EVAL\", 20)) could not be read without running the file: the "
               "module's value 20, which the probe child reported, is the job's." in n for n in from_file["notes"])
    assert 0 < from_file["mfu"] < 1

    flagged = _predict(app, workload, "--precision", "fp32", "--no-compile", "--grad-accum-steps", "1",
                       "--eval-every", "100", "--eval-steps", "10")
    assert (flagged["precision"], flagged["compiled"], flagged["grad_accum_steps"]) == ("fp32", False, 1)
    assert flagged["eval_seconds"] > 0  # 1000 updates: 10 evaluations of 10 forward-only batches
    assert (flagged["eval_every"], flagged["eval_steps"]) == (100, 10)  # the evaluation asked, as recommend says
    assert not any("EVAL_STEPS" in n for n in flagged["notes"])
    assert 0 < flagged["mfu"] < 1


def test_accumulation_flag_on_a_profile_shortens_the_step(app):
    plain = _predict(app, "--profile", PROFILE, "--batch-size", "4096", "--dataset-size", "1000000",
                     "--epochs", "1")
    accumulated = _predict(app, "--profile", PROFILE, "--batch-size", "4096", "--dataset-size", "1000000",
                           "--epochs", "1", "--grad-accum-steps", "8")
    assert accumulated["grad_accum_steps"] == 8 and plain["grad_accum_steps"] == 1
    assert accumulated["step_seconds"] < plain["step_seconds"]
    assert accumulated["total_steps"] == plain["total_steps"] == 245


def test_a_table_of_counts_takes_the_job_flags_as_each_single_prediction_does(app):
    """`--gpus 1,2 --grad-accum-steps 4` was refused with "set it in the workload file", which a saved profile
    cannot be: each row is now the single prediction of its count with the same flags."""
    job = ["--profile", PROFILE, "--batch-size", "4096", "--dataset-size", "1000000", "--epochs", "1",
           "--grad-accum-steps", "8", "--eval-every", "100", "--eval-steps", "5"]
    res = CliRunner().invoke(app, ["predict", *map(str, job), "--gpu", "A100-80GB", "--gpus", "2,4", "--json",
                                   "--no-save"])
    assert res.exit_code == 0, res.output
    rows = {r["count"]: r["estimate"] for r in json.loads(res.stdout)["rows"]}
    single = _predict(app, *job)
    assert rows[4]["seconds"] == single["seconds"] and rows[4]["grad_accum_steps"] == 8
    assert rows[2]["grad_accum_steps"] == 8 and rows[2]["seconds"] != rows[4]["seconds"]
    plain = _predict(app, "--profile", PROFILE, "--batch-size", "4096", "--dataset-size", "1000000", "--epochs", "1")
    assert plain["seconds"] != single["seconds"]


@pytest.mark.parametrize("flag, value, message", [
    ("--grad-accum-steps", "0", "--grad-accum-steps must be a whole number from 1 to 10^12"),
    ("--eval-every", "-1", "--eval-every must be a whole number from 1 to 10^12"),
])
def test_a_bad_job_flag_is_one_message(app, flag, value, message):
    result = CliRunner().invoke(app, ["predict", "--profile", str(PROFILE), "--gpu", "A100-80GB", flag, value])
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("args, message, fix", [
    (["--device", "cpu", "--threads", "99999"], "--threads must be at most 4,096, got 99,999.", "--threads 8"),
    (["--gpu", "H100", "--gpus", "70000"], "--gpus must be at most 65,536, got 70,000.", "--gpus 8"),
    (["--gpu", "H100", "--gpus", "1,2,70000"], "--gpus must be at most 65,536, got 70,000.", "--gpus 8"),
    (["--gpu", "H100", "--gpus", "1,2,,4"], "--gpus '1,2,,4' is not a whole number or a comma list of them.",
     "--gpus 8"),
    (["--gpu", "H100", "--gpus", "1,2,"], "--gpus '1,2,' is not a whole number", "--gpus 8"),
])
def test_a_bad_thread_or_gpu_count_names_the_flag(app, args, message, fix):
    """Past the cap they answered in the Python API's words: "Target.cpu: threads input should be less than or
    equal to 4096" with "Fix: e.g. advisor.Target.gpu(...)"; an empty item of --gpus was dropped silently."""
    result = CliRunner().invoke(app, ["predict", "--profile", str(PROFILE), "--no-save", *args])
    assert result.exit_code == 1 and "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert message in text and f"Fix: e.g. {fix}" in text and "Target" not in text


def test_predict_text_shows_mfu_and_micro_steps(app):
    result = CliRunner().invoke(app, ["predict", "--profile", str(PROFILE), "--gpu", "A100-80GB", "--gpus", "2",
                                      "--batch-size", "4096", "--grad-accum-steps", "4", "--no-save"])
    assert result.exit_code == 0, result.output
    assert "4 micro-steps per optimizer step (16,384 samples)" in result.output
    assert "per micro-step" in result.output
    assert "MFU" in result.output


def test_recommend_takes_the_job_flags_and_lists_mfu(app):
    result = CliRunner().invoke(app, ["recommend", "--profile", str(PROFILE), "--grad-accum-steps", "4",
                                      "--precision", "mixed", "--top", "50", "--json", "--no-save"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert all("mfu" in c for c in data["candidates"])
    assert any(c["precision"] == "bf16" for c in data["candidates"] if c["gpu"])


def test_recommend_gpu_candidates_carry_their_mfu(app):
    result = CliRunner().invoke(app, ["recommend", "--profile", str(PROFILE), "--top", "50", "--json",
                                      "--no-save"])
    data = json.loads(result.stdout)
    gpus = [c for c in data["candidates"] if c["gpu"]]
    assert gpus and all(0 < c["mfu"] < 1 for c in gpus)
    assert all(c["mfu"] is None for c in data["candidates"] if not c["gpu"])


def test_a_saved_profile_carries_what_its_file_declared(app, workload, tmp_path):
    saved = tmp_path / "job_flags.profile.json"
    result = CliRunner().invoke(app, ["profile", str(workload), "--device", "cpu", "--probe-seconds", "2",
                                      "-o", str(saved)])
    assert result.exit_code == 0, result.output
    info = json.loads(saved.read_text())["workload"]
    assert (info["precision"], info["compile"], info["grad_accum_steps"], info["eval_every"],
            info["eval_steps"]) == ("bf16", True, 5, 50, 20)  # EVAL_STEPS is a call: the module's value
    workload.unlink()  # the profile alone says how the job steps: its file is never read again
    from_profile = _predict(app, "--profile", saved)
    assert (from_profile["precision"], from_profile["compiled"], from_profile["grad_accum_steps"]) == \
        ("bf16", True, 5)
    # The constant the file set by a call is not read from its text, and the profile's prediction says whose value
    # it used, as the file's does.
    assert (from_profile["eval_every"], from_profile["eval_steps"]) == (50, 20)
    assert any("EVAL_STEPS = int(os.environ.get(\"EVAL\", 20)) could not be read without running the file: the "
               "module's value 20, which the probe child reported" in n for n in from_profile["notes"]), \
        from_profile["notes"]


def test_a_profiles_batch_size_flag_is_the_jobs_batch_and_a_ladder_alone_is_not(app, workload, tmp_path):
    """`profile --batch-size 64` probed up to 64 but saved the file's BATCH_SIZE (256) as the job's batch, so
    `recommend --profile` priced a batch outside the ladder it probed, extrapolated, though README and --help call
    --batch-size the job's batch size."""
    saved, ladder = tmp_path / "b64.json", tmp_path / "ladder.json"
    for args, path in ((["--batch-size", "64"], saved), (["--batch-sizes", "8,16"], ladder)):
        result = CliRunner().invoke(app, ["profile", str(workload), "--device", "cpu", "--probe-seconds", "2", *args,
                                          "-o", str(path)])
        assert result.exit_code == 0, result.output
    assert json.loads(saved.read_text())["workload"]["batch_size"] == 64
    assert json.loads(ladder.read_text())["workload"]["batch_size"] == 256  # a ladder only: the file's batch
    result = CliRunner().invoke(app, ["recommend", "--profile", str(saved), "--dataset-size", "20000", "--epochs",
                                      "1", "--json", "--no-save"])
    assert result.exit_code == 0, result.output
    rec = json.loads(result.stdout)
    assert rec["batch_size"] == 64
    assert not any("outside the measured range" in n for n in rec["notes"]), rec["notes"]


def test_recommend_echoes_how_the_job_steps_and_says_a_cpu_runs_it_as_probed(app):
    """recommend's header said only "batch 512": nothing of bf16, compile or accumulation, and a chosen CPU (run
    at fp32, eager) had no word that those apply to GPUs only; predict's CPU estimate said so."""
    args = ["recommend", "--profile", str(PROFILE), "--dataset-size", "20000", "--epochs", "2", "--precision", "bf16",
            "--compile", "--grad-accum-steps", "4", "--eval-every", "10", "--eval-steps", "5", "--no-save"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert ("batch 512, bf16, compiled, 4 micro-steps per optimizer step, 5 evaluation batches every 10 optimizer "
            "steps — cheapest") in text
    data = json.loads(CliRunner().invoke(app, [*args, "--format", "json"]).stdout)
    assert data["chosen"]["tier"] == "cpu" and data["chosen"]["precision"] == "fp32"
    assumptions = data["verdict"]["assumptions"]
    assert ("CPU instances run the job as probed, at fp32 and eager: bf16 and torch.compile apply to GPUs, bf16 as "
            "fp16 with a GradScaler on those without bfloat16 (") in assumptions and assumptions.endswith(")")
    assert "V100-16GB" in assumptions.rsplit("without bfloat16", 1)[1]
    plain = json.loads(CliRunner().invoke(app, ["recommend", "--profile", str(PROFILE), "--no-save", "--format",
                                                "json"]).stdout)
    assert "CPU instances run the job" not in plain["verdict"]["assumptions"]


def test_with_a_profile_a_missing_job_size_names_the_profile_not_its_workload_path(app, tmp_path):
    """The profile's workload path is a label, never read: "/x/evil.py: no dataset size given. Fix: ... set
    DATASET_SIZE = N in the workload file" sent the user to edit a file that changes nothing."""
    import advisor
    from advisor.errors import WorkloadError

    data = json.loads(PROFILE.read_text())
    data["workload"].update(path=str(tmp_path / "evil.py"), dataset_size=None, epochs=None, batch_size=None)
    path = tmp_path / "nosize.json"
    path.write_text(json.dumps(data))
    for args in (["predict", "--device", "cpu"], ["recommend"], ["predict", "--gpu", "H100", "--gpus", "1,2"]):
        result = CliRunner().invoke(app, [*args, "--profile", str(path), "--no-save"])
        assert result.exit_code == 1, result.output
        text = " ".join(result.output.split())
        assert f"error: the profile {path} records no dataset size." in text
        assert "Fix: pass --dataset-size N (or re-profile a workload file that sets DATASET_SIZE)." in text
        assert "evil.py" not in text
    result = CliRunner().invoke(app, ["predict", "--profile", str(path), "--no-save", "--dataset-size", "1000"])
    assert result.exit_code == 1 and f"the profile {path} records no epochs." in " ".join(result.output.split())
    with pytest.raises(WorkloadError, match="the profile .*nosize.json records no dataset size"):
        advisor.predict(str(path))


def test_probe_seconds_with_a_saved_profile_is_refused_not_ignored(app):
    """It was taken and changed nothing: the profile was probed already."""
    import advisor
    from advisor import api
    from advisor.errors import ConfigError

    for args in (["predict", "--device", "cpu"], ["recommend", "-q"], ["predict", "--gpu", "H100", "--gpus", "1,2"]):
        result = CliRunner().invoke(app, [*args, "--profile", str(PROFILE), "--no-save", "--probe-seconds", "30"])
        assert result.exit_code == 1 and result.stdout == "", result.output
        text = " ".join(result.output.split())
        assert "error: --probe-seconds is the probe's budget, and a saved profile was probed already" in text
        assert "advisor profile WORKLOAD --probe-seconds S -o FILE" in text
    prof = api.load_profile(PROFILE)
    for call in (lambda: advisor.predict(prof, probe_seconds=30),
                 lambda: advisor.predict(str(PROFILE), probe_seconds=30),
                 lambda: advisor.recommend(prof, probe_seconds=30, save=False)):
        with pytest.raises(ConfigError, match="a saved profile was probed already"):
            call()
    assert advisor.predict(prof).seconds > 0  # no budget given: the profile as it is


@pytest.mark.parametrize(("setting", "flag"), [("GRAD_ACCUM_STEPS = 0", "--grad-accum-steps N"),
                                               ('COMPILE = "yes"', "--compile / --no-compile")])
def test_profile_refuses_a_bad_setting_with_a_fix_it_can_follow(app, tmp_path, setting, flag):
    """``advisor profile`` has no flag for these settings (the profile records the file's): its fix names the file,
    and the commands that take the flag, not an option profile lacks (``No such option``)."""
    import advisor
    from advisor.errors import WorkloadError

    path = tmp_path / "bad.py"
    path.write_text(WORKLOAD.replace("GRAD_ACCUM_STEPS = 5", "GRAD_ACCUM_STEPS = 5\n" + setting))
    result = CliRunner().invoke(app, ["profile", str(path), "--device", "cpu", "-o", str(tmp_path / "p.json")])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert f"in the workload file (predict and recommend also take {flag}, over the file's)." in text, text
    assert "or pass" not in text
    help_text = CliRunner().invoke(app, ["profile", "--help"]).output
    assert flag.split()[0] not in help_text  # what profile lacks is not offered to it
    predicted = CliRunner().invoke(app, ["predict", str(path), "--gpu", "A100-80GB", "--no-save"])
    assert predicted.exit_code == 1 and f"or pass {flag}." in " ".join(predicted.output.split())
    with pytest.raises(WorkloadError) as err:
        advisor.profile(str(path), devices="cpu")
    # advisor.profile takes no such parameter, so its hint keeps the flag (advisor.option_words: a function's own
    # parameters only)
    assert f"predict and recommend also take {flag}, over the file's" in err.value.hint, err.value.hint


def test_profile_offers_the_precision_flag_it_takes(app, tmp_path):
    path = tmp_path / "bad.py"
    path.write_text(WORKLOAD.replace('PRECISION = "bf16"', 'PRECISION = "amp"'))
    result = CliRunner().invoke(app, ["profile", str(path), "--device", "cpu", "-o", str(tmp_path / "p.json")])
    assert result.exit_code == 1 and "in the workload file, or pass --precision P." in " ".join(result.output.split())


def test_json_compiled_says_what_was_priced(app):
    """A measured CPU prices torch.compile eager (with a note): its JSON says ``compiled: false``, as ``precision``
    says the precision priced; a GPU target prices the compile and says true."""
    args = ["predict", "--profile", str(PROFILE), "--dataset-size", "100000", "--epochs", "1", "--batch-size", "4096",
            "--compile", "--json", "--no-save"]
    cpu = CliRunner().invoke(app, [*args, "--device", "cpu"])
    assert cpu.exit_code == 0, cpu.output
    doc = json.loads(cpu.stdout)
    assert doc["compiled"] is False
    assert any(n.startswith("COMPILE: torch.compile is not modelled on a measured CPU") for n in doc["notes"])
    gpu = json.loads(CliRunner().invoke(app, [*args, "--gpu", "A100-80GB"]).stdout)
    assert gpu["compiled"] is True
