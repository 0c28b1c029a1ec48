"""What ``predict`` prints of an estimate: figures to the precision the estimate has, one style per column and per
interval (the reader audit: "49333.7 ms" of a step never timed, "2d15h (47h35m–3d11h)", "2x" beside "1.9x",
"$0.526" over "$2.92"). JSON keeps the unrounded numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cli_helpers import run

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


def _step_row(app, monkeypatch, batch_size: int) -> tuple[str, dict]:
    monkeypatch.setenv("COLUMNS", "200")
    args = ("predict", "--profile", PROFILE, "--dataset-size", 100_000_000, "--epochs", 1, "--batch-size",
            batch_size, "--device", "cpu", "--no-save")
    data = json.loads(run(app, *args, "--json").stdout)
    result = run(app, *args)
    assert result.exit_code == 0, result.output
    (row,) = [line for line in result.stdout.splitlines() if "│ step " in line]
    return row, data


def test_a_long_step_reads_in_seconds_to_three_figures(app, monkeypatch):
    """A step of minutes printed as "358044.8 ms": seven figures of a time scaled from a 512-sample probe."""
    row, data = _step_row(app, monkeypatch, 50_000_000)
    assert data["step_seconds"] > 10 and data["step_seconds"] != round(data["step_seconds"], 3)  # JSON: unrounded
    assert re.search(r"│ step +│ \d{2,3} s \(\d,\d\d0 ms of it making and copying the batch\) +│", row), row
    from advisor.units import format_step

    assert f"{format_step(data['step_seconds'])} ({format_step(data['batch_seconds'])} of it" in row


def test_a_short_step_keeps_three_significant_figures(app, monkeypatch):
    row, data = _step_row(app, monkeypatch, 512)
    assert data["step_seconds"] < 0.01 and data["last_step_seconds"] < data["step_seconds"]
    assert re.search(r"│ step +│ \d\.\d\d ms \(0\.\d\d\d ms of it making and copying the batch\); the last of "
                     r"each epoch "
                     r"\(batch 256\) \d\.\d\d ms +│", row), row


GPT2 = Path(__file__).resolve().parents[1] / "predictor" / "data" / "h200_nanogpt_gpt2_bf16_profile.json"
_INTERVAL = re.compile(r"(\d+d\d\dh|\d+h\d\dm) +\(?(?:80% interval )?(\d+d\d\dh|\d+h\d\dm)–(\d+d\d\dh|\d+h\d\dm)\)")


def _styles_of_intervals(text: str) -> list[tuple[str, str, str]]:
    """Each "point (low–high)" of ``text`` as the style of its three parts: "d" ("2d15h") or "h" ("47h35m")."""
    return [tuple("d" if "d" in part else "h" for part in m.groups()) for m in _INTERVAL.finditer(text)]


def _cells(table: str, column: int) -> list[str]:
    """A rich table's cells of ``column`` (1 = the first), each cell's wrapped lines joined by a space."""
    cells: list[str] = []
    for line in table.splitlines():
        parts = line.split("│")
        if len(parts) <= column:
            continue
        if parts[1].strip():  # a row's first line: its first column has the row's number
            cells.append(parts[column].strip())
        elif cells:
            cells[-1] = f"{cells[-1]} {parts[column].strip()}".strip()
    return cells


def test_an_interval_gives_its_bounds_in_the_style_of_its_point(app, monkeypatch):
    """A job of 3d03h read "(80% interval 46h32m–5d00h)" and 38h00m "(25h36m–2d08h)": hours and days in one
    interval, at the two-day switch of ``format_duration``. The bounds now take the point's style."""
    monkeypatch.setenv("COLUMNS", "250")
    args = ("predict", "--profile", GPT2, "--gpu", "H100", "--dataset-size", 90_000_000, "--no-save")
    data = json.loads(run(app, *args, "--json").stdout)
    assert data["low"] < 48 * 3600 <= data["seconds"] < data["high"]  # the case the switch falls inside
    one, grid = run(app, *args), run(app, *args, "--gpus", "1,2")
    assert one.exit_code == 0 and grid.exit_code == 0, one.output + grid.output
    (row,) = [line for line in one.stdout.splitlines() if "│ whole job " in line]
    assert re.search(r"│ whole job +│ \d+d\d\dh  \(80% interval 1d2\dh–\d+d\d\dh\)", row), row
    styles = _styles_of_intervals(" ".join([row, *_cells(grid.stdout, 3)]))
    assert len(styles) == 3 and ("h", "h", "h") in styles and ("d", "d", "d") in styles, styles
    assert all(len(set(s)) == 1 for s in styles), styles


def test_the_speed_up_column_has_one_decimal_throughout(app, monkeypatch):
    """Two significant digits wrote a speed-up of 1.99 "2x faster" above "3.8x" and "7.2x"."""
    monkeypatch.setenv("COLUMNS", "250")
    args = ("predict", "--profile", GPT2, "--gpu", "H100", "--gpus", "1,2,4,8", "--no-save")
    rows = json.loads(run(app, *args, "--json").stdout)["rows"]
    speedups = [r["speedup_vs_one_gpu"] for r in rows[1:]]
    assert 1.95 <= speedups[0] < 2.05 and all(s >= 1.1 for s in speedups), speedups  # one that rounds to 2
    result = run(app, *args)
    assert result.exit_code == 0, result.output
    cells = _cells(result.stdout, 5)
    assert cells == ["-", *(f"{s:.1f}x faster" for s in speedups)] and cells[1] == "2.0x faster", cells


def test_the_price_column_has_one_number_of_decimals(app, monkeypatch):
    """``--gpu T4 --gpus 1,4``: the $/h column read "$0.526" over "$2.92", rates written each at its own decimals.
    The p2p note gives its step times as the step column does ("3.88 ms", not "3.9 ms" beside "3.88")."""
    monkeypatch.setenv("COLUMNS", "250")
    args = ("predict", "--profile", PROFILE, "--gpu", "T4", "--gpus", "1,4", "--precision", "all", "--no-save")
    rows = json.loads(run(app, *args, "--json").stdout)["rows"]
    rates = [r["price_usd_per_hour"] for r in rows]
    assert min(rates) < 1 <= max(rates), rates  # "$0.526" (a third digit below a dollar) and "$2.92"
    result = run(app, *args)
    assert result.exit_code == 0, result.output
    assert _cells(result.stdout, 9) == [f"${r:,.3f}" for r in rates], result.stdout  # "$2.920"
