import pytest

from advisor.errors import ConfigError
from advisor.units import format_duration, format_usd, parse_duration_seconds, parse_names, parse_usd


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
