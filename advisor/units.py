"""Parsing and formatting of the quantities users type and read: durations, money and lists of names (``--since``
ages and dates: ``advisor.since``); and the one bytes-per-GiB constant.

Kept apart from the CLI so the Python API accepts the same strings (``deadline="6h"``, ``budget="$50"``,
``since="7d"``).
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

from advisor.errors import ConfigError, HistoryError

BYTES_PER_GIB = 1024**3

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(min|sec|w|d|h|m|s)?", re.IGNORECASE)
_SECONDS_PER_UNIT = {"w": 7 * 86400.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "min": 60.0, "s": 1.0, "sec": 1.0}
# A bare number after a unit counts in the next smaller unit, as people write clock times: "1h30" is 1h30m,
# "2d12" is 2d12h, "5m30" is 5m30s.
_NEXT_SMALLER_UNIT = {"w": "d", "d": "h", "h": "m", "m": "s", "min": "s"}
SCIENTIFIC_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)e[+-]?\d+")
_BARE_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*", re.IGNORECASE)
MAX_DEADLINE_SECONDS = 10 * 365.25 * 86400  # ten years: past it a deadline is a typo, not a plan


def _number(value: int | float) -> float:
    """``value`` as a float; an int too large for one (10**400) is infinite, which the callers refuse."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def parse_duration_seconds(value: str | float | int | timedelta | None, *, what: str = "duration",
                           flag: str | None = None) -> float | None:
    """Seconds from "6h", "90m", "1h30m", "1h30" (= 1h30m), "2d", "1w", "45s", a plain number of seconds or a
    ``datetime.timedelta`` (a Python caller's own type for a duration). None passes through. ``flag``: the option
    it was given with, whose example the fix gives (``--deadline 6h``: ``deadline="6h"`` to a Python caller)."""
    if value is None:
        return None
    seconds = _unchecked_seconds(value, what, flag)
    if math.isinf(seconds) and seconds > 0:  # "1e400": too large for a float, not a negative
        raise ConfigError(f"The {what} {value!r} is too large to be a time.", hint=f"Fix: e.g. {_example(flag)}.")
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigError(f"The {what} must be positive, got {value!r}.", hint=f"Fix: e.g. {_example(flag)}.")
    return seconds


def _example(flag: str | None) -> str:
    """A duration as ``flag`` takes it, in the CLI's words (a bare 6h read as Python is no value at all)."""
    return f"{flag} 6h" if flag else "6h"


def _duration_hint(flag: str | None) -> str:
    return f"Fix: e.g. {_example(flag)} (or 90m, 1h30m, 1h30, 2d, or a number of seconds)."


def _unchecked_seconds(value: str | float | int | timedelta, what: str, flag: str | None = None) -> float:
    """``value`` in seconds, any sign, infinite where too large for a float; unreadable text raises."""
    if isinstance(value, timedelta):  # its str, "2:00:00", was read as text and refused
        return value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number(value)
    return duration_text_seconds(str(value), what, flag)


def parse_deadline_seconds(value: str | float | int | timedelta | None, *,
                           startup_seconds: float = 0.0) -> float | None:
    """A deadline as ``parse_duration_seconds`` reads it, up to ten years. A number without a unit is seconds;
    given as text ("90") and shorter than ``startup_seconds`` (the shortest start-up of any instance), it is
    refused: nothing could meet it, and "90" meant as minutes is the likelier reading."""
    seconds = parse_duration_seconds(value, what="deadline", flag="--deadline")
    if seconds is None:
        return None
    if seconds > MAX_DEADLINE_SECONDS:
        # not "(10 years)" after it: 87700h, rounded, read as the limit it is past
        raise ConfigError(f"The deadline {value!r} is more than 10 years ({seconds / 86400:,.0f} days; at most "
                          f"{MAX_DEADLINE_SECONDS / 86400:,.0f}), beyond any training job.",
                          hint="Fix: e.g. --deadline 6h or 3d, or leave it out for none.")
    if isinstance(value, str) and _BARE_NUMBER.fullmatch(value) and seconds < startup_seconds:
        v = value.strip()
        raise ConfigError(f"The deadline {v!r} has no unit, so it reads as {format_duration(seconds)}: shorter than "
                          f"any instance's start-up ({format_duration(startup_seconds)}), so nothing could meet it.",
                          hint=f"Fix: give the unit: --deadline {v}m (minutes), {v}h (hours), or {v}s if you do "
                               f"mean seconds.")
    return seconds


