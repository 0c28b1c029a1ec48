"""The warning that the chosen price is old (or undated) in the catalog: check it before renting.

Pure: no I/O; the caller gives today's date.
"""

from __future__ import annotations

from datetime import date

from advisor.ranking.scoring import Scored

STALE_PRICE_DAYS = 90  # an on-demand list price this old is worth checking before renting
STALE_SPOT_PRICE_DAYS = 30  # a spot price moves daily


def stale_price_warning(chosen: Scored | None, today: date) -> str | None:
    """A warning where the chosen row's price is older than ``STALE_PRICE_DAYS`` (a spot price than
    ``STALE_SPOT_PRICE_DAYS``) on ``today``, the caller's date (this module does no I/O), or undated (of unknown
    age; a user file's rows aside); None otherwise. A spot choice is dated by its spot price
    (``Offer.spot_snapshot_date``): an undated one, whose row's date is the on-demand price's, gets none here
    (``verdict``'s spot warning says it is undated)."""
    if chosen is None:
        return None
    row, chosen = chosen.offer, chosen.cand
    dated = row.spot_snapshot_date if chosen.interruptible else row.snapshot_date
    if not dated:  # of unknown age (a user's own file's rows aside); a spot one: the spot warning says so
        user = (row.source or "").startswith("user file ")
        return None if chosen.interruptible or user else (
            f"the price of {chosen.provider} {chosen.instance_type} is undated in the catalog: check the "
            f"provider's current price before renting")
    days = (today - date.fromisoformat(str(dated))).days
    limit = STALE_SPOT_PRICE_DAYS if chosen.interruptible else STALE_PRICE_DAYS
    if days <= limit:
        return None
    what = "spot price" if chosen.interruptible else "price"
    return (f"the {what} of {chosen.provider} {chosen.instance_type} is from the catalog's {dated} "
            f"snapshot, {days} days old: check the provider's current {what} before renting")
