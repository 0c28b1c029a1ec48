"""Ctrl-C outside a command's own handling ends the CLI as a command's does: one line "Interrupted.", exit 130, no
traceback: while Python loads typer and the commands (a second or more on a busy machine: a Ctrl-C right after
Enter), and again during the shutdown after "Interrupted." (an impatient second Ctrl-C).

Real processes, each in a session of its own; the signal is sent with os.kill, by the process itself where the
moment must be exact (an import, the app's build).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest


def _sigint_as_at_a_terminal() -> None:
    # A test run started in the background (`.ci/run &`) hands its children SIGINT ignored, which Python keeps; a
    # terminal's Ctrl-C reaches a foreground process with the default action, as these tests mean to.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


pytestmark = pytest.mark.slow


def _advisor(prelude: str, *args: str, tmp_path) -> subprocess.CompletedProcess:
    """``advisor ARGS`` run as the console script runs it (``main()``), after ``prelude``."""
    code = (textwrap.dedent(prelude)
            + "\nfrom advisor.cli.app import main\nsys.argv = ['advisor', *sys.argv[1:]]\nmain()\n")
    env = {**os.environ, "ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120,
                          start_new_session=True, preexec_fn=_sigint_as_at_a_terminal)


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


# A shutdown that takes a while, as torch's does (a second or more on a busy machine): a thread Python's shutdown
# joins (threading._shutdown, where the second Ctrl-C's traceback came from).
# Started with the first Ctrl-C, so that all of it is left for the shutdown.
SLOW_SHUTDOWN = """
    import os, signal, sys, threading, time

    def ctrl_c():
        threading.Thread(target=time.sleep, args=(3,), daemon=False).start()
        os.kill(os.getpid(), signal.SIGINT)
"""
FIRST_CTRL_C = {
    # In a command (its handle_errors says "Interrupted."), here while it reads the history.
    "command": """
        from advisor.history.repository import History

        def list_(self, *args, **kwargs):
            ctrl_c()
            time.sleep(30)

        History.list = list_
    """,
    # Before any command runs (main's own handling).
    "start-up": """
        import advisor.cli.app as app

        real = app.build_app

        def build_app():
            ctrl_c()
            return real()

        app.build_app = build_app
    """,
}


@pytest.mark.parametrize("where", sorted(FIRST_CTRL_C))
def test_a_second_ctrl_c_during_the_shutdown_changes_nothing(tmp_path, where):
    code = (textwrap.dedent(SLOW_SHUTDOWN) + textwrap.dedent(FIRST_CTRL_C[where])
            + "\nfrom advisor.cli.app import main\nsys.argv = ['advisor', 'history', 'list']\nmain()\n")
    from advisor.history.repository import History

    url = f"sqlite:///{tmp_path / 'h.db'}"
    History(url).create()  # a history to read
    env = {**os.environ, "ADVISOR_DATABASE_URL": url}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True, preexec_fn=_sigint_as_at_a_terminal)
    try:
        first = proc.stderr.readline()
        assert first == "Interrupted.\n", first + proc.stderr.read()
        sent = 0
        while proc.poll() is None:  # Ctrl-C again and again, until the process has ended
            os.kill(proc.pid, signal.SIGINT)
            sent += 1
            time.sleep(0.05)
        rest = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
    assert proc.returncode == 130, rest  # not ended by the second SIGINT (-2)
    assert rest == ""  # no "Exception ignored in: <module 'threading'>", no traceback
    assert sent > 5  # they came while it shut down
