"""Numbers out of range: a ``--since`` that no date can hold, and history ids no database column can hold,
end in one clear message and exit 1 (an id beyond the column is "no such id"), never a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app

HUGE_ID = "99999999999999999999999"


def run(*args: str):
    return CliRunner().invoke(build_app(), list(args))


@pytest.mark.parametrize("command", ["list", "export"])
@pytest.mark.parametrize("since, phrase", [("10000000000d", "100 years"), ("99999999999999999999w", "100 years"),
                                           ("0001-01-01T00:00+01:00", "out of range")])
def test_since_out_of_range(user_error, saved_history, command, since, phrase):
    user_error(run("history", command, "--since", since), "--since", phrase)


@pytest.mark.parametrize("entry_id", [HUGE_ID, str(2**63), str(-(2**63) - 1), "0"])
def test_show_an_id_beyond_the_column(user_error, saved_history, entry_id):
    user_error(run("history", "show", "--", entry_id), f"No recommendation {entry_id} in history")


@pytest.mark.parametrize("entry_id", [HUGE_ID, str(2**63)])
def test_record_an_id_beyond_the_column(user_error, saved_history, entry_id):
    user_error(run("history", "record", entry_id, "--actual-seconds", "5"),
                f"No recommendation {entry_id} in history")


def test_the_largest_id_is_still_just_missing(user_error, saved_history):
    user_error(run("history", "show", str(2**63 - 1)), "No recommendation")
