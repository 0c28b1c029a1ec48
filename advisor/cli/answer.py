"""How a recommendation reads: the verdict block first, then the table grouped by hardware, then the rest; as
terminal text (rich) or as markdown for a pull-request comment. Also ``advisor diff`` and the ``predict`` grid.

Nothing here computes a figure: the ranking put every number and sentence in the ``Recommendation``. Every time
shown is a total (start-up + job), labelled so, with the job alone beside it; user and catalog text goes
through ``safe_text`` (terminal) or ``md_text`` (markdown).
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Sequence
from typing import Any

from advisor.cli.console import out, safe_text, show_controls
from advisor.cli.fit import Column, print_fitted
from advisor.cli.scaling_cells import grid_notes, memory_cell
from advisor.cli.streams import utf8_data
from advisor.cli.table_columns import candidate_columns, price_headers
from advisor.ranking import SPOT_COLUMN_NOTE
from advisor.ranking.precision import chosen_cell
from advisor.units import (
    format_duration,
    format_duration_delta,
    format_duration_exact,
    format_span,
    format_step,
    format_usd,
    format_usd_column,
    format_usd_delta,
    format_usd_exact,
)

VIEWS = ("hardware", "provider")
_TIER_LABEL = {"cpu": "CPU", "single_gpu": "1 GPU", "multi_gpu": "multi-GPU"}
# Backslash-escaped for CommonMark: what could start emphasis, code, a link or a table cell. Brackets are escaped,
# so parentheses cannot make a link; "#" and "+" only matter at a line's start, which is never user text. "<", ">"
# and "&" become entities, so no HTML (and no entity the user typed) reaches the page.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def md_text(value: object) -> str:
    """``value`` as markdown text: control characters shown as ``\\x1b``, markdown and HTML characters escaped
    (a workload named ``<img src=x>`` or ``**x**`` prints as typed in a pull-request comment)."""
    text = "".join(_MD_ENTITIES.get(ch, ch) for ch in show_controls(value))
    return _MD_SPECIAL.sub(r"\\\1", text)


def _same(a: Any, b: Any) -> bool:
    return a is not None and b is not None and (a.provider, a.instance_type, a.region) == (
        b.provider, b.instance_type, b.region)


def _header(rec: Any) -> str:
    cons = rec.constraints
    limits = []
    if cons.deadline_seconds:
        limits.append(f"deadline {format_duration_exact(cons.deadline_seconds)}")
    if cons.budget_usd:
        limits.append(f"budget {format_usd_exact(cons.budget_usd)}")
    goal = "cheapest" if cons.objective == "cost" else "fastest"
    epochs = f"{rec.epochs:,} epoch{'s' if rec.epochs != 1 else ''}"
    return (f"{rec.workload.name}: {epochs} x {rec.dataset_size:,} samples, batch {rec.batch_size}{_stepping(rec)} — "
            f"{goal}{' within ' + ', '.join(limits) if limits else ''}{' (spot prices)' if cons.spot else ''}")


def _stepping(rec: Any) -> str:
    """", bf16, compiled, 8 micro-steps per optimizer step, 50 evaluation batches every 100 optimizer steps": how
    the job steps where it is not the plain default, as ``predict`` says it."""
    parts = [rec.constraints.precision] if rec.constraints.precision not in (None, "fp32") else []
    parts += ["compiled"] if rec.compiled else []
    if rec.grad_accum_steps > 1:
        parts.append(f"{rec.grad_accum_steps} micro-steps per optimizer step")
    if rec.eval_every and rec.eval_steps:
        parts.append(f"{rec.eval_steps:,} evaluation batch{'es' if rec.eval_steps != 1 else ''} every "
                     f"{rec.eval_every:,} optimizer step{'s' if rec.eval_every != 1 else ''}")
    return "".join(f", {p}" for p in parts)


def _verdict_lines(rec: Any) -> list[tuple[str, str]]:
    """(label, text) pairs of the verdict block, in the order a user reads them."""
    v = rec.verdict
    if v is None:  # a recommendation stored before the verdict existed
        c = rec.chosen
        if c is None:
            return [("Recommendation", "nothing meets the constraints")]
        return [("Recommendation", f"{c.provider} {c.instance_type} ({c.region}): "
                                   f"{format_duration(c.total_seconds)} total, {format_usd(c.ranked_cost_usd)}"),
                ("Why", c.reason)]
    lines = [("Recommendation", v.recommendation), ("Why", v.why)]
    if v.best_value:
        lines.append(("Best value", v.best_value))
    if v.cpu_vs_gpu is not None:
        lines.append(("CPU vs GPU", v.cpu_vs_gpu.text))
    if v.here:
        lines.append(("Here", v.here))
    lines += [("Could be better", text) for text in v.could_be_better]
    lines += [("Warning", text) for text in v.warnings]
    lines.append(("Assumed", v.assumptions))
    return lines


def verdict_block(rec: Any) -> None:
    """The header line and the verdict: enough to decide from."""
    con = out()
    con.print(f"[bold]{safe_text(_header(rec))}[/]")
    status = {"ok": "", "at_risk": " [bold yellow](at risk)[/]", "infeasible": " [bold red](infeasible)[/]"}
    for label, text in _verdict_lines(rec):
        style = {"Recommendation": "bold green" if rec.chosen is not None else "bold red",
                 "Warning": "bold yellow"}.get(label, "bold")
        extra = status.get(rec.status, "") if label == "Recommendation" else ""
        if label == "Best value" and getattr(rec.best_value, "at_risk", False):
            extra = status["at_risk"]
        # Each line is one sentence with names in it (an instance type from the user's price catalog, the host's
        # and each device's name, the workload's): a newline in one (a catalog row, an older history row, a
        # stranger's profile) must not start a line of its own that reads as advisor's, so it is shown (\x0a).
        con.print(f"[{style}]{label}:[/]{extra} {safe_text(text)}")


def provider_rows(rec: Any) -> list[Any]:
    """``--by provider``'s rows, in text and JSON alike: the best offer of each of the first ``--top`` providers, in
    ranking order (``best_per_provider`` has every provider's)."""
    return list(rec.best_per_provider.values())[:rec.constraints.top]


def _rows(rec: Any, view: str, show_all: bool) -> tuple[str, list[tuple[Any, str]]]:
    """(title, [(candidate, similar text)]) for the table."""
    top = rec.constraints.top
    marks = "➜ chosen, * time/cost Pareto front, † marketplace listing"
    if show_all:
        cands = list(getattr(rec, "all_candidates", None) or rec.candidates)
        return f"All {len(cands)} candidates ({marks})", [(c, "") for c in cands]
    if view == "provider" and rec.best_per_provider:
        cands, n = provider_rows(rec), len(rec.best_per_provider)
        if n <= top:
            return f"Best offer of each of {n} providers ({marks})", [(c, "") for c in cands]
        return (f"Best offer of each of the top {len(cands)} of {n} providers ({marks}; --top {n} for every "
                f"provider)", [(c, "") for c in cands])
    if not rec.groups:
        return f"Candidates ({marks})", [(c, "") for c in rec.candidates]
    n = sum(g.count for g in rec.groups)
    rows = [(g.best, f"+{g.count - 1}, to {format_usd(g.cost_usd_max)}" if g.count > 1 else "")
            for g in rec.groups[:top]]
    if rec.constraints.spot:  # "similar" is the dearest member's ranked cost, not the cost column's on-demand one
        marks += "; similar: to the dearest one's spot cost where it has one"
    if len(rec.groups) <= top:  # every kind, or a stored answer's table (its rows only: "Why" has the count)
        return f"{len(rows)} kinds of machine ({n} candidates in these rows; {marks})", rows
    return (f"Top {len(rows)} of {len(rec.groups)} kinds of machine ({n} candidates; {marks}; "
            f"--by provider, --all for every row)", rows)


def _bound_shown(rows: Sequence[tuple[Any, str]]) -> bool:
    """The "bound" column only where a listed candidate is not compute-bound, or its GPUs wait a tenth of the step
    or more (``_bound_cell``; most answers have none)."""
    return any(_bound_cell(c) != "compute" for c, _ in rows)


def _bound_cell(c: Any) -> str:
    """"input (11%)": what limits a step and the share of it the GPUs compute; "input" on a CPU; "compute", or
    "compute (57%)" where the GPUs wait a tenth of the step or more (a batch made in series between steps)."""
    if c.gpu_utilization is None or not c.gpu or (c.bound == "compute" and c.gpu_utilization > 0.9):
        return c.bound
    return f"{c.bound} ({c.gpu_utilization:.0%})"


def _versus(c: Any, bound: bool) -> str:
    """The reason beside the row; with the "bound" column its input- or transfer-bound clause (the verdict and the
    JSON keep it) would only say the column again, longer."""
    if not bound:
        return c.reason
    return "; ".join(p for p in c.reason.split("; ") if not p.startswith(("input-bound:", "transfer-bound:")))


def _hardware(c: Any, bound: bool) -> str:
    """"8 x A100-80GB", or with the "bound" column "8 x A100-80GB, 96 vCPU": there the vCPUs that feed the GPUs
    tell two rows of the same GPUs apart."""
    return f"{c.hardware_label}, {c.vcpus} vCPU" if bound and c.gpu and c.vcpus else c.hardware_label


def _cells(rank: int, c: Any, chosen: Any, similar: str, bound: bool = False) -> list[str]:
    mark = "➜" if _same(c, chosen) else ("*" if c.pareto else "")
    return [
        f"{rank}{mark}", safe_text(c.provider) + ("†" if c.marketplace else ""), safe_text(c.instance_type),
        safe_text(_hardware(c, bound)),
        f"{format_duration(c.total_seconds)} ({format_span(c.total_low, c.total_high, c.total_seconds)})",
        format_duration(c.seconds), format_usd(c.cost_usd),
        format_usd(c.spot_cost_usd) if c.spot_cost_usd is not None else "-", similar,
        *([_bound_cell(c)] if bound else []),
        safe_text(chosen_cell(c) if _same(c, chosen) else _versus(c, bound)),
    ]




def candidates_table(rec: Any, view: str = "hardware", show_all: bool = False) -> tuple[str, ...]:
    """The ranking's table (the headers of the columns a narrow terminal left out returned)."""
    title, rows = _rows(rec, view, show_all)
    bound = _bound_shown(rows)
    con = out()
    columns = candidate_columns(rec.constraints.spot, bound)
    return print_fitted(con, columns,
                        [_cells(rank, c, rec.chosen, similar, bound) for rank, (c, similar) in enumerate(rows, 1)],
                        title=safe_text(title), title_justify="left")


def _view(view: str, show_all: bool) -> str:
    """The table shown, as ``Recommendation.row_notes`` names it: ``--all`` over ``--by``."""
    return "all" if show_all else view


def _footer_lines(rec: Any, show_skipped: bool, server: str | None = None, view: str = "hardware",
                  left_out: Sequence[str] = ()) -> list[str]:
    """What follows the table, as plain text lines (the text output escapes them for the terminal, markdown for a
    comment): what was dropped and skipped, the notes (``view``'s: those on its rows are the table's), what was
    measured, the prices' dates, the history id. Each is one line: a line break in one (a note included, which
    names the chosen instance type) comes from a name or a stranger's text and is shown escaped."""
    lines = []
    if rec.excluded:
        lines.append(f"{len(rec.excluded)} candidates dropped because the job does not fit in their memory"
                     f" (e.g. {rec.excluded[0].instance_type}: {rec.excluded[0].reason}).")
    if rec.skipped and not show_skipped:
        first = rec.skipped[0]
        lines.append(f"{_offers(rec.skipped)} skipped, no estimate (e.g. {first.target}: {first.reason}); "
                     "--show-skipped lists every reason and fix.")
    elif show_skipped and not rec.skipped:  # said, so that the flag is seen to have been read
        lines.append("No offer was skipped: every offer considered got an estimate.")
    warned = set(rec.verdict.warnings) if rec.verdict else set()
    # the spot column's note, where a narrow terminal left the column out, would explain what is not shown
    unshown = SPOT_COLUMN_NOTE if "spot" in left_out else None
    lines += [f"note: {text}" for text in rec.notes_for(view)
              if text not in warned and not (unshown and text.startswith(unshown))]
    if rec.verdict is None:
        lines += [f"advice: {text}" for text in rec.advice]
    if rec.measured_devices:
        # Over every ranked candidate and the table's rows: the top ones alone (10 CPUs, GPU rows uncorrected below
        # them in the table) said "every time", beside the note that the GPUs were not corrected.
        pool = [*(rec.all_candidates or rec.candidates), *(c for c, _ in _rows(rec, view, view == "all")[1])]
        fixed = {c.tier == "cpu" for c in pool if c.method == "history"}  # "every time" was said of CPUs'
        which = "every time" if all(c.method == "history" for c in pool) else \
            {frozenset({True}): "CPU times", frozenset({False}): "GPU times"}.get(frozenset(fixed), "some times")
        lines.append(f"measured here: {', '.join(rec.measured_devices)}; everything else is scaled"
                     + (f"; {which} corrected by the history (note above)." if fixed else "."))
    snap = rec.pricing_snapshot or {}
    if snap.get("dates"):
        lines.append("prices as of: " + ", ".join(f"{k} {v}" for k, v in snap["dates"].items()))
    if rec.id is not None:
        # The id is the storing history's (a server's in client mode): the command must go there, not here.
        where = f" --server {shlex.quote(server)}" if server else ""
        # Where the job can run on the probed machine, the user may take that instead: say how to record it there,
        # on its fastest device that fits (named where a bare "here" would be asked which one).
        from advisor.ranking.here import fastest_here

        soonest = fastest_here(rec.here)
        several = sum(r.seconds is not None for r in rec.here) > 1
        instead = (f"; run here: add --instance here{':' + soonest[1].device if several else ''}"
                   if soonest is not None else "")
        lines.append(f"saved as history id {rec.id}{' on the server' if server else ''} (record the real time: "
                     f"advisor history record {rec.id} --actual-seconds {_actual_placeholder(rec)}{where}{instead})")
    return lines


def _actual_placeholder(rec: Any) -> str:
    """"<real time, e.g. 2m51s>": a fixed "1h30m" was run as printed and refused for a 2.4 s job (more than 50x its
    prediction); a placeholder the shell will not run (its "<" reads a file that is not there) records no wrong
    time, and its example, the chosen machine's prediction where it is written as the flag reads it, is in the
    job's own order of magnitude."""
    from advisor.errors import AdvisorError
    from advisor.units import parse_actual_seconds

    if rec.chosen is None:
        return "<real time, e.g. 1h30m>"
    seconds = rec.chosen.seconds
    example = format_duration(seconds)
    try:
        parse_actual_seconds(example)
    except AdvisorError:  # "4.2ms", "3 years": not how the flag is written; a number of seconds is
        example = f"{seconds:.2g}" if seconds < 1 else f"{seconds:.0f}"
    return f"<real time, e.g. {example}>"


def _footer(rec: Any, show_skipped: bool, server: str | None = None, view: str = "hardware",
            left_out: Sequence[str] = ()) -> None:
    con = out()
    if rec.skipped and show_skipped:
        skipped_table(rec.skipped)
    for line in _footer_lines(rec, show_skipped, server, view, left_out):
        con.print(safe_text(line))


# The reason and the fix are sentences; a word of theirs (profiles/gpus.csv, --batch-size) is broken only where it
# is longer than 20 characters: on a terminal too narrow for that, one paragraph per row.
_SKIPPED_COLUMNS = (Column("target", whole=True), Column("offers", "right", whole=True),
                    Column("why", fold_min=20), Column("fix", fold_min=20))


def skipped_table(skipped: Sequence[Any]) -> None:
    con = out()
    print_fitted(con, _SKIPPED_COLUMNS, [[safe_text(s.target), str(s.count), safe_text(s.reason),
                                          safe_text(s.fix or "-")] for s in skipped],
                 title=f"{_offers(skipped)} skipped: no estimate", title_justify="left")


def recommendation(rec: Any, *, view: str = "hardware", show_all: bool = False, quiet: bool = False,
                   show_skipped: bool = False, server: str | None = None) -> None:
    """The answer first (the verdict block), then the table, then what was dropped, skipped and assumed.
    ``server``: the URL of the ``advisor serve`` server that ranked and stored it (client mode)."""
    verdict_block(rec)
    if quiet:
        return
    out().print("")
    left_out = candidates_table(rec, view, show_all)
    _footer(rec, show_skipped, server, _view(view, show_all), left_out)


# ------------------------------------------------------------------------------------------- markdown


def markdown(rec: Any, *, view: str = "hardware", show_all: bool = False, quiet: bool = False,
             show_skipped: bool = False, server: str | None = None) -> str:
    """The recommendation as GitHub-flavoured markdown (a pull-request comment): what the text output says, in
    the same order: the verdict, the table, then what was dropped, skipped, measured and stored."""
    lines = [f"### advisor: {md_text(_header(rec))}", "", f"**Status:** {rec.status}", ""]
    for label, text in _verdict_lines(rec):
        lines.append(f"- **{label}:** {md_text(text)}")
    for v in rec.violations:
        lines.append(f"- **Violation ({v.constraint}):** {md_text(v.message)}"
                     + (f" — `{md_text(v.flag)}` would pass" + ("" if v.alone else " with the other flag")
                        if v.flag else ""))
    if quiet:
        return "\n".join(lines) + "\n"
    title, rows = _rows(rec, view, show_all)
    bound = _bound_shown(rows)
    lines += ["", f"{md_text(title)}", "",
              "| # | provider | instance | hardware | total time (80%) | job | {} | {} | similar |".format(
                  *price_headers(rec.constraints.spot))
              + (" bound (GPU busy) |" if bound else "") + " vs the choice |",
              "|---|---|---|---|---|---:|---:|---:|---|" + ("---|" if bound else "") + "---|"]
    for rank, (c, similar) in enumerate(rows, 1):
        cells = _cells(rank, c, rec.chosen, similar, bound)
        cells[1:4] = [md_text(x) for x in (c.provider + ("†" if c.marketplace else ""), c.instance_type,
                                             _hardware(c, bound))]
        cells[8] = md_text(similar)
        cells[-1] = md_text(chosen_cell(c) if _same(c, rec.chosen) else _versus(c, bound))
        lines.append("| " + " | ".join(cells) + " |")
    if rec.skipped and show_skipped:
        lines += ["", f"{_offers(rec.skipped)} skipped: no estimate", "",
                  "| target | offers | why | fix |", "|---|---:|---|---|"]
        lines += [f"| {md_text(s.target)} | {s.count} | {md_text(s.reason)} | {md_text(s.fix or '-')} |"
                  for s in rec.skipped]
    footer = _footer_lines(rec, show_skipped, server, _view(view, show_all))
    if footer:
        lines += ["", *(f"- {md_text(line)}" for line in footer)]
    return "\n".join(lines) + "\n"


def print_markdown(text: str) -> None:
    with utf8_data(sys.stdout):  # UTF-8 into a file or a pipe (comment.md): cp1252 or ASCII wrote mod?le
        sys.stdout.write(text)
        sys.stdout.flush()


# ----------------------------------------------------------------------------------------------- diff


# The old and new sides are "2 vCPU (gcp e2-standard-2), 2m51s, $0.0032": 12 columns keep their figures and most
# names whole; on a terminal too narrow for that, one paragraph per row.
_DIFF_COLUMNS = (Column("", whole=True), Column("old", fold_min=12), Column("new", fold_min=12),
                 Column("total time", "right", whole=True), Column("cost", "right", whole=True))


# Each side's time has its 80% interval beside it: a change smaller than the spread may be noise.
_DIFF_TITLE = "total time (start-up + job, 80% interval) and cost, old -> new"


def diff(d: Any) -> None:
    """``advisor diff``: the chosen and the best per tier, old against new, with the deltas."""
    con = out()
    con.print(f"[bold]{safe_text(d.summary)}[/]")
    rows = [[safe_text(row.label), _side(row.old, row.old_caveats), _side(row.new, row.new_caveats),
             _delta(format_duration_delta(row.total_seconds_delta), row.total_seconds_delta),
             _delta(format_usd_delta(row.ranked_cost_usd_delta), row.ranked_cost_usd_delta)
             + (f" ({row.ranked_cost_pct_delta:+.0f}%)" if row.ranked_cost_pct_delta is not None else "")]
            for row in d.rows]  # the costs the sides show: the ranked ones
    rows += [[safe_text(f"here {here.device}"), safe_text(_here_side(here.old)), safe_text(_here_side(here.new)),
              _delta(format_duration_delta(here.total_seconds_delta), here.total_seconds_delta), "-"]
             for here in d.here]  # the probed machine: nothing rented, nothing billed
    print_fitted(con, _DIFF_COLUMNS, rows, title_justify="left", title=_DIFF_TITLE)
    for text in d.notes:
        con.print(f"note: {safe_text(text)}")


def diff_markdown(d: Any) -> str:
    """``advisor diff --format markdown``: the same table for a pull-request comment."""
    lines = [f"### advisor diff: {md_text(d.summary)}", "", f"{_DIFF_TITLE[0].upper()}{_DIFF_TITLE[1:]}.", "",
             "| | old | new | total time | cost |", "|---|---|---|---:|---:|"]
    for row in d.rows:
        cost = format_usd_delta(row.ranked_cost_usd_delta) + (
            f" ({row.ranked_cost_pct_delta:+.0f}%)" if row.ranked_cost_pct_delta is not None else "")
        lines.append(f"| {md_text(row.label)} | {md_text(_plain_side(row.old, row.old_caveats))} | "
                     f"{md_text(_plain_side(row.new, row.new_caveats))} "
                     f"| {format_duration_delta(row.total_seconds_delta)} | {cost} |")
    for here in d.here:
        lines.append(f"| {md_text('here ' + here.device)} | {md_text(_here_side(here.old))} | "
                     f"{md_text(_here_side(here.new))} | {format_duration_delta(here.total_seconds_delta)} | - |")
    lines += [f"- {md_text(text)}" for text in d.notes]
    return "\n".join(lines) + "\n"


def _plain_side(c: Any, caveats: Sequence[str] = ()) -> str:
    """"1 x A100-40GB (lambda gpu_1x_a100), 55m00s (43m10s–1h10m), $1.82 (misses the deadline; spot)": the total
    time with its 80% interval, as the recommend table gives it."""
    if c is None:
        return "-"
    return (f"{c.hardware_label} ({c.provider} {c.instance_type}), {format_duration(c.total_seconds)} "
            f"({format_span(c.total_low, c.total_high, c.total_seconds)}), {format_usd(c.ranked_cost_usd)}"
            + (f" ({'; '.join(caveats)})" if caveats else ""))


def _here_side(run: Any) -> str:
    """"Intel Xeon, 2 threads: 34.4s" (the job after the process start), or why there is no time."""
    from advisor.ranking.here import here_total_seconds

    if run is None:
        return "-"
    total = here_total_seconds(run)
    if total is not None:
        return f"{run.name}: {format_duration(total)}"
    return f"{run.name}: " + ("does not fit its memory" if run.seconds is not None else "no estimate")


def _side(c: Any, caveats: Sequence[str] = ()) -> str:
    return safe_text(_plain_side(c, caveats))


def _offers(skipped: Sequence[Any]) -> str:
    return f"{(n := sum(s.count for s in skipped))} offer{'s' if n != 1 else ''}"  # "1 offers skipped" was printed


def _delta(text: str, value: float | None) -> str:
    if value is None or abs(value) < 1e-12:
        return text
    return f"[red]{text}[/]" if value > 0 else f"[green]{text}[/]"


# --------------------------------------------------------------------------------------- predict grid


def _versus_one(count: int, speedup: float | None) -> str:
    if speedup is None or count == 1:
        return "-"
    ratio = max(speedup, 1 / speedup)
    word = "faster" if speedup >= 1 else "slower"
    # under 1.1x a ratio rounds to "1.0x slower", which reads as the same speed: a percentage says how much. One
    # decimal throughout, as two significant digits wrote 2.0 "2x" beside "1.9x" and "3.8x"
    return f"{ratio:.1f}x {word}" if ratio >= 1.1 else f"{ratio - 1:.0%} {word}" if ratio >= 1.005 else "the same"


_GRID_COLUMNS = (
    Column("GPUs", "right", whole=True), Column("precision", whole=True),
    Column("total time (80%)", "right", whole=True), Column("job", "right", whole=True, drop=4),
    Column("vs 1 GPU", "right", whole=True, drop=3), Column("step", "right", whole=True, drop=2),
    Column("scaling efficiency", "right", whole=True, drop=1), Column("memory", "right", whole=True, drop=5),
    Column("$/h", "right", whole=True, drop=6), Column("cost", "right", whole=True),
    Column("cheapest offer", fold_min=14))


def scaling_table(grid: Any) -> None:
    """``predict --gpus 1,2,4,8 --precision all``: one row per GPU count and precision."""
    con = out()
    title = safe_text(f"{grid.title}: total time = {format_duration(grid.startup_seconds)} start-up "
                      f"+ job; cost at the cheapest on-demand offer of that many GPUs")
    rows = []
    # the rows' $/h at one number of decimals ("$0.526" over "$2.920"), in the order the priced rows take them
    rates = iter(format_usd_column([r.price_usd_per_hour for r in grid.rows if r.estimate is not None], rate=True))
    for r in grid.rows:
        e = r.estimate
        if e is None:
            rows.append([str(r.count), safe_text(r.precision), safe_text(r.error or "-"), *[""] * 8])
            continue
        total = grid.startup_seconds
        rows.append([
            str(r.count), safe_text(e.precision),
            f"{format_duration(total + e.seconds)} ({format_span(total + e.low, total + e.high, total + e.seconds)})",
            format_duration(e.seconds),
            _versus_one(r.count, r.speedup_vs_one_gpu),
            format_step(e.step_seconds),
            f"{e.scaling_efficiency:.0%}" if e.scaling_efficiency is not None else "-",
            memory_cell(e),
            next(rates),
            format_usd(r.cost_usd) if r.cost_usd is not None else "-",
            safe_text(r.offer or "not in the catalog")
            + (f": {format_duration(r.offer_seconds)} there" if r.offer_seconds is not None else "")])
    print_fitted(con, _GRID_COLUMNS, rows, title=title, title_justify="left")
    for text in grid.notes:
        con.print(f"note: {safe_text(text)}")
    for text in grid_notes(grid.rows):
        con.print(f"note: {safe_text(text)}")
