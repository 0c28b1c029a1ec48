"""A migration of an existing history that failed, told as one: from which revision to which, that nothing was
changed (the whole upgrade is one transaction, ``migrations/env.py``), and what to do about the cause.

An upgrade alters tables, which on PostgreSQL only their owner may do: a team's role with the GRANTs advisor asks
for (SELECT, INSERT, UPDATE, DELETE, sequence USAGE) reads and writes the history but cannot migrate it, and the
access hint for a missing GRANT would send it round in circles. PostgreSQL also refuses to retype a column that a
view or rule uses; its DETAIL names them.
"""

from __future__ import annotations

import shlex

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from advisor.errors import DatabaseUnavailableError
from advisor.history.url_display import display_url, scrubbed

PUBLIC = "The history database is unavailable: its schema could not be migrated to this advisor's."
# SQLSTATE 42501 with "must be owner" is a migration's ALTER TABLE by a role that is not the tables' owner.
_NOT_OWNER = "42501"


def migration_error(engine: Engine, exc: DBAPIError, before: str, after: str,
                    cause_hint: str) -> DatabaseUnavailableError:
    """A ``DatabaseUnavailableError`` for an upgrade of ``engine``'s database from revision ``before`` to ``after``
    that the database refused with ``exc``; ``cause_hint``: the fix for the driver's cause where it is not one this
    module knows better (a lock, a full disk)."""
    where = display_url(engine.url)
    detail = scrubbed(_first_line(exc), engine.url)
    message = (f"Migrating the history database {where} from revision {before} to {after} failed: {detail}. "
               f"Nothing was changed: it is still at revision {before}.")
    hint = cause_hint
    if _state(exc) == _NOT_OWNER and "must be owner" in detail:
        hint = _owner_hint(engine)
    return DatabaseUnavailableError(message, hint=hint, public=PUBLIC)


def _owner_hint(engine: Engine) -> str:
    """How to have the tables' owner run the migration: the command, with the URL as that owner."""
    owner = table_owner(engine)
    url = display_url(engine.url.set(username=owner or "OWNER", password=None))
    who = f"their owner ({owner})" if owner else "their owner"
    return (f"Fix: a migration alters the history's tables, which only {who} may do, whatever GRANTs this role "
            f"holds: have {who} run, once, ADVISOR_DATABASE_URL={shlex.quote(url)} advisor db upgrade; "
            "then this role uses the history as before.")


def table_owner(engine: Engine) -> str | None:
    """The role that owns the history's tables (its ``recommendations`` table in the current schema), or None
    where that cannot be read."""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() "
                                     "AND tablename = 'recommendations'")).scalar()
    except SQLAlchemyError:
        return None


def _state(exc: DBAPIError) -> str | None:
    state = getattr(exc.orig, "pgcode", None) or getattr(exc.orig, "sqlstate", None)
    return state if isinstance(state, str) else None


def _first_line(exc: DBAPIError) -> str:
    words = str(exc.orig).strip() if exc.orig is not None else ""
    return (words.splitlines()[0] if words else str(exc)).rstrip(".")
