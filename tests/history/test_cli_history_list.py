"""``advisor history list`` when nothing is listed: an empty history says so, filters that match nothing say
which filters (escaped), and ``--json`` stays the same empty lists either way."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from history_helpers import recommendation
from typer.testing import CliRunner

from advisor.history.repository import History

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
EMPTY = "History: nothing stored yet (every `advisor recommend` lands here unless --no-save)."


@pytest.fixture
def cli():
    from advisor.cli.app import build_app

    app = build_app()

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, list(args))
        # The console wraps long lines at 160 columns: compare the words.
        return result.exit_code, " ".join(result.output.split())

    return run


def test_an_empty_history_says_nothing_is_stored_yet(cli, db_url):
    for args in ((), ("--workload", "nosuch"), ("--since", "2099-01-01")):
        code, text = cli("history", "list", *args)
        assert (code, text) == (0, EMPTY)


def test_filters_that_match_nothing_are_named(cli, db_url):
    with History(db_url) as hist:
        hist.save_recommendation(recommendation("resnet"))
    code, text = cli("history", "list", "--workload", "nosuch")
    assert code == 0
    assert text == ("History: nothing stored matches --workload 'nosuch' (other entries are stored: `advisor history "
                    "list` without it lists them). --workload takes the name shown in the workload column (the file "
                    "name without .py).")
    code, text = cli("history", "list", "--since", "2099-01-01")
    assert (code, text) == (0, "History: nothing stored matches --since '2099-01-01' (other entries are stored: "
                               "`advisor history list` without it lists them).")
    code, text = cli("history", "list", "--workload", "resnet", "--since", "2099-01-01")
    assert code == 0 and "nothing stored matches --workload 'resnet' --since '2099-01-01'" in text
    assert "without these filters lists them" in text and "nothing stored yet" not in text
    code, text = cli("history", "list", "--workload", "resnet")
    assert code == 0 and "History (1, newest first)" in text and "resnet" in text


def test_json_is_the_same_empty_lists_whether_filtered_or_empty(cli, db_url):
    code, empty = cli("history", "list", "--json")
    with History(db_url) as hist:
        hist.save_recommendation(recommendation("resnet"))
    code2, filtered = cli("history", "list", "--since", "2099-01-01", "--json")
    assert code == code2 == 0
    assert json.loads(empty) == json.loads(filtered) == {"schema_version": 1, "entries": [], "predictions": [],
                                                         "total_entries": 0, "total_predictions": 0}


def test_a_page_past_the_newest_says_where_it_sits_and_how_many_match(cli, db_url):
    """``history list`` could not reach past the newest ``--limit``, nor said how many were stored."""
    from datetime import timedelta

    from advisor.schemas import utc_now

    with History(db_url) as hist:
        ids = [hist.save_recommendation(recommendation("resnet", created_at=utc_now() - timedelta(hours=h)))
               for h in range(5)]  # ids[0] is the newest
        hist.save_recommendation(recommendation("other", created_at=utc_now() - timedelta(days=3)))
    code, text = cli("history", "list", "--limit", "2", "--offset", "2")
    assert code == 0 and "History (3-4 of 6, newest first; --offset 4 lists the next)" in text
    code, page = cli("history", "list", "--limit", "2", "--offset", "2", "--json")
    page = json.loads(page)
    assert [e["id"] for e in page["entries"]] == ids[2:4]
    assert (page["total_entries"], page["total_predictions"]) == (6, 0)
    code, text = cli("history", "list", "--limit", "2", "--offset", "4")
    assert code == 0 and "History (5-6 of 6, newest first)" in text and "lists the next" not in text
    filtered = json.loads(cli("history", "list", "--workload", "resnet", "--offset", "3", "--json")[1])
    assert [e["id"] for e in filtered["entries"]] == ids[3:] and filtered["total_entries"] == 5
    code, text = cli("history", "list")
    assert code == 0 and "History (6, newest first)" in text  # everything shown: no "of"
    assert cli("history", "list", "--offset", "9") == (0, "History: 6 recommendation(s) match; none past --offset 9.")
    assert cli("history", "list", "--offset", "-1") == (
        1, "error: --offset must be 0 or more, got -1. Fix: e.g. --offset 50 lists the entries after the newest 50.")


def test_a_hostile_filter_is_escaped(cli, db_url):
    with History(db_url) as hist:
        hist.save_recommendation(recommendation("resnet"))
    code, text = cli("history", "list", "--workload", "[red]x\x1b[31m")
    assert code == 0
    assert "--workload '[red]x\\x1b[31m'" in text and "\x1b" not in text


def test_only_predictions_stored(cli, db_url):
    code, _ = cli("predict", "--profile", str(PROFILE), "--gpu", "A100-80GB", "--json")
    assert code == 0
    code, text = cli("history", "list")
    assert code == 0 and "nothing stored yet" not in text
    assert text.startswith("History: no recommendations stored yet (every `advisor recommend` lands here unless "
                           "--no-save); the predictions `advisor predict` saved are below. "
                           "Predictions (1, newest first")
    code, text = cli("history", "list", "--workload", "tabular_mlp")
    assert code == 0 and text.startswith("History: no recommendation matches --workload 'tabular_mlp'; the "
                                         "predictions that do are below. Predictions (1, newest first")
    code, text = cli("history", "list", "--workload", "nosuch")
    assert code == 0 and text.startswith("History: nothing stored matches --workload 'nosuch'")


def test_the_listed_times_say_they_are_utc_and_since_dates_are_read_in_utc(cli, db_url, monkeypatch):
    """The "when" columns were UTC with no label (a user at UTC-8 saw times 8 h ahead) and --since's help did not
    say that a date means UTC midnight."""
    from datetime import datetime, timezone

    monkeypatch.setenv("TZ", "America/Los_Angeles")  # the local clock plays no part
    made = datetime(2026, 12, 6, 18, 37, 12, tzinfo=timezone.utc)
    with History(db_url) as hist:
        hist.save_recommendation(recommendation("resnet", created_at=made))
    code, _ = cli("predict", "--profile", str(PROFILE), "--gpu", "A100-80GB", "--json")
    assert code == 0
    code, text = cli("history", "list")
    assert code == 0 and text.count("when (UTC)") == 2  # the recommendations' table and the predictions'
    assert "2026-12-06 18:37" in text
    listed = json.loads(cli("history", "list", "--json")[1])
    assert listed["entries"][0]["created_at"] == "2026-12-06T18:37:12Z"
    assert listed["predictions"][0]["created_at"].endswith("Z")
    assert json.loads(cli("history", "list", "--since", "2026-12-06T19:00", "--json")[1])["entries"] == []
    assert len(json.loads(cli("history", "list", "--since", "2026-12-06T19:00+01:00", "--json")[1])["entries"]) == 1
    for command in ("list", "export"):
        code, text = cli("history", command, "--help")
        assert code == 0 and "a UTC date or time (2026-11-01" in text



def test_since_takes_a_compound_age(cli, db_url):
    """`history list --since 1h30m` was refused ("neither an age like 7d nor a date") while `history record
    --actual-seconds 1h30m` read it: an age is now read by the same duration parser."""
    now = datetime.now(timezone.utc)
    with History(db_url) as hist:
        recent, _ = (hist.save_recommendation(recommendation("m", created_at=now - timedelta(minutes=minutes)))
                     for minutes in (80, 100))
    code, text = cli("history", "list", "--since", "1h30m", "--json")
    assert code == 0, text
    assert [e["id"] for e in json.loads(text)["entries"]] == [recent]
