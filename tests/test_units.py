from datetime import datetime, timedelta, timezone

import pytest

from advisor.errors import ConfigError
from advisor.units import (
    BYTES_PER_GIB,
    format_duration,
    format_usd,
    is_finite,
    parse_duration_seconds,
    parse_names,
    parse_since,
    parse_usd,
)


@pytest.mark.parametrize("text, seconds", [("6h", 21600), ("90m", 5400), ("1h30m", 5400), ("2d", 172800),
                                           ("45s", 45), ("3600", 3600), ("1.5h", 5400), ("2h5min", 7500),
                                           (120, 120)])
def test_parse_duration(text, seconds):
    assert parse_duration_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["six hours", "-1h", "0", "h", "1h-"])
def test_parse_duration_rejects(bad):
    with pytest.raises(ConfigError) as info:
        parse_duration_seconds(bad)
    assert "Fix" in str(info.value)


def test_parse_usd_and_names():
    assert parse_usd("$1,200.50") == pytest.approx(1200.5)
    assert parse_usd(50) == 50.0
    with pytest.raises(ConfigError):
        parse_usd("fifty")
    with pytest.raises(ConfigError):
        parse_usd(-3)
    assert parse_names("AWS, gcp,") == ["aws", "gcp"]
    assert parse_names("") is None


def test_formatting():
    assert format_duration(7800) == "2h10m"
    assert format_duration(245) == "4m05s"
    assert format_duration(12.34) == "12.3s"
    assert format_usd(2.8) == "$2.80"
    assert format_usd(0.0043) == "$0.0043"
    assert format_usd(1234.5) == "$1,234"


def test_parse_since():
    now = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
    assert parse_since("7d", now=now) == now - timedelta(days=7)
    assert parse_since("12h", now=now) == now - timedelta(hours=12)
    assert parse_since("30m", now=now) == now - timedelta(minutes=30)
    assert parse_since("2w", now=now) == now - timedelta(days=14)
    assert parse_since("2026-11-01") == datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert parse_since("2026-11-01T12:30+02:00") == datetime(2026, 11, 1, 10, 30, tzinfo=timezone.utc)
    assert parse_since(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=timezone.utc)
    for bad in ("yesterday", "7 parsecs", "", "2026-13-01"):
        with pytest.raises(ConfigError, match="--since"):
            parse_since(bad)


@pytest.mark.parametrize("bad", ["10000000000d", "36601d", "9" * 400 + "d", "0001-01-01T00:00+01:00"])
def test_parse_since_refuses_what_a_date_cannot_hold(bad):
    with pytest.raises(ConfigError, match="--since") as info:
        parse_since(bad)
    assert "Fix" in str(info.value)


def test_parse_since_keeps_a_century():
    now = datetime(2026, 11, 21, tzinfo=timezone.utc)
    assert parse_since("36600d", now=now) == now - timedelta(days=36600)
    assert parse_since("0001-01-01") == datetime(1, 1, 1, tzinfo=timezone.utc)


def test_bytes_per_gib_and_is_finite():
    assert BYTES_PER_GIB == 2**30
    assert is_finite(1.0) and not is_finite(None) and not is_finite(float("nan")) and not is_finite(float("inf"))
