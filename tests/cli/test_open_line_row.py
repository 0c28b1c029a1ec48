"""The progress bar's "output" row: the line a workload has open (a download's bar redrawn with carriage returns),
shown while it is open and gone when it ends; the probe's own rows keep their percentages."""

from __future__ import annotations

import io

from rich.console import Console

from advisor.cli.render import _BarUpdate


def _bar():
    from rich.progress import BarColumn, Progress, TextColumn

    con = Console(file=io.StringIO(), width=100, force_terminal=False)
    return Progress(TextColumn("{task.fields[device]}"), BarColumn(), TextColumn("{task.fields[percent]}"),
                    TextColumn("{task.description}"), console=con)


def test_the_open_line_is_a_row_until_it_ends():
    bar = _bar()
    update = _BarUpdate(bar)
    update("cpu", 0.42, "timing batch 64")
    update.show_partial("Downloading:\t 10%|\x1b[32m#\x1b[0m|")
    rows = {t.fields["device"]: t for t in bar.tasks}
    assert rows["cpu"].fields["percent"] == " 42%" and rows["cpu"].description == "timing batch 64"
    assert rows["output"].description == "Downloading:     10%|#|"  # colours dropped, the tab expanded
    assert rows["output"].total is None and rows["output"].fields["percent"].strip() == ""
    update.show_partial("Downloading: 60%|###|")
    assert [t.description for t in bar.tasks if t.fields["device"] == "output"] == ["Downloading: 60%|###|"]
    update.show_partial("")
    assert [t.fields["device"] for t in bar.tasks] == ["cpu"]
    update.show_partial("")  # cleared twice: nothing to remove, no error
    assert len(bar.tasks) == 1


def test_an_escape_in_the_open_line_is_shown_not_run():
    bar = _bar()
    update = _BarUpdate(bar)
    update.show_partial("[bold]x[/] \x07")
    bar.console.print(bar.get_renderable())
    drawn = bar.console.file.getvalue()
    assert "[bold]x[/] \\x07" in drawn and "\x07" not in drawn  # the markup printed as typed, the bell shown
