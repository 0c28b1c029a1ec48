from datetime import datetime, timedelta, timezone

import pytest

from advisor.errors import ConfigError
from advisor.since import parse_since
from advisor.units import (
    BYTES_PER_GIB,
    durations_apart,
    format_duration,
    format_duration_delta,
    format_duration_exact,
    format_duration_flag,
    format_ratio,
    format_usd,
    format_usd_delta,
    format_usd_exact,
    is_finite,
    parse_actual_seconds,
    parse_deadline_seconds,
    parse_duration_seconds,
    parse_names,
    parse_startup_seconds,
    parse_usd,
)


@pytest.mark.parametrize("text, seconds", [("6h", 21600), ("90m", 5400), ("1h30m", 5400), ("2d", 172800),
                                           ("45s", 45), ("3600", 3600), ("1.5h", 5400), ("2h5min", 7500),
                                           (120, 120), ("1h30", 5400), ("2d12", 216000), ("5m30", 330),
                                           ("1h 30", 5400)])
def test_parse_duration(text, seconds):
    assert parse_duration_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["six hours", "-1h", "0", "h", "1h-", "30s5", "1h30x", "1h30m5x", "", "1h1h",
                                 "30m1h", "5s2m"])
def test_parse_duration_rejects(bad):
    with pytest.raises(ConfigError) as info:
        parse_duration_seconds(bad)
    assert "Fix" in str(info.value)


def test_a_deadline_in_e_notation_is_seconds_an_absurd_one_or_a_bare_number_under_any_start_up_is_refused():
    assert parse_duration_seconds("1e3") == 1000 and parse_deadline_seconds("1.5E3") == 1500
    with pytest.raises(ConfigError) as info:
        parse_deadline_seconds("99999999999999999999d")
    assert "more than 10 years" in info.value.message and "--deadline 6h" in info.value.hint
    with pytest.raises(ConfigError) as info:  # "90" under a 2-minute start-up: 90 minutes was meant
        parse_deadline_seconds("90", startup_seconds=120)
    assert info.value.message == ("The deadline '90' has no unit, so it reads as 1m30s: shorter than any "
                                  "instance's start-up (2m00s), so nothing could meet it.")
    assert info.value.hint == ("Fix: give the unit: --deadline 90m (minutes), 90h (hours), or 90s if you do mean "
                               "seconds.")
    assert parse_deadline_seconds("90s", startup_seconds=120) == 90  # a unit: as given
    assert parse_deadline_seconds("900", startup_seconds=120) == 900
    assert parse_deadline_seconds(90, startup_seconds=120) == 90  # a number from the API is seconds, as documented


def test_parse_usd_and_names():
    assert parse_usd("$1,200.50") == pytest.approx(1200.5)
    assert parse_usd("1,234,567") == 1234567.0
    for decimal_comma in ("5,50", "1,2", "12,5000", ",50"):  # not $550: a comma only separates thousands
        with pytest.raises(ConfigError, match="a comma only separates thousands"):
            parse_usd(decimal_comma)
    assert parse_usd(50) == 50.0
    with pytest.raises(ConfigError):
        parse_usd("fifty")
    with pytest.raises(ConfigError):
        parse_usd(-3)
    assert parse_names("AWS, gcp,") == ["aws", "gcp"]
    assert parse_names([]) is None
    for nothing in ("", "  ", ",", " , ", ",,"):  # "" was None: `--providers ""` meant every provider, silently
        with pytest.raises(ConfigError, match="names nothing"):
            parse_names(nothing, "providers")
    for wrong in (5, [1, 2], {"aws"}):
        with pytest.raises(ConfigError, match="must be comma-separated names or a list of names"):
            parse_names(wrong, "--providers")


def test_a_duration_flag_reads_back_to_at_least_the_duration():
    for seconds in (1, 60, 61, 3780, 172800, 190315.7, 1e12):
        flag = format_duration_flag(seconds)
        assert seconds <= parse_duration_seconds(flag) < seconds + 60 or seconds < 60
    assert (format_duration_flag(190315.7), format_duration_flag(3780), format_duration_flag(840)) == (
        "2d04h52m", "1h03m", "14m")


