"""A workload file is read once per command (``WorkloadFile``): an edit while the probe runs does
not mix two versions into one answer, and the answer says the file changed.

The parent read the file's text six times in one ``predict``: before the probe for the batch size it probes at,
after it for the job's sizes. A file saved mid-probe gave "1 epoch x 100 steps of 64 (6,400 samples)" from a
probe at 4 and a module that held 64 samples of 4, with no word of the edit."""

from __future__ import annotations

import textwrap
import warnings

import advisor
from advisor.errors import ProbeNote

WORKLOAD = """
import torch

DATASET_SIZE = 64; EPOCHS = 1; BATCH_SIZE = 4


def build_model():
    # the user saves an edit while the probe runs (here: once the child has imported the file)
    text = open(__file__).read()
    open(__file__, "w").write(text.replace("DATASET_SIZE = 64;", "DATASET_SIZE = 6400;")
                              .replace("BATCH_SIZE = 4", "BATCH_SIZE = 64"))
    return torch.nn.Linear(8, 2)


def make_batch(batch_size):
    return torch.randn(batch_size, 8), torch.randint(0, 2, (batch_size,))
"""


def test_a_file_edited_during_the_probe_is_priced_as_read_at_the_start_and_noted(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    path = tmp_path / "edited.py"
    path.write_text(textwrap.dedent(WORKLOAD))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = advisor.predict(str(path), target=advisor.Target.cpu(), probe_seconds=1.0, use_history=False)
    assert "DATASET_SIZE = 6400" in path.read_text()  # the edit happened
    # the version the probe started from, and that its child imported: 64 samples of 4, probed at 4
    assert (est.dataset_size, est.batch_size, est.total_steps) == (64, 4, 16)
    # the probe's note, as every probe note is given (a ProbeNote warning; the CLI prints it)
    changed = [str(w.message) for w in caught if issubclass(w.category, ProbeNote)
               and "changed on disk while it was probed" in str(w.message)]
    assert len(changed) == 1 and changed[0].startswith(str(path)), [str(w.message) for w in caught]


def test_a_file_left_alone_gets_no_such_note(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    path = tmp_path / "still.py"
    untouched = textwrap.dedent(WORKLOAD).replace("    text = open", "    return torch.nn.Linear(8, 2)\n    text =")
    path.write_text(untouched)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = advisor.predict(str(path), target=advisor.Target.cpu(), probe_seconds=1.0, use_history=False)
    assert (est.dataset_size, est.batch_size) == (64, 4)
    # (an idle machine may give no note at all: none is asked for, only that none says the file changed)
    assert not any("changed on disk" in str(w.message) for w in caught)
