"""Billing: what a run of some seconds on an offer is billed, and the per-provider rules of ``billing.csv``.

A run of ``s`` seconds is billed as ``s`` rounded up to the provider's increment (1 s, 60 s or 3600 s), and at
least the provider's minimum; cost = billed hours x hourly rate. The ranker imports this module, so it stays
light: no CSV reading, no GPU names, nothing beyond schemas and errors.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from advisor.errors import CatalogError
from advisor.schemas import Offer

BILLING_FILE = "billing.csv"
BILLING_INCREMENT_SECONDS = {"per_second": 1, "per_minute": 60, "per_hour": 3600}
# A provider missing from billing.csv and from the user's file (an on-prem box, a new cloud): per-second,
# no minimum - an amortised hourly cost accrues continuously.
DEFAULT_BILLING = ("per_second", 0)


def billed_seconds(offer: Offer, seconds: float) -> float:
    """Seconds the provider bills for a run of ``seconds``: rounded up to its increment, at least its minimum."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
    unit = BILLING_INCREMENT_SECONDS[offer.billing]
    # The 1e-9 keeps 3600.0000000001 (float noise) from becoming a second hour.
    billed = math.ceil(seconds / unit - 1e-9) * unit
    return float(max(billed, offer.min_billed_seconds, 0))


def billing_text(offer: Offer) -> str:
    """How ``offer`` is billed, in words: "bills per second, at least 60 s", "bills whole hours"."""
    unit = {"per_second": "per second", "per_minute": "whole minutes", "per_hour": "whole hours"}[offer.billing]
    floor = offer.min_billed_seconds
    return f"bills {unit}" + (f", at least {floor:g} s" if floor > BILLING_INCREMENT_SECONDS[offer.billing] else "")


def billing_cell(offer: Offer) -> str:
    """How ``offer`` is billed, for a table cell: "per second, min 60 s", "per hour, min 3600 s", "per second"
    (no minimum): the unit a run is rounded up to and the least it is billed, both of which its cost uses."""
    unit = offer.billing.replace("_", " ")
    return unit + (f", min {offer.min_billed_seconds:g} s" if offer.min_billed_seconds > 0 else "")


def billed_cost_usd(billed: float, price_usd_per_hour: float) -> float:
    """US$ for ``billed`` seconds (``billed_seconds``) at an hourly rate: ``cost_usd`` once the time is billed, for
    a caller that prices one billed time at two rates (the ranking: on-demand and spot)."""
    return billed / 3600.0 * price_usd_per_hour


def cost_usd(offer: Offer, seconds: float, *, spot: bool = False, startup_seconds: float = 0.0) -> float:
    """US$ for a job of ``seconds`` plus ``startup_seconds`` of paid set-up on ``offer``.

    ``spot=True`` prices it at the spot (interruptible) rate; a ``CatalogError`` if the offer has none.
    """
    rate = offer.price_usd_per_hour
    if spot:
        if offer.spot_price_usd_per_hour is None:
            raise CatalogError(f"{offer.provider} {offer.instance_type} ({offer.region}) has no spot price.",
                               hint="Fix: price it on demand (spot=False), or add a spot_price_hour_usd with "
                                    "--pricing FILE.")
        rate = offer.spot_price_usd_per_hour
    return billed_cost_usd(billed_seconds(offer, startup_seconds + seconds), rate)


def billing_rules(path: Path, records: Iterable[tuple[int, dict[str, str]]]) -> dict[str, tuple[str, int]]:
    """Provider -> (billing, min_billed_seconds) from the rows of ``billing.csv``, read by the caller.

    Args:
        path: the file the rows came from, for the file:line of an error.
        records: (line number, {column: value}) per data row.

    Raises:
        CatalogError: a billing value that is not a known increment, or a minimum that is not a whole number.
    """
    rules: dict[str, tuple[str, int]] = {}
    for line, row in records:
        billing = row.get("billing", "")
        if billing not in BILLING_INCREMENT_SECONDS:
            raise CatalogError(f"{path}:{line}: billing {billing!r} is not one of "
                               f"{', '.join(BILLING_INCREMENT_SECONDS)}.")
        try:
            minimum = int(row.get("min_billed_seconds") or 0)
        except ValueError:
            raise CatalogError(f"{path}:{line}: min_billed_seconds {row.get('min_billed_seconds')!r} "
                               "is not a whole number.") from None
        rules[row["provider"].strip().lower()] = (billing, minimum)
    return rules