def duration_text_seconds(value: str, what: str, flag: str | None = None) -> float:
    text = value.strip().lower().replace(" ", "")
    hint = _duration_hint(flag)
    if SCIENTIFIC_NUMBER.fullmatch(text):  # "1e3": a number of seconds, as the hint says
        return float(text)
    # "-1h" is a time read, and not positive (as -5 is), not text that cannot be read: the caller says which.
    if re.fullmatch(r"-[\d.]+.*", text):
        return -duration_text_seconds(text[1:], what, flag)
    pos, seconds, previous = 0, 0.0, None
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if not m or m.end() == pos:
            raise ConfigError(f"Cannot read the {what} {value!r}.", hint=hint)
        unit = m.group(2)
        if unit is None and previous is not None:
            unit = _NEXT_SMALLER_UNIT.get(previous)
            if unit is None or m.end() != len(text):  # "30s5", or a bare number in the middle: not a time
                raise ConfigError(f"Cannot read the {what} {value!r}.", hint=hint)
        # Each unit once, largest first: "1h1h" or "30m1h" is a typo more likely than a sum.
        if unit is not None and previous is not None and _SECONDS_PER_UNIT[unit] >= _SECONDS_PER_UNIT[previous]:
            raise ConfigError(f"Cannot read the {what} {value!r}: each unit once, the largest first.",
                              hint=hint)
        seconds += float(m.group(1)) * _SECONDS_PER_UNIT[unit or "s"]
        pos, previous = m.end(), unit
    if previous is None and not text:
        raise ConfigError(f"Cannot read the {what} {value!r}.", hint=hint)
    return seconds


# The longest job an outcome records (31 years), and the shortest (a millisecond: below it a "real duration" is
# a typo, and 1e-300 s was told as 10^300 x shorter than predicted): the service's bounds too
# (advisor.service.wire.OutcomeRequest).
MAX_ACTUAL_SECONDS, MIN_ACTUAL_SECONDS = 1e9, 1e-3


def parse_actual_seconds(value: str | float | int | timedelta | None, *, failed: bool = False) -> float:
    """A job's real duration, as ``advisor history record --actual-seconds`` takes it: seconds or "30m", "1h30"
    (or a ``datetime.timedelta``). ``failed``: a run that crashed or was stopped, which may have done so at once,
    so 0 s (and less than a millisecond) is a duration it can have, as the history itself takes it
    (``outcome_checks.check_outcome``).

    Raises:
        HistoryError: not a positive, finite duration (the class recording an outcome has always raised for it;
            ``advisor.api.record_outcome`` and ``advisor.Client.record_outcome`` both check with this).
    """
    try:
        seconds = None if value is None else _unchecked_seconds(value, "--actual-seconds")
    except ConfigError:
        seconds = None
    if seconds is None and isinstance(value, str):  # "abc" is no duration at all: not "not positive" (read)
        raise HistoryError(f"Cannot read --actual-seconds {value!r} as a duration.",
                           hint="Fix: the job's real duration in seconds or with a unit, e.g. --actual-seconds 5400, "
                                "90m or 1h30.")
    if seconds is None or math.isnan(seconds) or seconds < 0 or (seconds == 0 and not failed):
        raise HistoryError(f"--actual-seconds must be a positive duration, got {value!r}"
                           f"{' (0 only for a run recorded as failed, --failed)' if seconds == 0 else ''}.",
                           hint="Fix: e.g. --actual-seconds 5400, 90m or 1h30.")
    if seconds < MIN_ACTUAL_SECONDS and not failed:
        raise HistoryError(f"--actual-seconds {value!r} is less than a millisecond, shorter than any real job.",
                           hint="Fix: the job's real duration in seconds, e.g. --actual-seconds 5400, 90m or 1h30.")
    if seconds > MAX_ACTUAL_SECONDS:
        raise HistoryError(f"--actual-seconds {value!r} is more than 31 years (1e9 s), beyond any real job.",
                           hint="Fix: the job's real duration, e.g. --actual-seconds 5400, 90m or 1h30.")
    return seconds


MAX_STARTUP_SECONDS = 7 * 24 * 3600.0


