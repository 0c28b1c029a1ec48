"""``--plot`` with hostile user text: control characters in a workload's or an instance's name are drawn the way
the terminal shows them (``\\x1b``), so an SVG stays well-formed XML, and nothing reaches stderr."""

from __future__ import annotations

import json
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.cli.plot import plot_recommendation

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "history"))
from history_helpers import profile  # noqa: E402
from plot_helpers import two_offer_recommendation  # noqa: E402

NAME = "w/[red]nm\x1b[31m $x^2$\n\u202e\ufffe 漢字"
SHOWN = "w/[red]nm\\x1b[31m $x^2$\\x0a\\u202e\\ufffe 漢字"


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_control_characters_are_drawn_escaped_and_nothing_warns(tmp_path, suffix):
    rec = two_offer_recommendation(NAME, "c7i\x1b[2J.")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's "Glyph 27 missing from font(s)" would fail the test
        path = plot_recommendation(rec, tmp_path / f"evil{suffix}")
    assert path.stat().st_size > 5000
    if suffix == ".svg":
        ET.parse(path)  # well-formed XML
        text = path.read_text()
        assert "\x1b" not in text
        # matplotlib writes each text as drawn in a comment: the escaped name, its $...$ not mathtext.
        assert f"{SHOWN}: 1 epoch x 1,000 samples" in text
        assert "chosen: aws c7i\\x1b[2J.1" in text


def test_recommend_from_a_profile_whose_name_holds_an_escape_is_refused_and_plots_nothing(tmp_path, monkeypatch):
    # The profile's name once reached the plot (drawn escaped, tested above on a Recommendation); a profile's
    # name is now checked as --name is (workload.identity), so the command is refused before anything is drawn.
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'history.db'}")
    prof = tmp_path / "profile.json"
    prof.write_text(profile(name="bn\x1b[31m").model_dump_json())
    plot = tmp_path / "bn.svg"
    result = CliRunner().invoke(build_app(), [
        "recommend", "--profile", str(prof), "--dataset-size", "1000", "--epochs", "1", "--batch-size", "16",
        "--providers", "aws", "--plot", str(plot), "--no-save", "--json"])
    assert result.exit_code == 1 and "\x1b" not in result.output
    error = json.loads(result.stdout)["error"]
    assert error["message"] == (f"{prof}: workload.name: a workload's name must not hold a control character (a tab, "
                                "a newline, an escape...): 'bn\\x1b[31m'.")
    assert not plot.exists()
