"""``--plot FILE``: cost vs time of the ranked candidates, the Pareto front and the choice marked.

matplotlib is imported lazily with the Agg backend (no display needed). The format follows the file's
extension: ``.png`` or ``.svg``. Text that comes from the user or the catalog (the workload's name, provider
and instance names) goes through ``_shown`` (control characters shown as the terminal shows them, ``\\x1b``, so
an SVG stays well-formed XML) and is drawn with ``parse_math=False``: a ``$...$`` in a name is not matplotlib
mathtext. A character the plot's font lacks is drawn as a box, without matplotlib's warning on stderr.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from advisor.cli.console import show_controls
from advisor.errors import ConfigError
from advisor.schemas import Candidate, Constraints, Recommendation
from advisor.units import format_duration, format_duration_exact, format_span, format_usd, format_usd_exact

FORMATS = (".png", ".svg")
_TIER_STYLE = {  # colour-blind-safe (Okabe-Ito) and a distinct marker per tier
    "cpu": ("#0072B2", "o", "CPU"),
    "single_gpu": ("#E69F00", "s", "1 GPU"),
    "multi_gpu": ("#009E73", "^", "multi-GPU"),
}


# Code points XML 1.0 cannot hold that show_controls leaves as they are: surrogates and U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _shown(value: object) -> str:
    """User or catalog text as the plot draws it: control characters visible as the terminal shows them
    (``console.show_controls``: ``\\x1b``, a newline as ``\\x0a``), and what XML cannot hold as ``\\uXXXX``."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", show_controls(value))


def _key(c: Candidate) -> tuple[str, str, str]:
    return c.provider, c.instance_type, c.region


def _points(rec: Recommendation) -> list[Candidate]:
    """Every ranked candidate (``all_candidates``; on a recommendation read back from JSON or the history,
    which do not keep them, the listed ones and the best of each tier), once each."""
    seen: dict[tuple[str, str, str], Candidate] = {}
    for c in [*getattr(rec, "all_candidates", ()), *rec.candidates, *rec.best_per_tier.values(),
              *([rec.chosen] if rec.chosen else [])]:
        seen.setdefault(_key(c), c)
    return list(seen.values())


def _elapsed(c: Candidate) -> float:
    return c.total_seconds  # start-up + job: the time the table and the verdict show


def _cost(c: Candidate) -> float:
    return c.ranked_cost_usd


# Tick positions for a log time axis, in seconds, and how they read.
_TIME_TICKS = [(1, "1s"), (2, "2s"), (5, "5s"), (10, "10s"), (15, "15s"), (20, "20s"), (30, "30s"), (45, "45s"),
               (60, "1m"), (90, "1m30s"), (120, "2m"), (180, "3m"), (240, "4m"), (300, "5m"), (420, "7m"),
               (600, "10m"), (900, "15m"), (1200, "20m"), (1800, "30m"), (2700, "45m"), (3600, "1h"),
               (5400, "1h30m"), (7200, "2h"), (3 * 3600, "3h"), (4 * 3600, "4h"), (5 * 3600, "5h"),
               (8 * 3600, "8h"), (10 * 3600, "10h"), (12 * 3600, "12h"), (86400, "1d"), (2 * 86400, "2d"),
               (3 * 86400, "3d"), (5 * 86400, "5d"), (7 * 86400, "7d"), (10 * 86400, "10d"), (14 * 86400, "14d"),
               (30 * 86400, "30d"), (60 * 86400, "60d"), (100 * 86400, "100d"), (365 * 86400, "1y")]


def _time_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """At most ~9 readable ticks between low and high seconds."""
    inside = [(t, lbl) for t, lbl in _TIME_TICKS if low <= t <= high]
    step = 1
    while len(inside[::step]) > 9:
        step += 1
    inside = inside[::step]
    return [t for t, _ in inside], [lbl for _, lbl in inside]


