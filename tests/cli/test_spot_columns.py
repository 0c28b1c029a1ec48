"""Under --spot the ranking, the verdict and "vs the choice" use each row's spot cost: the table heads its price
columns "on-demand" and "spot (ranked)" (text and markdown), where it headed the on-demand one "cost", so that a
row cheaper in that column read "1.5x the cost" of the chosen one; a narrow terminal leaves the on-demand one out
first. Without --spot the headers stay "cost" and "spot"."""

from __future__ import annotations

import io

from rich.console import Console

from advisor.cli import answer
from tests.cli.cli_helpers import run
from tests.cli.test_narrow_terminal import PROFILE

BASE = ["recommend", "--profile", str(PROFILE), "--no-save", "--top", "5", "--providers", "aws,gcp,azure"]


def _header(text: str) -> list[str]:
    line = next(line for line in text.splitlines() if "provider" in line and "┃" in line)
    return [cell.strip() for cell in line.split("┃") if cell.strip()]


def test_spot_heads_the_columns_by_what_they_are(app):
    spot = run(app, *BASE, "--spot")
    assert spot.exit_code == 0, spot.output
    assert _header(spot.stdout)[6:8] == ["on-demand", "spot (ranked)"]
    assert "the table's 'spot (ranked)' column" in " ".join(spot.stdout.split())
    md = run(app, *BASE, "--spot", "--format", "markdown").stdout
    assert "| job | on-demand | spot (ranked) | similar |" in md
    plain = run(app, *BASE)
    assert _header(plain.stdout)[6:8] == ["cost", "spot"]
    assert "| job | cost | spot | similar |" in run(app, *BASE, "--format", "markdown").stdout


def test_a_narrow_terminal_keeps_the_ranked_price(app, monkeypatch):
    buf = io.StringIO()

    def console() -> Console:
        return Console(file=buf, width=80, soft_wrap=False, highlight=False, emoji=False, color_system=None)

    monkeypatch.setattr(answer, "out", console)
    result = run(app, *BASE, "--spot")
    assert result.exit_code == 0, result.output
    text = buf.getvalue()
    assert "(ranked)" in text  # its header folds over two lines there
    note = next(line for line in text.splitlines() if "terminal too narrow" in line)
    assert "on-demand" in note and "spot (ranked)" not in note
