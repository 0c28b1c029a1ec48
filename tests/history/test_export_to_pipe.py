"""`history export -o /dev/stdout` with standard output a pipe, as in `... | jq` or `... | cat`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from history_helpers import profile, recommendation

from advisor.history.repository import History

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not os.path.exists("/proc/self/fd"), reason="needs /proc")
@pytest.mark.parametrize("target", ["/dev/stdout", "/dev/stderr"])
def test_export_to_a_standard_stream_that_is_a_pipe(tmp_path, target):
    # /dev/stdout -> /proc/self/fd/1 -> "pipe:[N]": it was written as a temporary file beside that name, which
    # does not exist: "could not write it (No such file or directory)".
    url = f"sqlite:///{tmp_path / 'h.db'}"
    with History(url) as hist:
        hist.save_recommendation(recommendation("piped"), profile=profile("piped"))
    code = "import sys; from advisor.cli.app import main; sys.argv = ['advisor', *sys.argv[1:]]; main()"
    result = subprocess.run([sys.executable, "-c", code, "history", "export", "--format", "csv", "-o", target],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "ADVISOR_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    written = result.stdout if target == "/dev/stdout" else result.stderr
    lines = written.splitlines()
    assert lines[0].startswith("recommendation_id,created_at,workload,")
    assert len(lines) == 2 and ",piped," in lines[1] and ",g5.xlarge," in lines[1]
