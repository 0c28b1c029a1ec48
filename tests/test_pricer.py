"""The batch-size what-if ("Could be better: with --batch-size 32 ..."): it keeps the samples per optimizer update
where it can (twice the batch, half the accumulation), and where it cannot it says that it changes the
optimisation; either way its flags, passed back, give the very machine and figures it showed (audit "intervals",
defect 10)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.schemas import JobSpec
from advisor.units import format_duration, format_usd

PROFILE = Path(__file__).resolve().parent / "hostile" / "data" / "tabular_profile.json"
CHANGES = "which changes the optimisation: the learning rate may need retuning"


def test_the_what_if_halves_an_even_accumulation_and_keeps_an_odd_one():
    from advisor.pricer import batch_what_if

    label, job = batch_what_if(JobSpec(100_000, 1, 8, grad_accum_steps=8))
    assert label == "--batch-size 16 --grad-accum-steps 4" and (job.batch_size, job.grad_accum_steps) == (16, 4)
    label, job = batch_what_if(JobSpec(100_000, 1, 8, grad_accum_steps=3))
    assert label == "--batch-size 16" and (job.batch_size, job.grad_accum_steps) == (16, 3)


@pytest.mark.parametrize(("precision", "labels"), [
    (None, ["--precision bf16", "--batch-size 32"]), ("fp32", ["--precision bf16", "--batch-size 32"]),
    ("bf16", ["--batch-size 32"]), ("fp16", ["--batch-size 32"])])
def test_the_mixed_precision_what_if_is_offered_to_a_job_not_already_16_bit(precision, labels):
    from advisor.api import load_profile
    from advisor.pricer import Pricer, what_ifs

    prof = load_profile(PROFILE)
    job = JobSpec(100_000, 1, 16)
    assert list(what_ifs(prof, job, precision, Pricer(prof, [], None), None, None)) == labels


@pytest.mark.parametrize("accum", [1, 2])
def test_the_batch_what_if_says_what_it_does_to_an_update_and_its_flags_reproduce_it(accum):
    app, runner = build_app(), CliRunner()
    common = ["recommend", "--profile", str(PROFILE), "--dataset-size", "200000", "--epochs", "3", "--batch-size",
              "16", "--grad-accum-steps", str(accum), "--providers", "gcp", "--no-save", "--json"]
    first = runner.invoke(app, common)
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    (line,) = [a for a in data["advice"] if a.startswith("with --batch-size")]
    assert data["verdict"]["could_be_better"] == data["advice"]
    label = line[len("with "):line.index(": ")]
    if accum == 2:  # 16 x 2 = 32 samples per update, as 32 x 1
        assert label == "--batch-size 32 --grad-accum-steps 1" and "optimisation" not in line
    else:
        assert label == "--batch-size 32" and line.endswith(f"(16 -> 32), {CHANGES}")
    again = runner.invoke(app, [*common, *shlex.split(label)])
    assert again.exit_code == 0, again.output
    rerun = json.loads(again.stdout)
    chosen = rerun["chosen"]
    assert rerun["batch_size"] * rerun["grad_accum_steps"] == (32 if accum == 1 else 16 * accum)
    shown = (f"({chosen['provider']} {chosen['instance_type']}), {format_duration(chosen['total_seconds'])} total, "
             f"{format_usd(chosen['cost_usd'])} instead of")
    assert shown in line, (shown, line)
