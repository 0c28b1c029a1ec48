"""``--plot`` with ``$`` in user text: matplotlib must draw a workload's (or an instance's) name as it is,
never parse it as mathtext (an unbalanced ``$\\frac{$`` made savefig raise, a balanced one drew math)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "history"))
from history_helpers import profile  # noqa: E402

NAMES = ["$\\frac{$ broken", "$x^2$ and $y$", "price $5 $"]


@pytest.mark.parametrize("name", NAMES)
def test_recommend_plot_with_a_dollar_workload_name(tmp_path, monkeypatch, name):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'history.db'}")
    prof = tmp_path / "profile.json"
    prof.write_text(profile(name=name).model_dump_json())
    plot = tmp_path / "choice.svg"
    result = CliRunner().invoke(build_app(), [
        "recommend", "--profile", str(prof), "--dataset-size", "1000", "--epochs", "1", "--batch-size", "16",
        "--providers", "aws", "--plot", str(plot), "--no-save", "--json"])
    assert result.exit_code == 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    svg = plot.read_text()
    assert name in svg  # matplotlib writes each text, as drawn, in a comment


def test_plot_with_dollars_in_catalog_text(tmp_path):
    from advisor.cli.plot import plot_recommendation
    from advisor.predictor.targets import offer_target
    from advisor.ranking import rank
    from advisor.schemas import Constraints, Estimate, Offer, WorkloadSummary

    offers = [Offer(provider="aws", instance_type=f"$\\frac{{$ {n}x", region="r", vcpus=4 * n, memory_gib=8.0 * n,
                    price_usd_per_hour=0.2 * n) for n in (1, 2)]
    priced = []
    for o in offers:
        t = offer_target(o, lambda p, i: (None, 2))
        s = 4000.0 / t.threads
        priced.append((o, Estimate(target=t, dataset_size=1000, epochs=1, batch_size=64, seconds=s, low=0.8 * s,
                                   high=1.25 * s, step_seconds=1.0, steps_per_epoch=16, total_steps=16,
                                   fits_memory=True, per_device_batch_size=64, method="scaled",
                                   precision="fp32")))
    rec = rank(priced, Constraints(), workload=WorkloadSummary(name="$a$"), dataset_size=1000, epochs=1,
               batch_size=64, startup_seconds_cpu=120, startup_seconds_gpu=300)
    svg = plot_recommendation(rec, tmp_path / "c.svg").read_text()
    assert "$\\frac{$ 1x" in svg and "$a$" in svg
