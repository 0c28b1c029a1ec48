"""A probe's notes reach a Python user as warnings that name the user's own line, however deep in advisor the
probe ran (an audit: ``advisor.profile`` warned from ``advisor/api.py:148``, so a notebook showed advisor's line)."""

from __future__ import annotations

import warnings

import pytest
import torch

import advisor
import advisor.probe.runner as runner
from advisor.workload import Workload

NOTE = "cpu: a note the probe gives (a stand-in)"


def _workload() -> Workload:
    return Workload(model=lambda: torch.nn.Linear(8, 2),
                    make_batch=lambda b: (torch.randn(b, 8), torch.randint(0, 2, (b,))))


@pytest.mark.parametrize("entry", ["profile", "recommend"])
def test_a_probes_warning_points_at_the_callers_line(entry, monkeypatch, tmp_path):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'history.db'}")
    monkeypatch.setattr(runner, "startup_notes", lambda devices, host: [NOTE])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if entry == "profile":
            line = _line() + 1
            advisor.profile(_workload(), batch_size=4, probe_seconds=1, analyze=False)
        else:
            line = _line() + 1
            advisor.recommend(_workload(), dataset_size=100, epochs=1, batch_size=4, probe_seconds=1, save=False)
    (ours,) = [w for w in caught if str(w.message) == NOTE]
    assert ours.category is advisor.ProbeNote and issubclass(ours.category, RuntimeWarning)
    assert (ours.filename, ours.lineno) == (__file__, line)


def _line() -> int:
    import inspect

    return inspect.currentframe().f_back.f_lineno


def test_a_notes_terminal_escapes_reach_a_python_user_made_visible(monkeypatch):
    """Python prints a warning's text as it is: a note naming another process called "\\x1b[2J..." (the busiest
    process, whose name any local user chooses) would clear a notebook user's terminal. The warning shows the
    escapes, as the CLI does; the profile keeps the note as measured."""
    raw = "cpu: the busiest was \x1b[2J\x1b[41mPWN\u202e (pid 1, 98% CPU)"
    monkeypatch.setattr(runner, "startup_notes", lambda devices, host: [raw])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        profile = advisor.profile(_workload(), batch_size=4, probe_seconds=1, analyze=False)
    shown = [str(w.message) for w in caught if w.category is advisor.ProbeNote and "PWN" in str(w.message)]
    assert shown == ["cpu: the busiest was \\x1b[2J\\x1b[41mPWN\\u202e (pid 1, 98% CPU)"]
    assert raw in profile.notes
