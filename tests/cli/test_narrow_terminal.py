"""Tables on a narrow terminal (80 columns, a default terminal or a split pane; 60): a number is never broken
across lines (``$0.0032`` shown as ``$0.00`` over ``32`` read as another price), a name never cut to an
ellipsis; columns left out say so. Piped output (160 columns) keeps its layout (tests/cli/test_answer.py)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from advisor.cli import answer, render
from advisor.units import format_duration, format_usd

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


def _json(app, *args) -> dict:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _at_width(app, monkeypatch, width: int, *args) -> str:
    """What ``advisor ARGS`` prints on a terminal ``width`` columns wide."""
    buf = io.StringIO()

    def console() -> Console:
        return Console(file=buf, width=width, soft_wrap=False, highlight=False, emoji=False, color_system=None)

    monkeypatch.setattr(answer, "out", console)
    monkeypatch.setattr(render, "out", console)
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    text = buf.getvalue()
    assert max(len(line) for line in text.splitlines()) <= width
    return text


def _whole(shown: str, text: str) -> bool:
    """``shown`` on one line of ``text``: a table cell's or a paragraph's, not broken across two."""
    return any(shown in line for line in text.splitlines())


@pytest.mark.parametrize("width", [80, 60])
def test_recommend_table_keeps_every_cost_and_time_whole(app, monkeypatch, width):
    args = ["recommend", "--profile", str(PROFILE), "--no-save", "--top", "3"]
    rec = _json(app, *args)
    text = _at_width(app, monkeypatch, width, *args)
    for group in rec["groups"][:3]:
        c = group["best"]
        for shown in (format_usd(c["cost_usd"]), format_duration(c["total_seconds"]),
                      f"({format_duration(c['total_low'])}–{format_duration(c['total_high'])})"):
            assert _whole(shown, text), (shown, text)
        if width == 80:  # room for the names as they are
            assert _whole(c["instance_type"], text), (c["instance_type"], text)
    assert "…" not in text
    assert f"terminal too narrow ({width} columns)" in text and "--json" in text


@pytest.mark.parametrize("width", [80, 60])
def test_recommend_table_never_breaks_a_gpu_name(app, monkeypatch, width):
    # README: "nor a GPU name broken over two lines"; at 80 columns "V100-16GB" printed as "V100-16G" over "B" and
    # "RTX-3060-Ti" as "RTX-3060" over "-Ti" (a reader sees a V100-16G, an RTX-3060) where the instance column took
    # the spare width first
    args = ["recommend", "--profile", str(PROFILE), "--no-save", "--top", "10"]
    gpus = {g["best"]["gpu"] for g in _json(app, *args)["groups"][:10] if g["best"]["gpu"]}
    assert len(gpus) >= 2, gpus
    text = _at_width(app, monkeypatch, width, *args)
    for gpu in gpus:
        assert _whole(gpu, text), (gpu, text)


@pytest.mark.parametrize("width", [80, 60])
def test_predict_grid_keeps_every_cost_and_time_whole(app, monkeypatch, width):
    args = ["predict", "--profile", str(PROFILE), "--gpu", "H100", "--gpus", "1,2,4,8", "--no-save"]
    grid = _json(app, *args)
    text = _at_width(app, monkeypatch, width, *args)
    for row in grid["rows"]:
        e = row["estimate"]
        total = grid["startup_seconds"] + e["seconds"]
        for shown in (format_usd(row["cost_usd"]), format_duration(total)):
            assert _whole(shown, text), (shown, text)
    assert "…" not in text and "terminal too narrow" in text


def test_pricing_list_at_80_columns_names_every_instance_in_full(app, monkeypatch):
    offers = _json(app, "pricing", "list", "--gpu", "H100")
    offers = offers["offers"] if isinstance(offers, dict) else offers
    text = _at_width(app, monkeypatch, 80, "pricing", "list", "--gpu", "H100")
    assert "…" not in text  # it was `1x-H…`, `H100…`, `2026…` in every row
    names: list[str] = []
    for line in text.splitlines():  # the instance cell of each row, its folded lines put together again
        cells = [cell.strip() for cell in line.split("│")]
        if len(cells) > 3:
            names += [cells[2]] if cells[1] else []
            names[-1] += "" if cells[1] else cells[2]
    assert names == [o["instance_type"] for o in offers]
    for o in offers:
        assert _whole(format_usd(o["price_usd_per_hour"], rate=True), text)


def test_a_table_that_fits_is_printed_as_before(app, monkeypatch):
    # 160 columns, as piped: no column left out, nothing said
    text = _at_width(app, monkeypatch, 160, "recommend", "--profile", str(PROFILE), "--no-save", "--top", "3")
    assert "terminal too narrow" not in text and "vs the choice" in text


@pytest.mark.parametrize("args", [
    ["recommend", "--profile", str(PROFILE), "--no-save", "--top", "5"],
    ["predict", "--profile", str(PROFILE), "--gpu", "H100", "--gpus", "1,2,4,8", "--no-save"],
])
def test_a_wide_terminal_that_rich_would_break_numbers_on_is_fitted_too(app, monkeypatch, args):
    # At 120 columns rich's own layout broke "(2m28s–3m33s)" and "e2-standard-2" over two lines; the fitting
    # measured that layout at the full width, borders included, and so took it as fitting.
    data = _json(app, *args)
    text = _at_width(app, monkeypatch, 120, *args)
    if "groups" in data:
        shown = [s for g in data["groups"][:5] for c in (g["best"],) for s in (
            format_usd(c["cost_usd"]), f"({format_duration(c['total_low'])}–{format_duration(c['total_high'])})",
            c["instance_type"])]
    else:
        start = data["startup_seconds"]
        shown = [f"({format_duration(start + r['estimate']['low'])}–{format_duration(start + r['estimate']['high'])})"
                 for r in data["rows"]]
    for s in shown:
        assert _whole(s, text), (s, text)


def _at_columns_60(monkeypatch) -> io.StringIO:
    """The answer's console on a terminal of COLUMNS=60 (rich reads the width from the environment)."""
    buf = io.StringIO()
    monkeypatch.setenv("COLUMNS", "60")
    console = lambda: Console(file=buf, soft_wrap=False, highlight=False, emoji=False, color_system=None)  # noqa: E731
    monkeypatch.setattr(answer, "out", console)
    monkeypatch.setattr(render, "out", console)
    return buf


