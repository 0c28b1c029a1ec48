"""``advisor history compare`` and ``advisor history calibration`` as text: the prediction errors of the
recorded runs, per run and aggregated. Like ``advisor.cli.render`` (which re-exports these), nothing here
computes a figure, and text from the user or data goes through ``safe_text``."""

from __future__ import annotations

from typing import Any

from advisor.cli.console import out, safe_text
from advisor.cli.fit import Column, print_fitted
from advisor.predictor.outliers import OUTLIER_RATIO
from advisor.units import format_duration, format_span

# Said under compare's tables: -50% (a job that took twice as long) is easily read the other way round.
ERROR_SIGN = "error = (predicted - actual) / actual: negative = the job took longer than predicted"


# An 80-column terminal cut these to an ellipsis ("(0.9s–3…", "e2-sta…"): numbers and names stay whole, as in
# recommend's table (advisor.cli.fit), the least useful columns left out first with a note.
_RUN_COLUMNS = tuple(Column(h, j, whole=whole, drop=drop, fold_min=fold)
                     for h, j, whole, drop, fold in (
    ("id", "right", True, None, 6), ("workload", "left", False, None, 12), ("instance", "left", False, None, 16),
    ("device", "left", True, 2, 6), ("method", "left", True, 1, 6), ("predicted job (80%)", "left", True, None, 6),
    ("actual job", "left", True, None, 6), ("error", "right", True, None, 6), ("in", "left", True, None, 6)))
_GROUP_COLUMNS = tuple(Column(h, j, whole=whole, fold_min=12) for h, j, whole in (
    ("by", "left", True), ("key", "left", False), ("runs", "right", True), ("median |error|", "right", True),
    ("mean error", "right", True), ("within interval", "right", True)))


def _outlier_mark(row: Any) -> str:
    """After an outlier's error: how far off it is, and that the aggregates (like calibration) leave it out."""
    if not getattr(row, "outlier", False):
        return ""
    ratio = getattr(row, "outlier_ratio", None)
    return f" ({ratio:,.0f}x: not learned from)" if ratio else " (outlier: not learned from)"


def _runs_text(group: Any) -> str:
    """A group's run count, with how many outliers its figures leave out."""
    left_out = getattr(group, "n_outliers", 0)
    if not left_out:
        return f"{group.n:,}"
    return f"{group.n:,} ({left_out:,} outlier{'s' if left_out > 1 else ''} left out)"


def _pct(value: float | None, form: str) -> str:
    return "-" if value is None else form.format(value)


def comparison(comp: Any, n_runs: int | None = None, server: str | None = None) -> None:
    """Predicted vs actual per run (``comp.rows``: the newest ``n_runs`` or fewer), then aggregated per workload,
    per device, per method and overall, over every run; ``server``: whose history it is, for the hint."""
    from advisor.service.call_hints import server_flag

    con = out()
    n_runs = len(comp.rows) if n_runs is None else n_runs
    if not n_runs:
        con.print("Nothing to compare yet: record real times with `advisor history record ID --actual-seconds S"
                  f"{safe_text(server_flag(server))}` or `advisor.track(id)`.")
        return
    if comp.rows:
        shown = (("1 run" if n_runs == 1 else f"{n_runs:,} runs") if len(comp.rows) == n_runs
                 else f"the latest {len(comp.rows):,} of {n_runs:,} runs; --limit N shows more")
        rows = [[str(r.recommendation_id), safe_text(r.workload),
                 safe_text(f"{r.provider or ''} {r.instance_type}".strip()), safe_text(r.device), safe_text(r.method),
                 f"{format_duration(r.predicted_seconds)} ({format_span(r.low, r.high, r.predicted_seconds)})",
                 format_duration(r.actual_seconds), f"{r.error_pct:+.1f}%" + _outlier_mark(r),
                 "yes" if r.within_interval else "no"] for r in comp.rows]
        print_fitted(con, _RUN_COLUMNS, rows, title=f"Predicted vs actual ({shown})", title_justify="left")
    groups = ([("workload", g) for g in comp.by_workload] + [("device", g) for g in comp.by_device]
              + [("method", g) for g in comp.by_method])
    if comp.overall is not None:
        groups.append(("all", comp.overall))
    caption = ERROR_SIGN
    if comp.overall is not None and getattr(comp.overall, "n_outliers", 0):
        caption += (f"\nruns more than {OUTLIER_RATIO:.0f}x from their uncorrected prediction (outliers) are left "
                    "out of the figures, as calibration leaves them out")
    rows = [[by, safe_text(g.key), _runs_text(g), _pct(g.median_abs_error_pct, "{:.1f}%"),
             _pct(g.mean_error_pct, "{:+.1f}%"), _pct(g.within_interval_pct, "{:.0f}%")] for by, g in groups]
    over = "the 1 run" if n_runs == 1 else f"all {n_runs:,} runs"
    print_fitted(con, _GROUP_COLUMNS, rows, title=f"Aggregated over {over}", title_justify="left")
    con.print(safe_text(caption, multiline=True))  # the sign is said once, under both tables


def calibration_report(report: Any) -> None:
    """The learned correction's cross-validated error, before and after."""
    from advisor.schemas.history import MIN_RECOMMENDATIONS

    con = out()

    def pct(v: Any) -> str:
        return _pct(v, "{:.1f}%")

    def signed(v: Any) -> str:  # a mean error: its sign is its direction, so it always has one
        return _pct(v, "{:+.1f}%")

    con.print(f"Learned history correction: {'USED' if report.used else 'not used'} — {safe_text(report.reason)}")
    con.print(f"runs with outcomes: {report.n_runs:,} (needs {report.min_runs} from {MIN_RECOMMENDATIONS} "
              f"recommendations); cross-validation folds: {report.folds}")
    if report.folds:
        con.print(f"held-out median |error|: before {pct(report.cv_error_before_pct)}, "
                  f"after {pct(report.cv_error_after_pct)}")
        con.print(f"held-out mean error: before {signed(report.mean_error_before_pct)}, "
                  f"after {signed(report.mean_error_after_pct)}")
    elif report.n_runs:  # nothing held out yet: the plain error of the uncorrected predictions
        # (an older server sent them as cv_error_before_pct / mean_error_before_pct)
        median = report.in_sample_error_pct if report.in_sample_error_pct is not None else report.cv_error_before_pct
        mean = (report.in_sample_mean_error_pct if report.in_sample_mean_error_pct is not None
                else report.mean_error_before_pct)
        con.print(f"uncorrected predictions (nothing held out): median |error| {pct(median)}, "
                  f"mean error {signed(mean)}")
    if report.model:
        con.print(f"model: {safe_text(report.model)}")
    for g in report.by_method:  # the same runs as n_runs: those the fit keeps
        runs = "1 run" if g.n == 1 else f"{g.n:,} runs"  # as compare's tables say it: "1 runs" read as a slip
        con.print(f"uncorrected '{safe_text(g.key)}': {runs}, median |error| {pct(g.median_abs_error_pct)}, mean "
                  f"{signed(g.mean_error_pct)}, in the 80% interval {pct(g.within_interval_pct)} (of those storing it)")
    if report.n_runs:  # as under compare's tables: a signed error is easily read the other way round
        con.print(ERROR_SIGN)
