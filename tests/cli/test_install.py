"""What an installed advisor needs beyond its commands: how it starts and what it finds (audit: install)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app

REPO = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    """This checkout's advisor first on the path, as the tests import it."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


def test_python_dash_m_advisor_runs_the_command(tmp_path):
    # CI images often have the venv's python but not its bin/ on PATH.
    done = subprocess.run([sys.executable, "-m", "advisor", "--version"], capture_output=True, text=True,
                          cwd=tmp_path, env=_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("advisor ")


def _named_example(hint: str) -> Path:
    match = re.search(r"e\.g\. (.+?\.py)", hint)
    assert match, hint
    return Path(match.group(1))


@pytest.mark.parametrize("args", [["recommend", "no_such_workload.py"], ["recommend"]])
def test_the_example_a_hint_names_exists_outside_the_checkout(monkeypatch, tmp_path, args):
    """From a wheel (or any folder but the checkout), the hint named examples/tabular_mlp.py, which was not
    there: a fix that fails the same way."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 1, result.output
    named = _named_example(result.output)
    assert named.is_absolute() and named.is_file(), result.output


def test_in_the_checkout_the_hint_names_the_short_path(monkeypatch):
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(build_app(), ["recommend"])
    assert _named_example(result.output) == Path("examples/tabular_mlp.py")


def test_the_wheel_ships_the_examples():
    # README's commands and the hints above use them; the wheel had pricing, profiles and migrations only.
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]["examples"] == \
        "advisor/_data/examples"


BROKEN_TORCH = 'raise OSError("libcudnn.so.9: cannot open shared object file: No such file or directory")\n'


def _with_broken_torch(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """An advisor command in a Python whose torch raises OSError on import, as a CUDA build whose libraries do
    not match the machine does."""
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text(BROKEN_TORCH)
    path = os.pathsep.join(p for p in (str(tmp_path), str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run([sys.executable, "-c", "from advisor.cli.app import main; main()", *args],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env=_env(PYTHONPATH=path, ADVISOR_DATABASE_URL=f"sqlite:///{tmp_path / 'h.db'}"))


def _assert_broken_torch_message(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "bug in advisor" not in done.stderr
    # From a probe's child the message names the workload as the one whose probe said it (a child's text is the
    # workload's to the parent: it could be forged); from advisor's own process it is said plainly.
    assert re.match(r"error: (w\.py: the probe reported: )?torch cannot be imported \(OSError: libcudnn\.so\.9",
                    done.stderr), done.stderr
    assert done.stderr.count("error:") == 1
    assert re.search(r'Fix: (the probe reported: )?install the torch build for this machine \(README "Set-up"',
                     done.stderr), done.stderr


def test_hardware_with_a_torch_that_fails_to_load_says_why(tmp_path):
    # It printed a raw traceback ending in the OSError.
    _assert_broken_torch_message(_with_broken_torch(tmp_path, "hardware"))


def test_a_probe_with_a_torch_that_fails_to_load_says_why(tmp_path):
    # The probe's child reported "the probe failed unexpectedly ... this is probably a bug in advisor".
    (tmp_path / "w.py").write_text((REPO / "examples" / "tabular_mlp.py").read_text())
    _assert_broken_torch_message(_with_broken_torch(tmp_path, "profile", "w.py", "-o", "p.json",
                                                    "--probe-seconds", "3"))
    assert not (tmp_path / "p.json").exists()
