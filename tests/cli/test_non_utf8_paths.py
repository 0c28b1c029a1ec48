"""A path that is not valid UTF-8 (a Latin-1 ``modèle.py``): one message naming it with ``\\xNN``, exit 1, and
no probe started (it was two tracebacks, the parent's and the probe child's)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.errors import ConfigError, WorkloadError
from advisor.probe import lifetime
from advisor.probe.frames import ChildStart
from advisor.probe.request import ProbeRequest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture()
def latin1_workload(tmp_path) -> Path:
    path = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"m\xe9le.py")))
    path.write_bytes((EXAMPLES / "tabular_mlp.py").read_bytes())
    return path


def _refuse_children(monkeypatch) -> None:
    def refused(*args, **kwargs):
        raise AssertionError("a probe child was started")

    monkeypatch.setattr(lifetime.subprocess, "Popen", refused)


@pytest.fixture()
def no_child(monkeypatch):
    _refuse_children(monkeypatch)


@pytest.mark.parametrize("command", [
    ("profile", "{file}", "--probe-seconds", "5", "-o", "{tmp}/out.json"),
    ("predict", "{file}", "--device", "cpu", "--dataset-size", "100", "--epochs", "1", "--batch-size", "8"),
    ("recommend", "{file}", "--probe-seconds", "5", "--no-save"),
])
def test_a_workload_name_that_is_not_utf8_is_one_message(latin1_workload, tmp_path, monkeypatch, no_child, command):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path}/h.db")
    args = [part.format(file=latin1_workload, tmp=tmp_path) for part in command]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 1, result.output
    assert "m\\xe9le.py: the file name is not valid UTF-8" in result.output
    assert "Fix: rename the file" in result.output
    assert "Traceback" not in result.output and "\udce9" not in result.output
    assert not (tmp_path / "out.json").exists()


def test_the_api_refuses_it_with_a_workload_error(latin1_workload, no_child):
    from advisor import api

    with pytest.raises(WorkloadError, match=r"m\\xe9le\.py: the file name is not valid UTF-8"):
        api.profile(str(latin1_workload), devices=["cpu"], probe_seconds=5)


@pytest.mark.parametrize("command", [
    ("recommend", "--profile", "{profile}", "--no-save", "--plot", "{bad}.png"),
    ("history", "export", "--format", "csv", "-o", "{bad}.csv"),
    ("profile", str(EXAMPLES / "tabular_mlp.py"), "-o", "{bad}.json"),
])
def test_an_output_path_that_is_not_utf8_is_one_message(tmp_path, monkeypatch, command):
    from advisor import api

    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path}/h.db")
    profile = tmp_path / "p.json"
    if command[0] == "recommend":
        api.save_profile(api.profile(EXAMPLES / "small_cnn.py", devices=[], batch_size=32), profile)
    _refuse_children(monkeypatch)
    bad = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"\xe9"))
    result = CliRunner().invoke(build_app(), [part.format(profile=profile, bad=bad) for part in command])
    assert result.exit_code == 1, result.output
    assert "\\xe9." in result.output and "the path is not valid UTF-8" in result.output, result.output
    assert "Fix: pass" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "h.db") == (["p.json"] if profile.exists() else [])


def test_a_start_message_that_cannot_be_sent_starts_no_child(tmp_path, no_child):
    """A folder on sys.path (or TMPDIR) that is not UTF-8: refused before the child, not a traceback after it."""
    folder = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"lib\xe9"))
    start = ChildStart(request=ProbeRequest.build(batch_size=8), sys_path=[str(tmp_path), folder],
                       fault_file=str(tmp_path / "fault"), parent_pid=os.getpid())
    with pytest.raises(ConfigError, match=r"the path .*lib\\xe9 is not valid UTF-8") as err:
        lifetime.start_fresh(start, None)
    assert "Fix: rename" in str(err.value)


def test_a_valid_utf8_name_is_not_refused(tmp_path):
    from advisor.workload import check_path

    path = tmp_path / "modèle.py"
    path.write_bytes((EXAMPLES / "tabular_mlp.py").read_bytes())
    assert check_path(path) == path