def test_a_duration_of_an_hour_or_more_is_rounded_to_its_last_unit_not_truncated():
    """From an hour on the seconds, and from two days on the minutes, were dropped: 1h01m56s read "1h01m" beside
    "56m56s job + 5m00s start-up", and 2d03h44m read "2d03h"."""
    assert format_duration(3716.36) == "1h02m"  # 1h01m56s
    assert format_duration(3944.24) == "1h06m"  # 1h05m44s
    assert format_duration(3929.9) == "1h05m"  # 1h05m29.9s
    assert format_duration(2 * 86400 + 3 * 3600 + 44 * 60) == "2d04h"
    assert format_duration(2 * 86400 + 3 * 3600 + 14 * 60) == "2d03h"
    # at each unit's edge the rounded value moves to the next unit: never "60.0s", "59m60s", "1h60m" or "47h60m"
    assert (format_duration(59.96), format_duration(3599.6), format_duration(7199.9)) == ("1m00s", "1h00m", "2h00m")
    assert format_duration(48 * 3600 - 20) == "2d00h"


@pytest.mark.parametrize("startup", [0.0, 120.0, 300.0, 299.6, 3599.7, 5400.0])
def test_a_total_and_its_parts_shown_add_up_within_the_rounding_of_each(startup):
    """The recommendation's "A total (B job + C start-up)": A and B + C, each read back from what is shown, differ
    by no more than the three roundings allow (half the last unit of each)."""
    def unit(text):  # the last unit written: 0.1 s in "12.3s", 1 s in "4m05s", a minute in "1h02m", an hour in "2d03h"
        return {"s": 0.1 if "m" not in text else 1.0, "m": 60.0, "h": 3600.0}[text[-1]]

    def read(text):
        return 0.0 if text == "0.0s" else parse_duration_seconds(text)

    for job in [3416.36 + k * 137.3 for k in range(0, 2000, 7)]:
        shown = [format_duration(x) for x in (job + startup, job, startup)]
        total, parts = read(shown[0]), read(shown[1]) + read(shown[2])
        assert abs(total - parts) <= sum(unit(t) for t in shown) / 2 + 1e-6, (job, startup, shown)


def test_durations_set_against_each_other_are_written_finely_enough_to_differ():
    """"takes 1h05m44s: misses the 1h05m43s deadline", never "takes 1h06m: misses the 1h06m deadline"; and a
    deadline as the user gave it (3943 s is 1h05m43s, not "1h06m")."""
    assert durations_apart(3944.24, 3943) == ("1h05m44s", "1h05m43s")
    assert durations_apart(3943, 3944.24, exact=True) == ("1h05m43s", "1h05m44s")
    assert durations_apart(3943.2, 3943) == ("1h05m43.2s", "1h05m43.0s")
    assert durations_apart(7200, 7190, exact=True) == ("2h00m00s", "1h59m50s")  # not "2h00m with 2h00m to spare"
    assert durations_apart(3900, 3900 - 3716.36, exact=True) == ("1h05m", "3m04s")  # apart already: as written
    assert durations_apart(3943, 3943 - 3716.36, exact=True) == ("1h05m43s", "3m47s")
    assert durations_apart(172800, 172770) == ("48h00m00s", "47h59m30s")  # one format, as durations_alike keeps
    assert durations_apart(184478, 184500) == ("2d03h14m38s", "2d03h15m00s")
    assert (format_duration_exact(3943), format_duration_exact(3900), format_duration_exact(30.25)) == (
        "1h05m43s", "1h05m", "30.25s")
    assert format_duration_exact(172800) == "2d00h"


def test_a_budget_is_written_as_given():
    """format_usd's two significant digits below a dollar and whole dollars from $100 rounded a budget the user
    gave: 0.1753 read "$0.18"."""
    assert [format_usd_exact(x) for x in (0.1753, 0.18, 50.0, 1234.5, 0.004, 0.17999)] == [
        "$0.1753", "$0.18", "$50.00", "$1,234.50", "$0.0040", "$0.17999"]


def test_formatting():
    assert format_duration(7800) == "2h10m"
    assert format_duration(245) == "4m05s"
    assert format_duration(12.34) == "12.3s"
    assert (format_duration(729 * 86400), format_duration(3 * 365.25 * 86400)) == ("729d00h", "3 years")
    assert format_duration(3.3e18) == "1e+11 years"  # 10^12 epochs: a day count said nothing
    # Under 50 ms, "0.0s" would say nothing: milliseconds, two significant digits.
    assert (format_duration(0.0042), format_duration(0.00004), format_duration(0.05)) == ("4.2ms", "0.04ms", "0.1s")
    # Under a microsecond (a tiny model's step priced from its analysis, in the probe table's "not timed" row),
    # "1.8e-07ms" read as a fault: the order is the news.
    assert (format_duration(1.8e-10), format_duration(1e-6), format_duration(5e-6)) == ("<0.001ms", "0.001ms",
                                                                                       "0.005ms")
    assert format_usd(2.8) == "$2.80"
    assert format_usd(0.0043) == "$0.0043"
    assert format_usd(1234.5) == "$1,234"


