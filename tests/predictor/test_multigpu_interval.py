"""The K-GPU interval widens with the share of the step that is communication, as the bench's error does, and
more above the estimate than below, as that error is one-sided."""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench_scripts import bench_modules
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.predictor.gpu_job import data_parallel_rel_sigmas
from advisor.predictor.job import Z80

GPT2 = Path(__file__).resolve().parent / "data" / "h200_nanogpt_gpt2_bf16_profile.json"


def test_each_end_of_the_80_percent_interval_misses_at_most_10_percent_of_the_bench_rows():
    """bench/accuracy_multigpu.py's reference rows (outliers excluded): the real K-GPU step is seldom faster than
    predicted and often much slower, so each end is judged on its own side. The symmetric sigma of before had no row
    below its low end and 20 of 187 above its high end, 9 of the 53 at K = 8 (17%)."""
    (bench,) = bench_modules("accuracy_multigpu")
    rows = [r for r in bench.evaluate(bench.load_rows())[0] if not r["outlier"]]

    def missed(group: list[dict]) -> tuple[float, float]:
        """(share of the rows faster than the low end, share slower than the high end)."""
        faster = slower = 0
        for r in group:
            error = math.log(r["predicted_eff"] / r["measured_eff"])  # + = the real step slower
            low, high = data_parallel_rel_sigmas(r["predicted_eff"], r["k"])
            faster += error < -Z80 * low
            slower += error > Z80 * high
        return faster / len(group), slower / len(group)

    assert len(rows) == 187
    groups = {
        "all": rows,
        **{f"K = {k}": [r for r in rows if r["k"] == k] for k in (2, 4, 8)},
        "PCIe without P2P": [r for r in rows if r["link"] == "pcie" and not r["p2p"]],
        "share over 0.2": [r for r in rows if r["predicted_eff"] < 0.8],
    }
    for name, group in groups.items():
        faster, slower = missed(group)
        assert faster <= 0.10 and slower <= 0.10, (name, faster, slower)
    assert missed(rows) == (2 / 187, 14 / 187)
    assert data_parallel_rel_sigmas(1.0, 2) == (0.0, 0.11)
    assert data_parallel_rel_sigmas(0.5, 8) == (0.375, math.hypot(0.22, 0.375))
    assert data_parallel_rel_sigmas(0.5, 64) == data_parallel_rel_sigmas(0.5, 8)  # no row past 8 GPUs


def test_eight_h100s_read_further_above_their_estimate_than_below():
    """8 x H100 (NVLink) for GPT-2: the interval is wider above the estimate than below (it was the same
    factor either way), as the bench's K = 8 rows are: p10 of the log error -0.04, p90 +0.31."""
    result = CliRunner().invoke(build_app(), [
        "predict", "--profile", str(GPT2), "--gpu", "H100", "--gpus", "8", "--dataset-size", "200000",
        "--epochs", "1", "--batch-size", "64", "--no-save", "--json"])
    assert result.exit_code == 0, result.output
    est = json.loads(result.stdout)
    assert est["target"]["count"] == 8 and est["scaling_efficiency"] > 0.9
    assert est["low"] < est["seconds"] < est["high"]
    assert est["high"] / est["seconds"] > 1.05 * est["seconds"] / est["low"]


def test_eight_l4s_without_p2p_have_a_wider_interval_than_one():
    """8 x L4 without peer-to-peer at batch 16, 35% efficient (the rest of the step communication): its interval
    was barely wider than one GPU's (-24%/+32%); now its ends are about half and twice its time."""
    result = CliRunner().invoke(build_app(), [
        "predict", "--profile", str(GPT2), "--gpu", "L4", "--gpus", "1,8", "--no-p2p", "--dataset-size", "20000",
        "--epochs", "1", "--batch-size", "16", "--grad-accum-steps", "1", "--no-save", "--json"])
    assert result.exit_code == 0, result.output
    one, eight = (r["estimate"] for r in json.loads(result.stdout)["rows"])
    eff = eight["scaling_efficiency"]
    assert eff < 0.5
    assert one["high"] / one["seconds"] < 1.4
    assert eight["high"] / eight["seconds"] > one["high"] / one["seconds"] + 0.3
    assert eight["seconds"] / eight["low"] > one["seconds"] / one["low"] + 0.3
