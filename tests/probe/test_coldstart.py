"""The probe's start-up figure (advisor.probe.coldstart): the formula, and that the first-use imports a fresh
job pays are counted although the analysis pays them before anything is timed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from advisor.probe.coldstart import startup_seconds


def test_a_cpu_counts_the_larger_of_build_and_cold_check_plus_first_use_and_excess():
    assert startup_seconds(False, 0.2, 0.5, 0.9, 0.1) == pytest.approx(0.5 + 0.9 + 0.1)
    assert startup_seconds(False, 0.7, 0.5, 0.9) == pytest.approx(0.7 + 0.9)


def test_a_gpu_counts_its_own_build_not_the_cpu_checks_step():
    # The check's cold step ran on the CPU (seconds for a large model); a GPU job never pays it.
    assert startup_seconds(True, 0.4, 3.0, 3.5, 0.2) == pytest.approx(0.4 + 3.5 + 0.2)


def test_a_first_step_faster_than_steady_adds_nothing():
    assert startup_seconds(True, 0.4, 0.0, 1.0, -0.3) == pytest.approx(1.4)


FRESH = textwrap.dedent("""
    import json, time
    from advisor.probe.coldstart import first_use_seconds
    first = first_use_seconds()
    print(json.dumps([first, first_use_seconds()]))
""")


def test_first_use_is_paid_once_per_process():
    first, again = json.loads(subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True,
                                             check=True).stdout)
    # torch imports torch._dynamo on a process's first optimizer (about 1 s on the development VM).
    assert first > 0.1 and again < first / 5
