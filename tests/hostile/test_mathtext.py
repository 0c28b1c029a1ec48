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
from plot_helpers import two_offer_recommendation  # noqa: E402

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

    rec = two_offer_recommendation("$a$", "$\\frac{$ ")
    svg = plot_recommendation(rec, tmp_path / "c.svg").read_text()
    assert "$\\frac{$ 1" in svg and "$a$" in svg
