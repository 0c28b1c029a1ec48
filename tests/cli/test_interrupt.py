"""Ctrl-C outside a command's own handling ends the CLI as a command's does: one line "Interrupted.", exit 130, no
traceback: while Python loads typer and the commands (a second or more on a busy machine: a Ctrl-C right after
Enter), and again during the shutdown after "Interrupted." (an impatient second Ctrl-C).

Real processes, each in a session of its own; the signal is sent with os.kill, by the process itself where the
moment must be exact (an import, the app's build).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow


def _advisor(prelude: str, *args: str, tmp_path) -> subprocess.CompletedProcess:
    """``advisor ARGS`` run as the console script runs it (``main()``), after ``prelude``."""
    code = (textwrap.dedent(prelude)
            + "\nfrom advisor.cli.app import main\nsys.argv = ['advisor', *sys.argv[1:]]\nmain()\n")
    env = {**os.environ, "ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120,
                          start_new_session=True)


def test_ctrl_c_while_typer_loads_is_one_line_and_exit_130(tmp_path):
    # The Ctrl-C lands while typer is being imported: where a command line typed with a wrong flag is stopped.
    done = _advisor("""
        import os, signal, sys

        class CtrlC:
            def find_spec(self, name, path=None, target=None):
                if name == "typer":
                    sys.meta_path.remove(self)
                    os.kill(os.getpid(), signal.SIGINT)
                return None

        sys.meta_path.insert(0, CtrlC())
    """, "history", "list", tmp_path=tmp_path)
    assert done.returncode == 130, done.stderr
    assert done.stderr == "Interrupted.\n"


def test_ctrl_c_while_the_app_is_built_is_one_line_and_exit_130(tmp_path):
    done = _advisor("""
        import os, signal, sys
        import advisor.cli.app as app

        real = app.build_app

        def build_app():
            os.kill(os.getpid(), signal.SIGINT)
            return real()

        app.build_app = build_app
    """, "history", "list", tmp_path=tmp_path)
    assert done.returncode == 130, done.stderr
    assert done.stderr == "Interrupted.\n"
