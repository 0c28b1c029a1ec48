"""Standard error whose reader went away (``advisor ... 2>&1 >answer.json | head -1``, ``2> >(head -0)``): the
notes left are dropped and the command goes on, its answer and exit code as without the pipe."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUN = "import sys; from advisor.cli.app import main; sys.argv = ['advisor', *sys.argv[1:]]; main()"


def _with_stderr_reader_gone(*args: str) -> tuple[int, str]:
    """(exit code, stdout) of advisor ARGS whose stderr pipe's read end is closed before it writes there."""
    proc = subprocess.Popen([sys.executable, "-c", RUN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO)
    proc.stderr.close()
    out = proc.stdout.read()
    return proc.wait(timeout=120), out


def test_a_note_after_the_answer_leaves_exit_0(profile_file, history_url, tmp_path):
    # "plot written to FILE" goes to stderr after the answer: rich's closed-pipe handling made it exit 1 (and
    # pointed stdout at /dev/null).
    plot = tmp_path / "plot.png"
    code, out = _with_stderr_reader_gone("recommend", "--profile", str(profile_file), "--dataset-size", "1000",
                                         "--epochs", "1", "--no-save", "--plot", str(plot))
    assert code == 0, out
    assert "Recommendation:" in out and plot.stat().st_size > 0


def test_a_json_error_still_prints_its_document(history_url, tmp_path):
    # The message goes to stderr first: rich exited there, and the --json error document never reached stdout.
    code, out = _with_stderr_reader_gone("recommend", "--profile", str(tmp_path / "no-such.json"), "--json")
    assert code == 1
    error = json.loads(out)["error"]
    assert error["type"] == "ProbeError" and "no such profile file" in error["message"]
