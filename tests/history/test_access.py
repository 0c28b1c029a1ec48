"""A history this connection may not use: a PostgreSQL role without a GRANT (SQLSTATE 42501) is one clear
``DatabaseUnavailableError`` with the GRANT it lacks, exit 1 and a JSON error document from the CLI, never the
driver's traceback (with its SQL and bound parameters).

The roles are made in a schema of the test's own (``postgres_url``) and dropped afterwards; the PostgreSQL cases
are skipped, with the reason, where the server cannot be reached.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from history_helpers import profile, recommendation
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from typer.testing import CliRunner

from advisor.errors import DatabaseUnavailableError
from advisor.history.engine import create_history_engine, database_error, database_fault
from advisor.history.migrate import upgrade
from advisor.history.repository import History
from advisor.schemas import Estimate, Target


class _DriverError(Exception):
    """A driver's exception carrying a PostgreSQL SQLSTATE, as psycopg2's do."""

    def __init__(self, text_: str, pgcode: str) -> None:
        super().__init__(text_)
        self.pgcode = pgcode


@pytest.fixture
def limited_role(postgres_url, postgres_roles):
    """make(grants) -> (a URL as a new role that may only do ``grants`` in the test's schema, the recommendation id
    stored there by the owner, the owner's engine). The roles are dropped afterwards (``postgres_roles``)."""
    upgrade(postgres_url)
    with History(postgres_url) as hist:
        rec_id = hist.save_recommendation(recommendation("resnet", chosen=1))
    roles = postgres_roles(postgres_url)
    return lambda *grants: (roles.make(*grants), rec_id, roles.admin)


def _rows(admin, table: str) -> int:
    with admin.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def _assert_access_error(err: DatabaseUnavailableError, role: str, table: str) -> None:
    assert f"permission denied for table {table}" in err.message
    assert f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};" in err.hint
    assert f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}" in err.hint
    assert "file" not in err.hint  # a server has no file and folder to check
    assert err.public == "The history database is unavailable: it may not be read or written here."


