"""The progress bar's "output" row: the line a workload has open (a download's bar redrawn with carriage returns),
shown while it is open and gone when it ends; the probe's own rows keep their percentages."""

from __future__ import annotations

import io

import pytest
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


@pytest.mark.parametrize(("written", "read"), [
    ("done\x1b(B\x1b[m", "done"),  # `tput sgr0`: a character set, then colours off
    ("\x1b]0;training\x07epoch 1", "epoch 1"),  # a window title (OSC)
    ("see \x1b]8;;https://example.com\x1b\\the docs\x1b]8;;\x1b\\", "see the docs"),  # a hyperlink, ended by ST
    ("\x1bc\x1b7cleared\x1b8", "cleared"),  # print("\033c") to clear the screen; the cursor saved and restored
    ("\x1b]0;no end\nnext line", "\\x1b]0;no end\nnext line"),  # a string never ended: shown, no line taken
])
def test_a_workload_s_other_escape_sequences_are_dropped_as_its_colours_are(written, read):
    # Only CSI sequences (colours, cursor moves) were dropped: the rest showed as "done\x1b(B", "\x1b]0;training\x07"
    bar = _bar()
    _BarUpdate(bar).write_output(written)
    assert bar.console.file.getvalue() == read + "\n"
