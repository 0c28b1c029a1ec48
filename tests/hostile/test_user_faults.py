"""Faults of the user's own code and files, reported as the user's (one message naming the file, exit 1), never
as an advisor bug: an exception whose ``__str__`` raises, a KeyboardInterrupt raised by ``build_model``, a
megabyte message, a file name that is no Python identifier, a pipe or device given as a file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.errors import WorkloadError
from advisor.workload import load_workload
from advisor.workload.describe import MESSAGE_LIMIT

BODY = """
import torch

def make_batch(batch_size):
    return torch.randn(batch_size, 4), torch.randn(batch_size, 1)
"""


def workload(tmp_path, name: str, build: str):
    path = tmp_path / name
    path.write_text(BODY + textwrap.dedent(build))
    return load_workload(path)


def build_error(w) -> WorkloadError:
    with pytest.raises(WorkloadError) as info:
        w.build_model()
    return info.value


def test_an_exception_whose_str_raises_is_still_the_users(tmp_path):
    w = workload(tmp_path, "weird.py", """
        class Weird(Exception):
            def __str__(self):
                raise RuntimeError("str fails")

        def build_model():
            raise Weird()
    """)
    err = build_error(w)
    assert "build_model() raised Weird: (its message could not be read" in err.message


def test_a_keyboard_interrupt_raised_by_build_model_is_the_users(tmp_path):
    w = workload(tmp_path, "interrupt.py", """
        def build_model():
            raise KeyboardInterrupt("from the model")
    """)
    assert "build_model() raised KeyboardInterrupt: from the model" in build_error(w).message


def test_a_huge_message_is_cut(tmp_path):
    w = workload(tmp_path, "big.py", """
        def build_model():
            raise ValueError("E" * 5_000_000)
    """)
    err = build_error(w)
    assert len(err.message) < MESSAGE_LIMIT + 200 and err.message.endswith("EEE...")


@pytest.mark.parametrize("name", ["bad build.py", "it's-bad.py"])
def test_the_fix_command_runs_the_factory_whatever_the_file_is_called(tmp_path, name):
    w = workload(tmp_path, name, """
        def build_model():
            raise ValueError("broken model")
    """)
    hint = build_error(w).hint
    command = hint.removeprefix("Fix: make build_model() run on its own (").removesuffix(").")
    # The command, as a user would paste it into a shell from another folder, runs the file's build_model.
    done = subprocess.run(["bash", "-c", command.replace("python ", f"{sys.executable} ", 1)], cwd=os.sep,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "ValueError: broken model" in done.stderr


def test_a_pipe_given_as_a_file_is_refused_at_once(tmp_path):
    fifo = tmp_path / "model.py"
    os.mkfifo(fifo)
    app = build_app()
    for args, words in ((["recommend", str(fifo), "--dataset-size", "100", "--epochs", "1", "--no-save"],
                         "not a regular file"),
                        # diff reads a pipe (<(advisor recommend ... --json)), but not one nothing writes to
                        (["diff", str(fifo), str(fifo)], "a pipe with nothing written to it")):
        result = CliRunner().invoke(app, args)  # a read of the pipe would block: the test would hang
        assert result.exit_code == 1 and words in result.output, result.output
