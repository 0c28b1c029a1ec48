"""Threads of one process that first use a history at the same moment: alembic's ``context`` and ``op`` are
process-global, so two migrations at once (of one database or of two) ran in each other's environment, failed
with alembic's own KeyError/AssertionError, and could leave tables without a schema version."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from history_helpers import recommendation, table_names

import advisor
from advisor.errors import DatabaseUnavailableError
from advisor.history import migrate
from advisor.history.engine import create_history_engine
from advisor.history.repository import History
from advisor.history.tables import Base

REPO = Path(__file__).resolve().parents[2]
PROFILE_FILE = REPO / "tests" / "hostile" / "data" / "tabular_profile.json"
N_THREADS = 8


def _together(n: int, work: Callable[[int], object]) -> list[object]:
    """``work(i)`` for i < n in n threads released at once; each result, or the exception it raised."""
    start = threading.Barrier(n)

    def run(i: int) -> object:
        start.wait(timeout=30)
        try:
            return work(i)
        except BaseException as exc:  # noqa: BLE001 - the test reports whatever a thread raised
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def _assert_migrated(url: str) -> None:
    assert migrate.current_revision(url) == migrate.HEAD_REVISION
    assert table_names(url) == set(Base.metadata.tables) | {migrate.VERSION_TABLE}


def test_threads_creating_a_new_database_at_once_all_succeed(fresh_db_url):
    results = _together(N_THREADS, lambda i: History(fresh_db_url).create())
    assert results == [None] * N_THREADS
    _assert_migrated(fresh_db_url)


def test_threads_creating_two_new_sqlite_files_at_once_all_succeed(tmp_path):
    """Two databases, not one: the clash is alembic's, whatever the database."""
    urls = [f"sqlite:///{tmp_path / f'h{k}.db'}" for k in range(2)]
    results = _together(N_THREADS, lambda i: History(urls[i % 2]).create())
    assert results == [None] * N_THREADS
    for url in urls:
        _assert_migrated(url)


def test_threads_saving_to_a_new_database_at_once_all_store_their_row(fresh_db_url):
    def save(i: int) -> int:
        with History(fresh_db_url) as hist:
            return hist.save_recommendation(recommendation(f"w{i}"))

    ids = _together(N_THREADS, save)
    assert all(isinstance(i, int) for i in ids), ids
    assert sorted(ids) == list(range(1, N_THREADS + 1))
    with History(fresh_db_url) as hist:
        assert sorted(e.workload for e in hist.list(limit=None)) == sorted(f"w{i}" for i in range(N_THREADS))


def test_recommend_from_a_thread_pool_on_a_new_history_saves_every_answer(tmp_path, monkeypatch):
    """The audit's case: ``advisor.recommend`` in a thread pool, the history file not there yet."""
    url = f"sqlite:///{tmp_path / 'new' / 'history.db'}"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    n = 4
    recs = _together(n, lambda i: advisor.recommend(str(PROFILE_FILE), dataset_size=2000 + i, epochs=1,
                                                    batch_size=32))
    assert all(isinstance(r, advisor.Recommendation) for r in recs), recs
    assert sorted(r.id for r in recs) == list(range(1, n + 1))
    _assert_migrated(url)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_migration_that_fails_midway_leaves_no_tables(backend, request, tmp_path, monkeypatch):
    """The upgrade is one transaction on both backends (their DDL is transactional): a failure in a later
    migration takes the earlier ones' tables with it, so the next use starts afresh rather than finding tables
    and no schema version ("table measurements already exists" for ever)."""
    url = (f"sqlite:///{tmp_path / 'h.db'}" if backend == "sqlite"
           else request.getfixturevalue("postgres_url"))
    import alembic.op

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    # 0001 creates every table; 0002 is the first to ask for the connection, and fails here.
    monkeypatch.setattr(alembic.op, "get_bind", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        History(url).create()
    assert table_names(url) == set()
    monkeypatch.undo()
    History(url).create()
    _assert_migrated(url)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_tables_without_a_schema_version_are_named_with_the_fix(backend, request, tmp_path):
    """What an earlier advisor's racing threads left behind: some tables, no alembic_version. Every command then
    failed with "table measurements already exists" and a hint about the URL; now it says what is wrong, what to
    do, and drops nothing."""
    url = (f"sqlite:///{tmp_path / 'h.db'}" if backend == "sqlite"
           else request.getfixturevalue("postgres_url"))
    engine = create_history_engine(url)
    try:
        with engine.begin() as conn:
            Base.metadata.tables["workloads"].create(conn)  # advisor's own table, as an interrupted creation left it
    finally:
        engine.dispose()
    fix = "delete the file" if backend == "sqlite" else "drop those tables (workloads)"
    for attempt in (lambda: History(url).create(), lambda: migrate.upgrade(url)):
        with pytest.raises(DatabaseUnavailableError,
                           match=r"holds advisor's tables \(workloads\) but no schema version") as e:
            attempt()
        assert f"Fix: if they hold no history you need, {fix} and run the command again" in e.value.hint
        assert "postgres" not in e.value.public and "h.db" not in e.value.public  # no address for a service caller
    assert table_names(url) == {"workloads"}
