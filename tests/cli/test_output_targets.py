"""Output paths that are not plain files: /dev/stdout into a pipe, links, and the hints of a failed write."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.cli.options import check_output_path, output_error
from advisor.errors import ConfigError, ProbeError
from advisor.probe import save_profile
from advisor.schemas import Profile, WorkloadInfo

ROOT = Path(__file__).resolve().parents[2]


def _in_a_pipe(code: str, stdout_path: str = "/dev/stdout") -> subprocess.CompletedProcess:
    """Run ``code`` with ``OUT`` set to ``stdout_path`` and its standard output a pipe we read."""
    return subprocess.run([sys.executable, "-c", f"from pathlib import Path; OUT = Path({stdout_path!r}); {code}"],
                          capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)


@pytest.mark.skipif(not os.path.exists("/proc/self/fd"), reason="needs /proc")
def test_dev_stdout_into_a_pipe_is_written_into():
    # /dev/stdout -> /proc/self/fd/1 -> "pipe:[N]": the realpath named no file, and the write failed with ENOENT.
    result = _in_a_pipe("from advisor.output_file import write_in_place; "
                        "print(write_in_place(OUT, lambda p: p.write_text('a,b\\n1,2\\n')), file=__import__('sys')"
                        ".stderr)")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "a,b\n1,2\n"
    assert result.stderr == "/dev/stdout\n"


@pytest.mark.skipif(not os.path.exists("/proc/self/fd"), reason="needs /proc")
def test_profile_to_dev_stdout_into_a_pipe():
    code = ("from advisor.probe import save_profile; from advisor.schemas import Profile, WorkloadInfo; "
            "save_profile(Profile(workload=WorkloadInfo(name='tiny')), OUT)")
    result = _in_a_pipe(code)
    assert result.returncode == 0, result.stderr
    assert '"name": "tiny"' in result.stdout and result.stdout.startswith("{")


def test_a_link_into_a_missing_folder_fails_before_any_probe(tmp_path):
    # The check looked at the link's own folder, which exists; the write, after the probe, at the target's.
    link = tmp_path / "profile.json"
    link.symlink_to(tmp_path / "gone" / "profile.json")
    with pytest.raises(ConfigError) as info:
        check_output_path(link, "-o")
    assert info.value.message == f"-o {link}: the folder {tmp_path / 'gone'} does not exist."


def test_a_pipe_is_checked_itself_not_its_folder(tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    os.chmod(tmp_path, 0o500)  # its folder is not writable; a temporary file beside it could not be made
    try:
        assert check_output_path(fifo, "-o") == fifo
    finally:
        os.chmod(tmp_path, 0o700)


@pytest.mark.parametrize("code, space", [(errno.ENOSPC, True), (errno.EDQUOT, True), (errno.EACCES, False),
                                         (errno.ENOENT, False)])
def test_free_some_space_only_for_a_full_disk(code, space):
    error = output_error(Path("out.csv"), "--output", OSError(code, os.strerror(code)))
    assert error.message == f"--output out.csv: could not write it ({os.strerror(code)})."
    assert error.hint == ("Fix: free some space, or pass --output with another path." if space
                          else "Fix: pass --output with another path.")


def test_a_profile_that_cannot_be_written_names_space_only_when_full(tmp_path):
    folder = tmp_path / "file"
    folder.write_text("")
    with pytest.raises(ProbeError) as info:
        save_profile(Profile(workload=WorkloadInfo(name="tiny")), folder / "p.json")
    assert info.value.hint == "Fix: save it to a path in a folder you can write to."
    if os.path.exists("/dev/full"):
        with pytest.raises(ProbeError) as full:
            save_profile(Profile(workload=WorkloadInfo(name="tiny")), Path("/dev/full"))
        assert full.value.hint == "Fix: save it to a path in a folder you can write to (or free some space there)."



@pytest.mark.parametrize("code, first", [
    (errno.ENOSPC, "free some space where the output goes (or send it elsewhere)"),
    (errno.EIO, "send the output somewhere it can be written")])
def test_standard_output_failing_is_told_to_free_space_only_when_full(monkeypatch, capsys, code, first):
    from advisor.cli import errors
    from advisor.cli.streams import StandardOutputError

    monkeypatch.setattr(errors, "_drop_stdout", lambda: None)
    errors.standard_output_failed(StandardOutputError(code, os.strerror(code)))
    assert capsys.readouterr().err == (f"error: could not write the answer to standard output ({os.strerror(code)}).\n"
                                       f"Fix: {first}, then run the command again.\n")


def test_two_writers_of_one_output_at_once_each_write_a_whole_file(tmp_path):
    """Two writers of one path with the same pid (two threads of a Python API user; two containers sharing a work
    folder, each with its own pids) used one temporary name, ".out.<pid>.tmp.json": the second's write went into
    the first's file, the first's commit moved the second's output into place, and the second's commit then failed
    (FileNotFoundError). Each now has a temporary file of its own: both commits succeed, the last one stays."""
    from advisor.output_file import StagedFile

    target = tmp_path / "out.json"
    first = StagedFile(target, lambda tmp: tmp.write_text('{"writer": 1}\n'))
    second = StagedFile(target, lambda tmp: tmp.write_text('{"writer": 2}\n'))
    assert first.commit() == target and target.read_text() == '{"writer": 1}\n'
    assert second.commit() == target and target.read_text() == '{"writer": 2}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]  # no temporary file left behind
