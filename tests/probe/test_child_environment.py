"""The probe's child gets the user's environment less advisor's own credentials (``ADVISOR_SECRETS``): the
workload was handed the history's URL and the service's tokens, and wrote rows into the history under
--no-save. It still runs as the user (README "Security model"): their other variables, AWS_* among them, stay."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from advisor.probe import run_profile

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux")

SET = {"ADVISOR_DATABASE_URL": "postgresql://advisor:hunter2@db.internal/advisor",
       "ADVISOR_API_TOKEN": "tok-client-0123456789", "ADVISOR_API_TOKENS": "tok1-0123456789abcdef",
       "AWS_SECRET_ACCESS_KEY": "the-users-own", "ADVISOR_PROBE_PRIORITY": "normal"}


def _seen(out: Path) -> dict:
    return {k: v for k, v in json.loads(out.read_text()).items() if k in SET}


def test_a_file_workload_sees_the_users_variables_but_not_advisors_credentials(tmp_path, monkeypatch):
    for name, value in SET.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "env.json"
    path = tmp_path / "envy.py"
    path.write_text(textwrap.dedent(f"""
        import json, os
        import torch
        from torch import nn
        json.dump(dict(os.environ), open({str(out)!r}, "w"))

        def build_model():
            return nn.Linear(16, 4)

        def make_batch(batch_size):
            return torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,))
        """))
    run_profile(path, batch_size=8, probe_seconds=0.5, threads=1, analyze=False, thread_scaling=False,
                timeout_seconds=60)
    assert _seen(out) == {"AWS_SECRET_ACCESS_KEY": "the-users-own", "ADVISOR_PROBE_PRIORITY": "normal"}
    assert all(name in __import__("os").environ for name in SET)  # advisor's own process keeps them


def test_a_forked_child_drops_them_too(tmp_path, monkeypatch):
    import os

    import torch
    from torch import nn

    from advisor.workload import Workload

    for name, value in SET.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "env.json"

    def build_model():  # a closure: it does not pickle, so the probe forks this process
        out.write_text(json.dumps(dict(os.environ)))
        return nn.Linear(16, 4)

    workload = Workload(model=build_model, make_batch=lambda b: (torch.randn(b, 16), torch.randint(0, 4, (b,))))
    run_profile(workload, batch_size=8, probe_seconds=0.5, threads=1, analyze=False, thread_scaling=False,
                timeout_seconds=60)
    assert _seen(out) == {"AWS_SECRET_ACCESS_KEY": "the-users-own", "ADVISOR_PROBE_PRIORITY": "normal"}
    assert os.environ["ADVISOR_API_TOKEN"] == SET["ADVISOR_API_TOKEN"]