@pytest.mark.parametrize("amount, text", [
    (0.0037, "$0.0037"), (0.004, "$0.0040"), (0.00088, "$0.00088"), (0.022, "$0.022"), (0.82, "$0.82"),
    (0.1, "$0.10"), (0.99999, "$1.00"), (0, "$0.00"), (2.8, "$2.80"), (12.5, "$12.50"), (99.999, "$100"),
    (999.0, "$999"), (1234.5, "$1,234"), (-0.79, "-$0.79"), (None, "-"), (float("nan"), "-"),
    (999e9, "$999,000,000,000"), (1e308, "$1e+308"), (-3.2e15, "-$3.2e+15")])
def test_one_money_formatter_with_significant_digits_by_size(amount, text):
    assert format_usd(amount) == text


def test_an_amount_that_rounds_up_to_a_new_digit_keeps_two_significant_digits():
    # 0.0996 at two significant digits is 0.10: counted from the old leading digit it read "$0.100" (three)
    assert [format_usd(x) for x in (0.0996, 0.09999999999999987, 0.00999, 0.0994)] == [
        "$0.10", "$0.10", "$0.010", "$0.099"]
    assert format_usd(0.09996, rate=True) == "$0.10"


def test_rates_keep_a_third_digit_only_where_it_says_something():
    assert [format_usd(x, rate=True) for x in (0.714, 0.0336, 0.1, 0.004, 4.284)] == [
        "$0.714", "$0.0336", "$0.10", "$0.0040", "$4.28"]


def test_deltas_and_ratios():
    assert (format_usd_delta(0.79), format_usd_delta(-1.2)) == ("+$0.79", "-$1.20")
    assert (format_duration_delta(-1800), format_duration_delta(95)) == ("-30m00s", "+1m35s")
    assert [format_ratio(r) for r in (11.2, 2.74, 0.318, 1.0)] == ["11x", "2.7x", "0.32x", "1.0x"]


def test_a_ratio_that_rounds_to_ten_reads_whole_and_a_zero_change_reads_plus():
    # 9.97 rounds to 10 at two significant digits: "10x", not "10.0x" (three digits); 9.94 stays "9.9x"
    assert [format_ratio(r) for r in (9.94, 9.95, 9.97, 10.0)] == ["9.9x", "10x", "10x", "10x"]
    # no change is "+$0.00" (the docstring's example), never "-$0.00"
    assert (format_usd_delta(0.0), format_usd_delta(-0.0)) == ("+$0.00", "+$0.00")


def test_startup_seconds():
    assert parse_startup_seconds("0", flag="--startup-gpu") == 0
    assert parse_startup_seconds("90s", flag="--startup-gpu") == 90
    assert parse_startup_seconds("5m", flag="--startup-gpu") == 300
    assert parse_startup_seconds(45, flag="--startup-gpu") == 45
    for bad in ("-1", "soon", "8d", "nan"):
        with pytest.raises(ConfigError, match="--startup-gpu") as info:
            parse_startup_seconds(bad, flag="--startup-gpu")
        assert "Fix" in str(info.value)


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


@pytest.mark.parametrize(("age", "seconds"), [("1h30m", 5400), ("1h30", 5400), ("1h 30m", 5400), ("2d12", 216_000),
                                             ("1w2d", 777_600), ("90min", 5400), ("30sec", 30), ("1.5h", 5400)])
def test_since_takes_an_age_as_actual_seconds_takes_a_duration(age, seconds):
    """`--since 1h30m` was refused ("neither an age like 7d nor a date") while `--actual-seconds 1h30m` was read:
    the two had parsers of their own. An age is now any duration with a unit, read by the one parser."""
    now = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
    assert parse_since(age, now=now) == now - timedelta(seconds=seconds)
    assert parse_actual_seconds(age) == seconds


