"""The CLI end to end through typer's CliRunner: exit codes, one clear message, and the JSON contract."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
import typer
from cli_helpers import run

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def _assert_user_error(result, *phrases: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    text = result.output.lower()
    for phrase in phrases:
        assert phrase.lower() in text, (phrase, result.output)


def test_help_lists_commands(app):
    result = run(app, "--help")
    assert result.exit_code == 0
    for command in ("recommend", "profile", "predict", "pricing", "hardware", "history", "db"):
        assert command in result.output


def _commands(command, path=()):
    """(path, command) of every leaf command under ``command`` (typer's click group)."""
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield path, command


def test_every_option_is_in_its_commands_row_of_the_readme(app):
    """The README's command table names every option each command takes (a flag added without its row, or a
    row naming a flag that went, drifted before: --probe-seconds, --compile and --log-level were missing), and
    every option it shows there exists."""
    import re

    import typer

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| command | does |"):]
    rows = [line for line in table[:table.index("\n\n")].splitlines() if line.startswith("| `advisor ")]
    shown, missing, known = {}, [], {}
    for path, command in _commands(typer.main.get_command(app)):
        mine = " ".join(row for row in rows if row.startswith(f"| `advisor {path[0]}"))
        shown[path[0]] = mine
        for param in command.params:
            if param.param_type_name == "option" and "--help" not in param.opts:
                known.setdefault(path[0], set()).update(o for o in param.opts + param.secondary_opts)
                if not any(re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", mine) for o in param.opts):
                    missing.append((" ".join(path), param.opts))
    assert not missing, missing
    named = {(cmd, flag) for cmd, row in shown.items() for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", row)}
    # the serve row also says which other commands take --server (recommend's and history's own rows name it too)
    assert {(cmd, flag) for cmd, flag in named if flag not in known.get(cmd, ()) and flag != "--server"} == set()


def test_missing_file_is_a_user_error(app, tmp_path):
    result = run(app, "predict", tmp_path / "nope.py", "--dataset-size", "10", "--epochs", "1",
                 "--batch-size", "2", "--device", "cpu", "--json")
    _assert_user_error(result, "nope.py", "no such file", "fix")


def test_not_a_python_file(app, tmp_path):
    path = tmp_path / "model.txt"
    path.write_text("x = 1\n")
    result = run(app, "profile", path)
    _assert_user_error(result, "model.txt", ".py")


def test_syntax_error_names_file_and_line(app, tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("def build_model(:\n    pass\n")
    result = run(app, "profile", path, "--device", "cpu", "--probe-seconds", "2")
    _assert_user_error(result, "broken.py:1", "syntax")


def test_missing_make_batch(app, tmp_path):
    path = tmp_path / "half.py"
    path.write_text("import torch\n\ndef build_model():\n    return torch.nn.Linear(4, 2)\n")
    result = run(app, "profile", path, "--device", "cpu", "--probe-seconds", "2")
    _assert_user_error(result, "half.py", "make_batch")


def test_batch_that_does_not_fit_the_model(app, tmp_path):
    path = tmp_path / "mismatch.py"
    path.write_text(textwrap.dedent("""
        import torch

        def build_model():
            return torch.nn.Linear(64, 10)

        def make_batch(batch_size):
            return torch.randn(batch_size, 32), torch.randint(0, 10, (batch_size,))
    """))
    result = run(app, "profile", path, "--device", "cpu", "--probe-seconds", "2")
    _assert_user_error(result, "mismatch.py", "shape")


@pytest.mark.parametrize("flag", ["--dataset-size", "--epochs", "--batch-size"])
def test_non_positive_job_values(app, flag):
    args = {"--dataset-size": "100", "--epochs": "1", "--batch-size": "8"}
    args[flag] = "0"
    flat = [x for kv in args.items() for x in kv]
    result = run(app, "predict", EXAMPLES / "tabular_mlp.py", *flat, "--device", "cpu", "--json")
    _assert_user_error(result, "positive")


def test_unknown_gpu_suggests_names(app):
    result = run(app, "predict", EXAMPLES / "tabular_mlp.py", "--dataset-size", "100", "--epochs", "1",
                 "--batch-size", "8", "--gpu", "A100-90GB", "--json")
    _assert_user_error(result, "a100-90gb", "did you mean")


def test_bad_deadline_and_precision(app):
    result = run(app, "recommend", EXAMPLES / "tabular_mlp.py", "--deadline", "soon", "--no-save")
    _assert_user_error(result, "deadline", "6h")
    result = run(app, "predict", EXAMPLES / "tabular_mlp.py", "--precision", "fp8", "--json")
    _assert_user_error(result, "precision", "fp32")


@pytest.mark.slow
def test_predict_cpu_json_contract(app, tmp_path):
    result = run(app, "predict", EXAMPLES / "tabular_mlp.py", "--dataset-size", "4096", "--epochs", "2",
                 "--batch-size", "256", "--device", "cpu", "--json", "--probe-seconds", "4")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema_version"] == 1
    assert data["target"] == {"kind": "cpu", "threads": data["target"]["threads"]}
    assert data["target"]["threads"] >= 1
    assert (data["dataset_size"], data["epochs"], data["batch_size"]) == (4096, 2, 256)
    assert data["method"] == "measured"
    assert data["steps_per_epoch"] == 16 and data["total_steps"] == 32
    assert 0 < data["low"] < data["seconds"] < data["high"]
    # the whole job is at least the steps it is made of
    assert data["seconds"] >= data["total_steps"] * data["step_seconds"] * 0.9
    assert isinstance(data["fits_memory"], bool)
    assert data["peak_memory_gib"] is None or data["peak_memory_gib"] >= 0


def test_profile_file_round_trip_and_scaled_gpu_prediction(app, tmp_path):
    """A profile made once (analysis only here: no GPU) predicts 8 x A100 in bf16 without the workload."""
    from advisor import api

    prof = api.profile(EXAMPLES / "small_cnn.py", devices=[], batch_size=128)
    path = api.save_profile(prof, tmp_path / "profile.json")
    result = run(app, "predict", "--profile", path, "--dataset-size", "50000", "--epochs", "3",
                 "--batch-size", "1024", "--gpu", "a100-80gb", "--gpus", "8", "--precision", "bf16", "--json",
                 "--no-save")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["target"] == {"kind": "gpu", "gpu": "A100-80GB", "count": 8}
    assert data["method"] == "scaled"
    assert data["precision"] == "bf16"
    assert data["per_device_batch_size"] == 128
    assert 0 < data["scaling_efficiency"] <= 1
    assert data["fits_memory"] is True
    assert 0 < data["low"] < data["seconds"] < data["high"]

    one = run(app, "predict", "--profile", path, "--dataset-size", "50000", "--epochs", "3",
              "--batch-size", "1024", "--gpu", "A100-80GB", "--precision", "bf16", "--json", "--no-save")
    single = json.loads(one.stdout)
    # Eight GPUs are faster than one, but not more than eight times.
    assert single["seconds"] / 8 < data["seconds"] < single["seconds"]


def test_probe_notes_are_printed_as_notes_and_kept_in_json(app, tmp_path):
    """A profile's notes (a noisy probe, say) reach the estimate's notes, on the terminal and in --json."""
    from advisor import api

    prof = api.profile(EXAMPLES / "tabular_mlp.py", batch_size=64, probe_seconds=1)
    note = "cpu: the step time at batch size 64 varied widely (p10-p90 spread 90% of the median)"
    prof.notes = [note]
    path = api.save_profile(prof, tmp_path / "profile.json")
    args = ("predict", "--profile", path, "--dataset-size", "5000", "--epochs", "1", "--batch-size", "64",
            "--device", "cpu", "--no-save")
    data = json.loads(run(app, *args, "--json").stdout)
    assert note in data["notes"]
    text = run(app, *args)
    assert text.exit_code == 0 and f"note: {note}" in text.output.replace("\n  ", " ").replace("\n", " ")


def test_hardware_json(app):
    result = run(app, "hardware", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["host"]["cpu"]["logical_cores"] >= 1
    assert isinstance(data["host"]["gpus"], list)
    names = {g["name"] for g in data["known"]["gpus"]}
    assert {"A100-80GB", "H100-SXM", "T4"} <= names


def test_hardware_json_says_why_no_gpu_is_visible_as_the_text_does(app, monkeypatch):
    """README: with no GPU visible, --json carries what was found; only the text said it (an audit)."""
    import advisor.hardware
    import advisor.hardware.gpu

    host = advisor.hardware.detect_host(torch_child=False)
    why = "NVML is unavailable (NVML did not start: NVML Shared Library Not Found): no NVIDIA driver"
    monkeypatch.setattr(advisor.hardware, "detect_host", lambda: host.model_copy(update={"gpus": []}))
    monkeypatch.setattr(advisor.hardware.gpu, "no_gpu_reason", lambda: why)
    data = json.loads(run(app, "hardware", "--json").stdout)
    assert data["host"]["gpus"] == [] and data["no_gpu_reason"] == why
    assert f"none visible ({why})" in " ".join(run(app, "hardware").stdout.split())


def test_hardware_names_a_memory_limit_below_the_ram(app, monkeypatch):
    """In a container with a cgroup memory limit, the memory shown is the limit, and says so."""
    import advisor.hardware

    host = advisor.hardware.detect_host(torch_child=False)
    cpu = host.cpu.model_copy(update={"memory_gib": 2.0, "memory_limit": "cgroup"})
    monkeypatch.setattr(advisor.hardware, "detect_host", lambda: host.model_copy(update={"cpu": cpu}))
    assert "2.0 GiB memory (the container's memory limit (cgroup))" in " ".join(run(app, "hardware").stdout.split())
    assert json.loads(run(app, "hardware", "--json").stdout)["host"]["cpu"]["memory_limit"] == "cgroup"


def test_hardware_says_the_memory_is_unknown_where_it_could_not_be_read(app, monkeypatch):
    """/proc unreadable: CpuInfo.memory_gib is None, and the line says so instead of failing to format it."""
    import advisor.hardware

    host = advisor.hardware.detect_host(torch_child=False)
    cpu = host.cpu.model_copy(update={"memory_gib": None, "memory_limit": None})
    monkeypatch.setattr(advisor.hardware, "detect_host", lambda: host.model_copy(update={"cpu": cpu}))
    result = run(app, "hardware")
    assert result.exit_code == 0 and "unknown memory" in " ".join(result.stdout.split())
    assert json.loads(run(app, "hardware", "--json").stdout)["host"]["cpu"]["memory_gib"] is None


@pytest.mark.parametrize(("command", "usage"), [
    (("diff",), "diff [OPTIONS] {OLD.json} {NEW.json}"), (("history", "show"), "[OPTIONS] {ID}"),
    (("history", "record"), "[OPTIONS] {ID}"), (("history", "forget"), "[OPTIONS] {ID}"),
    (("pricing", "validate"), "[OPTIONS] {FILE}"), (("profile",), "[OPTIONS] {WORKLOAD}"),
    (("predict",), "[OPTIONS] [WORKLOAD]"), (("recommend",), "[OPTIONS] [WORKLOAD]")])
def test_usage_names_arguments_as_the_readme_does(app, command, usage):
    """`advisor diff -h` printed "{old} {new}" (typer's required marker around the parameter's own name), other
    commands "[workload]", "{entry_id}": the README's OLD.json, NEW.json, ID, FILE, WORKLOAD now."""
    result = run(app, *command, "-h")
    assert result.exit_code == 0, result.output
    first = " ".join(result.output.split("\n\n")[0].split())
    # typer marks an argument required ({ID}) from 0.27 and optional ([WORKLOAD]) from 0.24; older ones (0.16 is
    # pyproject's lowest) print the bare name. The names are what the README gives either way.
    assert _bare_names(first).endswith(_bare_names(usage)), first
    if tuple(int(part) for part in typer.__version__.split(".")[:2]) >= (0, 27):
        assert first.endswith(usage), first


def _bare_names(usage: str) -> str:
    """``usage`` without typer's required/optional marks around argument names ([OPTIONS] kept)."""
    return re.sub(r"[{\[]([A-Za-z.]+)[}\]]", lambda m: m[0] if m[1] == "OPTIONS" else m[1], usage)


@pytest.mark.parametrize("command", ["recommend", "predict", "profile"])
def test_precision_help_lists_mixed_which_is_accepted(app, command):
    # recommend -h listed [fp32|tf32|bf16|fp16], though --precision mixed works there (profile -h listed it).
    result = run(app, command, "-h")
    assert result.exit_code == 0, result.output
    assert "|fp16|mixed" in result.output


def test_a_gpu_with_no_link_shows_one_dash(app):
    # The GH200 (rented one a machine, no GPU-to-GPU link in profiles/gpus.csv) read "- -" in the link column.
    from advisor.cli.render import _link

    assert _link(None, None) == "-"
    assert _link("nvlink", 300.0) == "nvlink 300 GB/s" and _link(None, 64.0) == "- 64 GB/s"
    out = run(app, "hardware").stdout
    [gh200] = [line for line in out.splitlines() if line.strip("│ ").startswith("GH200 ")]
    assert "- -" not in gh200 and "│ - " in gh200
