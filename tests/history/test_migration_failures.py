"""A migration of an existing history that the database refuses is told as a failed migration: from which revision
to which, that nothing was changed, and the fix for its cause (a role that is not the tables' owner, a view over a
column being retyped), never as a server to check or a GRANT the role already holds."""

from __future__ import annotations

import shlex

import pytest
from history_helpers import at_0001
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.errors import DatabaseUnavailableError
from advisor.history import migrate, migration_failure
from advisor.history.engine import create_history_engine
from advisor.history.repository import History

TEAM_GRANTS = ("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
               "GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
               "GRANT CREATE ON SCHEMA {schema} TO {role}")


def _revision_and_epochs_type(admin) -> tuple[str, str]:
    with admin.connect() as conn:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        kind = conn.execute(text("SELECT data_type FROM information_schema.columns WHERE table_schema = "
                                 "current_schema() AND table_name = 'recommendations' AND column_name = 'epochs'"))
        return revision, kind.scalar()


def test_a_role_that_does_not_own_the_tables_is_told_the_owner_must_migrate(postgres_url, postgres_roles,
                                                                            monkeypatch):
    at_0001(postgres_url)
    roles = postgres_roles(postgres_url)
    url = roles.make(*TEAM_GRANTS)
    role = make_url(url).username
    owner_url = make_url(url).set(username="postgres", password=None).render_as_string(hide_password=True)
    with pytest.raises(DatabaseUnavailableError) as err, History(url) as hist:
        hist.list()
    assert err.value.message == (f"Migrating the history database {make_url(url)} from revision 0001 to 0003 failed: "
                                 "must be owner of table recommendations. Nothing was changed: it is still at "
                                 "revision 0001.")
    assert err.value.hint == ("Fix: a migration alters the history's tables, which only their owner (postgres) may "
                              "do, whatever GRANTs this role holds: have their owner (postgres) run, once, "
                              f"ADVISOR_DATABASE_URL={shlex.quote(owner_url)} advisor db upgrade; then this role uses "
                              "the history as before.")
    assert "GRANT" not in err.value.hint.replace("GRANTs", "") and role not in err.value.hint
    assert err.value.public == migration_failure.PUBLIC
    assert _revision_and_epochs_type(roles.admin) == ("0001", "integer")

    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    for args in (["history", "list"], ["db", "upgrade"]):
        result = CliRunner().invoke(build_app(), args)
        assert result.exit_code == 1, result.output
        assert "from revision 0001 to 0003 failed: must be owner of table recommendations" in result.stderr
        assert "advisor db upgrade" in result.stderr and "Traceback" not in result.output
    assert _revision_and_epochs_type(roles.admin) == ("0001", "integer")

    assert migrate.upgrade_from(postgres_url) == ("0001", "0003")  # the owner, as the hint says
    with History(url) as hist:
        assert hist.list() == []
    assert _revision_and_epochs_type(roles.admin) == ("0003", "bigint")


def test_a_view_over_a_column_the_migration_retypes_is_named_with_the_way_round_it(postgres_url, monkeypatch):
    at_0001(postgres_url)
    admin = create_history_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text("CREATE VIEW cost_report AS SELECT chosen_instance_type, epochs FROM recommendations"))
    with pytest.raises(DatabaseUnavailableError) as err, History(postgres_url) as hist:
        hist.list()
    assert err.value.message == (
        f"Migrating the history database {make_url(postgres_url)} from revision 0001 to 0003 failed: cannot alter "
        "type of a column used by a view or rule (rule _RETURN on view cost_report depends on column \"epochs\"). "
        "Nothing was changed: it is still at revision 0001.")
    assert err.value.hint == ("Fix: save the view's definition (pg_get_viewdef), drop it (DROP VIEW cost_report), run "
                              "`advisor db upgrade`, then create the view again (the migration retypes columns it "
                              "uses).")
    assert "server is running" not in err.value.hint
    assert _revision_and_epochs_type(admin) == ("0001", "integer")

    monkeypatch.setenv("ADVISOR_DATABASE_URL", postgres_url)
    result = CliRunner().invoke(build_app(), ["db", "upgrade"])
    assert result.exit_code == 1 and "DROP VIEW cost_report" in result.stderr, result.output
    with admin.begin() as conn:  # the fix, as the hint gives it
        conn.execute(text("DROP VIEW cost_report"))
    assert CliRunner().invoke(build_app(), ["db", "upgrade"]).exit_code == 0
    assert _revision_and_epochs_type(admin) == ("0003", "bigint")
    admin.dispose()
