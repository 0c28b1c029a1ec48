"""``advisor --install-completion [SHELL]`` / ``--show-completion [SHELL]``: the shell named is the one completed,
and a shell typer has no completion for is one message naming those it has (exit 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app

REPO = Path(__file__).resolve().parents[2]
SHELLS = "bash, zsh, fish, powershell and pwsh"
RUN = "import sys; from advisor.cli.app import main; sys.argv = ['advisor', *sys.argv[1:]]; main()"


def _advisor(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """advisor as a process, HOME at ``home`` (where completion is installed)."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True, cwd=REPO, timeout=60,
                          env={**os.environ, "HOME": str(home), "PYTHONPATH": path, **env})


def _files(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())


@pytest.mark.parametrize("option", ["--install-completion", "--show-completion"])
@pytest.mark.parametrize("shell", ["tcsh", "csh"])
def test_a_shell_without_completion_is_one_error_and_installs_nothing(tmp_path, option, shell):
    # typer's --install-completion is a flag: "tcsh" after it was never read, and bash completion was installed
    # (exit 0); --show-completion tcsh printed the bash script.
    done = _advisor(tmp_path, option, shell)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout == "" and _files(tmp_path) == []
    assert done.stderr.startswith(f"error: advisor has no shell completion for '{shell}': the shells supported "
                                  f"are {SHELLS}."), done.stderr
    assert done.stderr.count("error:") == 1 and "Traceback" not in done.stderr
    assert "Fix: name one of them after the option: `advisor --install-completion bash`" in done.stderr


@pytest.mark.parametrize(("shell", "args", "installed"), [
    ("zsh", ["--install-completion", "zsh"], [".zfunc/_advisor", ".zshrc"]),
    ("fish", ["--install-completion=fish"], [".config/fish/completions/advisor.fish"]),
])
def test_the_shell_named_is_the_one_installed_and_completes(tmp_path, shell, args, installed):
    # It was the detected shell's (bash, here) whatever was named.
    done = _advisor(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    assert _files(tmp_path) == installed
    assert done.stdout.splitlines()[0] == f"{shell} completion installed in {tmp_path / installed[0]}"
    # the script installed calls advisor with typer's completion variables, which still answer
    asked = _advisor(tmp_path, _ADVISOR_COMPLETE=f"complete_{shell}", _TYPER_COMPLETE_ARGS="advisor hist",
                     _TYPER_COMPLETE_FISH_ACTION="get-args")
    assert asked.returncode == 0 and "history" in asked.stdout, asked.stdout + asked.stderr


def test_show_completion_prints_the_named_shells_script(tmp_path):
    done = _advisor(tmp_path, "--show-completion", "fish")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("complete --command advisor ") and "_ADVISOR_COMPLETE=complete_fish" in done.stdout
    assert _files(tmp_path) == []


@pytest.mark.parametrize(("detected", "says"), [
    ("tcsh", f"advisor has no shell completion for this shell (tcsh): the shells supported are {SHELLS}."),
    (None, f"cannot tell which shell this is, to complete for it: the shells supported are {SHELLS}."),
])
def test_a_detected_shell_without_completion_is_one_error(monkeypatch, tmp_path, detected, says):
    # typer printed "Shell tcsh is not supported." (or "Shell None ...") on stdout, naming no shell it supports.
    monkeypatch.setenv("HOME", str(tmp_path))
    import shellingham

    def detect_shell():  # what shellingham reads off the process tree
        if detected is None:
            raise shellingham.ShellDetectionFailure()
        return detected, f"/bin/{detected}"

    monkeypatch.delenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", raising=False)
    monkeypatch.setattr(shellingham, "detect_shell", detect_shell)
    result = CliRunner().invoke(build_app(), ["--install-completion"])
    assert result.exit_code == 1
    assert result.stdout == "" and _files(tmp_path) == []
    assert result.stderr.splitlines()[0] == f"error: {says}"
