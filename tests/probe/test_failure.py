"""How the probe child reports what it raised: a DataLoader worker that died is the workload's loader, wherever
torch's SIGCHLD handler raised it (at times inside advisor's handling of the loader's first error, which then read
"the probe failed unexpectedly ... probably a bug in advisor")."""

from __future__ import annotations

import pytest

from advisor.probe.failure import exception_frame


@pytest.mark.parametrize("message", [
    "DataLoader worker (pid 4242) exited unexpectedly with exit code 3. Details are lost due to multiprocessing.",
    "DataLoader worker (pid(s) 12, 13) exited unexpectedly",
    "DataLoader worker (pid 9) is killed by signal: Killed.",
])
def test_a_dead_loader_worker_is_a_workload_error(message):
    frame = exception_frame(RuntimeError(message), "loader.py")
    assert frame.error_class == "WorkloadError"
    assert frame.message.startswith("loader.py: a DataLoader worker process died while the input pipeline was probed")
    assert frame.hint.startswith("Fix: run the loader on its own")


def test_another_runtime_error_is_still_unexpected():
    assert exception_frame(RuntimeError("CUDA error: an illegal memory access"), "m.py").error_class is None


ARGPARSE_TOP = """\
import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
ARGS = parser.parse_args([])
"""


def raised_by(path) -> SystemExit:
    import runpy

    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(path))
    return info.value


def test_a_top_level_parse_args_that_exits_names_argparse_the_line_and_the_fix(tmp_path, capsys):
    # It read "the workload called sys.exit(2)... remove sys.exit()": the user never called it, no line was named.
    path = tmp_path / "train.py"
    path.write_text(ARGPARSE_TOP)
    frame = exception_frame(raised_by(path), "proj/train.py", str(path))
    assert "the following arguments are required: --data" in capsys.readouterr().err
    assert frame.error_class == "WorkloadError"
    assert frame.message == ("proj/train.py: argparse's parse_args() exited (code 2) (in <module>, train.py:5) while "
                             "the file was probed: the probe imports the file with no command-line arguments, which "
                             "this parser refused (argparse printed why above).")
    assert frame.hint.startswith("Fix: move the argument parsing and what uses it under `if __name__ == ")
    assert "or give every argument a default (no required=True)" in frame.hint


def test_a_sys_exit_names_its_line(tmp_path):
    path = tmp_path / "stop.py"
    path.write_text("import sys\n\nsys.exit(3)\n")
    frame = exception_frame(raised_by(path), "stop.py", str(path))
    assert frame.message == "stop.py: the workload called sys.exit(3) (in <module>, stop.py:3) while it was probed."
    assert frame.hint.startswith("Fix: remove sys.exit() from code that runs when the model is built or trained")
