"""Fixtures for the service tests: a real server on SQLite (shared by a module), a PostgreSQL schema per test,
the saved profile, and an in-process app for the checks that need no process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from service_helpers import TOKEN, Server, drop_schema, postgres_schema, profile_data  # noqa: E402


@pytest.fixture
def profile() -> dict:
    """A real profile of examples/tabular_mlp.py (tests/hostile/data/tabular_profile.json) as a dict."""
    return profile_data()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One ``advisor serve`` process (1 worker, SQLite, one token) for a test module."""
    tmp = tmp_path_factory.mktemp("server")
    with Server(tmp, database_url=f"sqlite:///{tmp / 'history.db'}") as srv:
        yield srv


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL schema (dropped afterwards); skipped with the reason when the server is unreachable."""
    made = postgres_schema()
    if made is None:
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is unreachable")
    url, admin, schema = made
    try:
        yield url
    finally:
        drop_schema(admin, schema)


@pytest.fixture
def app_client(tmp_path, monkeypatch):
    """The app in this process (starlette's TestClient: lifespan run), one token, a 64 kB body limit, 5
    requests a minute."""
    import warnings

    with warnings.catch_warnings():  # starlette would rather have httpx2; httpx is what it runs on here
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from advisor.service.app import create_app
    from advisor.service.config import ServiceConfig
    from advisor.settings import Settings

    config = ServiceConfig(tokens=(TOKEN,), max_body_bytes=64 * 1024, rate_per_minute=1000,
                           settings=Settings(database_url=f"sqlite:///{tmp_path / 'app.db'}"))
    with TestClient(create_app(config), base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
def client(app_client):
    """``advisor.Client`` against the in-process app (its history: tmp_path / app.db)."""
    from advisor.service.client import Client

    with Client("http://127.0.0.1", TOKEN, transport=app_client._transport) as api:
        yield api


@pytest.fixture
def cli(monkeypatch):
    """invoke(*args) -> typer's Result for `advisor ARGS` in this process, with ADVISOR_API_TOKEN set (client mode)."""
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    monkeypatch.setenv("ADVISOR_API_TOKEN", TOKEN)
    app = build_app()
    return lambda *args: CliRunner().invoke(app, [str(a) for a in args])