def test_a_select_only_role_cannot_record_an_outcome_and_is_told_the_grant(limited_role):
    url, rec_id, admin = limited_role("GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
    role = make_url(url).username
    with History(url) as hist:
        assert [e.id for e in hist.list()] == [rec_id]  # it may read
        with pytest.raises(DatabaseUnavailableError) as err:
            hist.record_outcome(rec_id, 2000.0)
    _assert_access_error(err.value, role, "outcomes")
    assert err.value.message.endswith(". Nothing was written.")
    assert _rows(admin, "outcomes") == 0


def test_a_select_only_role_cannot_save_a_prediction(limited_role):
    url, _, admin = limited_role("GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
    est = Estimate(target=Target.gpu("A100-80GB", 4), dataset_size=1000, epochs=2, batch_size=64, seconds=100.0,
                   low=80.0, high=130.0, step_seconds=0.5, steps_per_epoch=16, total_steps=32, fits_memory=True,
                   per_device_batch_size=16, method="scaled", precision="bf16")
    prof = profile("p")
    with History(url) as hist, pytest.raises(DatabaseUnavailableError) as err:
        hist.save_prediction(est, prof.workload, profile=prof)
    _assert_access_error(err.value, make_url(url).username, "workloads")
    assert (_rows(admin, "profiles"), _rows(admin, "predictions")) == (0, 0)


def test_history_list_json_without_select_is_an_error_document(limited_role, monkeypatch):
    from advisor.cli.app import build_app

    url, _, _ = limited_role("GRANT SELECT ON alembic_version TO {role}")
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    result = CliRunner().invoke(build_app(), ["history", "list", "--json"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "[SQL:" not in result.output
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1
    assert doc["error"]["type"] == "DatabaseUnavailableError"
    assert "permission denied for table recommendations" in doc["error"]["message"]
    assert "GRANT SELECT" in doc["error"]["hint"]


def test_a_permission_error_is_a_database_fault_and_a_wrong_statement_is_not(tmp_path):
    denied = ProgrammingError("INSERT INTO outcomes ...", {}, _DriverError("permission denied for table x", "42501"))
    syntax = ProgrammingError("SELEC 1", {}, _DriverError('syntax error at or near "SELEC"', "42601"))
    assert database_fault(denied) and not database_fault(syntax)
    server = create_history_engine('postgresql+psycopg2://we"ird@db.example/h')
    try:
        err = database_error(server, denied, "{where} failed: {detail}.", "default")
    finally:
        server.dispose()
    assert err.message == "postgresql+psycopg2://we%22ird@db.example/h failed: permission denied for table x."
    assert 'TO "we""ird";' in err.hint  # a name PostgreSQL must quote, quoted
    sqlite = create_history_engine(f"sqlite:///{tmp_path / 'h.db'}")
    try:  # a SQLite file keeps its own words (its file and folder)
        assert "file and its folder" in database_error(sqlite, denied, "{detail}", "default").hint
    finally:
        sqlite.dispose()


# ------------------------------------------------------------- checked before the probe, not after it


@pytest.fixture
def no_probe(monkeypatch):
    """The probe, replaced by one that fails the test: the calls it got."""
    import advisor.api

    calls: list[object] = []

    def probe(*args, **kwargs):
        calls.append(args)
        raise AssertionError("the probe started")

    monkeypatch.setattr(advisor.api, "_job_profile", probe)
    return calls


def _run(kind: str, url: str):
    import advisor
    from advisor.settings import Settings

    settings = Settings(database_url=url)
    job = dict(dataset_size=2000, epochs=1, batch_size=32, settings=settings)
    if kind == "predict":
        return advisor.predict(str(EXAMPLE), target="cpu", save=True, **job)
    return advisor.recommend(str(EXAMPLE), **job)


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tabular_mlp.py"
PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


@pytest.mark.parametrize("kind", ["predict", "recommend"])
def test_a_read_only_sqlite_history_fails_before_the_probe(kind, tmp_path, _migrated_sqlite, no_probe):
    path = tmp_path / "h.db"
    shutil.copyfile(_migrated_sqlite, path)
    before = path.read_bytes()
    with pytest.raises(DatabaseUnavailableError) as err:
        _run(kind, f"sqlite:///file:{path}?mode=ro&uri=true")
    assert no_probe == []
    assert "cannot be written: attempt to write a readonly database." in err.value.message
    assert err.value.message.endswith("It was checked before any probe: nothing ran and nothing was written.")
    assert err.value.hint == ("Fix: the URL opens the file read-only (mode=ro): leave mode=ro out to save to it, or "
                              "point ADVISOR_DATABASE_URL at another file. Or pass save=False to run without saving.")
    assert path.read_bytes() == before


def test_a_read_only_sqlite_history_is_fine_without_saving(tmp_path, _migrated_sqlite):
    import advisor
    from advisor.settings import Settings

    path = tmp_path / "h.db"
    shutil.copyfile(_migrated_sqlite, path)
    est = advisor.predict(str(PROFILE), target="cpu", dataset_size=2000, epochs=1, batch_size=32,
                          settings=Settings(database_url=f"sqlite:///file:{path}?mode=ro&uri=true"))
    assert est.seconds > 0 and est.history_id is None


@pytest.mark.parametrize("kind", ["predict", "recommend"])
def test_a_select_only_role_fails_before_the_probe(kind, limited_role, no_probe):
    url, _, admin = limited_role("GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
    role = make_url(url).username
    with pytest.raises(DatabaseUnavailableError) as err:
        _run(kind, url)
    assert no_probe == []
    assert err.value.message.startswith(f"The history database {make_url(url)} may not be written by the role "
                                        f"{role}: it lacks INSERT on workloads; INSERT on profiles; ")
    assert err.value.message.endswith("It was checked before any probe: nothing ran and nothing was written.")
    assert f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};" in err.value.hint
    assert err.value.hint.endswith(" Or pass save=False to run without saving.")
    assert (_rows(admin, "recommendations"), _rows(admin, "workloads")) == (1, 1)  # the owner's, alone


def test_a_role_that_takes_no_writes_fails_before_the_probe(limited_role, no_probe):
    url, _, _ = limited_role("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
                             "GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
                             "ALTER ROLE {role} SET default_transaction_read_only = on")
    with pytest.raises(DatabaseUnavailableError) as err:
        _run("recommend", url)
    assert no_probe == []
    assert "takes no writes (transaction_read_only is on)" in err.value.message
    assert "default_transaction_read_only" in err.value.hint


def test_the_grants_the_hint_names_are_enough_to_save(limited_role):
    import advisor
    from advisor.settings import Settings

    url, rec_id, admin = limited_role("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
                                      "GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
    rec = advisor.recommend(str(PROFILE), dataset_size=2000, epochs=1, batch_size=32,
                            settings=Settings(database_url=url))
    assert rec.id == rec_id + 1 and _rows(admin, "recommendations") == 2


def test_recording_an_outcome_needs_only_the_outcomes_table(limited_role):
    from advisor import api
    from advisor.settings import Settings

    url, rec_id, admin = limited_role("GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}",
                                      "GRANT INSERT ON outcomes TO {role}",
                                      "GRANT USAGE ON SEQUENCE outcomes_id_seq TO {role}")
    outcome = api.record_outcome(rec_id, 2000.0, settings=Settings(database_url=url))
    assert outcome.actual_seconds == 2000.0 and _rows(admin, "outcomes") == 1


@pytest.mark.parametrize("command", [("db", "upgrade", "--json"), ("history", "list", "--json")])
def test_a_search_path_schema_that_does_not_exist_is_named_with_the_statement_that_creates_it(postgres_url, monkeypatch,
                                                                                              command):
    """SQLSTATE 3F000 ("no schema has been selected to create in"), not "check the URL and that the server runs"."""
    from advisor.cli.app import build_app

    schema = re.search(r"search_path%3D(\w+)", postgres_url).group(1) + "_missing"  # never created
    monkeypatch.setenv("ADVISOR_DATABASE_URL", re.sub(r"search_path%3D\w+", f"search_path%3D{schema}", postgres_url))
    result = CliRunner().invoke(build_app(), list(command))
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "DatabaseUnavailableError"
    assert error["message"].endswith(": no schema has been selected to create in"), error["message"]
    assert error["hint"].startswith("Fix: the schema named in search_path does not exist (or the role may not use "
                                    f"it): have the database's owner create it, CREATE SCHEMA {schema} "
                                    f"AUTHORIZATION {make_url(postgres_url).username}, or name an existing one"), \
        error["hint"]
    assert "server is running" not in error["hint"]
