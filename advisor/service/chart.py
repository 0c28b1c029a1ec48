"""The time/cost Pareto chart of a recommendation's candidates, as server-rendered SVG (no script, no library).

A point is a candidate's total time (start-up + job, ``total_seconds``) and the cost it was ranked on
(``ranked_cost_usd``: spot where ranked on spot): the figures its ``pareto`` flag was worked out on
(``ranking.scoring.mark_pareto``) and the ones the CLI shows, so the front drawn is the one the ranking found.
Both axes are logarithmic (candidates span seconds to days, cents to thousands of dollars). Points on the Pareto
front are joined by a line and labelled; the chosen one is ringed; every point has a tooltip (``<title>``). All
text from the data is escaped (``markup.text``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from advisor.service.markup import text
from advisor.units import format_duration, format_span, format_usd

WIDTH, HEIGHT = 760, 440
LEFT, RIGHT, TOP, BOTTOM = 84, 24, 20, 56


def _log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks between ``lo`` and ``hi`` (at most about 8)."""
    ticks: list[float] = []
    for steps in ((1, 2, 5), (1, 3), (1,)):
        ticks = [m * 10.0 ** e for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
                 for m in steps if lo <= m * 10.0 ** e <= hi]
        if len(ticks) <= 8:
            break
    return ticks or [lo, hi]


class _Axis:
    def __init__(self, values: Sequence[float], start: float, end: float) -> None:
        lo, hi = min(values), max(values)
        if hi / lo < 4:  # a narrow range still gets a readable span
            mid = math.sqrt(lo * hi)
            lo, hi = mid / 2, mid * 2
        self.lo, self.hi = lo / 1.25, hi * 1.25
        self.start, self.end = start, end

    def __call__(self, value: float) -> float:
        frac = (math.log10(value) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        return self.start + frac * (self.end - self.start)


def _same(a: Any, b: Any) -> bool:
    return b is not None and (a.provider, a.instance_type, a.region) == (b.provider, b.instance_type, b.region)


def total_time_text(c: Any) -> str:
    """A candidate's time as the CLI's verdict words it, with its 80% interval: "3m31s total (80% interval
    3m13s–3m54s; 1m31s job + 2m00s start-up)"."""
    return (f"{format_duration(c.total_seconds)} total (80% interval {interval_text(c)}; "
            f"{format_duration(c.seconds)} job + {format_duration(c.startup_seconds or 0.0)} start-up)")


def interval_text(c: Any) -> str:
    """A candidate's 80% interval of the total time (start-up + job), "3m13s–3m54s"."""
    return format_span(c.total_low, c.total_high, c.total_seconds)


def cost_text(c: Any) -> str:
    """The cost a candidate was ranked on, "spot" after it where that is the spot cost."""
    return format_usd(c.ranked_cost_usd) + (" spot" if c.interruptible and c.spot_cost_usd is not None else "")


def _plotted(c: Any) -> bool:
    return all(v and v > 0 and math.isfinite(v) for v in (c.total_seconds, c.ranked_cost_usd))


def pareto_svg(candidates: Sequence[Any], chosen: Any = None) -> str:
    """An ``<svg>`` element plotting ``candidates`` (total time x ranked cost); a note instead when none can be
    drawn."""
    points = [c for c in candidates if _plotted(c)]
    if not points:
        return '<p class="note">No candidate with a time and a cost to plot.</p>'
    x = _Axis([c.total_seconds for c in points], LEFT, WIDTH - RIGHT)
    y = _Axis([c.ranked_cost_usd for c in points], HEIGHT - BOTTOM, TOP)
    out = [f'<svg id="pareto" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="time and cost of each candidate">',
           f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}" '
           'class="plot"/>']
    for t in _log_ticks(x.lo, x.hi):
        px = x(t)
        out.append(f'<line x1="{px:.1f}" y1="{TOP}" x2="{px:.1f}" y2="{HEIGHT - BOTTOM}" class="grid"/>'
                   f'<text x="{px:.1f}" y="{HEIGHT - BOTTOM + 18}" class="tick" text-anchor="middle">'
                   f'{text(format_duration(t))}</text>')
    for c in _log_ticks(y.lo, y.hi):
        py = y(c)
        out.append(f'<line x1="{LEFT}" y1="{py:.1f}" x2="{WIDTH - RIGHT}" y2="{py:.1f}" class="grid"/>'
                   f'<text x="{LEFT - 8}" y="{py + 4:.1f}" class="tick" text-anchor="end">{text(format_usd(c))}</text>')
    out.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 12}" class="axis" text-anchor="middle">'
               'predicted total time, start-up included (log scale)</text>'
               f'<text x="16" y="{(TOP + HEIGHT - BOTTOM) / 2}" class="axis" text-anchor="middle" '
               f'transform="rotate(-90 16 {(TOP + HEIGHT - BOTTOM) / 2})">cost as ranked, US$ (log scale)</text>')
    front = sorted((c for c in points if c.pareto), key=lambda c: c.total_seconds)
    if len(front) > 1:
        path = " ".join(f"{x(c.total_seconds):.1f},{y(c.ranked_cost_usd):.1f}" for c in front)
        out.append(f'<polyline points="{path}" class="front"/>')
    for c in sorted(points, key=lambda c: c.pareto):  # the front drawn last, on top
        px, py = x(c.total_seconds), y(c.ranked_cost_usd)
        kind = "chosen" if _same(c, chosen) else ("pareto" if c.pareto else "other")
        tip = f"{c.provider} {c.instance_type} ({c.hardware_label}): {total_time_text(c)}, {cost_text(c)}"
        out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{7 if kind == "chosen" else 5}" class="point {kind}">'
                   f'<title>{text(tip)}</title></circle>')
        if c.pareto or kind == "chosen":
            out.append(f'<text x="{px + 9:.1f}" y="{py - 7:.1f}" class="label">{text(c.instance_type[:28])}</text>')
    out.append("</svg>")
    return "".join(out)