def test_diff_at_60_columns_keeps_names_and_figures_whole(app, monkeypatch, tmp_path):
    # rich folded the old and new sides anywhere: "e2-standa" over "rd-2),", "RTX-3060-" over "Ti".
    base = ["recommend", "--profile", str(PROFILE), "--no-save"]
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(CliRunner().invoke(app, [*base, "--json"]).stdout)
    new.write_text(CliRunner().invoke(app, [*base, "--json", "--startup-cpu", "30s", "--startup-gpu", "30s"]).stdout)
    data = _json(app, "diff", str(old), str(new))
    buf = _at_columns_60(monkeypatch)
    assert CliRunner().invoke(app, ["diff", str(old), str(new)]).exit_code == 0
    text = buf.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 60
    for row in data["rows"]:
        for side in (row["old"], row["new"]):
            for shown in (side["instance_type"], format_duration(side["total_seconds"]),
                          format_usd(side["cost_usd"])):
                assert _whole(shown, text), (shown, text)
    assert "terminal too narrow (60 columns)" in text and "…" not in text


def test_skipped_offers_at_60_columns_keep_every_word_whole(monkeypatch):
    # rich folded "profiles/gpus.csv" as "profiles/gpus" over ".csv" (the why) and "profiles/gpus." over "csv."
    from advisor.schemas.results import Skipped

    skipped = [
        Skipped(target="1 x RTX-PRO-6000", count=12,
                reason="RTX-PRO-6000 in 16-bit: profiles/gpus.csv has no FP16/BF16 tensor figure for it.",
                fix="Fix: add the datasheet figure with its source to profiles/gpus.csv."),
        Skipped(target="8 x A100-80GB, 8 x H100-SXM", count=36,
                reason="batch size 4 cannot be split over 8 GPUs: each GPU needs at least one sample per step.",
                fix="Fix: a --batch-size of 8 or more, or at most 4 GPUs (predict's --gpus)."),
    ]
    buf = _at_columns_60(monkeypatch)
    answer.skipped_table(skipped)
    text = buf.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 60
    assert text.startswith("48 offers skipped: no estimate")
    for s in skipped:
        for word in f"{s.target} {s.reason} {s.fix}".split():
            assert _whole(word, text), (word, text)
        assert _whole(f"offers: {s.count}", text) or _whole(f"│ {s.count} │", text), text


def test_the_spot_column_s_note_goes_with_the_column(app, monkeypatch):
    # At 80 columns "note: spot column: interruptible ..." followed the note that the spot column was left out
    args = ["recommend", "--profile", str(PROFILE), "--no-save", "--top", "3"]
    assert any(n.startswith("spot column:") for n in _json(app, *args)["notes"])
    wide = _at_width(app, monkeypatch, 200, *args)
    assert "note: spot column: interruptible" in wide
    narrow = _at_width(app, monkeypatch, 80, *args)
    assert "spot" in narrow.split("terminal too narrow (80 columns):")[1].split("left out")[0]
    assert "spot column:" not in narrow
