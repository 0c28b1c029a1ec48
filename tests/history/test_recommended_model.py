"""A recommendation's model figures (parameter count, FLOPs per sample) are its own in ``history export`` and in
what the learned correction trains on, as ``history show`` has them, although the history keys a workload by the
file's name and hash only: a ``train.py`` whose sibling ``model.py`` changed (or another project's identical
``train.py``) lands on the first model's workloads row (the audit's 68-parameter export of a 21,004-parameter
model), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from history_helpers import recommendation
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.history.repository import History

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
JOB = ["--dataset-size", "1000", "--epochs", "1", "--batch-size", "64", "--top", "1", "--json"]


def test_export_gives_each_recommendation_its_own_model_as_show_does(db_url, tmp_path):
    """Two recommends of one file (name and hash alike), model.py swapped between them."""
    edited = json.loads(PROFILE.read_text())
    edited["workload"].update(param_count=21_004, flops_per_sample=88_000.0)
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    app = build_app()
    for path in (PROFILE, tmp_path / "edited.json"):
        result = CliRunner().invoke(app, ["recommend", "--profile", str(path), *JOB])
        assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["history", "export", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["recommendation_id"], r["workload"], r["param_count"], r["flops_per_sample"]) for r in rows] == [
        ("1", "tabular_mlp", "301066", "1734656.0"), ("2", "tabular_mlp", "21004", "88000.0")]
    assert rows[0]["file_sha256"] == rows[1]["file_sha256"]  # one workloads row, as the key has it
    result = CliRunner().invoke(app, ["history", "export", "--format", "json"])
    assert [(r["param_count"], r["flops_per_sample"]) for r in json.loads(result.output)] == [
        (301_066, 1_734_656.0), (21_004, 88_000.0)]
    shown = json.loads(CliRunner().invoke(app, ["history", "show", "2", "--json"]).output)
    assert (shown["recommendation"]["workload"]["params"],
            shown["recommendation"]["workload"]["flops_per_sample"]) == (21_004, 88_000.0)


def test_the_learned_correction_trains_on_each_runs_own_model(db_url):
    with History(db_url) as hist:
        first = hist.save_recommendation(recommendation())
        edited = recommendation()
        edited = edited.model_copy(update={"workload": edited.workload.model_copy(
            update={"params": 21_004, "flops_per_sample": 88_000.0})})
        second = hist.save_recommendation(edited)
        for rec_id in (first, second):
            hist.record_outcome(rec_id, 1000.0)
        rows = hist.training_rows()
    assert [(r.recommendation_id, r.param_count, r.flops_per_sample) for r in rows] == [
        (first, 11_689_512, 1.1e10), (second, 21_004, 88_000.0)]


def test_a_stored_workload_without_model_figures_reads_the_workloads_row(db_url):
    """A recommendation whose stored workload JSON lacks the figures (written without them) is exported with its
    workloads row's, as before."""
    from sqlalchemy import create_engine, update

    from advisor.history.tables import RecommendationTable

    with History(db_url) as hist:
        rec_id = hist.save_recommendation(recommendation())
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(update(RecommendationTable).where(RecommendationTable.id == rec_id).values(
            workload_info={"name": "model", "path": "/w/model.py", "file_sha256": "f" * 64}))
    engine.dispose()
    with History(db_url) as hist:
        rows = list(csv.DictReader(io.StringIO(hist.export("csv"))))
    assert [(r["param_count"], r["flops_per_sample"]) for r in rows] == [("11689512", "11000000000.0")]
