"""The probe's scratch folders: a folder left by a parent killed with SIGKILL is removed by the next probe; a live
process's, another user's or an older advisor's (no pid in the name) is not."""

import os
import subprocess
import sys

from advisor.probe import scratch


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(done.stdout)


def test_only_folders_of_gone_processes_are_swept(tmp_path):
    dead = tmp_path / f"advisor-probe-{_dead_pid()}-abc"
    live = tmp_path / f"advisor-probe-{os.getpid()}-def"
    older = tmp_path / "advisor-probe-k2j4x"
    other = tmp_path / "someone-else-123-x"
    for folder in (dead, live, older, other):
        folder.mkdir()
        (folder / "advisor-probe-fault.stack").write_text("")
    assert scratch.sweep_stale(str(tmp_path)) == [str(dead)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (live, older, other))


def test_a_new_scratch_is_named_after_this_process(tmp_path, monkeypatch):
    monkeypatch.setattr(scratch.tempfile, "tempdir", str(tmp_path))
    (tmp_path / f"advisor-probe-{_dead_pid()}-left").mkdir()
    made = scratch.make_scratch()
    assert os.path.basename(made).startswith(f"advisor-probe-{os.getpid()}-")
    assert [p.name for p in tmp_path.iterdir()] == [os.path.basename(made)]


def test_a_sigkilled_parent_leaves_a_folder_the_next_probe_removes(tmp_path):
    """The real case: a process makes its scratch and dies by SIGKILL; the next make_scratch removes it."""
    code = ("import os, signal, tempfile; tempfile.tempdir = os.environ['T']; "
            "from advisor.probe.scratch import make_scratch; make_scratch(); os.kill(os.getpid(), signal.SIGKILL)")
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "T": str(tmp_path)})
    assert done.returncode == -9
    [left] = list(tmp_path.iterdir())
    assert scratch.sweep_stale(str(tmp_path)) == [str(left)] and not left.exists()