def parse_startup_seconds(value: str | float | int | timedelta, *, flag: str) -> float:
    """A start-up overhead from a flag: "0" (a machine already running), "90s", "5m", or seconds; up to a
    week."""
    if isinstance(value, str) and value.strip() in ("0", "0s", "0m"):
        return 0.0
    if isinstance(value, (int, float, timedelta)) and not isinstance(value, bool) and not value:
        return 0.0
    try:
        seconds = parse_duration_seconds(value, what=flag)
    except ConfigError:
        seconds = None
    if seconds is None or not seconds <= MAX_STARTUP_SECONDS:
        raise ConfigError(f"{flag} {value!r} is not a start-up time from 0 to 7 days.",
                          hint=f"Fix: e.g. {flag} 5m, {flag} 90s, or {flag} 0 for a machine that is already up.")
    return seconds


_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d*)?")


def parse_usd(value: str | float | int | None, *, what: str = "budget") -> float | None:
    """US dollars from "50", "$50", "50usd", "1,200.50". None passes through."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        amount = _number(value)
    else:
        text = str(value).strip().lower().replace("$", "").replace("usd", "").strip()
        if "," in text:
            # A comma only as a thousands separator: "5,50" (a decimal comma) is not $550.
            if not _THOUSANDS.fullmatch(text):
                raise ConfigError(f"Cannot read the {what} {value!r} as US dollars: a comma only separates "
                                  "thousands (1,200.50).", hint="Fix: write cents after a point, e.g. 5.50.")
            text = text.replace(",", "")
        try:
            amount = float(text)
        except ValueError:
            raise ConfigError(f"Cannot read the {what} {value!r} as US dollars.",
                              hint="Fix: write it like 50 or $50.") from None
    if math.isinf(amount) and amount > 0:  # "1e400": too large for a float, not a negative
        raise ConfigError(f"The {what} {value!r} is too large to be an amount of US dollars.",
                          hint="Fix: e.g. --budget 50.")
    if not math.isfinite(amount) or amount <= 0:
        raise ConfigError(f"The {what} must be a positive amount, got {value!r}.", hint="Fix: e.g. --budget 50.")
    return amount


def parse_names(value: str | list[str] | tuple[str, ...] | None, what: str = "the list") -> list[str] | None:
    """["aws", "gcp"] from "aws,gcp" (or a list); None or an empty list -> None (no filter). An empty string and
    commas alone (","), which name nothing, are a ConfigError naming ``what``: read as "no filter" they would
    quietly mean "all"."""
    if value is None:
        return None
    if not (isinstance(value, str) or (isinstance(value, (list, tuple)) and all(isinstance(i, str) for i in value))):
        raise ConfigError(f"{what} must be comma-separated names or a list of names, got {value!r:.80}.",
                          hint=f'Fix: e.g. {what} "aws,gcp" or ["aws", "gcp"].')
    if isinstance(value, str) and not value.strip():  # `--providers ""` (an unset shell variable) meant all, silently
        raise ConfigError(f"{what} {value!r} names nothing.",
                          hint=f"Fix: give {what} comma-separated names (e.g. aws,gcp), or leave it out for all.")
    items = value.split(",") if isinstance(value, str) else list(value)
    names = [i.strip().lower() for i in items if i and i.strip()]
    if not names and any(i and i.strip() for i in (value if isinstance(value, str) else items)):
        raise ConfigError(f"{what} {value!r} names nothing.",
                          hint=f"Fix: give {what} comma-separated names (e.g. aws,gcp), or leave it out for all.")
    return names or None


def is_finite(value: float | None) -> bool:
    """True for a real number (not None, NaN or infinity)."""
    return value is not None and math.isfinite(value)


def _duration_unit(seconds: float) -> str:
    """The largest unit ``format_duration`` writes ``seconds`` in, once rounded: "s", "m", "h", "d" or "y"."""
    if round(seconds, 1) < 60:
        return "s"
    if round(seconds) < 3600:
        return "m"
    if round(seconds / 60) < 48 * 60:
        return "h"
    return "d" if round(seconds / 3600) < 730 * 24 else "y"


def format_duration(seconds: float | None) -> str:
    """"2h10m", "4m05s", "12.3s", "4.2ms" — short and readable, rounded to the last unit shown (1h05m44s reads
    "1h06m", 2d03h14m "2d03h"), so that parts add up to their sum within that rounding."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if 0 < seconds < 1e-6:  # an analysis' price of a tiny model's step: "1.8e-07ms" read as a fault
        return "<0.001ms"
    if 0 < seconds < 0.05:  # "0.0s" would say nothing
        return f"{seconds * 1e3:.2g}ms"
    unit = _duration_unit(seconds)
    if unit == "s":
        return f"{seconds:.1f}s"
    if unit == "m":
        minutes, secs = divmod(round(seconds), 60)
        return f"{minutes}m{secs:02d}s"
    if unit == "h":
        hours, minutes = divmod(round(seconds / 60), 60)
        return f"{hours}h{minutes:02d}m"
    if unit == "d":
        days, hours = divmod(round(seconds / 3600), 24)
        return f"{days}d{hours:02d}h"
    # Past two years a day count is unreadable (10^12 epochs: "38532295108463d16h"); the order of it is the news.
    years = seconds / (365.25 * 86400)
    return f"{years:,.0f} years" if years < 1e6 else f"{years:.2g} years"