@pytest.mark.parametrize("bad", ["90", "1e3", "-1h", "1h1h", "30s5", "1h-"])
def test_an_age_has_a_unit_and_counts_back(bad):
    # a number alone is no age (20261101 is a date), and an age counted forward or a garbled one is refused
    with pytest.raises(ConfigError, match="it is neither an age like 7d nor a date"):
        parse_since(bad)
    assert parse_since("20261101") == datetime(2026, 11, 1, tzinfo=timezone.utc)


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


def test_a_timedelta_is_a_duration_wherever_one_is_taken():
    """The API's deadline=timedelta(hours=2) was "Cannot read the deadline '2:00:00'", a hint about strings."""
    from datetime import timedelta

    from advisor.units import parse_actual_seconds, parse_deadline_seconds, parse_startup_seconds

    assert parse_deadline_seconds(timedelta(hours=2)) == 7200.0
    assert parse_actual_seconds(timedelta(minutes=90)) == 5400.0
    assert parse_startup_seconds(timedelta(minutes=2), flag="--startup-gpu") == 120.0
    assert parse_startup_seconds(timedelta(0), flag="--startup-gpu") == 0.0
    with pytest.raises(ConfigError) as info:
        parse_deadline_seconds(timedelta(hours=-1))
    assert "must be positive" in info.value.message


def test_messages_say_what_is_wrong_with_a_duration():
    from advisor.errors import HistoryError
    from advisor.units import parse_actual_seconds, parse_deadline_seconds

    with pytest.raises(HistoryError) as unread:  # was "must be a positive duration": it was never read
        parse_actual_seconds("abc")
    assert unread.value.message == "Cannot read --actual-seconds 'abc' as a duration."
    with pytest.raises(ConfigError) as negative:  # was "Cannot read", while -5 was "must be positive"
        parse_deadline_seconds("-1h")
    assert negative.value.message == "The deadline must be positive, got '-1h'."
    with pytest.raises(ConfigError) as long:  # was "more than 10 years (10 years)"
        parse_deadline_seconds("87700h")
    assert long.value.message == ("The deadline '87700h' is more than 10 years (3,654 days; at most 3,652), beyond "
                                  "any training job.")


def test_a_step_is_written_to_three_significant_figures():
    """A predicted step's time: "49333.7 ms" claimed a tenth of a millisecond of a step scaled from elsewhere."""
    from advisor.units import format_step

    assert [format_step(s) for s in (49.3337, 9.996, 1234.5, 1.9772, 1.5476, 0.2806, 0.0389, 0.038, 0.09996,
                                     0.0002, 2.3e-6, 0.0)] == [
        "49.3 s", "10.0 s", "1,230 s", "1,980 ms", "1,550 ms", "281 ms", "38.9 ms", "38.0 ms", "100 ms",
        "0.200 ms", "0.00230 ms", "0 ms"]
    assert format_step(None) == format_step(float("nan")) == "-"


def test_an_interval_is_written_in_the_style_of_its_point():
    from advisor.units import format_span

    h, d = 3600.0, 86400.0
    assert format_span(47 * h + 35 * 60, 3 * d + 11 * h, 2 * d + 15 * h) == "2d00h–3d11h"  # was "47h35m–3d11h"
    assert format_span(25 * h + 36 * 60, 2 * d + 8 * h, 38 * h) == "25h36m–56h00m"
    assert format_span(5 * h, 3 * d, 2 * d + 12 * h) == "5h00m–3d00h"  # under a day: not "0d05h"
    assert format_span(20 * 60, 3 * h, 2 * h) == "20m00s–3h00m"  # only the two-day switch is one of style
    assert format_span(None, 3 * d, 2 * d) == "-–3d00h" and format_span(h, 2 * h, None) == "1h00m–2h00m"


def test_a_column_of_prices_has_one_number_of_decimals():
    from advisor.units import format_usd_column

    assert format_usd_column([0.526, 2.92, 14.94, None], rate=True) == ["$0.526", "$2.920", "$14.940", "-"]
    assert format_usd_column([1.8, 3.74, 98.32], rate=True) == ["$1.80", "$3.74", "$98.32"]  # as format_usd
    assert format_usd_column([0.0035, 1234.5], rate=True) == ["$0.0035", "$1,234.5000"]
    assert format_usd_column([float("nan"), 4e15, -0.714]) == ["-", "$4e+15", "-$0.71"]
