"""The "Fix:" line for each kind of problem in a rates file, so the fix shown fits the problems listed.

``rows.RowErrors`` collects problems as "file:line: reason"; ``hint_for`` picks the fix of each reason (by the
reason's wording, which ``rows.py`` and ``merge.py`` write) and gives one line per distinct fix, in the order
the problems came. A reason without a specific fix (the header's columns) gets the format's summary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from advisor.data_files import data_file


def format_hint() -> str:
    """The format's summary, naming the README this installation ships (a wheel's is in site-packages)."""
    return ("Fix: each row needs provider, instance_type, region, gpu_model (blank for a CPU instance), "
            "gpu_count and price_hour_usd (US$ per hour); optional: spot_price_hour_usd, vcpus, memory_gib, "
            "gpu_memory_gib, billing, min_billed_seconds, discount_pct, source, snapshot_date, notes. "
            f"See {data_file('pricing', 'README.md')} ('Your own rates').")


FRACTIONAL_FIX = ("Fix: remove the fractional-GPU row (advisor predicts whole GPUs only; the built-in catalog "
                  "leaves its vGPU slices out the same way), or give the instance's whole number of GPUs.")
_EXAMPLES = {"price_hour_usd": "2.50", "spot_price_hour_usd": "0.90", "vcpus": "16", "memory_gib": "64",
             "gpu_memory_gib": "80", "gpu_count": "8", "discount_pct": "15", "min_billed_seconds": "60"}
_WHOLE = ("vcpus", "gpu_count", "min_billed_seconds")  # read by rows._whole; 0 is allowed
_MAX_FIXES = 8

# (a pattern the reason matches, its fix); the first match wins. "{col}" is the column the reason names.
_FIXES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), f) for p, f in (
    (r"^gpu_count '.*' is not a whole number \(a fractional GPU", FRACTIONAL_FIX),
    (r"^(?P<col>\w+) '.*' (is not a (whole )?number|must be a positive number)$",
     "Fix: write {col} as a plain {kind} (e.g. {example}{unit})."),
    (r"^(?P<col>\w+) '.*' is not an hourly price \(", "Fix: give {col} in US$ per hour for one instance, in the "
     "range the line names (e.g. {example}); a monthly price divided by 730 is its hourly one."),
    (r"^gpu_count [\d,]+ is more GPUs than", "Fix: give gpu_count as the instance's number of GPUs (e.g. 8); "
                                           "advisor predicts one instance's GPUs, not a cluster's."),
    (r"^gpu_model '", "Fix: name a GPU that advisor knows (`advisor hardware` lists them; aliases such as "
                      "'A100 80GB' work), or leave gpu_model blank for a CPU instance."),
    (r"^gpu_count is \d+ but gpu_model is empty|^gpu_model is '.*' but gpu_count is 0|^gpu_count is empty",
     "Fix: give a GPU instance both gpu_model and its gpu_count (1 or more); a CPU instance a blank gpu_model "
     "and gpu_count 0."),
    (r"^price_hour_usd is empty", "Fix: give price_hour_usd, the on-demand price in US$ per hour (e.g. 2.50)."),
    (r"^provider ", "Fix: write the provider as a lower-case name, such as aws or onprem."),
    (r"^instance_type is empty", "Fix: give the instance_type, or '*' for a rule that applies to the whole "
                                 "provider."),
    (r"^region is empty", "Fix: give the region (e.g. us-east-1, or 'lab' for your own machines): a row is keyed "
                          "by provider, instance_type and region."),
    (r"is already on line \d+ of this file$", "Fix: keep one row per provider, instance_type and region in a "
                                               "file (to change a built-in row, one row with its key overrides it)."),
    (r"^\d+ fields but the header has \d+$", "Fix: quote a value that contains a comma (\"a, b\"), or remove "
                                             "the extra fields."),
    (r"^billing '", "Fix: set billing to per_second, per_minute or per_hour, or leave it blank."),
    (r"^snapshot_date '", "Fix: write snapshot_date as a date YYYY-MM-DD, or leave it blank."),
    (r"^flag '", "Fix: use the flags suspect_price, drop_spot, spot_undated and spot_zone_min (separated by "
                      "';'), or leave flags blank."),
    (r"^discount_pct '.*' must be below 100$", "Fix: give discount_pct as a percentage below 100 (15 for 15% off)."),
    (r"provider-wide '\*' row", "Fix: a provider-wide '*' row sets only discount_pct, billing and "
                                "min_billed_seconds ({readme}, 'Your own rates')."),
))


def fix_for(problem: str) -> str:
    """The fix of one problem ("file:line: reason", or the reason alone); the format's summary by default."""
    reason = re.sub(r"^.*?:\d+: ", "", problem, count=1)
    for pattern, fix in _FIXES:
        match = pattern.search(reason)
        if match:
            col = match.groupdict().get("col") or ""
            kind = "whole number" if col in _WHOLE else "positive number"
            return fix.format(col=col, example=_EXAMPLES.get(col, "1"), kind=kind,
                              unit=" US$ per hour" if col.endswith("usd") else "",
                              readme=data_file("pricing", "README.md"))
    return format_hint()


def hint_for(problems: Iterable[str]) -> str:
    """One "Fix:" line per distinct fix of ``problems``, in their order (at most ``_MAX_FIXES``)."""
    fixes = list(dict.fromkeys(fix_for(p) for p in problems))
    if len(fixes) > _MAX_FIXES:
        fixes = [*fixes[:_MAX_FIXES], "Fix: the other problems as their lines say; the format is in "
                                       f"{data_file('pricing', 'README.md')} ('Your own rates')."]
    return "\n".join(fixes)


def problem_fields(problem: str, columns: Iterable[str]) -> dict:
    """One problem ("file:line: reason") as ``pricing validate --json`` lists it: ``file``, ``line``, ``column``
    (the one its reason starts with, if any of ``columns``; else null), ``message`` and ``fix``."""
    match = re.match(r"^(?P<file>.*?):(?P<line>\d+): (?P<reason>.*)$", problem, flags=re.DOTALL)
    reason = match["reason"] if match else problem
    col = re.match(r"^(\w+)\b", reason)
    return {"file": match["file"] if match else None, "line": int(match["line"]) if match else None,
            "column": col.group(1) if col and col.group(1) in set(columns) else None, "message": reason,
            "fix": fix_for(problem)}