def _duration_to_seconds(seconds: float, decimals: int, days: bool) -> str:
    """``seconds`` with every unit down to the second, the seconds with ``decimals`` decimals: "1h05m44s",
    "4m05.2s", "2d03h14m38s" (with ``days`` False, hours however many: "50h00m00s")."""
    scale = 10 ** decimals
    whole, frac = divmod(round(seconds * scale), scale)
    fraction = f".{frac:0{decimals}d}" if decimals else ""
    if whole < 60:
        return f"{whole}{fraction}s"
    secs = f"{whole % 60:02d}{fraction}s"
    minutes, hours = whole // 60 % 60, whole // 3600
    if not hours:
        return f"{minutes}m{secs}"
    if hours < 48 or not days:
        return f"{hours}h{minutes:02d}m{secs}"
    return f"{hours // 24}d{hours % 24:02d}h{minutes:02d}m{secs}"


def durations_alike(longer: float, shorter: float) -> tuple[str, str]:
    """Two durations in one format where ``format_duration`` would switch between them at two days ("the 2d00h
    deadline with 47h56m to spare"): the longer in hours and minutes then, "48h00m"."""
    a, b = format_duration(longer), format_duration(shorter)
    if _duration_unit(longer) == "d" and _duration_unit(shorter) == "h":
        hours, minutes = divmod(round(longer / 60), 60)
        a = f"{hours}h{minutes:02d}m"
    return a, b


def format_span(low: float | None, high: float | None, point: float | None) -> str:
    """The 80% interval around ``point``, "2d00h–3d11h", a bound in the point's style where ``format_duration``'s
    switch at two days falls between them: "2d15h (2d00h–3d11h)", not "(47h35m–3d11h)"; "40h00m (30h00m–58h00m)",
    not "(30h00m–2d10h)". A bound under a day beside a point in days stays in hours ("5h00m", not "0d05h")."""
    return f"{_in_style_of(low, point)}–{_in_style_of(high, point)}"


def _in_style_of(seconds: float | None, point: float | None) -> str:
    if not is_finite(seconds) or not is_finite(point) or {_duration_unit(seconds), _duration_unit(point)} != {"d", "h"}:
        return format_duration(seconds)
    if _duration_unit(point) == "h":
        return durations_alike(seconds, point)[0]  # the bound in days: in hours and minutes, "58h00m"
    days, hours = divmod(round(seconds / 3600), 24)
    return f"{days}d{hours:02d}h" if days else format_duration(seconds)


def _exact_level(seconds: float) -> int | None:
    """The coarsest level ``durations_apart`` writes ``seconds`` exactly at: None (``format_duration``'s own unit:
    "1h05m", "4m05s", "2d00h"), else the decimals of the second (0 for "1h05m43s", up to 3)."""
    unit = _duration_unit(seconds)
    step = {"s": 0.1, "m": 1.0, "h": 60.0, "d": 3600.0}.get(unit)
    if step is None or abs(seconds / step - round(seconds / step)) < 1e-9:
        return None
    return next((d for d in range(3) if abs(seconds * 10 ** d - round(seconds * 10 ** d)) < 1e-6), 3)


