"""``advisor history list`` says what its cost pays for, and counts the candidates as the answer did: the list gave
"2.7s (1.2s–6.3s) | $0.0023", the job alone beside the cost of a 2m03s run (start-up included), and
``n_candidates`` 10, the rows stored, where the answer said "the cheapest of 273 candidates". On SQLite and
PostgreSQL (the ``history`` fixture)."""

from __future__ import annotations

import json
from pathlib import Path

from history_helpers import candidate, recommendation
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.schemas import CandidateGroup, Recommendation
from advisor.units import format_duration

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


def _listed() -> tuple[dict, str]:
    app = build_app()
    data = CliRunner().invoke(app, ["history", "list", "--json"])
    text = CliRunner().invoke(app, ["history", "list"], env={"COLUMNS": "220"})
    assert data.exit_code == 0 and text.exit_code == 0, (data.output, text.output)
    return json.loads(data.stdout)["entries"][0], " ".join(text.stdout.split())


def test_the_cost_is_listed_with_the_whole_run_it_pays_for(history):
    cands = [candidate(0, seconds=1200.0, startup_seconds=120.0), candidate(4)]  # c7i.8xlarge: 20m job + 2m start
    history.save_recommendation(recommendation("mlp").model_copy(update={"chosen": cands[0], "candidates": cands}))
    entry, text = _listed()
    assert (entry["predicted_seconds"], entry["startup_seconds"], entry["total_seconds"]) == (1200.0, 120.0, 1320.0)
    assert entry["cost_usd"] == 1200.0 / 3600 * 1.428
    assert "20m00s (16m00s–25m00s)" in text  # the job alone, as an outcome times it
    assert "cost (whole run)" in text and "$0.48 for 22m00s" in text


def test_n_candidates_is_every_candidate_the_answer_ranked(history):
    """273 ranked, 10 listed: ``Recommendation.all_candidates`` (a fresh answer), else its groups' counts (one read
    back from JSON, which keeps neither all of them nor ``all_candidates``)."""
    ranked = [candidate(i % 5, seconds=1000.0 + i) for i in range(273)]
    rec = recommendation("ranked").model_copy(update={"chosen": ranked[0], "candidates": ranked[:10],
                                                      "all_candidates": ranked})
    history.save_recommendation(rec)
    assert history.list()[0].n_candidates == 273
    groups = [CandidateGroup(label=f"kind {k}", tier="cpu", count=c, best=ranked[k], cost_usd_max=1.0)
              for k, c in enumerate((200, 73))]
    read_back = Recommendation.model_validate_json(rec.model_copy(update={"groups": groups}).model_dump_json())
    assert read_back.all_candidates == [] and len(read_back.candidates) == 10
    history.save_recommendation(read_back)
    assert history.list()[0].n_candidates == 273


def test_a_real_answer_is_listed_with_its_count_and_its_whole_run(history):
    from advisor import api

    rec = api.recommend(api.load_profile(PROFILE), dataset_size=100_000, epochs=3, batch_size=128,
                            providers="gcp")
    entry, text = _listed()
    ranked = sum(g.count for g in rec.groups)
    assert entry["id"] == rec.id and entry["n_candidates"] == ranked > len(rec.candidates)
    assert f"the cheapest of {ranked} candidates" in rec.chosen.reason
    assert entry["total_seconds"] == rec.chosen.total_seconds > entry["predicted_seconds"]
    assert f"for {format_duration(rec.chosen.total_seconds)}" in text
