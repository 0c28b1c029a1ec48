"""Advisor probes on one machine take turns at timing (advisor.probe.turns): the wait logic on a fake clock, the
lock file, the setting, and two real probes started together."""

from __future__ import annotations

import fcntl
import json
import os
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from advisor.errors import ConfigError
from advisor.probe import turns
from advisor.settings import probe_wait_seconds

REPO = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_probe_waits_for_the_holder_and_reports_the_wait_about_once_a_second():
    clock = FakeClock()
    free_at = clock.now + 3.3
    said: list[str] = []
    outcome = turns.wait_for_turn(lambda: clock.now >= free_at, lambda: 4242, 60.0, said.append,
                                  clock=clock, sleep=clock.sleep)
    assert outcome == turns.TurnOutcome(waited_seconds=pytest.approx(3.5), holder_pid=4242, timed_out=False)
    assert said[0] == "waiting for another advisor probe (pid 4242) to finish timing ... 0s (at most 60s)"
    assert [s.split("... ")[1].split("s ")[0] for s in said] == ["0", "1", "2", "3"]
    note = turns.turn_note(outcome, 60.0)
    assert note.startswith("this probe waited 4 s for another advisor probe (pid 4242) to finish timing")


def test_a_wait_that_runs_past_its_bound_gives_up_and_says_so():
    clock = FakeClock()
    outcome = turns.wait_for_turn(lambda: False, lambda: None, 5.0, lambda _: None, clock=clock, sleep=clock.sleep)
    assert outcome.timed_out and outcome.holder_pid is None
    assert outcome.waited_seconds == pytest.approx(5.0)  # never sleeps past the bound
    assert "waited the limit of 5 s (ADVISOR_PROBE_WAIT) for another advisor probe to finish timing, then timed " \
           "beside it" in turns.turn_note(outcome, 5.0)


def test_a_free_lock_costs_no_wait_and_no_note():
    clock = FakeClock()
    outcome = turns.wait_for_turn(lambda: True, lambda: 1, 60.0, lambda _: None, clock=clock, sleep=clock.sleep)
    assert outcome == turns.TurnOutcome() and clock.slept == []
    assert turns.turn_note(outcome, 60.0) is None


class Channel:
    def __init__(self) -> None:
        self.sent: list = []
        self.said: list[str] = []

    def send(self, frame) -> None:
        self.sent.append(frame)

    def progress(self, device: str, fraction: float, message: str) -> None:
        self.said.append(message)


