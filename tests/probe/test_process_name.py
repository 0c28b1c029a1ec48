"""The probe's child names itself ``advisor-probe`` (``advisor.processes``): forked from a Python caller it had the
caller's name and command line ("python3 train_pipeline.py"), so neither ``ps -e`` nor another probe's naming of the
busiest process (``advisor.probe.contention``) could tell it was a probe."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from advisor.probe.contention import _process_name
from advisor.probe.runner import run_profile
from advisor.workload import Workload

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_NAME): Linux")


class Proc:
    """A process as ``busiest_other_process`` lists it: its command line, and its name in ``info``."""

    def __init__(self, name: str, *cmdline: str) -> None:
        self._cmdline, self.info = list(cmdline), {"name": name, "pid": 1}

    def cmdline(self) -> list[str]:
        return self._cmdline


def test_advisors_processes_are_named_as_advisors_by_their_names():
    assert _process_name(Proc("advisor-probe", "/usr/bin/python3", "pipeline.py")) == "another advisor probe"
    spawned = ("/venv/bin/python3", "-B", "-c", "from multiprocessing.spawn import spawn_main; spawn_main()")
    assert _process_name(Proc("advisor-serve", *spawned)) == "another advisor command"
    assert _process_name(Proc("python3", *spawned)) == "python3"  # anyone else's spawned worker

    from advisor.processes import name_this_process

    assert name_this_process("x" * 16) is False  # longer than the kernel keeps: refused, not cut


@linux
@pytest.mark.slow
@pytest.mark.parametrize("forked", [False, True], ids=["fresh", "forked"])
def test_the_probe_child_is_named_advisor_probe(tmp_path, forked):
    import torch

    seen = tmp_path / "comm.txt"
    if forked:  # lambdas do not pickle: probed in a fork of this process
        def build():
            seen.write_text(open("/proc/self/comm").read())
            return torch.nn.Linear(4, 2)

        source = Workload(model=lambda: build(), make_batch=lambda b: (torch.randn(b, 4), torch.randn(b, 2)))
    else:
        source = tmp_path / "named.py"
        source.write_text(textwrap.dedent(f'''
            import torch
            def build_model():
                open({str(seen)!r}, "w").write(open("/proc/self/comm").read())
                return torch.nn.Linear(4, 2)
            def make_batch(b):
                return torch.randn(b, 4), torch.randn(b, 2)
            '''))
    run_profile(source, devices=["cpu"], batch_size=8, probe_seconds=1, analyze=False)
    assert seen.read_text() == "advisor-probe\n"


@linux
def test_a_named_process_is_listed_by_its_name(tmp_path):
    code = "from advisor.processes import name_this_process as n; import time; assert n('advisor-serve'); " \
           "print('ready', flush=True); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        assert open(f"/proc/{proc.pid}/comm").read() == "advisor-serve\n"
        found = subprocess.run(["pgrep", "-x", "advisor-serve"], capture_output=True, text=True).stdout.split()
        assert str(proc.pid) in found
    finally:
        proc.kill()
        proc.wait()


def test_a_python_without_ctypes_keeps_its_name_and_goes_on(monkeypatch):
    """A Python built without libffi has no ctypes: naming raised ModuleNotFoundError, which ended every
    `advisor serve --workers N` worker as it started (a server needs no torch, so such a Python served before)."""
    from advisor.processes import SERVER_PROCESS_NAME, name_this_process

    monkeypatch.setitem(sys.modules, "ctypes", None)  # `import ctypes` then raises, as without _ctypes
    assert name_this_process(SERVER_PROCESS_NAME) is False
