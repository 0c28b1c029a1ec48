"""Recommendations stored by older advisors, which kept only the answer's top rows as candidate rows and the best
per tier, per provider and the best value in the recommendation's JSON alone (before 485885a; before 538eaf9
without a verdict either, and their answer printed "Best per tier: CPU: aws m7a.large 17h05m $1.99; ...").
``history record --instance`` takes those machines, and ``history show`` prints a verdict-less one's best per
tier line. On SQLite and PostgreSQL; the rows are today's save of a real ranking, then cut down to what the older
advisor stored (checked against a history written by 5c687f4 and by 503486e)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from advisor import api
from advisor.history.repository import History
from advisor.history.tables import CandidateTable, OutcomeTable, RecommendationTable
from advisor.units import format_duration, format_usd

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


@pytest.fixture(scope="module")
def rec():
    return api.recommend(api.load_profile(PROFILE), top=3, save=False)


def _as_an_older_advisor_left_it(hist: History, rec_id: int, *, verdict: bool) -> None:
    """Only the ranked rows (and the chosen one) as candidate rows; ``extra`` as 5c687f4 wrote it (``verdict``
    False: schema_version, best_per_tier, advice, measured_devices, notes) or as 503486e did (the answer, no
    groups)."""
    c = CandidateTable
    with hist.engine.begin() as conn:
        conn.execute(delete(c).where(c.recommendation_id == rec_id, c.rank.is_(None), c.chosen.is_(False)))
        extra = dict(conn.execute(select(RecommendationTable.extra).where(RecommendationTable.id == rec_id)).scalar())
        keep = {"schema_version", "best_per_tier", "advice", "measured_devices", "notes"}
        keep |= {"best_per_provider", "answer"} if verdict else set()
        extra = {k: v for k, v in extra.items() if k in keep}
        conn.execute(update(RecommendationTable).where(RecommendationTable.id == rec_id).values(extra=extra))


def _outside(rec, cands) -> list:
    rows = {c.instance_type for c in rec.candidates}
    return [c for c in cands if c.instance_type not in rows]


def _cli(*args: str):
    from advisor.cli.app import build_app

    return CliRunner().invoke(build_app(), list(args))


def test_a_best_per_tier_machine_of_an_answer_without_a_verdict_is_recorded_and_shown(db_url, rec):
    outside = _outside(rec, rec.best_per_tier.values())
    assert outside, "every best per tier is among the top candidates: the fixture tests nothing"
    with History(db_url) as hist:
        rec_id = hist.save_recommendation(rec)
        _as_an_older_advisor_left_it(hist, rec_id, verdict=False)
    cand = outside[0]
    result = _cli("history", "record", str(rec_id), "--instance", cand.instance_type.upper(),
                  "--actual-seconds", f"{cand.seconds * 1.25:.3f}")
    assert result.exit_code == 0, result.output
    assert f"for history id {rec_id} on {cand.instance_type} (predicted {format_duration(cand.seconds)}, " in \
        result.output  # the machine's own prediction, not the chosen one's
    with History(db_url) as hist, hist.engine.connect() as conn:
        row = conn.execute(select(OutcomeTable)).one()
        assert [r.predicted_seconds for r in hist.compare().rows] == [pytest.approx(cand.seconds)]
    assert (row.instance_type, row.candidate_id, row.tier, row.vcpus, row.gpu_count, row.method) == \
        (cand.instance_type, None, cand.tier, cand.vcpus, cand.gpu_count, cand.method)
    assert row.predicted_seconds == pytest.approx(cand.seconds) and row.cost_usd == pytest.approx(cand.cost_usd)

    shown = _cli("history", "show", str(rec_id))
    assert shown.exit_code == 0, shown.output
    said = " ".join(shown.output.split())  # the line folds on a narrow terminal
    labels = {"cpu": "CPU", "single_gpu": "1 GPU", "multi_gpu": "multi-GPU"}
    expected = "Best per tier: " + "; ".join(
        f"{labels[t]}: {c.provider} {c.instance_type} ({c.region}): {format_duration(c.total_seconds)} total, "
        f"{format_usd(c.ranked_cost_usd)}" for t, c in rec.best_per_tier.items())
    assert expected in said


def test_the_best_value_of_an_answer_before_every_shown_machine_was_stored_is_recorded(db_url, rec):
    outside = _outside(rec, [rec.best_value.candidate, *rec.best_per_provider.values()])
    assert outside, "the best value and best per provider are all top candidates: the fixture tests nothing"
    with History(db_url) as hist:
        rec_id = hist.save_recommendation(rec)
        _as_an_older_advisor_left_it(hist, rec_id, verdict=True)
        for cand in {c.instance_type: c for c in outside}.values():
            out = hist.record_outcome(rec_id, cand.seconds * 0.9, instance_type=cand.instance_type)
            assert out.instance_type == cand.instance_type
        predicted = {r.instance_type: r.predicted_seconds for r in hist.compare().rows}
        assert predicted == {c.instance_type: pytest.approx(c.seconds) for c in outside}
    shown = _cli("history", "show", str(rec_id))
    assert shown.exit_code == 0 and "Best per tier:" not in shown.output  # its verdict names them


def test_a_machine_no_older_answer_named_is_refused_with_the_ones_it_did(db_url, rec):
    with History(db_url) as hist:
        rec_id = hist.save_recommendation(rec)
        _as_an_older_advisor_left_it(hist, rec_id, verdict=False)
    result = _cli("history", "record", str(rec_id), "--instance", "no-such.large", "--actual-seconds", "60")
    assert result.exit_code == 1
    assert f"Instance type 'no-such.large' is not a candidate of recommendation {rec_id}." in result.output
    named = sorted({c.instance_type for c in (*rec.candidates, *rec.excluded, *rec.best_per_tier.values())})
    assert f"Fix: use one of its candidates ({', '.join(named[:12])}" in " ".join(result.output.split())
    with History(db_url) as hist, hist.engine.connect() as conn:
        assert conn.execute(select(OutcomeTable.id)).all() == []
