"""SIGTERM and SIGHUP end a command as Ctrl-C does: one line, exit 128 + the signal, the probe's processes and
scratch folder gone (Python's default ended the process on the spot: exit 143 without a word, and the scratch
folder left behind)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

pytestmark = pytest.mark.slow

SLEEPY = textwrap.dedent("""
    import time
    import torch
    from torch import nn

    def build_model():
        return nn.Linear(8, 1)

    def make_batch(batch_size):
        time.sleep(0.5)
        return torch.randn(batch_size, 8), torch.randn(batch_size, 1)
""")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_terminated_probe_says_so_and_leaves_nothing_behind(tmp_path, signum):
    workload = tmp_path / "sleepy.py"
    workload.write_text(SLEEPY)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}
    proc = subprocess.Popen([sys.executable, "-c", "from advisor.cli.app import main; main()", "profile",
                             str(workload), "--batch-size", "8", "--probe-seconds", "30", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    while not any(p.name().startswith("advisor-probe") or "python" in p.name() for p in parent.children()) \
            or not list(scratch.glob("advisor-probe-*")):
        assert time.monotonic() < deadline, "the probe did not start"
        time.sleep(0.2)
    children = parent.children(recursive=True)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err
    assert err.strip().endswith(f"Terminated ({signal.Signals(signum).name}).")
    assert "Traceback" not in err
    assert list(scratch.iterdir()) == []
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []


def _advisor_killed(prelude: str, tmp_path) -> subprocess.CompletedProcess:
    """``advisor history list`` run as the console script runs it (``main()``), after ``prelude``, which sends the
    signal from inside the process at the moment it means (an import, a line written)."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    from advisor.history.repository import History

    History(url).create()  # a history to read
    code = (textwrap.dedent(prelude)
            + "\nfrom advisor.cli.app import main\nsys.argv = ['advisor', 'history', 'list']\nmain()\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "ADVISOR_DATABASE_URL": url}, start_new_session=True,
                          preexec_fn=_sigint_as_at_a_terminal)


def _sigint_as_at_a_terminal() -> None:
    # A test run started in the background hands its children SIGINT ignored, which Python keeps; a terminal's
    # Ctrl-C reaches a foreground process with the default action, as these tests mean to.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_termination_while_the_app_is_built_is_one_line_not_a_traceback(tmp_path, signum):
    # `advisor history list & sleep 0.3; kill -TERM $!`: the SIGTERM lands while typer and the commands load,
    # before any command's own handling; it printed a traceback ending "Terminated: 15" and exited 1.
    done = _advisor_killed(f"""
        import os, sys
        import advisor.cli.app as app

        real = app.build_app

        def build_app():
            os.kill(os.getpid(), {int(signum)})
            return real()

        app.build_app = build_app
    """, tmp_path)
    assert done.returncode == 128 + signum, done.stderr
    assert done.stderr == f"Terminated ({signal.Signals(signum).name}).\n"


def test_a_sigterm_while_interrupted_is_said_ends_as_terminated(tmp_path):
    # Ctrl-C, then a SIGTERM (a CI job cancelled: SIGINT, then SIGTERM) that lands while "Interrupted." is written:
    # a traceback through say_ended, exit 1.
    done = _advisor_killed("""
        import os, signal, sys
        import advisor.cli.errors as errors
        from advisor.history.repository import History

        def list_(self, *args, **kwargs):
            raise KeyboardInterrupt

        History.list = list_
        real = errors.say_ended

        def say_ended(message):
            os.kill(os.getpid(), signal.SIGTERM)
            real(message)

        errors.say_ended = say_ended
    """, tmp_path)
    assert done.returncode == 143, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.endswith("Terminated (SIGTERM).\n"), done.stderr


@pytest.mark.parametrize("first", [signal.SIGINT, signal.SIGTERM])
def test_a_sigterm_during_the_clean_up_waits_for_its_end(tmp_path, first):
    # Ctrl-C (or SIGTERM), then a SIGTERM while the command cleans up (a CI job cancelled: SIGINT, then SIGTERM):
    # the second was raised into the clean-up, which it broke half-way (the history's connections not closed;
    # SQLAlchemy's "Exception closing connection" traceback on stderr), and its line replaced the first's.
    closed = tmp_path / "closed"
    done = _advisor_killed(f"""
        import os, signal, sys, time
        from advisor.history.repository import History

        def list_(self, *args, **kwargs):
            os.kill(os.getpid(), {int(first)})
            time.sleep(30)

        real_close = History.close

        def close(self):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)
            real_close(self)
            open({str(closed)!r}, "w").close()

        History.list = list_
        History.close = close
    """, tmp_path)
    assert closed.exists(), done.stderr  # the clean-up ran to its end
    assert done.stderr == ("Interrupted.\n" if first == signal.SIGINT else "Terminated (SIGTERM).\n")
    assert done.returncode == -signal.SIGTERM  # the held SIGTERM, after the line: as one after it does
