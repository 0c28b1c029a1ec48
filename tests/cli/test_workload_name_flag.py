"""``--name NAME`` on profile, predict and recommend (and a workload file's ``WORKLOAD_NAME = "..."``) names the
workload the history keys its runs by; the flag overrides the file; a name that is not printable text is one clear
error, exit 1, with nothing stored."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select
from typer.testing import CliRunner

from advisor import api
from advisor.cli.app import build_app
from advisor.history.tables import WorkloadTable

BODY = """
import torch

def build_model():
    return torch.nn.Linear(8, 2)

def make_batch(batch_size):
    return torch.randn(batch_size, 8), torch.randint(0, 2, (batch_size,))
"""
TABULAR = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
JOB = ["--dataset-size", "50000", "--epochs", "2", "--json"]


def stored_names() -> set[tuple[str, str | None]]:
    engine = create_engine(os.environ["ADVISOR_DATABASE_URL"])
    with engine.connect() as conn:  # no history at all (a first run refused before creating one): nothing stored
        rows = set(conn.execute(select(WorkloadTable.name, WorkloadTable.path))) \
            if inspect(conn).has_table(WorkloadTable.__tablename__) else set()
    engine.dispose()
    return rows


def test_the_flag_names_what_predict_and_recommend_store():
    runner = CliRunner()
    out = runner.invoke(build_app(), ["predict", "--profile", str(TABULAR), *JOB, "--device", "cpu",
                                      "--name", "churn_model"])
    assert out.exit_code == 0, out.output
    rec = runner.invoke(build_app(), ["recommend", "--profile", str(TABULAR), *JOB, "--top", "2",
                                      "--name", "churn_model_v2"])
    assert rec.exit_code == 0, rec.output
    assert json.loads(rec.output)["workload"]["name"] == "churn_model_v2"
    assert {name for name, _ in stored_names()} == {"churn_model", "churn_model_v2"}
    listed = runner.invoke(build_app(), ["history", "list", "--workload", "churn_model_v2", "--json"])
    assert [e["workload"] for e in json.loads(listed.output)["entries"]] == ["churn_model_v2"]


@pytest.mark.parametrize(("flag", "message"), [
    ("", "error: --name (name= in Python): a workload's name must not be empty: ''."),
    ("a\tb", "error: --name (name= in Python): a workload's name must not hold a control character (a tab, a "
             "newline, an escape...): 'a\\tb'."),
])
def test_a_bad_name_is_one_message_and_nothing_is_stored(flag, message):
    out = CliRunner().invoke(build_app(), ["recommend", "--profile", str(TABULAR), *JOB[:-1], "--name", flag])
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert out.output.splitlines()[0] == message
    assert stored_names() == set()


def test_a_files_bad_name_is_refused_before_the_probe(tmp_path):
    bad = tmp_path / "train.py"
    bad.write_text("WORKLOAD_NAME = 3.5\n" + BODY)
    out = CliRunner().invoke(build_app(), ["predict", str(bad), *JOB[:-1], "--device", "cpu"])
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert out.output.splitlines()[0] == f"error: {bad}: WORKLOAD_NAME: a workload's name must be text, not float: 3.5."
    assert stored_names() == set()


@pytest.mark.parametrize("command", ["recommend", "predict"])
def test_a_bad_name_on_a_first_run_leaves_no_history_behind(tmp_path, monkeypatch, command):
    """No history yet: a bad --name (or a file's bad WORKLOAD_NAME) is refused before the history is created."""
    db = tmp_path / "first" / "history.db"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{db}")
    bad = tmp_path / "train.py"
    bad.write_text("WORKLOAD_NAME = ''\n" + BODY)
    target = ["--device", "cpu"] if command == "predict" else []
    for args in (["--profile", str(TABULAR), "--name", ""], [str(bad)]):
        out = CliRunner().invoke(build_app(), [command, *args, *JOB[:-1], *target])
        assert out.exit_code == 1 and "a workload's name must not be empty" in out.output
        assert not db.exists() and not db.parent.exists()


def test_the_file_names_its_workload_and_the_flag_overrides_it(tmp_path, monkeypatch):
    (tmp_path / "projA").mkdir()
    (tmp_path / "projA" / "train.py").write_text('WORKLOAD_NAME = "fraud_" + "detector"\n' + BODY)
    monkeypatch.chdir(tmp_path)
    declared = api.profile("projA/train.py", devices=[], analyze=False, batch_size=8, probe_seconds=1)
    assert declared.workload.name == "fraud_detector"
    assert declared.workload.path == str(tmp_path / "projA" / "train.py")  # stored absolute: tells projects apart
    out = CliRunner().invoke(build_app(), ["profile", "projA/train.py", "--device", "cpu", "--probe-seconds", "1",
                                           "--batch-size", "8", "--name", "fraud_v2", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output[out.output.index("{"):])["workload"]["name"] == "fraud_v2"


@pytest.mark.parametrize("command", ["recommend", "predict"])
def test_a_saved_profiles_bad_name_is_refused_on_a_first_run_and_the_flag_works_round_it(tmp_path, monkeypatch,
                                                                                        command):
    # --profile FILE took the profile's workload.name as it was: an edited 'bad\nname\x1b[2J' (or '   ') was stored
    # and answered with exit 0, where the same name as --name was exit 1.
    db = tmp_path / "first" / "history.db"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{db}")
    data = json.loads(TABULAR.read_text())
    data["workload"]["name"] = "bad\nname\x1b[2J"
    saved = tmp_path / "edited.json"
    saved.write_text(json.dumps(data))
    target = ["--device", "cpu"] if command == "predict" else []
    out = CliRunner().invoke(build_app(), [command, "--profile", str(saved), *JOB[:-1], *target])
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert out.output.splitlines()[0] == (f"error: {saved}: workload.name: a workload's name must not hold a control "
                                          "character (a tab, a newline, an escape...): 'bad\\nname\\x1b[2J'.")
    assert not db.exists() and not db.parent.exists()
    fixed = CliRunner().invoke(build_app(), [command, "--profile", str(saved), *JOB, *target, "--name", "good"])
    assert fixed.exit_code == 0, fixed.output
    assert {name for name, _ in stored_names()} == {"good"}
