"""Shared test set-up: the history database and pricing never touch the user's real files."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # helpers shared by every folder: bench_scripts, plot_helpers
EXAMPLES = REPO / "examples"


def _cuda_available() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    if _cuda_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Every test gets its own SQLite history and no user pricing overrides."""
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'history.db'}")
    monkeypatch.delenv("ADVISOR_PRICING", raising=False)
    monkeypatch.delenv("ADVISOR_DEBUG", raising=False)
    # Probes do not take turns with others on this machine (advisor.probe.turns): another checkout's test run
    # would make this one's probes wait; tests/probe/test_turns.py turns it on where it is what is tested.
    monkeypatch.setenv("ADVISOR_PROBE_WAIT", "0")
    monkeypatch.delenv("ADVISOR_PROBE_LOCK", raising=False)
    yield


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


POSTGRES_URL = os.environ.get("ADVISOR_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


class PostgresRoles:
    """LOGIN roles in the database and schema of a PostgreSQL URL (the schema its ``options=-csearch_path=``
    names, as the history and service fixtures make them), each with USAGE on that schema and the grants a test
    names; ``{schema}`` and ``{role}`` in a grant are filled in."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.schema = make_url(url).query["options"].split("=", 1)[1]
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        self.roles: list[str] = []

    def grant(self, role: str, *grants: str) -> None:
        with self.admin.connect() as conn:
            for grant in grants:
                conn.execute(text(grant.format(schema=f'"{self.schema}"', role=role)))

    def make(self, *grants: str) -> str:
        """A URL of ``url`` as a new role that may use the schema and do only ``grants`` in it."""
        role = f"advisor_test_{uuid.uuid4().hex[:12]}"
        self.roles.append(role)
        self.grant(role, "CREATE ROLE {role} LOGIN", "GRANT USAGE ON SCHEMA {schema} TO {role}", *grants)
        return make_url(self.url).set(username=role).render_as_string(hide_password=False)

    def drop(self) -> None:
        """Ends the roles' sessions (a pool the test left open would keep a role from being dropped) and drops
        them with what they own."""
        with self.admin.connect() as conn:
            for role in self.roles:
                conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"))
                conn.execute(text(f"DROP OWNED BY {role}; DROP ROLE {role}"))
        self.admin.dispose()


@pytest.fixture
def postgres_roles() -> Iterator[Callable[[str], PostgresRoles]]:
    """open(url) -> a ``PostgresRoles`` in ``url``'s schema; every role made is dropped afterwards. Request it
    after the fixture that makes the schema: fixtures are torn down in the reverse order, so the roles go first."""
    opened: list[PostgresRoles] = []

    def open_roles(url: str) -> PostgresRoles:
        opened.append(PostgresRoles(url))
        return opened[-1]

    yield open_roles
    for roles in opened:
        roles.drop()
