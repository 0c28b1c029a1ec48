"""`advisor diff` reading a recommendation from standard input (`-`), a pipe or a process substitution, as in
`advisor diff baseline.json <(advisor recommend ... --json)`, up to the size cap; and what it still refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import run
from typer.testing import CliRunner

from advisor.cli.app import build_app

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "tests" / "hostile" / "data" / "tabular_profile.json"


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> tuple[Path, Path]:
    """Two `recommend --json` files: a short job and a long one (another machine is chosen)."""
    folder = tmp_path_factory.mktemp("recs")
    out = []
    for name, size in (("old", 20000), ("new", 2000000)):
        result = run(build_app(), "recommend", "--profile", PROFILE, "--no-save", "--json", "--dataset-size", size,
                     "--epochs", 2)
        assert result.exit_code == 0, result.output
        (folder / f"{name}.json").write_text(result.stdout)
        out.append(folder / f"{name}.json")
    return out[0], out[1]


def _summary(result) -> str:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["summary"]


def test_standard_input_as_either_side(docs):
    old, new = docs
    want = _summary(run(build_app(), "diff", old, new, "--json"))
    got = CliRunner().invoke(build_app(), ["diff", str(old), "-", "--json"], input=new.read_text())
    assert _summary(got) == want  # it was "Cannot read -: No such file or directory."
    got = CliRunner().invoke(build_app(), ["diff", "-", str(new), "--json"], input=old.read_text())
    assert _summary(got) == want


def test_both_sides_from_standard_input_is_refused(docs):
    result = CliRunner().invoke(build_app(), ["diff", "-", "-"], input=docs[0].read_text())
    assert result.exit_code == 1
    assert "OLD.json and NEW.json are both standard input (-), which holds one document." in result.output


@pytest.mark.skipif(not os.path.exists("/dev/fd"), reason="needs /dev/fd")
def test_process_substitution_and_dev_stdin(docs, tmp_path):
    old, new = docs
    code = "import sys; from advisor.cli.app import main; sys.argv = ['advisor', *sys.argv[1:]]; main()"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    want = _summary(run(build_app(), "diff", old, new, "--json"))
    # the writer is slower than the reader: the read waits for it, to its end
    for shell in (f'"{sys.executable}" -c "{code}" diff "{old}" <(sleep 0.5; cat "{new}") --json',
                  f'cat "{new}" | "{sys.executable}" -c "{code}" diff "{old}" /dev/stdin --json'):
        done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr  # it was "/dev/fd/63: not a regular file (a folder, device or pipe)."
        assert json.loads(done.stdout)["summary"] == want


def test_a_pipe_past_the_cap_is_refused(docs, monkeypatch):
    from advisor.cli import diff

    monkeypatch.setattr(diff, "MAX_BYTES", 1000)  # a pipe has no size to check first: the read stops past it
    result = CliRunner().invoke(build_app(), ["diff", "-", str(docs[1])], input=docs[0].read_text() + " " * 10**6)
    assert result.exit_code == 1
    assert result.output.startswith("error: -: larger than 0 MiB, so not a recommendation.\n")


def test_a_named_pipe_nothing_writes_to_is_refused_at_once(tmp_path, docs):
    fifo = tmp_path / "new.json"
    os.mkfifo(fifo)
    result = run(build_app(), "diff", docs[0], fifo)  # an open that waits for a writer would hang here
    assert result.exit_code == 1
    assert f"{fifo}: a pipe with nothing written to it (no process was writing to it)." in result.output


@pytest.mark.parametrize("path, words", [("/dev/zero", "not a regular file or a pipe (a device)"),
                                         (".", "is a folder, not a recommendation file")])
def test_a_device_or_a_folder_is_still_refused(docs, path, words):
    result = run(build_app(), "diff", docs[0], path)
    assert result.exit_code == 1 and f"{path}: {words}." in result.output
