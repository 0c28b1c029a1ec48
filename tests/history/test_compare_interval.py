"""`history compare`'s "within interval": a run counts as inside its prediction's interval when it took between the
low and the high bound, both included; a run slower than the high bound is outside it, as one faster than the low
bound is. The mutation audit found the high bound untested (every slower run could have counted as inside)."""

from __future__ import annotations

from advisor.history.comparison import comparison


def _row(outcome_id: int, actual_seconds: float) -> tuple:
    """A completed run of a 100 s prediction (interval 90-110 s) on one A10G, as the repository's query gives it."""
    return (outcome_id, 1, "2026-01-01", actual_seconds, "w", "aws", "g5.xlarge", "single_gpu", "A10G", 1, 4,
            "scaled", 100.0, 90.0, 110.0, None)


def test_a_run_is_within_its_interval_between_the_bounds_both_included():
    comp = comparison([_row(i, actual) for i, actual in enumerate((85.0, 90.0, 110.0, 200.0), start=1)])
    assert [(r.actual_seconds, r.within_interval) for r in comp.rows] == [
        (85.0, False), (90.0, True), (110.0, True), (200.0, False)]
    assert [(g.key, g.within_interval_pct) for g in (comp.overall, *comp.by_device, *comp.by_method)] == [
        ("all", 50.0), ("A10G", 50.0), ("scaled", 50.0)]


def test_a_run_slower_than_the_high_bound_alone_is_none_within():
    comp = comparison([_row(1, 200.0)])
    assert comp.rows[0].within_interval is False and comp.overall.within_interval_pct == 0.0
