"""The repository on SQLite and PostgreSQL: round trips, outcomes, queries, export, and all-or-nothing writes."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from history_helpers import candidate, profile, recommendation
from sqlalchemy import event, func, select

from advisor.errors import ConfigError, HistoryError
from advisor.history.export import EXPORT_COLUMNS
from advisor.history.repository import History
from advisor.history.tables import (
    CandidateTable,
    MeasurementTable,
    OutcomeTable,
    ProfileTable,
    RecommendationTable,
    WorkloadTable,
)
from advisor.schemas import Candidate, Estimate, Target
from advisor.since import parse_since


def counts(hist: History) -> dict[str, int]:
    with hist.engine.connect() as conn:
        return {t.__tablename__: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in (WorkloadTable, ProfileTable, MeasurementTable, RecommendationTable, CandidateTable,
                          OutcomeTable)}


# ------------------------------------------------------------------------------------------ round trips


def test_save_then_show_returns_the_same_recommendation(history):
    rec = recommendation("resnet", chosen=2)
    rec.id = history.save_recommendation(rec, profile=profile("resnet"))
    detail = history.show(rec.id)
    assert detail.recommendation == rec
    assert detail.recommendation.model_dump(mode="json") == rec.model_dump(mode="json")
    assert detail.outcomes == []
    assert detail.profile_id is not None
    assert detail.recommendation.created_at.tzinfo is not None


def test_chosen_outside_the_ranked_list_and_no_chosen(history):
    outsider = candidate(3, instance_type="x9.huge", seconds=77.0)
    rec = recommendation("a", chosen=0, n=3).model_copy(update={"chosen": outsider})
    rec.id = history.save_recommendation(rec)
    assert history.show(rec.id).recommendation == rec

    none = recommendation("a", n=0, excluded=2).model_copy(update={"chosen": None})
    none.id = history.save_recommendation(none)
    shown = history.show(none.id).recommendation
    assert shown == none and shown.chosen is None and len(shown.excluded) == 2
    entry = [e for e in history.list() if e.id == none.id][0]
    assert entry.instance_type is None and entry.n_candidates == 0


def test_counts_of_rows_written(history):
    rec_id = history.save_recommendation(recommendation("m", n=5, excluded=2), profile=profile("m"))
    c = counts(history)
    assert c == {"workloads": 1, "profiles": 1, "measurements": 3, "recommendations": 1, "candidates": 7,
                 "outcomes": 0}
    with history.engine.connect() as conn:
        flags = conn.execute(select(CandidateTable.chosen, CandidateTable.excluded, CandidateTable.rank)
                             .where(CandidateTable.recommendation_id == rec_id)
                             .order_by(CandidateTable.id)).all()
    assert [tuple(f) for f in flags] == [(False, False, 0), (True, False, 1), (False, False, 2),
                                         (False, False, 3), (False, False, 4), (False, True, 0), (False, True, 1)]


def test_workload_is_stored_once_per_name_and_file_hash(history):
    history.save_recommendation(recommendation("m", sha="1" * 64))
    history.save_recommendation(recommendation("m", sha="1" * 64))
    history.save_recommendation(recommendation("m", sha="2" * 64))
    history.save_recommendation(recommendation("other", sha="1" * 64))
    history.save_recommendation(recommendation("nofile", sha=""))
    history.save_recommendation(recommendation("nofile", sha=""))
    with history.engine.connect() as conn:
        rows = conn.execute(select(WorkloadTable.name, WorkloadTable.file_sha256, WorkloadTable.param_count,
                                   WorkloadTable.flops_per_sample)).all()
    assert sorted((r.name, r.file_sha256[:1]) for r in rows) == [("m", "1"), ("m", "2"), ("nofile", ""),
                                                                  ("other", "1")]
    assert {r.param_count for r in rows} == {11_689_512}
    assert history.workload_names() == ["m", "nofile", "other"]


def test_save_profile_and_prediction(history):
    prof = profile("p")
    pid = history.save_profile(prof)
    est = Estimate(target=Target.gpu("A100-80GB", 4), dataset_size=1000, epochs=2, batch_size=64, seconds=100.0,
                   low=80.0, high=130.0, step_seconds=0.5, steps_per_epoch=16, total_steps=32, fits_memory=True,
                   per_device_batch_size=16, method="scaled", precision="bf16")
    pred_id = history.save_prediction(est, prof.workload, profile_id=pid)
    assert pid >= 1 and pred_id >= 1
    c = counts(history)
    assert c["profiles"] == 1 and c["measurements"] == 3 and c["workloads"] == 1
    from advisor.history.tables import PredictionTable

    with history.engine.connect() as conn:
        row = conn.execute(select(PredictionTable)).one()
    assert (row.gpu, row.gpu_count, row.seconds, row.method, row.profile_id) == ("A100-80GB", 4, 100.0, "scaled",
                                                                                 pid)
    assert Estimate.model_validate(row.data) == est


# -------------------------------------------------------------------------------------------- outcomes


def test_record_then_compare_shows_the_error(history):
    rec_id = history.save_recommendation(recommendation("m", chosen=1))  # chosen predicts 1800 s
    out = history.record_outcome(rec_id, 2000.0)
    assert out.id and out.status == "completed" and out.instance_type == "g5.xlarge"
    assert out.recorded_at.tzinfo is not None
    comp = history.compare()
    assert len(comp.rows) == 1
    row = comp.rows[0]
    assert row.recommendation_id == rec_id and row.predicted_seconds == 1800.0 and row.actual_seconds == 2000.0
    assert row.error_pct == pytest.approx(-10.0)
    assert row.within_interval and row.device == "A10G" and row.method == "scaled"
    assert comp.overall.n == 1 and comp.overall.median_abs_error_pct == pytest.approx(10.0)


def test_the_outcomes_version_moves_when_the_newest_is_forgotten_and_another_recorded(history):
    """What a server keys its fitted history correction and cached rankings by: a forgotten newest outcome and
    a new one in its place (SQLite hands the new row the freed id) must still be another version."""
    from advisor.history.outcomes import forget

    assert history.outcomes_version() == (0, 0, "")
    first, second = (history.save_recommendation(recommendation("m", chosen=1)) for _ in range(2))
    history.record_outcome(first, 2000.0)
    history.record_outcome(second, 2100.0)
    before = history.outcomes_version()
    assert before[:2] == (2, max(o.id for o in history.show(second).outcomes))
    forget(history, second)
    history.record_outcome(second, 5000.0)
    assert history.outcomes_version()[0] == 2 and history.outcomes_version() != before


def test_forgetting_what_is_not_there_says_what_is_missing(history):
    from advisor.history.outcomes import forget

    rec_id = history.save_recommendation(recommendation("m", chosen=1))
    with pytest.raises(HistoryError) as err:
        forget(history, rec_id)
    assert err.value.message == f"There are no outcomes for recommendation {rec_id} to forget."
    history.record_outcome(rec_id, 2000.0)
    with pytest.raises(HistoryError) as err:
        forget(history, rec_id, outcome_id=999)
    assert err.value.message == f"There is no outcome 999 of recommendation {rec_id} to forget."
    assert forget(history, rec_id) == 1


@pytest.mark.parametrize("limit", [0, -1, 2.5, True])
def test_a_list_limit_below_one_is_refused_not_read_as_no_rows_or_every_row(history, limit):
    history.save_recommendation(recommendation("m"))
    with pytest.raises(ConfigError) as err:
        history.list(limit=limit)
    assert "limit must be a whole number of 1 or more" in err.value.message
    assert len(history.list(limit=1)) == 1 and len(history.list(limit=None)) == 1


def test_text_no_database_can_store_is_a_history_error_not_the_drivers(history):
    rec_id = history.save_recommendation(recommendation("m", chosen=1))
    with pytest.raises(HistoryError) as err:
        history.list(workload="bad\ud800name")  # a lone surrogate: UTF-8 has no encoding for it
    assert "holds a character no database can store" in err.value.message
    with pytest.raises(HistoryError) as err:
        history.record_outcome(rec_id, 2000.0, notes="bad\ud800note")
    assert "Nothing was written" in err.value.message
    assert history.show(rec_id).outcomes == []
    if history.engine.dialect.name == "postgresql":  # psycopg2 refuses a NUL too (SQLite stores it)
        with pytest.raises(HistoryError, match="NUL"):
            history.list(workload="bad\x00name")


def test_outcome_on_another_instance_compares_with_that_candidate(history):
    rec_id = history.save_recommendation(recommendation("m", chosen=1))
    out = history.record_outcome(rec_id, 900.0, instance_type="P4D.24XLARGE")  # candidate 2: 1200 s (960-1500)
    assert out.instance_type == "p4d.24xlarge"
    row = history.compare().rows[0]
    assert row.instance_type == "p4d.24xlarge" and row.predicted_seconds == 1200.0
    assert row.device == "8 x A100-40GB" and row.tier == "multi_gpu"
    assert row.error_pct == pytest.approx(100 / 3) and not row.within_interval


def test_aggregates_per_device_and_method(history):
    ids = [history.save_recommendation(recommendation("m", chosen=1)) for _ in range(3)]
    history.record_outcome(ids[0], 1800.0 * 1.1)
    history.record_outcome(ids[1], 1800.0 * 0.5)
    history.record_outcome(ids[2], 3600.0 / 1.25, instance_type="c7i.8xlarge")  # CPU, predicted 3600
    comp = history.compare()
    by_device = {g.key: g for g in comp.by_device}
    assert by_device["A10G"].n == 2 and by_device["cpu"].n == 1
    assert by_device["cpu"].mean_error_pct == pytest.approx(25.0)
    a10 = sorted(r.error_pct for r in comp.rows if r.device == "A10G")
    assert by_device["A10G"].median_abs_error_pct == pytest.approx((abs(a10[0]) + abs(a10[1])) / 2)
    assert [g.key for g in comp.by_method] == ["scaled"] and comp.by_method[0].n == 3
    assert history.compare(workload="nope").rows == []


def test_failed_outcomes_are_kept_but_not_compared(history):
    rec_id = history.save_recommendation(recommendation("m"))
    history.record_outcome(rec_id, 50.0, status="failed", notes="OOM at step 3")
    assert history.compare().rows == []
    detail = history.show(rec_id)
    assert [(o.status, o.notes) for o in detail.outcomes] == [("failed", "OOM at step 3")]
    assert history.list()[0].status == "failed"


def test_an_outcome_far_from_its_prediction_is_refused_without_force(history):
    """``History.record_outcome`` (the class docstring's way to import outcomes) stored an outcome 14,000x off its
    prediction with no word, where ``history record`` refused it. Now it refuses it as the CLI does, writing
    nothing, unless ``force=True``; a failed run's time is not judged (it may have failed at once)."""
    rec_id = history.save_recommendation(recommendation("m", chosen=1))  # chosen predicts 1800 s
    with pytest.raises(HistoryError) as info:
        history.record_outcome(rec_id, 1800.0 * 14_000)
    assert str(info.value).startswith("Not recorded: 291d16h is 14,000x longer than the predicted 30m00s")
    assert "looks like a mistake" in str(info.value) and "force=True" in info.value.hint
    with pytest.raises(HistoryError, match="is 25x shorter than the predicted 30m00s"):
        history.record_outcome(rec_id, 72.0)
    assert counts(history)["outcomes"] == 0
    assert history.record_outcome(rec_id, 1800.0 * 19).actual_seconds == 34_200.0  # within 20x: a real run
    assert history.record_outcome(rec_id, 1800.0 * 14_000, force=True).actual_seconds == 25_200_000.0
    assert history.record_outcome(rec_id, 0.5, status="failed").status == "failed"
    assert counts(history)["outcomes"] == 3


def test_the_same_outcome_recorded_twice_is_refused_so_one_run_counts_once(history):
    """A retried step recorded one run twice: both outcomes counted in compare and in the learned correction's
    training rows, and nothing said so. Now the second is refused (nothing written) unless ``force=True``: another
    run that took as long. Another duration, instance or status is another outcome."""
    rec_id = history.save_recommendation(recommendation("m", chosen=1))  # chosen: g5.xlarge, 1800 s
    first = history.record_outcome(rec_id, 1750.0)
    with pytest.raises(HistoryError) as info:
        history.record_outcome(rec_id, 1750, instance_type="G5.XLARGE")  # the chosen one, named
    assert str(info.value).startswith(f"Not recorded: recommendation {rec_id} already has this outcome, 29m10s on "
                                      f"g5.xlarge (outcome {first.id}, recorded {first.recorded_at:%Y-%m-%d %H:%M} "
                                      "UTC); a second would count one run twice")
    assert "another run that took as long, add force=True" in info.value.hint  # in the caller's words
    assert len(history.compare().rows) == 1 and len(history.training_rows()) == 1
    history.record_outcome(rec_id, 1750.0, instance_type="c7i.8xlarge")  # the same time on another machine
    history.record_outcome(rec_id, 1751.0)
    history.record_outcome(rec_id, 1750.0, status="failed")
    with pytest.raises(HistoryError, match="already has this outcome, a failed run of 29m10s on g5.xlarge") as failed:
        history.record_outcome(rec_id, 1750.0, status="failed")
    # a failed run counts in neither: it said it "would count one run twice in `history compare`"
    assert "; a second would list one crash as two (`history show`)." in failed.value.message
    assert history.record_outcome(rec_id, 1750.0, force=True).actual_seconds == 1750.0  # another run as long
    assert counts(history)["outcomes"] == 5
    assert len(history.compare().rows) == len(history.training_rows()) == 4  # the failed run is not compared


def test_unknown_id_and_unknown_instance(history):
    with pytest.raises(HistoryError) as info:
        history.record_outcome(42, 10.0)
    assert str(info.value) == "No recommendation 42 in history.\nFix: `advisor history list` shows the stored ids."
    with pytest.raises(HistoryError, match="No recommendation 7 in history"):
        history.show(7)
    rec_id = history.save_recommendation(recommendation("m"))
    with pytest.raises(HistoryError, match="Did you mean 'g5.xlarge'"):
        history.record_outcome(rec_id, 10.0, instance_type="g5.xlarg")
    assert counts(history)["outcomes"] == 0


@pytest.mark.parametrize("entry_id", [0, -1, 2**31, 2**40, 2**63, 10**23, -(2**63) - 1])
def test_an_id_no_column_can_hold_is_just_missing(history, entry_id):
    # PostgreSQL's INTEGER holds 32 bits, SQLite's 64: beyond either, the driver would fail instead of finding
    # nothing.
    history.save_recommendation(recommendation("a"))
    for call in (lambda: history.show(entry_id), lambda: history.record_outcome(entry_id, 10.0),
                 lambda: history.check_run(entry_id)):
        with pytest.raises(HistoryError, match=f"No recommendation {entry_id} in history"):
            call()


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_actual_seconds(history, bad):
    rec_id = history.save_recommendation(recommendation("m"))
    with pytest.raises(ConfigError):
        history.record_outcome(rec_id, bad)


# --------------------------------------------------------------------------------------------- queries


def test_list_order_limit_filters(history):
    now = datetime.now(timezone.utc)
    ids = {}
    for days, name in [(10, "a"), (5, "b"), (3, "a"), (1, "b"), (0, "a")]:
        ids[(days, name)] = history.save_recommendation(
            recommendation(name, created_at=now - timedelta(days=days)))
    entries = history.list()
    assert [e.id for e in entries] == [ids[k] for k in [(0, "a"), (1, "b"), (3, "a"), (5, "b"), (10, "a")]]
    assert [e.id for e in history.list(limit=2)] == [ids[(0, "a")], ids[(1, "b")]]
    assert [e.id for e in history.list(workload="a")] == [ids[(0, "a")], ids[(3, "a")], ids[(10, "a")]]
    assert [e.id for e in history.list(since=now - timedelta(days=4))] == [ids[(0, "a")], ids[(1, "b")],
                                                                           ids[(3, "a")]]
    assert [e.id for e in history.list(workload="b", since=parse_since("4d"))] == [ids[(1, "b")]]
    assert history.list(workload="zzz") == []
    first = entries[0]
    assert first.created_at.tzinfo is not None
    assert (first.workload, first.instance_type, first.predicted_seconds, first.n_candidates, first.n_outcomes) == (
        "a", "g5.xlarge", 1800.0, 5, 0)
    history.record_outcome(first.id, 1000.0)
    history.record_outcome(first.id, 1500.0)
    again = history.list(limit=1)[0]
    assert again.n_outcomes == 2 and again.actual_seconds == 1500.0 and again.status == "completed"


def test_export_csv_and_json(history):
    a = history.save_recommendation(recommendation("a", chosen=1))
    b = history.save_recommendation(recommendation("b", chosen=0))
    history.record_outcome(a, 2000.0)
    history.record_outcome(a, 1000.0, instance_type="p4d.24xlarge")
    text = history.export("csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert [(int(r["recommendation_id"]), r["instance_type"], r["actual_seconds"]) for r in rows] == [
        (a, "g5.xlarge", "2000.0"), (a, "p4d.24xlarge", "1000.0"), (b, "c7i.8xlarge", "")]
    assert float(rows[1]["predicted_seconds"]) == 1200.0 and float(rows[1]["error_pct"]) == pytest.approx(20.0)
    assert rows[0]["chosen"] == "True" and rows[1]["chosen"] == "False"
    data = json.loads(history.export("json"))
    assert [d["outcome_id"] for d in data] == [int(rows[0]["outcome_id"]), int(rows[1]["outcome_id"]), None]
    assert data[2]["actual_seconds"] is None and data[0]["chosen"] is True
    assert datetime.fromisoformat(data[0]["created_at"]).tzinfo is not None
    out = io.StringIO()
    assert history.export("json", out, workload="b") == ""
    assert [d["recommendation_id"] for d in json.loads(out.getvalue())] == [b]
    assert json.loads(History(history.url).export("json", workload="none")) == []
    with pytest.raises(ConfigError, match="Did you mean 'csv'"):
        history.export("cvs")


def test_export_pages_join_up_to_the_whole_table(history):
    """A server sends the export a page at a time (``GET /v1/history/export``): pages of any size after each
    page's last row are the whole table, each row once, in order; an outcome-less recommendation between two with
    outcomes included."""
    from advisor.history.export import page_key

    a = history.save_recommendation(recommendation("a", chosen=1))
    b = history.save_recommendation(recommendation("b", chosen=0))
    c = history.save_recommendation(recommendation("a", chosen=1))
    for rec_id, seconds in ((a, 2000.0), (a, 1000.0), (c, 500.0), (c, 700.0), (c, 900.0)):
        history.record_outcome(rec_id, seconds)
    whole = list(history.export_rows())
    assert [r[0] for r in whole] == [a, a, b, c, c, c]
    for size in (1, 2, 4, 6, 7):
        pages, after = [], (0, 0)
        while True:
            page = list(history.export_rows(after=after, limit=size))
            pages.extend(page)
            if len(page) < size:
                break
            after = page_key(page[-1])
        assert pages == whole, size
    assert list(history.export_rows("a", after=page_key(whole[1]), limit=10)) == whole[3:]


def test_training_rows_carry_the_base_prediction(history):
    rec_id = history.save_recommendation(recommendation("m", chosen=1), profile=profile("m"))
    history.record_outcome(rec_id, 2000.0)
    # A history-corrected candidate carries the uncorrected prediction it started from.
    corrected = candidate(1, method="history", instance_type="g5.corrected", seconds=2100.0).model_copy(
        update={"base_seconds": 1900.0, "base_method": "scaled"})
    rec2 = recommendation("m", chosen=0).model_copy(update={"candidates": [corrected], "chosen": corrected})
    rec2_id = history.save_recommendation(rec2)
    history.record_outcome(rec2_id, 2000.0)
    rows = history.training_rows()
    assert len(rows) == 2
    assert sorted((r.predicted_seconds, r.method) for r in rows) == [(1800.0, "scaled"), (1900.0, "scaled")]
    row = next(r for r in rows if r.recommendation_id == rec_id)
    assert (row.predicted_seconds, row.actual_seconds, row.method, row.gpu, row.param_count) == (
        1800.0, 2000.0, "scaled", "A10G", 11_689_512)
    assert row.measured_seconds_per_sample == pytest.approx(0.01)


def test_a_cpu_runs_size_is_learned_in_threads_as_a_target_is_corrected(history):
    """A CPU outcome trained on its instance's vCPUs while the correction read a target's threads (vCPUs over
    threads per core): an e2-standard-2 was learned at 2 and corrected at 1, so two 2-vCPU machines with the same
    2x outcomes were corrected x0.2 and x2.0."""
    smt = candidate(0, instance_type="c7i.8xlarge", vcpus=32)  # two vCPUs a core
    one_per_core = candidate(0, instance_type="m7a.8xlarge", vcpus=32)  # cpu_families.csv: one vCPU a core
    for cand in (smt, one_per_core):
        rec = recommendation("m", chosen=0).model_copy(update={"candidates": [cand], "chosen": cand})
        history.record_outcome(history.save_recommendation(rec), 7200.0)
    rows = sorted(history.training_rows(), key=lambda r: r.vcpus)
    assert [(r.tier, r.vcpus) for r in rows] == [("cpu", 16), ("cpu", 32)]
    # ... the threads the correction reads of these offers' targets (predictor.targets.offer_target)
    from advisor.predictor.targets import offer_target
    from advisor.schemas import Offer

    for cand, row in zip((smt, one_per_core), rows, strict=True):
        offer = Offer(provider=cand.provider, instance_type=cand.instance_type, region=cand.region, vcpus=cand.vcpus,
                      price_usd_per_hour=cand.price_usd_per_hour)
        assert offer_target(offer).threads == row.vcpus


# ------------------------------------------------------------------------------------ all or nothing


def test_bad_input_midway_leaves_nothing(history):
    history.save_recommendation(recommendation("ok"))
    before = counts(history)
    broken = Candidate.model_construct(**{**candidate(3).model_dump(), "provider": None})
    rec = recommendation("bad", n=5)
    rec.candidates.append(broken)
    with pytest.raises(Exception) as info:
        history.save_recommendation(rec, profile=profile("bad"))
    assert not isinstance(info.value, HistoryError) or "Nothing was written" in str(info.value)
    assert counts(history) == before


@pytest.mark.parametrize("stage", ["profiles", "recommendations", "candidates"])
def test_ctrl_c_midway_leaves_nothing(history, stage):
    history.save_recommendation(recommendation("ok"))
    before = counts(history)

    def interrupt(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(f"INSERT INTO {stage.upper()}"):
            raise KeyboardInterrupt

    event.listen(history.engine, "after_cursor_execute", interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            history.save_recommendation(recommendation("interrupted"), profile=profile("interrupted"))
    finally:
        event.remove(history.engine, "after_cursor_execute", interrupt)
    assert counts(history) == before
    assert history.workload_names() == ["ok"]
    # The database is usable afterwards.
    history.save_recommendation(recommendation("after"))
    assert counts(history)["recommendations"] == before["recommendations"] + 1