def _durations_at(a: float, b: float, level: int | None) -> tuple[str, str]:
    """``a`` and ``b`` in one format: ``durations_alike``'s (``level`` None), or down to the second with ``level``
    decimals."""
    longer, shorter = max(a, b), min(a, b)
    if level is None:
        fl, fs = durations_alike(longer, shorter)
    else:
        days = shorter >= 48 * 3600  # one format for both, as durations_alike keeps
        fl, fs = _duration_to_seconds(longer, level, days), _duration_to_seconds(shorter, level, days)
    return (fl, fs) if a >= b else (fs, fl)


def durations_apart(a: float, b: float, *, exact: bool = False) -> tuple[str, str]:
    """``a`` and ``b`` as ``durations_alike`` writes them, or, where that prints two different durations alike (a run
    of 1h05m44s against a 1h05m43s deadline, both "1h06m"), down to the second, and then to as many decimals of it
    as tell them apart: what ``usd_apart`` does for money, so "takes X: misses the Y deadline" never shows X = Y.
    ``exact``: ``a`` is a limit the user gave, written as given ("1h05m43s", not "1h06m"), ``b`` as finely."""
    levels: list[int | None] = [None, 0, 1, 2, 3]
    if exact and _duration_unit(a) != "y":
        levels = levels[levels.index(_exact_level(a)):]
    if _duration_unit(max(a, b)) == "y":  # years: the order of it is the news
        levels = [None]
    for level in levels:
        fa, fb = _durations_at(a, b, level)
        if fa != fb or a == b:
            break
    return fa, fb


def _three_figures(value: float) -> str:
    """``value`` to three significant figures, trailing zeros kept: "0.200", "38.0", "281", "1,550"."""
    rounded = float(f"{value:.3g}")
    if rounded <= 0:
        return "0"
    return f"{rounded:,.{max(0, 2 - math.floor(math.log10(rounded)))}f}"


def format_step(seconds: float | None) -> str:
    """A predicted step's time to the three significant figures an estimate supports: "0.200 ms", "38.9 ms",
    "1,550 ms", and from 10 s on in seconds, "49.3 s" (not "49333.7 ms", a tenth of a millisecond of a step the
    probe never timed). Measured times keep their own precision; JSON keeps the unrounded seconds."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if float(f"{seconds:.3g}") >= 10:
        return f"{_three_figures(seconds)} s"
    return f"{_three_figures(seconds * 1e3)} ms"


def format_duration_exact(seconds: float) -> str:
    """A duration the user gave (a deadline), as given: "1h05m" for 65 min, "1h05m43s" for 3943 s, where
    ``format_duration`` would round it to "1h06m"."""
    return durations_apart(seconds, seconds, exact=True)[0]


def format_duration_flag(seconds: float) -> str:
    """A duration as a flag value that reads back to at least ``seconds``, to the minute above: "45m", "1h03m",
    "2d04h52m". ``format_duration`` rounds (from an hour on to the minute, from two days on to the hour), which a
    suggested flag must not."""
    minutes = max(1, math.ceil(seconds / 60 - 1e-9))
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours:02d}h{minutes:02d}m"
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def format_usd(amount: float | None, *, rate: bool = False) -> str:
    """The one way money is written, with significant digits by size: "$0.0032", "$0.0040", "$0.82", "$2.80",
    "$12.50", "$999", "$1,234"; negative amounts as "-$0.79"; from a trillion in powers of ten ("$3.2e+15"), as
    ``format_duration`` writes years, so an absurd figure stays one short cell.

    Below a dollar two significant digits are kept, trailing zeros included (so "$0.0040" stands beside
    "$0.0037", not "$0.004"); from $1 to $100 cents; from $100 whole dollars. ``rate`` (hourly prices) keeps
    one more significant digit below a dollar: "$0.714".
    """
    if amount is None or not math.isfinite(amount):
        return "-"
    sign = "-" if amount < 0 else ""
    value = abs(amount)
    if value >= 1e12:
        return f"{sign}${value:.2g}"
    if value >= 99.995:
        return f"{sign}${value:,.0f}"
    if value >= 1 or value == 0:
        return f"{sign}${value:.2f}"
    digits = 3 if rate else 2
    decimals = max(2, digits - 1 - math.floor(math.log10(value)))
    text = f"{value:.{decimals}f}"
    rounded = float(text)
    if 0 < rounded < 1 and math.floor(math.log10(rounded)) > math.floor(math.log10(value)):
        # 0.0996 rounds up to 0.100: the digits are counted again from the new leading one ("$0.10")
        decimals = max(2, digits - 1 - math.floor(math.log10(rounded)))
        text = f"{rounded:.{decimals}f}"
    if float(text) >= 1:  # 0.9999 rounded up to a dollar
        text = f"{value:.2f}"
    elif rate and text.endswith("0") and decimals > 2:  # the third digit only where it says something
        text = text[:-1]
    return f"{sign}${text}"


def format_usd_column(amounts: list[float | None], *, rate: bool = False) -> list[str]:
    """One table column of exact amounts (prices), each at the most decimals ``format_usd`` gives any of them:
    "$0.526" over "$2.920", not "$2.92", so the points line up and no row reads rounder than another."""
    texts = [format_usd(a, rate=rate) for a in amounts]
    decimals = max((len(t.partition(".")[2]) for t in texts if "e" not in t), default=0)
    return [t if a is None or not math.isfinite(a) or "e" in t else f"{'-' if a < 0 else ''}${abs(a):,.{decimals}f}"
            for a, t in zip(amounts, texts, strict=True)]


def format_usd_exact(amount: float) -> str:
    """An amount the user gave (a budget), as given: ``format_usd``'s "$0.18" for 0.18, but "$0.1753" for 0.1753 and
    "$1,234.50" for 1234.5, where ``format_usd`` would round it to an amount the user did not give."""
    text = format_usd(amount)
    for decimals in range(2, 13):
        if math.isclose(float(text.lstrip("-$").replace(",", "")), abs(amount), rel_tol=1e-12, abs_tol=1e-15):
            break
        text = ("-" if amount < 0 else "") + f"${abs(amount):,.{decimals}f}"
    return text


def format_usd_delta(amount: float | None) -> str:
    """A change in money with its sign: "+$0.79", "-$1.20", "+$0.00"."""
    if amount is None or not math.isfinite(amount):
        return "-"
    return ("-" if amount < 0 else "+") + format_usd(abs(amount))


def format_duration_delta(seconds: float | None) -> str:
    """A change in time with its sign: "+2m30s", "-30m00s"."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    return ("-" if seconds < 0 else "+") + format_duration(abs(seconds))


