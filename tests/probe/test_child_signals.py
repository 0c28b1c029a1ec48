"""The probe child starts with the signal dispositions it needs, whatever its caller set."""

from __future__ import annotations

import signal
import warnings

import advisor


def test_a_caller_that_ignores_sigchld_can_still_probe(tmp_path, monkeypatch):
    """Some daemons ignore SIGCHLD; the child inherited it, and its wait for its own fork check failed with
    ECHILD: "the probe failed unexpectedly ... probably a bug in advisor"."""
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    before = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = advisor.predict("examples/tabular_mlp.py", probe_seconds=2, dataset_size=2000, epochs=1)
    finally:
        signal.signal(signal.SIGCHLD, before)
    assert est.seconds > 0 and est.target.kind == "cpu"
