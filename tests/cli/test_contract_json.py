"""The ``--json`` contract a pipeline reads: an infeasible answer describes the job that was ranked, an answer
that cannot be written says what was saved, flags that do not apply are refused, and read-only commands create
nothing."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from advisor.cli.app import build_app

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
JOB = ["--profile", str(PROFILE), "--dataset-size", "20000", "--epochs", "2"]
STEPS = ["--compile", "--grad-accum-steps", "4", "--eval-every", "10", "--eval-steps", "5"]


def _run(*args: str, code: int = 0):
    result = CliRunner().invoke(build_app(), list(args))
    assert result.exit_code == code, result.output
    return result


def test_an_infeasible_recommendation_carries_the_jobs_steps_so_diff_sees_no_change(tmp_path):
    # It gave the schema's defaults (compiled false, grad_accum_steps 1, eval_every null, eval_steps 0), and
    # `advisor diff` against the feasible run said "how the job steps changed: compile True -> False; ...".
    ok = json.loads(_run("recommend", *JOB, *STEPS, "--json", "--no-save").stdout)
    miss = json.loads(_run("recommend", *JOB, *STEPS, "--budget", "0.00001", "--json", "--no-save", code=3).stdout)
    assert miss["status"] == "infeasible"
    for doc in (ok, miss):
        assert (doc["compiled"], doc["grad_accum_steps"], doc["eval_every"], doc["eval_steps"]) == (True, 4, 10, 5)
    assert "CPU instances run the job as probed" in miss["verdict"]["assumptions"]
    (tmp_path / "ok.json").write_text(json.dumps(ok))
    (tmp_path / "miss.json").write_text(json.dumps(miss))
    diff = _run("diff", str(tmp_path / "ok.json"), str(tmp_path / "miss.json"), "--json")
    assert "how the job steps changed" not in diff.stdout