def test_the_lock_file_is_lockable_by_every_user_and_its_descriptor_is_not_inherited_across_exec(tmp_path):
    path = str(tmp_path / "advisor-probe.lock")
    channel = Channel()
    turn = turns.ProbeTurn(path, 5.0, channel)
    turn.take(0.3)
    turn.take(1.0)  # once
    assert len(channel.sent) == 1 and channel.sent[0].waited_seconds == 0.0 and channel.sent[0].note is None
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666
    assert fcntl.fcntl(turn.fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
    assert Path(path).read_text().strip() == str(os.getpid())
    other = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        turn.release()
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released
    finally:
        os.close(other)


def test_a_lock_file_that_cannot_be_opened_probes_without_it_and_says_so(tmp_path):
    path = tmp_path / "advisor-probe.lock"
    os.symlink(tmp_path / "elsewhere", path)  # a link planted in the shared folder is never followed
    channel = Channel()
    turns.ProbeTurn(str(path), 5.0, channel).take(0.3)
    assert channel.sent[0].waited_seconds == 0.0
    assert channel.sent[0].note.startswith(f"could not open {path}, the lock file advisor probes on this machine")
    assert not (tmp_path / "elsewhere").exists()


def test_the_lock_is_the_machines_whatever_each_users_tmpdir(tmp_path):
    """Two users' probes, each with a TMPDIR of its own, lock one file: the lock is about the machine's CPUs."""
    paths = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        env = {k: v for k, v in os.environ.items() if k != "ADVISOR_PROBE_LOCK"}
        env.update(PYTHONPATH=str(REPO), TMPDIR=str(tmp_path / name))
        out = subprocess.run([sys.executable, "-c", "from advisor.probe.turns import lock_path; print(lock_path())"],
                             env=env, text=True, capture_output=True, check=True).stdout
        paths.append(out.strip())
    assert paths == ["/tmp/advisor-probe.lock"] * 2


def test_where_the_shared_folder_cannot_be_written_the_lock_is_in_the_temporary_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert turns.lock_path({}, shared_folders=(str(tmp_path / "missing"),)) == str(tmp_path / turns.LOCK_NAME)


def test_advisor_probe_lock_names_the_lock_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert turns.lock_path({"ADVISOR_PROBE_LOCK": " mine.lock "}) == str(tmp_path / "mine.lock")
    assert turns.lock_path({"ADVISOR_PROBE_LOCK": ""}) == "/tmp/advisor-probe.lock"


_HOLDER_SCRIPT = textwrap.dedent("""
    import json, sys
    from advisor.probe import turns
    class Channel:
        def __init__(self):
            self.sent, self.said = [], []
        def send(self, frame):
            self.sent.append(frame)
        def progress(self, device, fraction, message):
            self.said.append(message)
    channel = Channel()
    turn = turns.ProbeTurn(sys.argv[1], 5.0, channel)
    turn.take(0.3)
    print(json.dumps({"waited": channel.sent[0].waited_seconds, "note": channel.sent[0].note,
                      "said": channel.said}), flush=True)
    sys.stdin.readline()  # holds the turn until told
    turn.release()
""")


def _without_write_access() -> Callable[[], None] | None:
    """What makes a child process unable to write a file it may only read: nothing for an ordinary user; for
    root, dropping CAP_DAC_OVERRIDE from the bounding set before exec (root ignores file modes otherwise)."""
    if os.geteuid() != 0:
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def drop() -> None:
        for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    return drop


def test_another_users_read_only_lock_file_is_locked_read_only_and_never_written(tmp_path):
    """User A's lock file, which user B may only read: B's probe takes its turn with a read-only descriptor (flock
    needs no write access), leaves the file as it was, and a probe waiting for B names no stale pid (the one left
    there by a holder that was killed)."""
    path = tmp_path / turns.LOCK_NAME
    dead = subprocess.Popen([sys.executable, "-c", ""])
    dead.wait()
    path.write_text(f"{dead.pid}".ljust(16))
    path.chmod(0o444)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    try:
        holder = subprocess.Popen([sys.executable, "-c", _HOLDER_SCRIPT, str(path)], env=env, text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  preexec_fn=_without_write_access())
    except subprocess.SubprocessError as exc:
        pytest.skip(f"cannot start a process without write access here: {exc}")
    try:
        took = json.loads(holder.stdout.readline() or "null")
        assert took == {"waited": 0.0, "note": None, "said": []}, holder.stderr.read()
        tried = subprocess.run([sys.executable, "-c", f"open({str(path)!r}, 'r+')"], text=True,
                               capture_output=True, preexec_fn=_without_write_access())
        assert "PermissionError" in tried.stderr  # a process like the holder really may not write the file
        channel = Channel()
        waiter = turns.ProbeTurn(str(path), 0.6, channel)
        waiter.take(0.3)  # the holder holds it: waits, then times beside it
        assert channel.said[0] == "waiting for another advisor probe to finish timing ... 0s (at most 1s)"
        assert "for another advisor probe to finish timing, then timed beside it" in channel.sent[0].note
        waiter.release()
    finally:
        holder.communicate("go\n", timeout=60)
    assert holder.returncode == 0
    assert path.read_text() == f"{dead.pid}".ljust(16) and stat.S_IMODE(path.stat().st_mode) == 0o444
    other = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released
    finally:
        os.close(other)


def test_a_holder_blanks_its_pid_when_it_gives_the_turn_up(tmp_path):
    path = tmp_path / turns.LOCK_NAME
    turn = turns.ProbeTurn(str(path), 5.0, Channel())
    turn.take(0.3)
    assert path.read_text().strip() == str(os.getpid())
    turn.release()
    assert path.read_text() == " " * 16


def test_a_link_planted_at_the_lock_path_to_an_existing_file_leaves_that_file_alone(tmp_path):
    target = tmp_path / "precious"
    target.write_text("keep me")
    path = tmp_path / turns.LOCK_NAME
    os.symlink(target, path)
    channel = Channel()
    turns.ProbeTurn(str(path), 5.0, channel).take(0.3)
    assert channel.sent[0].note.startswith(f"could not open {path}")
    assert target.read_text() == "keep me"


@pytest.mark.parametrize(("text", "expected"), [("", 60.0), ("0", 0.0), (" 12.5 ", 12.5)])
def test_the_wait_setting(text, expected):
    assert probe_wait_seconds({"ADVISOR_PROBE_WAIT": text}) == expected


@pytest.mark.parametrize("text", ["soon", "-1", "nan", "1e9"])
def test_a_bad_wait_setting_is_one_clear_error(text):
    with pytest.raises(ConfigError, match="ADVISOR_PROBE_WAIT=.* is not a number of seconds from 0 to 3600"):
        probe_wait_seconds({"ADVISOR_PROBE_WAIT": text})


_PROBE_SCRIPT = textwrap.dedent("""
    import json, pathlib, sys, time
    import advisor
    seen = []
    def progress(device, fraction, message):
        seen.append((time.time(), device, message))
        if message.startswith("waiting for"):
            pathlib.Path(sys.argv[2]).touch()
    prof = advisor.profile(sys.argv[1], devices="cpu", batch_size=128, probe_seconds=2.0, precision="fp32",
                           progress=progress)
    timed = [t for t, d, m in seen if d in ("cpu", "input")]
    print(json.dumps({"wait": prof.probe_wait_seconds, "notes": prof.notes, "first": min(timed),
                      "last": max(timed), "said": [m for t, d, m in seen if m.startswith("waiting for")]}))
""")


@pytest.mark.slow
def test_two_probes_started_together_take_turns_at_timing(tmp_path):
    """Both start at once; this test holds the lock until both wait for it (their set-up takes a different time
    each run on a loaded machine, and one could finish timing before the other is ready to), then lets go: one
    times, and the other waits for it to finish."""
    script = tmp_path / "probe.py"
    script.write_text(_PROBE_SCRIPT)
    lock = tmp_path / turns.LOCK_NAME  # this test's own lock, not the machine's
    env = {**os.environ, "PYTHONPATH": str(REPO), "ADVISOR_PROBE_LOCK": str(lock), "ADVISOR_PROBE_WAIT": "240"}
    workload = str(REPO / "examples" / "tabular_mlp.py")
    gate = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    fcntl.flock(gate, fcntl.LOCK_EX)
    marks = [tmp_path / "a.waiting", tmp_path / "b.waiting"]
    procs = [subprocess.Popen([sys.executable, str(script), workload, str(mark)], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for mark in marks]
    try:
        deadline = time.monotonic() + 180
        while not all(m.exists() for m in marks) and time.monotonic() < deadline:
            assert all(p.poll() is None for p in procs), procs[0].communicate() + procs[1].communicate()
            time.sleep(0.05)
    finally:
        os.close(gate)  # lets go
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    earlier, later = sorted(results, key=lambda r: r["first"])
    # The later probe's timed windows began after the earlier one's last (progress arrives within 0.25 s).
    assert later["first"] >= earlier["last"] - 0.3
    assert later["wait"] > earlier["wait"] > 0
    assert later["said"][0].startswith("waiting for another advisor probe")
    assert any(n.startswith(f"this probe waited {later['wait']:.0f} s for another advisor probe (pid ")
               for n in later["notes"])


def test_a_wait_under_half_a_second_is_not_said_to_be_0_s():
    """Two probes on a loaded machine: one waited 0.25 s for the other, and its note read "this probe waited 0 s
    for another advisor probe (pid N) to finish timing"; ADVISOR_PROBE_WAIT=0.3 read "the limit of 0 s"."""
    short = turns.turn_note(turns.TurnOutcome(waited_seconds=0.253, holder_pid=16802), 60.0)
    assert short.startswith("this probe waited 0.25 s for another advisor probe (pid 16802) to finish timing")
    limit = turns.turn_note(turns.TurnOutcome(waited_seconds=0.3, timed_out=True), 0.3)
    assert limit.startswith("this probe waited the limit of 0.3 s (ADVISOR_PROBE_WAIT) for another advisor probe ")
    assert turns.turn_note(turns.TurnOutcome(waited_seconds=14.2, holder_pid=7), 60.0).startswith(
        "this probe waited 14 s for another advisor probe (pid 7)")
    tiny = turns.turn_note(turns.TurnOutcome(waited_seconds=0.00004, timed_out=True), 0.00004)
    assert tiny.startswith("this probe waited the limit of under 0.01 s (ADVISOR_PROBE_WAIT)")  # not "4e-05 s"
    assert "waited 0.05 s " in turns.turn_note(turns.TurnOutcome(waited_seconds=0.05, holder_pid=7), 60.0)
