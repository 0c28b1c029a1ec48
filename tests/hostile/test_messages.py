"""Messages that name the real cause: paths that cannot be workloads, a workload that exits, closes the probe's
channel or hands back meta tensors, and an advisor started with its output closed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

JOB = ["--device", "cpu", "--dataset-size", "10", "--epochs", "1", "--batch-size", "2", "--no-save"]
HEAD = "import torch\n"
TAIL = """
def build_model():
    return torch.nn.Linear(4, 1)
def make_batch(batch_size):
    return torch.randn(batch_size, 4), torch.randn(batch_size, 1)
"""


def test_a_folder_named_like_a_workload(user_error, invoke, tmp_path):
    (tmp_path / "model.py").mkdir()
    user_error(invoke("predict", tmp_path / "model.py", *JOB), "is a folder, not a Python file")


def test_a_symbolic_link_loop(user_error, invoke, tmp_path):
    (tmp_path / "a.py").symlink_to(tmp_path / "b.py")
    (tmp_path / "b.py").symlink_to(tmp_path / "a.py")
    user_error(invoke("predict", tmp_path / "a.py", *JOB), "symbolic links")


def test_a_path_too_long_for_the_file_system(user_error, invoke, tmp_path):
    user_error(invoke("predict", tmp_path / ("a" * 300 + ".py"), *JOB), "cannot be opened", "File name too long")


def test_sys_exit_names_the_file(user_error, invoke, tmp_path):
    path = tmp_path / "exits.py"
    path.write_text("import sys\nsys.exit(3)\n")
    user_error(invoke("predict", path, *JOB), f"{path}: the workload called sys.exit(3)")


def test_closing_inherited_descriptors_is_named_as_such(user_error, invoke, tmp_path):
    path = tmp_path / "closes.py"
    path.write_text(HEAD + "import os\nos.closerange(3, 4096)\n" + TAIL)
    user_error(invoke("predict", path, *JOB), "closed the file descriptors it inherited")


def test_meta_tensors_from_make_batch_are_a_workload_error(user_error, invoke, tmp_path):
    path = tmp_path / "meta.py"
    path.write_text(HEAD + TAIL.replace("torch.randn(batch_size, 4)", "torch.randn(batch_size, 4, device='meta')"))
    user_error(invoke("predict", path, *JOB), "returned inputs on the meta device", "Fix:")


@pytest.mark.parametrize("args", [["pricing", "list", "--json"], ["hardware"]])
def test_stdout_closed_is_one_clear_message(args):
    code = "import sys; from advisor.cli.app import main; sys.argv = ['advisor', *sys.argv[1:]]; main()"
    result = subprocess.run([sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, cwd=Path(__file__).resolve().parents[2],
                            preexec_fn=lambda: os.close(1))
    assert result.returncode == 1
    assert "standard output is closed" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["recommend", "--no-save"], ["predict", "--device", "cpu", "--no-save"]])
def test_stderr_closed_still_answers_on_stdout(args, profile_file, history_url):
    # `advisor ... 2>&-` (a job runner that closes stderr): Python leaves sys.stderr None, and the progress bar's
    # check of it ended the command with exit 1 and no word anywhere. The answer goes to stdout, which is open.
    code = "import sys; from advisor.cli.app import main; sys.argv = ['advisor', *sys.argv[1:]]; main()"
    args = [*args[:1], "--profile", str(profile_file), "--dataset-size", "1000", "--epochs", "1", *args[1:]]
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], preexec_fn=lambda: os.close(2))
    assert result.returncode == 0
    assert ("Recommendation:" if args[0] == "recommend" else "whole job") in result.stdout


@pytest.mark.skipif(not os.path.exists("/proc/self/fd"), reason="needs /proc")
def test_stderr_closed_is_dev_null_for_child_processes():
    # The probe child inherits fd 2 and sends the workload's prints there (stdout may be --json): with stderr
    # closed they went to stdout, into the answer. /dev/null stands in for it, inheritable.
    code = ("import subprocess, sys; from advisor.cli.streams import stand_in_for_closed_stderr; "
            "stand_in_for_closed_stderr(); print(sys.stderr.name, flush=True); "
            "subprocess.run(['readlink', '/proc/self/fd/2'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], preexec_fn=lambda: os.close(2))
    assert result.stdout == f"{os.devnull}\n{os.devnull}\n"


READER_STOPPED = [
    (["--version"], 0),
    (["pricing", "list"], 0),
    (["recommend", "--no-save"], 0),
    (["recommend", "--format", "json"], 0),  # saved: it stays saved, and nothing more is written
    (["recommend", "--no-save", "--deadline", "1s"], 3),  # the answer's own code stands
    (["recommend", "--profile", "no-such.json", "--json"], 1),  # and a user error's
]


@pytest.mark.parametrize(("args", "code"), READER_STOPPED)
def test_a_reader_that_stops_early_is_exit_0(args, code, profile_file, history_url):
    # `advisor ... | head -1`: the reader chose to stop. The pipe's read end is closed before advisor writes, so
    # every write fails as a large answer's did past the pipe's buffer; it was exit 1, the user-error code.
    import advisor

    if args[0] == "recommend" and "--profile" not in args:
        args = [*args[:1], "--profile", str(profile_file), "--dataset-size", "1000", "--epochs", "1", *args[1:]]
    run = "import sys; from advisor.cli.app import main; sys.argv = ['advisor', *sys.argv[1:]]; main()"
    proc = subprocess.Popen([sys.executable, "-c", run, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=Path(__file__).resolve().parents[2])
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait() == code, err
    assert "Traceback" not in err and (err == "") == (code == 0), err
    if "--no-save" not in args and code == 0 and args[0] == "recommend":
        with advisor.History() as hist:
            assert len(hist.list()) == 1


@pytest.mark.parametrize(("home", "shell"), [("a file", "bash"), ("bashrc a folder", "bash"), ("a file", "fish")])
def test_install_completion_on_a_home_it_cannot_write_is_one_message(home, shell, tmp_path):
    # A read-only or odd HOME (CI images, shared machines): typer's --install-completion runs while the arguments
    # are parsed, outside the commands' error handling, and its OSError was a raw traceback.
    if home == "a file":
        (tmp_path / "home").write_text("")
        culprit = tmp_path / "home"
    else:
        (tmp_path / "home" / ".bashrc").mkdir(parents=True)
        culprit = tmp_path / "home" / ".bashrc"
    code = "import sys; from advisor.cli.app import main; sys.argv = ['advisor', *sys.argv[1:]]; main()"
    result = subprocess.run([sys.executable, "-c", code, "--install-completion", shell], capture_output=True,
                            text=True, cwd=Path(__file__).resolve().parents[2],
                            env={**os.environ, "HOME": str(tmp_path / "home"), "SHELL": "/bin/bash",
                                 "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: cannot install shell completion: {culprit}"), result.stderr
    # the shell asked for, again: `--show-completion > FILE` alone printed the script of the shell advisor runs from
    assert result.stderr.count("error:") == 1 and f"`advisor --show-completion {shell} > FILE`" in result.stderr
    assert f"`advisor --install-completion {shell}` with HOME set" in result.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["pricing", "list", "--json"], ["pricing", "list"], ["--version"]])
def test_stdout_on_a_full_disk_is_one_clear_message(args):
    # /dev/full fails every write with ENOSPC, as a full disk does: one message naming standard output and
    # why, not a traceback from the write (a large answer) or from Python's flush at exit (a small one).
    code = "import sys; from advisor.cli.app import main; sys.argv = ['advisor', *sys.argv[1:]]; main()"
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-c", code, *args], stdout=full, stderr=subprocess.PIPE,
                                text=True, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 1, result.stderr
    assert result.stderr == ("error: could not write the answer to standard output (No space left on device).\n"
                             "Fix: free some space where the output goes (or send it elsewhere), then run the "
                             "command again.\n")


CASES_ASCII = [
    (["recommend", "--no-save"], 0, "Recommendation: Rent"),
    # (--format markdown into a pipe or file is UTF-8 whatever the encoding: tests/cli/test_ascii_marks.py)
    (["recommend", "--no-save", "--deadline", "1s"], 3, "Recommendation: (infeasible)"),
    (["predict", "--device", "cpu", "--no-save"], 0, "job"),
    (["history", "list"], 0, "History"),
]


@pytest.mark.parametrize(("args", "code", "shown"), CASES_ASCII)
def test_an_ascii_terminal_gets_the_answer_with_characters_replaced(args, code, shown, profile_file, history_url):
    # A terminal whose encoding cannot hold the answer's dashes and arrows (PYTHONIOENCODING=ascii; a Latin-1
    # locale alike): the answer with those written as ASCII stand-ins, its own exit code, never a UnicodeEncodeError.
    import advisor

    if args[0] != "history":
        args = [*args[:1], "--profile", str(profile_file), "--dataset-size", "1000", "--epochs", "1", *args[1:]]
    else:  # rows to list: a recommendation, and a prediction (its interval has a dash)
        advisor.recommend(profile_file, dataset_size=1000, epochs=1)
        advisor.predict(profile_file, dataset_size=1000, epochs=1, save=True)
    run = "import sys; from advisor.cli.app import main; sys.argv = ['advisor', *sys.argv[1:]]; main()"
    result = subprocess.run([sys.executable, "-c", run, *args], capture_output=True,
                            env={**os.environ, "PYTHONIOENCODING": "ascii", "COLUMNS": "200"},
                            cwd=Path(__file__).resolve().parents[2])
    out, err = result.stdout.decode("ascii"), result.stderr.decode("ascii")
    assert result.returncode == code, err
    assert "Traceback" not in err and shown in out, (out, err)
    assert "-" in out and "\ufffd" not in out  # a dash or an arrow, written as its ASCII stand-in (cli.streams)


def test_standard_output_set_up_keeps_python_unbuffered_mode():
    code = "import sys; from advisor.cli import streams; streams.set_up(); print(sys.stdout.write_through)"
    result = subprocess.run([sys.executable, "-u", "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.stdout == "True\n", result.stderr


@pytest.mark.parametrize("value, shown", [("", False), ("0", False), ("false", False), ("False", False),
                                          ("no", False), ("OFF", False), (" off ", False), ("1", True),
                                          ("true", True), ("yes", True)])
def test_advisor_debug_off_values_keep_the_one_line_message(value, shown, tmp_path):
    """ADVISOR_DEBUG=False, no or off turned tracebacks on (only "", "0" and "false" counted as off)."""
    env = {**os.environ, "ADVISOR_DEBUG": value}
    done = subprocess.run([sys.executable, "-c", "from advisor.cli.app import main; main()", "predict",
                           str(tmp_path / "missing.py"), "--device", "cpu", "--no-save"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1, done.stderr
    assert ("Traceback" in done.stderr) is shown, done.stderr


def test_advisor_debug_keeps_the_json_error_document(tmp_path):
    """ADVISOR_DEBUG=1 dropped --json's error document: stdout was empty, where a pipeline parses it."""
    env = {**os.environ, "ADVISOR_DEBUG": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", "from advisor.cli.app import main; main()", "diff",
                           str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--json"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout) == {"schema_version": 1, "error": {
        "type": "ConfigError", "message": f"Cannot read {tmp_path / 'a.json'}: No such file or directory.",
        "hint": "Fix: pass two files written by `advisor recommend ... --json > FILE`."}}
    assert "Traceback" in done.stderr and "advisor.errors.ConfigError: Cannot read" in done.stderr
