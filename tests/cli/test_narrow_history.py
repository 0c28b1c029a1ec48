"""The history's tables, the probe's and ``hardware``'s on a narrow terminal (80 columns, a default terminal; 60):
rich cut them to an ellipsis, a cost of $0.0023 shown as ``$0.00…``, an interval as ``(0.9s–…``, an instance as
``e2-st…``, and broke GPU names (``V100-16`` over ``GB``). They are fitted as recommend's table is
(``advisor.cli.fit``): numbers and names whole, the least useful columns left out with a note."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from advisor.cli import accuracy_render, render
from advisor.schemas import Profile
from advisor.units import format_duration, format_span, format_usd

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
JOB = ["--dataset-size", "20000", "--epochs", "1", "--batch-size", "64"]


def _run(app, *args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _at_width(monkeypatch, width: int) -> io.StringIO:
    buf = io.StringIO()

    def console() -> Console:
        return Console(file=buf, width=width, soft_wrap=False, highlight=False, emoji=False, color_system=None)

    monkeypatch.setattr(render, "out", console)
    monkeypatch.setattr(accuracy_render, "out", console)
    return buf


def _whole(shown: str, text: str) -> bool:
    return any(shown in line for line in text.splitlines())


def _check(text: str, width: int, shown: list[str]) -> None:
    assert max(len(line) for line in text.splitlines()) <= width, text
    assert "…" not in text, text
    for s in shown:
        assert _whole(s, text), (s, text)


@pytest.fixture
def stored(app) -> dict:
    """A recommendation with a recorded run and a saved prediction; what `history list --json` says of them."""
    _run(app, "recommend", "--profile", str(PROFILE), *JOB)
    _run(app, "predict", "--profile", str(PROFILE), *JOB, "--gpu", "A100-80GB", "--gpus", "8")
    _run(app, "history", "record", "1", "--actual-seconds", "3")
    return json.loads(_run(app, "history", "list", "--json"))


@pytest.mark.parametrize("width", [80, 60])
def test_history_list_keeps_costs_times_and_names_whole(app, monkeypatch, stored, width):
    entry, pred = stored["entries"][0], stored["predictions"][0]
    buf = _at_width(monkeypatch, width)
    _run(app, "history", "list")
    text = buf.getvalue()
    _check(text, width, [format_usd(entry["ranked_cost_usd"]), format_duration(entry["predicted_seconds"]),
                         f"({format_span(entry['low'], entry['high'], entry['predicted_seconds'])})",
                         entry["instance_type"], format_duration(entry["actual_seconds"]),
                         f"({format_span(pred['low'], pred['high'], pred['seconds'])})", "A100-80GB"])
    assert f"terminal too narrow ({width} columns)" in " ".join(text.split()) and "--json" in text


def test_history_compare_at_80_columns_keeps_the_interval_and_instance_whole(app, monkeypatch, stored):
    row = json.loads(_run(app, "history", "compare", "--json"))["rows"][0]
    buf = _at_width(monkeypatch, 80)
    _run(app, "history", "compare")
    text = buf.getvalue()
    _check(text, 80, [f"({format_span(row['low'], row['high'], row['predicted_seconds'])})",
                      row["instance_type"], f"{row['error_pct']:+.1f}%"])
    assert "error = (predicted - actual) / actual" in text  # the sign, said under the tables as before


def test_hardware_at_80_columns_keeps_every_gpu_name_and_figure_whole(app, monkeypatch):
    known = json.loads(_run(app, "hardware", "--json"))["known"]["gpus"]
    buf = _at_width(monkeypatch, 80)
    _run(app, "hardware")
    text = buf.getvalue()
    _check(text, 80, [s for g in known for s in (g["name"], f"{g['memory_gib']:g} GiB")])
    assert "aliases left out" in " ".join(text.split())


def test_probe_table_at_60_columns_keeps_every_figure_whole(monkeypatch):
    prof = Profile.model_validate_json(PROFILE.read_text(encoding="utf-8"))
    buf = _at_width(monkeypatch, 60)
    render.profile_summary(prof)
    text = buf.getvalue()
    ms = prof.devices[0].measurements
    _check(text, 60, [f"{m.batch_size / m.compute_seconds:,.0f}" for m in ms]
           + [f"{m.compute_seconds * 1000:.2f} ms" for m in ms] + [f"{m.spread:.1%}" for m in ms])
    assert "Probe measurements" in text and "batch creation, peak memory left out" in " ".join(text.split())


def test_one_recorded_run_is_said_in_the_singular(app, stored):
    # "Predicted vs actual (1 runs)" and "Aggregated over all 1 runs"
    text = _run(app, "history", "compare")
    titles = [line.strip() for line in text.splitlines()]
    assert "Predicted vs actual (1 run)" in titles and "Aggregated over the 1 run" in titles and "1 runs" not in text


def test_history_show_outcomes_at_60_columns_keep_the_instance_whole(app, monkeypatch, stored):
    # rich folded it: "e2-standa" over "rd-2"
    entry = stored["entries"][0]
    buf = _at_width(monkeypatch, 60)
    monkeypatch.setattr("advisor.cli.answer.out", render.out)  # the stored answer above the outcomes, fitted too
    _run(app, "history", "show", "1")
    outcomes = buf.getvalue().split("\nOutcomes")[1]
    _check(outcomes, 60, [f"│ {entry['outcome_instance_type']} ", format_duration(entry["actual_seconds"]),
                          "completed"])
    assert "recorded (UTC) left out" in " ".join(outcomes.split())
