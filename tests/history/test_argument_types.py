"""Wrong argument types and out-of-range numbers given to the history, from the Python API and the CLI: one
advisor error on both backends (they used to raise TypeError, OverflowError or the driver's own error, and
SQLite and PostgreSQL answered differently)."""

from __future__ import annotations

import pytest
from history_helpers import recommendation
from typer.testing import CliRunner

from advisor import api
from advisor.cli.app import build_app
from advisor.errors import ConfigError, HistoryError
from advisor.history.outcomes import forget

BIG = 2**63  # one past the largest SQL integer


@pytest.fixture
def saved(history):
    rid = history.save_recommendation(recommendation())
    oid = history.record_outcome(rid, 120.0).id
    return rid, oid


@pytest.mark.parametrize("bad_id", ["1", None, 1.0, True])
def test_an_id_that_is_not_a_whole_number_is_a_history_error(history, saved, bad_id):
    with pytest.raises(HistoryError, match="A history id is a whole number"):
        history.show(bad_id)
    with pytest.raises(HistoryError, match="A history id is a whole number"):
        api.record_outcome(bad_id, 60)
    assert len(history.show(saved[0]).outcomes) == 1  # nothing recorded


def test_wrong_types_and_huge_numbers_given_to_the_api(history, saved):
    rid, _ = saved
    with pytest.raises(HistoryError, match="more than 31 years"):  # too large, not "must be positive"
        api.record_outcome(rid, 10**400)
    with pytest.raises(HistoryError, match="instance_type is an instance's name"):
        api.record_outcome(rid, 60, instance_type=5)
    with pytest.raises(ConfigError, match="workload must be a workload's name"):
        history.list(workload=5)
    with pytest.raises(ConfigError, match="The deadline 1000+ is too large to be a time"):
        api.recommend(api.load_profile("tests/hostile/data/tabular_profile.json"), dataset_size=5000, epochs=1,
                      deadline=10**400)
    assert [e.id for e in history.list(limit=BIG * 10)] == [rid]  # past every row: all of them
    assert len(history.show(rid).outcomes) == 1


def test_the_cli_answers_out_of_range_numbers_without_a_traceback(history, saved):
    rid, oid = saved
    app = build_app()
    listed = CliRunner().invoke(app, ["history", "list", "--json", "--limit", str(BIG)])
    assert listed.exit_code == 0, listed.output
    assert f'"id": {rid}' in listed.output
    gone = CliRunner().invoke(app, ["history", "forget", str(rid), "--outcome", str(BIG)])
    assert gone.exit_code == 1 and "Traceback" not in gone.output
    assert f"There is no outcome {BIG} of recommendation {rid} to forget" in gone.output
    assert forget(history, rid, oid) == 1  # the real one is still there to forget


@pytest.mark.parametrize(("flag", "said"), [("--deadline", "The deadline '1e400' is too large to be a time"),
                                             ("--budget", "The budget '1e400' is too large to be an amount")])
def test_a_huge_deadline_or_budget_is_called_too_large_not_negative(flag, said):
    """1e400 overflows a float: it was refused as "must be positive", which sends a user looking for a sign."""
    result = CliRunner().invoke(build_app(), ["recommend", "tests/hostile/data/tabular_profile.json", "--dataset-size",
                                      "5000", "--epochs", "1", flag, "1e400"])
    assert result.exit_code == 1
    assert said in result.output and "positive" not in result.output


@pytest.mark.parametrize(("command", "more", "said", "fix"), [
    ("record", ["--actual-seconds", "20"], "which takes no outcome: `history record` takes the id of a recommendation",
     "a job that was only predicted has no recommendation to record its run against"),
    ("forget", [], "which has no outcomes to forget: `history forget` takes the id of a recommendation",
     "`advisor history show ID` lists its outcomes")])
def test_record_and_forget_of_a_saved_prediction_say_why_not(history, saved, command, more, said, fix):
    """`history list` prints p1 in its id column and `show` takes it; `record p1` / `forget p1` answered with
    pydantic's "Input should be a valid integer" (exit 2)."""
    app = build_app()
    for flags in ([], ["--json"]):
        result = CliRunner().invoke(app, ["history", command, "p1", *more, *flags])
        assert result.exit_code == 1 and "Traceback" not in result.output and "valid integer" not in result.output
        assert f"'p1' names a saved prediction (`advisor predict`), {said}, a number without the p." in result.output
        assert fix in result.output.replace("\n", " ")
    junk = CliRunner().invoke(app, ["history", command, "1x", *more])
    assert junk.exit_code == 1 and f"'1x' is not a recommendation's id: `history {command}` takes a whole number." \
        in junk.output
    assert len(history.show(saved[0]).outcomes) == 1  # nothing recorded, nothing forgotten
