"""``--since`` (and the HTTP API's ``since`` query parameter): an age or a date, read as a UTC datetime.

An age is read by ``advisor.units``' duration parser, the one ``--actual-seconds`` uses, so the two take the same
spellings ("7d", "1h30m", "2w").
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from advisor.errors import ConfigError
from advisor.units import SCIENTIFIC_NUMBER, duration_text_seconds

# An age further back than this is a typo (or an attempt to overflow the date arithmetic), not a real filter.
MAX_SINCE_AGE_DAYS = 100 * 366
_SINCE_HINT = "Fix: e.g. --since 7d, --since 12h or --since 2026-11-01."
# The same, for the HTTP API's ``since`` query parameter (``query=True``): its caller typed no flag.
_SINCE_QUERY_HINT = "Fix: e.g. ?since=7d, ?since=12h or ?since=2026-11-01."
_UNIT_LETTER = re.compile(r"[a-z]", re.IGNORECASE)


def _age_seconds(text: str) -> float | None:
    """An age as any duration with a unit reads ("7d", "1h30m", "2w", "90min": ``--actual-seconds``' reading), or
    None: no such duration. A number alone is none (``20261101`` is a date to ``fromisoformat``), and nor is one
    counted forward ("-1h")."""
    if not _UNIT_LETTER.search(text) or SCIENTIFIC_NUMBER.fullmatch(text.strip().lower()):
        return None
    try:
        seconds = duration_text_seconds(text, "--since")
    except ConfigError:  # a date ("2026-11-01T12:00" has a letter) or no time at all: the caller says which
        return None
    return seconds if seconds >= 0 else None


def parse_since(text: str | datetime | date, *, now: datetime | None = None, query: bool = False) -> datetime:
    """A timezone-aware UTC datetime from ``--since``: an age as ``--actual-seconds`` takes a duration, with a unit
    ("7d", "12h", "1h30m", "2w"), or a date / datetime in ISO form ("2026-11-01", "2026-11-01T12:00",
    "2026-11-01 12:00+02:00"; naive means UTC). ``query``: the text is the HTTP API's ``since`` query parameter,
    and the errors name it so.

    Raises:
        ConfigError: the text is neither an age nor a date, or it lies outside what a datetime can hold
            (an age over ``MAX_SINCE_AGE_DAYS``, a date before year 1 once in UTC).
    """
    name, hint = ("the `since` query parameter", _SINCE_QUERY_HINT) if query else ("--since", _SINCE_HINT)
    if isinstance(text, datetime):
        return _as_utc(text, text, name, hint)
    if isinstance(text, date):
        return datetime(text.year, text.month, text.day, tzinfo=timezone.utc)
    raw = str(text).strip()
    age_seconds = _age_seconds(raw)
    if age_seconds is not None:
        if not age_seconds <= MAX_SINCE_AGE_DAYS * 86400:
            raise ConfigError(f"{name[0].upper()}{name[1:]} {text!r} reaches back more than "
                              f"{MAX_SINCE_AGE_DAYS // 366} years.",
                              hint=f"Fix: leave {name} out to see everything, or give a shorter age like 30d.")
        return (now or datetime.now(timezone.utc)) - timedelta(seconds=age_seconds)
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"Cannot read {name} {text!r}: it is neither an age like 7d nor a date like 2026-11-01.",
                          hint=hint) from None
    return _as_utc(when, text, name, hint)


def _as_utc(when: datetime, text: object, name: str = "--since", hint: str = _SINCE_HINT) -> datetime:
    """``when`` in UTC (naive means UTC already); ConfigError, naming ``name``, when that falls outside the
    datetime range."""
    if when.tzinfo is None:
        return when.replace(tzinfo=timezone.utc)
    try:
        return when.astimezone(timezone.utc)
    except OverflowError:
        raise ConfigError(f"{name[0].upper()}{name[1:]} {str(text)!r} is out of range once converted to UTC.",
                          hint=hint) from None
