"""Real processes: two writers at once both succeed; a writer killed midway leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from history_helpers import recommendation
from sqlalchemy import func, select, text

from advisor.history.repository import History
from advisor.history.tables import CandidateTable, MeasurementTable, ProfileTable, RecommendationTable, WorkloadTable

HELPERS = Path(__file__).resolve().parent / "history_helpers.py"
REPO = Path(__file__).resolve().parents[2]


def _child(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, str(HELPERS), *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _count(hist: History, table) -> int:
    with hist.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_two_processes_writing_at_once_both_succeed(fresh_db_url, tmp_path):
    """Both start on an empty database: they migrate it at the same moment, then write interleaved."""
    db_url = fresh_db_url
    # Enough writes that each writer's span outlasts the other's start: on a slow VM (2026-12-01) the fresh
    # database's racing migrations put 0.3 s between the two first commits, and 12 writes took 0.19 s.
    n = 40
    go = tmp_path / "go"
    children = [_child("write", db_url, str(n), name, str(go)) for name in ("left", "right")]
    deadline = time.monotonic() + 120
    while not all(Path(f"{go}.{name}").exists() for name in ("left", "right")):  # both at the start line
        assert time.monotonic() < deadline and all(c.poll() is None for c in children), "a writer did not start"
        time.sleep(0.01)
    go.write_text("go")  # on a fresh database, both migrate at once too
    results = [c.communicate(timeout=180) for c in children]
    spans = []
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err
        word, first, last = out.split()
        assert word == "ok"
        spans.append((float(first), float(last)))
    # They really wrote at the same time: each one's first commit came before the other's last.
    assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1], spans
    with History(db_url) as hist:
        assert _count(hist, RecommendationTable) == 2 * n
        assert _count(hist, CandidateTable) == 2 * n * 6  # 5 ranked + 1 excluded each
        assert _count(hist, ProfileTable) == 2 * n
        assert _count(hist, WorkloadTable) == 6  # 2 names x 3 file hashes, despite racing upserts
        entries = hist.list(limit=None)
        assert sorted(e.workload for e in entries) == ["left"] * n + ["right"] * n
        assert len({e.id for e in entries}) == 2 * n


@pytest.mark.parametrize("stage", ["candidates"])
def test_writer_killed_midway_leaves_nothing(db_url, tmp_path, stage):
    """SIGKILL once the workload, profile, recommendation and all its candidates are in, before the commit."""
    with History(db_url) as hist:
        hist.save_recommendation(recommendation("survivor"))
        before = {t: _count(hist, t) for t in (WorkloadTable, ProfileTable, MeasurementTable, RecommendationTable,
                                               CandidateTable)}
    marker = tmp_path / "midway"
    child = _child("hang", db_url, stage, str(marker))
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if child.poll() is not None:
                pytest.fail(f"the writer exited before the kill point: {child.communicate()}")
            assert time.monotonic() < deadline, "the writer never reached the kill point"
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    with History(db_url) as hist:
        after = {t: _count(hist, t) for t in before}
        assert after == before
        assert hist.workload_names() == ["survivor"]
        with hist.engine.connect() as conn:
            orphans = conn.execute(
                select(func.count()).select_from(CandidateTable).where(
                    CandidateTable.recommendation_id.not_in(select(RecommendationTable.id)))).scalar()
            assert orphans == 0
            if db_url.startswith("sqlite"):
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        # The killed writer left no lock behind: a new write goes through at once.
        start = time.monotonic()
        hist.save_recommendation(recommendation("after"))
        assert time.monotonic() - start < 10
        assert _count(hist, RecommendationTable) == before[RecommendationTable] + 1


def test_a_history_dropped_after_one_call_closes_its_server_connection(db_url):
    """README's ``advisor.History().list()``: each call's connection stayed open until a garbage collection
    (60 calls, 60 of the server's 100 connections)."""
    import uuid

    from sqlalchemy import create_engine, text

    import advisor

    if not db_url.startswith("postgresql"):
        pytest.skip("a SQLite file has no server connections to count")
    name = f"advisor-leak-{uuid.uuid4().hex[:12]}"
    url = f"{db_url}{'&' if '?' in db_url else '?'}application_name={name}"
    for _ in range(10):
        advisor.History(url).list()
    probe = create_engine(db_url)
    with probe.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n"),
                            {"n": name}).scalar()
    probe.dispose()
    assert left == 0
