"""A recommendation whose save fails (another process took the history's lock after the pre-probe check) is
printed all the same, then the error says it was not saved, with the cause and --no-save, exit 1. (The answer
was thrown away: stdout empty, and a probe of minutes to run again.)

Real processes: ``advisor recommend`` with the lock taken by this test's own connection once its pre-probe check
has passed (the check is wrapped to say so and wait for the lock; the busy timeout is 1 s instead of 30 s).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from advisor.history.repository import History

pytestmark = pytest.mark.slow

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
ARGS = ("recommend", "--profile", str(PROFILE), "--dataset-size", "5000", "--epochs", "1", "--batch-size", "32")

LOCKED_AFTER_CHECK = """
    import os, sys, time
    import advisor.history.engine as engine
    import advisor.history.write_access as write_access

    engine.BUSY_TIMEOUT_SECONDS = 1.0
    checked = write_access.check_writable

    def check_writable(e):
        checked(e)
        open(os.environ["CHECKED_FILE"], "w").close()
        while not os.path.exists(os.environ["LOCKED_FILE"]):
            time.sleep(0.05)

    write_access.check_writable = check_writable
    from advisor.cli.app import main
    sys.argv = ["advisor", *sys.argv[1:]]
    main()
"""


def _recommend(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, int]:
    """``advisor recommend ARGS`` whose save finds the history locked; its result and the recommendations stored."""
    db = tmp_path / "h.db"
    History(f"sqlite:///{db}").create()
    checked, locked = tmp_path / "checked", tmp_path / "locked"
    env = {**os.environ, "ADVISOR_DATABASE_URL": f"sqlite:///{db}", "CHECKED_FILE": str(checked),
           "LOCKED_FILE": str(locked)}
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(LOCKED_AFTER_CHECK), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        deadline = time.monotonic() + 120
        while not checked.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the pre-probe check never passed"
            time.sleep(0.05)
        holder.execute("BEGIN EXCLUSIVE")  # as another advisor's save, or a backup, would hold it
        locked.touch()
        out, err = proc.communicate(timeout=120)
    finally:
        holder.close()  # the lock goes with the connection
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*) FROM recommendations").fetchone()[0]
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), stored


def _said_unsaved(err: str) -> None:
    assert "Traceback" not in err, err
    assert "The recommendation was printed, but not saved in history: the history database" in err, err
    assert "database is locked" in err and "Or pass --no-save to run without saving." in err, err


def test_a_save_that_finds_the_history_locked_still_prints_the_answer(tmp_path):
    done, stored = _recommend(tmp_path, *ARGS, "-q")
    assert done.returncode == 1, done.stderr
    _said_unsaved(done.stderr)
    assert stored == 0
    # The answer, as --no-save prints it.
    env = {**os.environ, "ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}"}
    unsaved = subprocess.run([sys.executable, "-m", "advisor", *ARGS, "-q", "--no-save"], capture_output=True,
                             text=True, env=env, timeout=120)
    assert unsaved.returncode == 0, unsaved.stderr
    assert done.stdout == unsaved.stdout and done.stdout.strip()


def test_under_json_the_unsaved_recommendation_is_the_document(tmp_path):
    done, stored = _recommend(tmp_path, *ARGS, "--json")
    assert done.returncode == 1, done.stderr
    _said_unsaved(done.stderr)
    assert stored == 0
    document = json.loads(done.stdout)  # one document: the recommendation, no error object after it
    assert document["id"] is None and document["chosen"] is not None and "error" not in document


PREDICT = ("predict", "--profile", str(PROFILE), "--dataset-size", "5000", "--epochs", "1", "--batch-size", "32")


def _predictions(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "h.db") as conn:
        return conn.execute("SELECT count(*) FROM predictions").fetchone()[0]


@pytest.mark.parametrize(("target", "json_flag"), [(("--gpu", "H100"), ()), (("--gpu", "H100"), ("--json",)),
                                                   (("--instance", "p5.48xlarge"), ("--json",))])
def test_a_prediction_whose_save_finds_the_history_locked_is_printed_too(tmp_path, target, json_flag):
    # predict threw the answer away (stdout empty: a probe of minutes to run again), where recommend printed it.
    done, _ = _recommend(tmp_path, *PREDICT, *target, *json_flag)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "The prediction was printed, but not saved in history: the history database" in done.stderr
    assert "database is locked" in done.stderr and "Or pass --no-save to run without saving." in done.stderr
    assert _predictions(tmp_path) == 0
    if json_flag:
        document = json.loads(done.stdout)  # one document: the prediction, no error object after it
        assert document["history_id"] is None and document["seconds"] > 0 and "error" not in document
        if target[0] == "--instance":  # the instance named in the target, as a saved answer's JSON has it
            assert document["target"]["instance_type"] == "p5.48xlarge"
    else:
        assert "Predicted job time on 1 x H100-SXM" in done.stdout and "saved as" not in done.stdout
