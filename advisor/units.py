"""Parsing and formatting of the quantities users type and read: durations, money, lists of names, ``--since``
ages and dates; and the one bytes-per-GiB constant.

Kept apart from the CLI so the Python API accepts the same strings (``deadline="6h"``, ``budget="$50"``,
``since="7d"``).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta, timezone

from advisor.errors import ConfigError

BYTES_PER_GIB = 1024**3

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(min|sec|d|h|m|s)?", re.IGNORECASE)
_SECONDS_PER_UNIT = {"d": 86400.0, "h": 3600.0, "m": 60.0, "min": 60.0, "s": 1.0, "sec": 1.0, None: 1.0}


def parse_duration_seconds(value: str | float | int | None, *, what: str = "duration") -> float | None:
    """Seconds from "6h", "90m", "1h30m", "2d", "45s" or a plain number of seconds. None passes through."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip().lower().replace(" ", "")
        pos, seconds, matched = 0, 0.0, False
        while pos < len(text):
            m = _DURATION_PART.match(text, pos)
            if not m or m.end() == pos:
                matched = False
                break
            unit = m.group(2)
            seconds += float(m.group(1)) * _SECONDS_PER_UNIT[unit.lower() if unit else None]
            pos, matched = m.end(), True
        if not matched:
            raise ConfigError(f"Cannot read the {what} {value!r}.",
                              hint="Fix: write it like 6h, 90m, 1h30m, 2d or a number of seconds.")
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigError(f"The {what} must be positive, got {value!r}.", hint="Fix: e.g. 6h.")
    return seconds


def parse_usd(value: str | float | int | None, *, what: str = "budget") -> float | None:
    """US dollars from "50", "$50", "50usd", "1,200.50". None passes through."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        amount = float(value)
    else:
        text = str(value).strip().lower().replace(",", "").replace("$", "").replace("usd", "").strip()
        try:
            amount = float(text)
        except ValueError:
            raise ConfigError(f"Cannot read the {what} {value!r} as US dollars.",
                              hint="Fix: write it like 50 or $50.") from None
    if not math.isfinite(amount) or amount <= 0:
        raise ConfigError(f"The {what} must be a positive amount, got {value!r}.", hint="Fix: e.g. --budget 50.")
    return amount


_SINCE_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(w|d|h|m|min|s)\s*$", re.IGNORECASE)
_SINCE_SECONDS_PER_UNIT = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "min": 60, "s": 1}
# An age further back than this is a typo (or an attempt to overflow the date arithmetic), not a real filter.
MAX_SINCE_AGE_DAYS = 100 * 366
_SINCE_HINT = "Fix: e.g. --since 7d, --since 12h or --since 2026-11-01."


def parse_since(text: str | datetime | date, *, now: datetime | None = None) -> datetime:
    """A timezone-aware UTC datetime from ``--since``: "7d", "12h", "30m", "2w", or a date / datetime in ISO
    form ("2026-11-01", "2026-11-01T12:00", "2026-11-01 12:00+02:00"; naive means UTC).

    Raises:
        ConfigError: the text is neither an age nor a date, or it lies outside what a datetime can hold
            (an age over ``MAX_SINCE_AGE_DAYS``, a date before year 1 once in UTC).
    """
    if isinstance(text, datetime):
        return _as_utc(text, text)
    if isinstance(text, date):
        return datetime(text.year, text.month, text.day, tzinfo=timezone.utc)
    raw = str(text).strip()
    m = _SINCE_AGE.match(raw)
    if m:
        age_seconds = float(m.group(1)) * _SINCE_SECONDS_PER_UNIT[m.group(2).lower()]
        if not age_seconds <= MAX_SINCE_AGE_DAYS * 86400:
            raise ConfigError(f"--since {text!r} reaches back more than {MAX_SINCE_AGE_DAYS // 366} years.",
                              hint="Fix: leave --since out to see everything, or give a shorter age like 30d.")
        return (now or datetime.now(timezone.utc)) - timedelta(seconds=age_seconds)
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"Cannot read --since {text!r}: it is neither an age like 7d nor a date like 2026-11-01.",
                          hint=_SINCE_HINT) from None
    return _as_utc(when, text)


def _as_utc(when: datetime, text: object) -> datetime:
    """``when`` in UTC (naive means UTC already); ConfigError when that falls outside the datetime range."""
    if when.tzinfo is None:
        return when.replace(tzinfo=timezone.utc)
    try:
        return when.astimezone(timezone.utc)
    except OverflowError:
        raise ConfigError(f"--since {str(text)!r} is out of range once converted to UTC.",
                          hint=_SINCE_HINT) from None


def parse_names(value: str | list[str] | tuple[str, ...] | None) -> list[str] | None:
    """["aws", "gcp"] from "aws,gcp" (or a list); None or empty -> None."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    names = [i.strip().lower() for i in items if i and i.strip()]
    return names or None


def is_finite(value: float | None) -> bool:
    """True for a real number (not None, NaN or infinity)."""
    return value is not None and math.isfinite(value)


def format_duration(seconds: float | None) -> str:
    """"2h10m", "4m05s", "12.3s" — short and readable."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def format_usd(amount: float | None) -> str:
    """"$0.0043", "$2.80", "$12.5", "$1,234": cents where they matter, no false precision."""
    if amount is None or not math.isfinite(amount):
        return "-"
    if amount < 0.1:
        return f"${amount:.2g}"  # a few cents or less: keep two significant digits, not "$0.00"
    if amount < 10:
        return f"${amount:.2f}"
    return f"${amount:,.0f}" if amount >= 1000 else f"${amount:.1f}"
