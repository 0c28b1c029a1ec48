"""Two projects' ``train.py`` are one workload ``train`` in the history unless one is named: one project's recorded
runs corrected the other's predictions with no word of it. Now the answer says when the runs under its name were
recorded from another file (naming both paths and the fix), and ``name=`` (``--name``, ``WORKLOAD_NAME``) keeps them
apart; the name lands in the history's rows."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
from history_helpers import candidate, recommendation
from sqlalchemy import create_engine, select

import advisor
from advisor import api
from advisor.history.repository import History
from advisor.history.tables import WorkloadTable

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
JOBS = [(20_000, 1), (50_000, 2), (100_000, 3), (30_000, 4), (70_000, 1), (150_000, 2)]


def project(folder: str, sha: str):
    """The saved profile as ``folder``'s train.py: workload ``train`` at that absolute path."""
    prof = api.load_profile(PROFILE)
    info = prof.workload.model_copy(update={"name": "train", "path": f"/{folder}/train.py", "file_sha256": sha})
    return prof.model_copy(update={"workload": info})


def record_runs(url: str, prof) -> None:
    """30 recommendations of ``prof``'s workload whose runs took twice their prediction (``history record``)."""
    w = prof.workload
    workload = {"name": w.name, "params": w.param_count, "flops_per_sample": w.flops_per_sample,
                "file_sha256": w.file_sha256, "path": w.path}
    rnd = random.Random(5)
    with History(url) as hist:
        for i in range(30):
            size, epochs = JOBS[i % len(JOBS)]
            est = advisor.predict(prof, dataset_size=size, epochs=epochs, target=advisor.Target.cpu(2),
                                  use_history=False)
            cand = candidate(0, seconds=est.seconds, method="measured", instance_type="e2-standard-2",
                             provider="gcp", vcpus=2)
            rec = recommendation(w.name, n=0, excluded=0, workload=workload, dataset_size=size, epochs=epochs,
                                 batch_size=est.batch_size, candidates=[cand]).model_copy(update={"chosen": cand})
            hist.record_outcome(hist.save_recommendation(rec), est.seconds * 2.0 * math.exp(rnd.gauss(0, 0.03)))


def shared_notes(est) -> list[str]:
    return [n for n in est.notes if "the history's runs under this name were recorded from another file" in n]


def test_another_projects_train_py_is_told_whose_runs_correct_it(db_url):
    project_a, project_b = project("projA", "a" * 64), project("projB", "b" * 64)
    record_runs(db_url, project_a)
    job = dict(dataset_size=50_000, epochs=2, target=advisor.Target.cpu(2))
    other = advisor.predict(project_b, **job)
    # Still corrected (the name is the identity; a team's clones differ in path), and the answer says so.
    assert other.method == "history"
    assert shared_notes(other) == [
        "workload 'train': the history's runs under this name were recorded from another file, '/projA/train.py', "
        "not this one, '/projB/train.py'; the history keys a workload by its name, so the learned correction and "
        "its intervals take those runs as this workload's. Fix: if that is another project, give this one a name "
        'of its own: --name NAME, or WORKLOAD_NAME = "..." in the file (name= in Python).']
    # The same file, or its very bytes at another path (a clone), is the same workload: no note.
    assert shared_notes(advisor.predict(project_a, **job)) == []
    moved = project_a.model_copy(update={"workload": project_a.workload.model_copy(update={"path": "/ci/train.py"})})
    assert shared_notes(advisor.predict(moved, **job)) == []
    rec = advisor.recommend(project_b, dataset_size=50_000, epochs=2, save=False)
    assert any("recorded from another file, '/projA/train.py'" in n for n in rec.notes)
    # Named, it is a workload of its own: not corrected by projA's runs, no note, and stored under its name.
    named = advisor.predict(project_b, **job, name="projB", save=True)
    assert named.method != "history" and shared_notes(named) == []
    assert "not corrected by history: no stored run of workload 'projB'" in named.notes[-1]
    saved = advisor.recommend(project_b, dataset_size=50_000, epochs=2, name="projB_rec")
    assert saved.workload.name == "projB_rec"
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = set(conn.execute(select(WorkloadTable.name, WorkloadTable.path)))
    engine.dispose()
    assert rows == {("train", "/projA/train.py"), ("projB", "/projB/train.py"), ("projB_rec", "/projB/train.py")}


def test_a_path_stored_as_typed_says_nothing_of_its_folder(tmp_path, monkeypatch):
    """An older advisor stored the path as typed (``train.py``): it cannot be told from this one, so no note."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    old = project("projA", "a" * 64)
    record_runs(url, old.model_copy(update={"workload": old.workload.model_copy(update={"path": "train.py"})}))
    est = advisor.predict(project("projB", "b" * 64), dataset_size=50_000, epochs=2, target=advisor.Target.cpu(2))
    assert est.method == "history" and shared_notes(est) == []


def test_a_bad_name_is_refused_before_anything_is_stored(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    with pytest.raises(advisor.WorkloadError, match="--name \\(name= in Python\\): a workload's name must not be "
                                                    "empty"):
        advisor.recommend(project("projB", "b" * 64), dataset_size=50_000, epochs=2, name=" ")
    assert not (tmp_path / "h.db").exists()  # refused before the history was opened: no empty history is left