def _nice_ticks(low: float, high: float) -> list[float]:
    """Ticks for a log axis spanning less than a few list entries: 1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8 x 10^k
    inside [low, high], at most ~7 of them (never matplotlib's "2.7x10^2")."""
    import math

    if not (low > 0 and high > low):
        return []
    steps = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)
    out = [m * 10.0**k for k in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
           for m in steps if low <= m * 10.0**k <= high]
    if len(out) < 3:  # narrower still: evenly spaced round values (2m10s, 2m20s, ...)
        raw = (high - low) / 4
        k = math.floor(math.log10(raw))
        step = min(m * 10.0**k for m in (1, 2, 5, 10) if m * 10.0**k >= raw)
        first = math.ceil(low / step) * step
        out = [first + i * step for i in range(int((high - first) // step) + 1)]
    stride = max(1, math.ceil(len(out) / 7))
    return out[::stride]


def _duration_tick(value: float, _pos: object = None) -> str:
    """A time tick as the table writes it, without trailing zero parts: "2m17s", "2m", "45s", "1h30m"."""
    text = format_duration(value)
    for zero in ("m00s", "h00m", "d00h"):
        if text.endswith(zero):
            text = text[: -len(zero) + 1]
    return text.replace(".0s", "s")


def _usd_tick(value: float, _pos: object = None) -> str:
    return format_usd(value)


def _check(rec: Recommendation, path: Path) -> list[Candidate]:
    """The points to plot; ConfigError for a path that cannot take the plot or a recommendation without any."""
    if path.suffix.lower() not in FORMATS:
        raise ConfigError(f"Cannot write a plot to {path}: the file must end in .png or .svg.",
                          hint="Fix: e.g. --plot choice.png or --plot choice.svg.")
    if path.parent and not path.parent.exists():
        raise ConfigError(f"Cannot write a plot to {path}: the folder {path.parent} does not exist.",
                          hint="Fix: create the folder first, or write the plot elsewhere.")
    points = _points(rec)
    if not points:
        raise ConfigError("Nothing to plot: the recommendation has no candidates.",
                          hint="Fix: relax the provider/region filters so that some offers are priced.")
    return points


def _draw_points(ax: Any, points: list[Candidate]) -> list[Candidate]:
    """Every candidate by tier (hollow: misses the deadline or budget) and the Pareto front; returns the front."""
    for tier, (colour, marker, _label) in _TIER_STYLE.items():
        mine = [c for c in points if c.tier == tier]
        ok = [c for c in mine if c.meets_constraints]
        miss = [c for c in mine if not c.meets_constraints]
        if ok:
            ax.scatter([_elapsed(c) for c in ok], [_cost(c) for c in ok], s=36, c=colour,
                       marker=marker, alpha=0.85, edgecolors="white", linewidths=0.5, zorder=3)
        if miss:
            ax.scatter([_elapsed(c) for c in miss], [_cost(c) for c in miss], s=36,
                       facecolors="none", edgecolors=colour, marker=marker, alpha=0.85, zorder=3)
    front = sorted((c for c in points if c.pareto), key=lambda c: (_elapsed(c), _cost(c)))
    if len(front) > 1:
        ax.step([_elapsed(c) for c in front], [_cost(c) for c in front], where="post",
                color="#555555", linewidth=1.2, linestyle="-", zorder=2)
    return front


def _draw_limits(ax: Any, cons: Constraints) -> None:
    """The deadline and the budget as dashed lines."""
    if cons.deadline_seconds:
        ax.axvline(cons.deadline_seconds, color="#D55E00", linestyle="--", linewidth=1.2, zorder=1)
        ax.annotate(f"deadline {format_duration_exact(cons.deadline_seconds)}",
                    xy=(cons.deadline_seconds, 1), xycoords=("data", "axes fraction"),
                    xytext=(-4, -4), textcoords="offset points", rotation=90, ha="right", va="top",
                    fontsize=8, color="#D55E00")
    if cons.budget_usd:
        ax.axhline(cons.budget_usd, color="#CC79A7", linestyle="--", linewidth=1.2, zorder=1)
        ax.annotate(f"budget {format_usd_exact(cons.budget_usd)}", xy=(0, cons.budget_usd),
                    xycoords=("axes fraction", "data"), xytext=(4, 3), textcoords="offset points",
                    fontsize=8, color="#CC79A7", parse_math=False)


def _draw_choice(ax: Any, chosen: Candidate, at_risk: bool = False) -> None:
    """The chosen candidate: a star with its label, and its 80% interval as error bars: on the time axis, and on
    the cost axis where its billing follows the time second by second (billed time = total time; a rounded-up
    bill's cost at the interval's ends is not known here). ``at_risk``: the answer's status, said in the label, as
    a star left of the deadline line looked safe with its slow end past it."""
    x, y = _elapsed(chosen), _cost(chosen)
    lo, hi = chosen.total_low, chosen.total_high
    per_second = chosen.billed_seconds is not None and abs(chosen.billed_seconds - x) < 1.0 and x > 0
    yerr = [[y - y * lo / x], [y * hi / x - y]] if per_second else None
    ax.errorbar([x], [y], xerr=[[x - lo], [hi - x]], yerr=yerr, fmt="none", ecolor="#D55E00", elinewidth=1.6,
                capsize=4, zorder=4)
    ax.scatter([x], [y], s=260, marker="*", c="#D55E00", edgecolors="black", linewidths=0.8, zorder=5)
    ax.annotate(f"chosen{' (at risk)' if at_risk else ''}: {_shown(chosen.provider)} "
                f"{_shown(chosen.instance_type)}\n{_shown(chosen.hardware_label)}, "
                f"{format_duration(_elapsed(chosen))} total ({format_duration(chosen.seconds)} job), "
                f"{format_usd(y)}\n80%: {format_span(lo, hi, x)}"
                + (f", {format_usd(y * lo / x)}–{format_usd(y * hi / x)}" if per_second else ""),
                xy=(x, y), xytext=(14, 14), textcoords="offset points", fontsize=9,
                bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#D55E00", "alpha": 0.9},
                arrowprops={"arrowstyle": "-", "color": "#D55E00"}, zorder=6, parse_math=False)


def _style_axes(ax: Any, cons: Constraints) -> None:
    """Log axes with ticks that read as durations and dollars."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log")
    ax.set_yscale("log")
    x_low, x_high = ax.get_xlim()
    ticks, labels = _time_ticks(x_low, x_high)
    if len(ticks) < 3:  # a narrow range (jobs of a few minutes, start-up included): finer ticks
        ticks = _nice_ticks(x_low, x_high)
        labels = [_duration_tick(t) for t in ticks]
    ax.set_xticks(ticks, labels)
    ax.set_xlim(x_low, x_high)
    ax.xaxis.set_minor_formatter(NullFormatter())
    y_low, y_high = ax.get_ylim()
    ax.yaxis.set_major_formatter(FuncFormatter(_usd_tick))
    if y_high / max(y_low, 1e-12) < 10:
        # Less than a decade: the minor ticks carry the labels (matplotlib's default writes 6 x 10^-1).
        ax.yaxis.set_minor_formatter(FuncFormatter(_usd_tick))
    else:
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("wall time including start-up (log scale)")
    ax.set_ylabel("cost in US$ (log scale)" + (", spot where offered" if cons.spot else ""))
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)


def _title(rec: Recommendation, n_points: int) -> str:
    cons = rec.constraints
    goal = "cheapest" if cons.objective == "cost" else "fastest"
    limits = [f"deadline {format_duration_exact(cons.deadline_seconds)}" if cons.deadline_seconds else "",
              f"budget {format_usd_exact(cons.budget_usd)}" if cons.budget_usd else ""]
    limits_text = " and ".join(x for x in limits if x)
    epochs = f"{rec.epochs:,} epoch{'s' if rec.epochs != 1 else ''}"
    verdict = (f"the choice is the {goal}" + (f" within the {limits_text}" if limits_text else "")
               if rec.chosen is not None else f"none meets the {limits_text or 'constraints'}")
    name = _shown(rec.workload.name or "workload")
    return (f"{name}: {epochs} x {rec.dataset_size:,} samples, batch {rec.batch_size}\n"
            f"{n_points} candidates; {verdict}")


def _legend(ax: Any, points: list[Candidate], front: list[Candidate], chosen: Candidate | None) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], linestyle="none", marker=m, color=c, label=lbl)
               for t, (c, m, lbl) in _TIER_STYLE.items() if any(p.tier == t for p in points)]
    if len(front) > 1:
        handles.append(Line2D([], [], color="#555555", label="Pareto front (time vs cost)"))
    if any(not p.meets_constraints for p in points):
        handles.append(Line2D([], [], linestyle="none", marker="o", markerfacecolor="none",
                              color="#777777", label="misses deadline/budget"))
    if chosen is not None:
        handles.append(Line2D([], [], linestyle="none", marker="*", markersize=12, color="#D55E00",
                              markeredgecolor="black", label="chosen"))
        handles.append(Line2D([], [], color="#D55E00", linewidth=1.6, label="chosen: 80% interval"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)


def plot_recommendation(rec: Recommendation, path: Path | str) -> Path:
    """Write a log-log scatter of cost vs wall time (start-up included) to ``path`` (.png or .svg).

    Points are coloured by tier; hollow points miss the deadline or budget; the Pareto front is a step
    line; the chosen candidate is a star with a label (marked at risk where the answer is) and its 80% interval
    as error bars; a deadline or budget is drawn as a dashed line.
    """
    path = Path(path)
    points = _check(rec, path)

    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10.5, 6), dpi=110)
    try:
        with warnings.catch_warnings():
            # A name in a script the font lacks (CJK in DejaVu Sans) is drawn as boxes; matplotlib's warning
            # about it would print its own source path on stderr and tells the user nothing they can act on.
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
            front = _draw_points(ax, points)
            _draw_limits(ax, rec.constraints)
            if rec.chosen is not None:
                _draw_choice(ax, rec.chosen, rec.status == "at_risk")
            _style_axes(ax, rec.constraints)
            ax.set_title(_title(rec, len(points)), fontsize=11, parse_math=False)
            _legend(ax, points, front, rec.chosen)
            fig.tight_layout()
            fig.savefig(path, format=path.suffix.lower().lstrip("."))
    finally:
        plt.close(fig)
    return path
