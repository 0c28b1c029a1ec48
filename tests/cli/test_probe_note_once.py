"""The CLI prints a probe's note once, as a note, escaped. An audit: since the notes' warnings name the first frame
outside advisor (``typer/main.py`` under the CLI), the CLI's filter on the module ``advisor`` matched none, and
each note was printed again as Python's ``RuntimeWarning``, raw: another process's name holding ESC sequences
cleared the terminal. The notes are ``advisor.ProbeNote`` now, which the CLI filters by class."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
NOTE = "cpu: the busiest was \x1b[2J\x1b[41mPWN (pid 1, 99% CPU)"

# The CLI as `advisor` runs it, with the probe forced to give NOTE (as a busy machine's probe would).
FORCED = textwrap.dedent(f"""
    import sys
    import advisor.probe.runner as runner
    runner.startup_notes = lambda devices, host: [{NOTE!r}]
    from advisor.cli.app import main
    sys.argv[0] = "advisor"
    main()
""")


def test_a_probe_note_is_printed_once_and_escaped(tmp_path):
    out = tmp_path / "p.json"
    env = {**os.environ, "ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("ADVISOR_DEBUG", None)
    done = subprocess.run([sys.executable, "-c", FORCED, "profile", str(ROOT / "examples" / "tabular_mlp.py"),
                           "--device", "cpu", "--batch-size", "8", "--probe-seconds", "1", "-o", str(out)],
                          capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    both = done.stdout + done.stderr
    assert "\x1b" not in both
    assert "RuntimeWarning" not in both and "ProbeNote" not in both and "typer" not in both
    assert both.count("PWN (pid 1, 99% CPU)") == 1  # a busy machine adds notes of its own: count ours
    assert "note: cpu: the busiest was \\x1b[2J\\x1b[41mPWN (pid 1, 99% CPU)" in both
    assert NOTE in json.loads(out.read_text())["notes"]  # the profile keeps the note as it was


def test_probe_notes_are_their_own_runtime_warning():
    import advisor
    from advisor.errors import ProbeNote

    assert advisor.ProbeNote is ProbeNote and issubclass(ProbeNote, RuntimeWarning)
    assert "ProbeNote" in advisor.__all__
