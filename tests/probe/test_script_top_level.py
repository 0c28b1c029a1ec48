"""What a training script's top level does when the probe child imports it, and what advisor then says: an
``argparse`` parser with a required argument (the most common way such a file fails when imported), an
``input()`` prompt, ``torch.set_num_threads``."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

from advisor.errors import WorkloadError
from advisor.probe import run_profile

pytestmark = pytest.mark.slow

MODEL = """\
import torch
from torch import nn


def build_model():
    return nn.Linear(16, 4)


def make_batch(batch_size):
    return torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,))
"""


def probe_error(path) -> WorkloadError:
    with pytest.raises(WorkloadError) as info:
        run_profile(path, devices=[], batch_size=8, probe_seconds=1, analyze=False)
    return info.value


def test_a_required_argparse_argument_names_the_file_its_line_and_the_fix(tmp_path, capfd):
    path = tmp_path / "train.py"
    path.write_text(MODEL + "\nimport argparse\np = argparse.ArgumentParser()\n"
                    "p.add_argument('--data', required=True)\nargs = p.parse_args()\n")
    err = probe_error(path)
    assert err.message.startswith(f"{path}: argparse's parse_args() exited (code 2) (in <module>, train.py:15) while "
                                  "the file was probed: the probe imports the file with no command-line arguments")
    assert err.hint.startswith("Fix: the probe reported: move the argument parsing and what uses it under "
                               "`if __name__ == ")
    # argparse names the file, as `python train.py` would have it, not the probe's "-c"
    assert "usage: train.py [-h] --data DATA" in capfd.readouterr().err


def test_input_at_the_top_level_says_there_is_no_standard_input_on_a_line_of_its_own(tmp_path):
    # The error was glued to the prompt ("continue? error: ..."), and its fix said the file must run cleanly,
    # which it does at a terminal.
    (tmp_path / "ask.py").write_text(MODEL + "\nanswer = input('continue? ')\n")
    done = subprocess.run([sys.executable, "-m", "advisor", "predict", "ask.py", "--device", "cpu", "--dataset-size",
                           "100", "--epochs", "1", "--batch-size", "2", "--probe-seconds", "1", "--no-save"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and done.stdout == ""
    assert "continue? \nerror: ask.py:12: running the file failed: EOFError: EOF when reading a line\n" in done.stderr
    assert ("Fix: the probe reported: the file runs with no standard input when advisor probes it, so input() at its "
            "top level reads end of file: move the prompt under `if __name__ == ") in done.stderr
    assert "Traceback" not in done.stderr


def test_threads_set_at_import_are_probed_and_said_unless_threads_is_given(tmp_path):
    # One thread where PyTorch would use several, else two where it would use one: a change either way.
    path = tmp_path / "threads1.py"
    path.write_text(MODEL + "\ntorch.set_num_threads(1 if torch.get_num_threads() > 1 else 2)\n")
    quick = {"devices": ["cpu"], "batch_size": 8, "probe_seconds": 1, "analyze": False, "thread_scaling": False}
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        prof = run_profile(path, **quick)
    notes = [n for n in prof.notes if "set PyTorch's CPU threads" in n]
    (cpu,) = prof.devices
    assert len(notes) == 1 and notes[0].startswith(f"cpu: importing {path} set PyTorch's CPU threads to "
                                                   f"{cpu.threads} (torch.set_num_threads; ")
    assert any(notes[0] in str(w.message) for w in said)  # the notes the Python API shows as warnings
    given = run_profile(path, threads=cpu.threads + 1 if cpu.threads == 1 else 1, **quick)
    assert not [n for n in given.notes if "set PyTorch's CPU threads" in n]