def format_ratio(ratio: float | None) -> str:
    """"11x", "2.7x", "0.32x": two significant digits, whole numbers from 10."""
    if ratio is None or not math.isfinite(ratio):
        return "-"
    if ratio >= 9.95:
        return f"{ratio:.0f}x"
    if ratio >= 0.995:
        return f"{ratio:.1f}x"
    return f"{ratio:.2g}x"


def format_rate(per_second: float) -> str:
    """"2,430", "22,100", "87.5": three significant digits, thousands separated ("any number of": no limit)."""
    if not math.isfinite(per_second):
        return "any number of"
    if per_second >= 100:
        return f"{float(f'{per_second:.3g}'):,.0f}"
    return f"{per_second:.3g}"


def format_gib_pair(needed: float, capacity: float, min_digits: int = 0) -> tuple[str, str]:
    """A memory need and a capacity in GiB, with the fewest decimals (``min_digits`` up to three) at which the two
    read differently: ("94", "80"), ("24.01", "24.00"); never "needs 4.0 GiB, has 4.0" for a job that does not
    fit."""
    pair = ("", "")
    for digits in range(min_digits, max(min_digits, 3) + 1):
        pair = (f"{needed:,.{digits}f}", f"{capacity:,.{digits}f}")
        if pair[0] != pair[1]:
            break
    return pair


def format_oom_cap(batch: int, limit: int, peak: float, capacity: float, per: str = "") -> str:
    """Why a job whose peak is within the memory does not fit: its batch is at or past one that ran out of memory
    in the probe ("batch 24 per GPU is over 23, the largest below a batch that ran out of memory in the probe
    (the line of its peaks gives 24 GiB of 140)"). ``per``: " per GPU" or ""."""
    return (f"batch {batch}{per} is over {limit}, the largest below a batch that ran out of memory in the probe "
            f"(the line of its peaks gives {peak:.0f} GiB of {capacity:.0f})")
