"""A table that fits the terminal without breaking a number: ``$0.0032`` never shows as ``$0.00`` over ``32``.

Where the table as rich lays it out keeps every word of its number columns (and every name) whole, and gives each
text column at least its ``fold_min`` (or its longest word, where that is less), it is printed as it always was (a
160-column pipe, a wide terminal). Where it would not (an 80-column terminal), the columns get
their widths here: a number column at least its widest word (it wraps only at spaces, "2m51s (2m28s–3m33s)" as
two lines), a text column what is left, folded; and where even that is too wide, the least important columns are
left out and a note says which, and that ``--json`` has every field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from advisor.cli.console import safe_text


@dataclass(frozen=True)
class Column:
    """One column: ``whole``: its words are never broken (numbers, short names); ``drop``: its rank in leaving
    columns out on a narrow terminal (1 first; None: always shown); ``fold_min``: the narrowest a text column may
    get before columns are left out."""

    header: str
    justify: str = "left"
    whole: bool = False
    drop: int | None = None
    fold_min: int = 6
    overflow: str = "fold"  # where the table fits: how rich shortens a cell (the table's own choice so far)


def _plain(cell: str) -> str:
    return Text.from_markup(cell).plain


def _longest_word(text: str) -> int:
    return max((Text(w).cell_len for w in text.split()), default=0)


def _widest(text: str) -> int:
    return max((Text(line).cell_len for line in text.splitlines()), default=0)


def fitted(con: Console, columns: Sequence[Column], rows: Sequence[Sequence[str]], **table_args) -> tuple[
        Table | Group, str | None, tuple[str, ...]]:
    """The table for ``con``'s width, the note to print after it (None: every column shown), and the headers of
    the columns left out."""
    plain = [[_plain(cell) for cell in row] for row in rows]
    table = _table(columns, rows, table_args)
    # rich's own layout, as printed so far (its widths count the cells' padding): rich shares out the console's
    # width less the borders (Table.__rich_console__), so measuring at the full width overstated every column
    inner = con.options.update_width(con.width - table._extra_width)
    widths = [w - table._get_padding_width(i) for i, w in enumerate(table._calculate_column_widths(con, inner))]
    needs = [max(_longest_word(r[i]) for r in plain) if plain else 0 for i in range(len(columns))]
    natural = [max([_widest(r[i]) for r in plain] + [_longest_word(c.header)]) for i, c in enumerate(columns)]
    if all(w >= (n if c.whole else m if c.overflow != "fold" else min(n, c.fold_min))
           for w, n, m, c in zip(widths, needs, natural, columns, strict=True)):
        return table, None, ()  # no number broken, no name cut to an ellipsis, no text narrower than it may get
    shown = list(range(len(columns)))
    mins = [max(n if c.whole else min(n, c.fold_min), _longest_word(c.header))  # a header's words whole too
            for n, c in zip(needs, columns, strict=True)]
    while sum(mins[i] for i in shown) + 3 * len(shown) + 1 > con.width:  # a border and a space each side
        droppable = [i for i in shown if columns[i].drop is not None]
        if not droppable:
            break
        shown.remove(min(droppable, key=lambda i: columns[i].drop))
    overhead = 3 * len(shown) + 1
    if sum(mins[i] for i in shown) + overhead > con.width:  # no table fits: each row as "header: value" lines
        return _paragraphs(columns, rows, table_args), (
            f"terminal too narrow ({con.width} columns) for the table: one row per paragraph; widen it, or see "
            "--json for every field"), ()
    alloc = {i: mins[i] for i in shown}
    spare = con.width - overhead - sum(alloc.values())
    cells = [max((_widest(r[i]) for r in plain), default=0) for i in range(len(columns))]
    # names whole (folded only where too long), then each number on one line, then the text as far as it goes
    for i, target in [*((i, needs[i]) for i in shown if not columns[i].whole),
                      *((i, cells[i]) for i in shown if columns[i].whole)]:
        grow = max(0, min(spare, target - alloc[i]))
        alloc[i] += grow
        spare -= grow
    _share_out(alloc, {i: cells[i] for i in shown if not columns[i].whole}, spare)
    table = _table([columns[i] for i in shown], [[row[i] for i in shown] for row in rows], table_args,
                   [alloc[i] for i in shown])
    left_out = [columns[i].header for i in range(len(columns)) if i not in shown]
    note = (f"terminal too narrow ({con.width} columns): {', '.join(left_out)} left out; widen it, or see --json "
            "for every field") if left_out else None
    return table, note, tuple(left_out)


def print_fitted(con: Console, columns: Sequence[Column], rows: Sequence[Sequence[str]],
                 **table_args) -> tuple[str, ...]:
    """``fitted``'s table printed on ``con``, then its note on what a narrow terminal left out; the headers of the
    columns left out."""
    table, note, left_out = fitted(con, columns, rows, **table_args)
    con.print(table)
    if note:
        con.print(f"note: {safe_text(note)}")
    return left_out


def _share_out(alloc: dict[int, int], wants: dict[int, int], spare: int) -> None:
    """Grow the text columns in ``wants`` toward their widest cells with ``spare`` columns, the narrowest first (one
    width cap raised for all): a short text ("per hour, min 3600 s") stays on one line and only the longest fold,
    where growing them in order gave the first columns all and folded the last."""
    while spare > 0:
        short = [i for i, want in wants.items() if alloc[i] < want]
        if not short:
            return
        cap = min(alloc[i] for i in short) + 1
        for i in sorted(short, key=lambda i: alloc[i]):
            if spare and alloc[i] < cap:
                alloc[i] += 1
                spare -= 1


def _paragraphs(columns: Sequence[Column], rows: Sequence[Sequence[str]], table_args: dict) -> Group:
    """The rows as paragraphs of "header: value" (the console wraps them at spaces), under the table's title."""
    title = table_args.get("title")
    lines = [Text.from_markup(f"[italic]{title}[/]")] if title else []
    lines += [Text.from_markup("; ".join(f"{escape(c.header)}: {cell}" if c.header else cell  # a row's own label
                                         for c, cell in zip(columns, row, strict=True)
                                         if Text.from_markup(cell).plain.strip()))
              for row in rows]
    return Group(*lines)


def _table(columns: Sequence[Column], rows: Sequence[Sequence[str]], table_args: dict,
           widths: Sequence[int] | None = None) -> Table:
    table = Table(**table_args)
    for i, c in enumerate(columns):
        if widths is None:  # as the table always was: rich shares out the width, folding any cell
            table.add_column(c.header, overflow=c.overflow, justify=c.justify)
        else:  # a header wraps at its spaces; a cell at least as wide as its widest word
            table.add_column(Text(c.header, no_wrap=False, overflow="fold"), overflow="fold", justify=c.justify,
                             width=widths[i])
    for row in rows:
        table.add_row(*row)
    return table
