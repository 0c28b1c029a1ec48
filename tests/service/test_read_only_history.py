"""A server whose history may be read but not written (a PostgreSQL role granted SELECT alone, a SQLite file opened
read-only): a request that saves is refused before any work, as the CLI refuses before its probe, with a 503 that
says so (type ``HistoryNotWritable``, no ``Retry-After``: waiting does not mend it) and names neither the database
nor its role; one that does not save is answered. The roles are made in the test's own schema and dropped."""

from __future__ import annotations

import pytest
from service_helpers import auth, in_process_app, profile_data
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import advisor.api
import advisor.history.write_access as write_access
from advisor.history.migrate import upgrade

JOB = {"dataset_size": 2000, "epochs": 1}
SELECT_ONLY = "GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}"
WRITES = ("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
          "GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")


@pytest.fixture
def role_url(pg_url, postgres_roles):
    """make(*grants) -> a URL of a new role that may do only ``grants`` in the test's migrated schema, and a
    grant(*grants) that gives it more; the roles are dropped afterwards (before the schema: ``postgres_roles``)."""
    upgrade(pg_url)
    roles = postgres_roles(pg_url)

    def make(*grants: str) -> tuple[str, object]:
        url = roles.make(*grants)
        return url, lambda *g: roles.grant(make_url(url).username, *g)

    return make


@pytest.fixture
def ranked(monkeypatch) -> list[int]:
    """The rankings the server started (``advisor.api.recommend`` calls)."""
    calls: list[int] = []
    real = advisor.api.recommend

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(advisor.api, "recommend", counted)
    return calls


def _refused(response, *secrets: str) -> None:
    assert response.status_code == 503, response.text
    assert "retry-after" not in response.headers
    error = response.json()["error"]
    assert error["type"] == "HistoryNotWritable"
    assert error["message"].endswith("refused before any work: nothing was computed and nothing was stored.")
    assert '"save": false' in error["hint"]
    for secret in ("127.0.0.1", "5432", "postgres", *secrets):
        assert secret not in response.text, secret


def _count(url: str, table: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
    finally:
        engine.dispose()


def test_a_select_only_role_refuses_a_saved_request_before_ranking(role_url, ranked, pg_url):
    url, grant = role_url(SELECT_ONLY)
    role = make_url(url).username
    with in_process_app(url) as client:
        body = {"profile": profile_data(), **JOB}
        _refused(client.post("/v1/recommendations", json=body, headers=auth()), role)
        _refused(client.post("/v1/predictions", json=body, headers=auth()), role)
        assert ranked == []  # refused before the ranking, not when its result was to be stored
        unsaved = client.post("/v1/recommendations", json={**body, "save": False}, headers=auth())
        assert unsaved.status_code == 200 and unsaved.json()["id"] is None, unsaved.text
        quiet = client.post("/v1/predictions", json={**body, "save": False}, headers=auth())
        assert quiet.status_code == 200 and quiet.json()["seconds"] > 0, quiet.text
        assert (_count(pg_url, "recommendations"), _count(pg_url, "predictions")) == (0, 0)
        grant(*WRITES)  # the operator grants the writes: the next request is asked again, and saved
        saved = client.post("/v1/recommendations", json=body, headers=auth())
        assert saved.status_code == 201 and saved.json()["id"] == 1, saved.text
    assert _count(pg_url, "recommendations") == 1


def test_a_read_only_sqlite_history_refuses_a_saved_recommendation(tmp_path, ranked):
    path = tmp_path / "h.db"
    upgrade(f"sqlite:///{path}")
    with in_process_app(f"sqlite:///file:{path}?mode=ro&uri=true") as client:
        _refused(client.post("/v1/recommendations", json={"profile": profile_data(), **JOB}, headers=auth()),
                 str(tmp_path))
        assert ranked == []
        listed = client.get("/v1/history", headers=auth())
        assert listed.status_code == 200 and listed.json()["total"] == 0, listed.text


def test_a_writable_history_is_asked_once_per_worker(tmp_path, monkeypatch):
    asked: list[object] = []
    real = write_access.check_writable
    monkeypatch.setattr(write_access, "check_writable", lambda engine: (asked.append(engine), real(engine))[1])
    with in_process_app(f"sqlite:///{tmp_path / 'h.db'}") as client:
        ids = [client.post("/v1/recommendations", json={"profile": profile_data(), **JOB, "epochs": n},
                           headers=auth()).json()["id"] for n in (1, 2, 3)]
    assert ids == [1, 2, 3]
    assert len(asked) == 1


def test_advisor_serve_tells_the_operator_at_start(role_url):
    from advisor.service.config import ServiceConfig
    from advisor.service.server import migrate
    from advisor.settings import Settings

    url, grant = role_url(SELECT_ONLY)
    note = migrate(ServiceConfig(settings=Settings(database_url=url)))
    assert note is not None and f"may not be written by the role {make_url(url).username}" in note
    assert "Requests that save get 503 (HistoryNotWritable)" in note
    grant(*WRITES)
    assert migrate(ServiceConfig(settings=Settings(database_url=url))) is None
