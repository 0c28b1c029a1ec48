"""A migration of an existing history that failed, told as one: from which revision to which, that nothing was
changed (the whole upgrade is one transaction, ``migrations/env.py``), and what to do about the cause.

An upgrade alters tables, which on PostgreSQL only their owner may do: a team's role with the GRANTs advisor asks
for (SELECT, INSERT, UPDATE, DELETE, sequence USAGE) reads and writes the history but cannot migrate it, and the
access hint for a missing GRANT would send it round in circles. PostgreSQL also refuses to retype a column that a
view or rule uses; its DETAIL names them.
"""

from __future__ import annotations

import re
import shlex

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from advisor.errors import DatabaseUnavailableError
from advisor.history.url_display import display_url, scrubbed

PUBLIC = "The history database is unavailable: its schema could not be migrated to this advisor's."
_UNNAMED = "The history database is unavailable."  # database_error's public text where it names no cause
# SQLSTATE 42501 with "must be owner" is a migration's ALTER TABLE by a role that is not the tables' owner.
_NOT_OWNER = "42501"


# What PostgreSQL's DETAIL says of a view or rule over a column a migration retypes: "rule _RETURN on view
# cost_report depends on column "epochs"".
_VIEW = re.compile(r"\bon (materialized view|view) (\S+) depends on column")
_RETRY_HINT = "Fix: mend what the database names above, then run `advisor db upgrade` (or the command again)."


def migration_error(engine: Engine, exc: DBAPIError, before: str, after: str) -> DatabaseUnavailableError:
    """A ``DatabaseUnavailableError`` for an upgrade of ``engine``'s database from revision ``before`` to ``after``
    that the database refused with ``exc``: the driver's words with PostgreSQL's DETAIL (which names, say, the view
    in the way), and the fix for the cause (a lock or a full disk as ``database_error`` tells them)."""
    from advisor.history.engine import database_error

    where = display_url(engine.url)
    detail = scrubbed(_first_line(exc), engine.url)
    more = scrubbed(_pg_detail(exc), engine.url)
    message = (f"Migrating the history database {where} from revision {before} to {after} failed: {detail}"
               + (f" ({more.rstrip('.')})" if more else "")
               + f". Nothing was changed: it is still at revision {before}.")
    base = database_error(engine, exc, "{detail}", _RETRY_HINT)
    # A cause database_error names (a lock, a full disk) is told to a server's caller as that cause.
    hint, public = base.hint, base.public if base.public != _UNNAMED else PUBLIC
    view = _VIEW.search(more)
    if refuses_writes(exc):  # a SQLite file, folder or URL (mode=ro, immutable) that may not be written
        hint, public = _copy_hint(before, after), PUBLIC
    elif _state(exc) == _NOT_OWNER and "must be owner" in detail:
        hint, public = _owner_hint(engine), PUBLIC
    elif "used by a view or rule" in detail:
        hint = _view_hint(view.group(1).upper(), view.group(2)) if view else _view_hint("VIEW", None)
        public = PUBLIC
    return DatabaseUnavailableError(message, hint=hint, public=public)


def refuses_writes(exc: DBAPIError) -> bool:
    """Whether SQLite refused ``exc``'s statement because the database may not be written here (a read-only file or
    folder, a ``?mode=ro`` or ``?immutable=1`` URL): SQLITE_READONLY and its extended codes."""
    name = getattr(exc.orig, "sqlite_errorname", "")
    return isinstance(name, str) and name.startswith("SQLITE_READONLY")


def _copy_hint(before: str, after: str) -> str:
    """How to use an older SQLite history that may not be written here: migrating it writes, so on a copy."""
    return (f"Fix: this history is at revision {before}, older than this advisor's {after}, and migrating it writes "
            "to it: copy the file to a folder you can write, point ADVISOR_DATABASE_URL at the copy and run "
            "`advisor db upgrade` (or make the file and its folder writable).")


def _view_hint(kind: str, name: str | None) -> str:
    """How to migrate past a view (or rule) over a column the migration retypes: PostgreSQL retypes no column a
    view uses, so it is dropped, the history migrated, and the view made again (its definition first saved)."""
    drop = f"DROP {kind} {name}" if name else "DROP VIEW <the view named above>"
    return (f"Fix: save the view's definition (pg_get_viewdef), drop it ({drop}), run `advisor db upgrade`, then "
            "create the view again (the migration retypes columns it uses).")


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


def _pg_detail(exc: DBAPIError) -> str:
    """PostgreSQL's DETAIL of the error (psycopg2 and psycopg keep it in ``diag``); empty where there is none."""
    diag = getattr(exc.orig, "diag", None)
    detail = getattr(diag, "message_detail", None)
    return " ".join(detail.split()) if isinstance(detail, str) else ""


def _first_line(exc: DBAPIError) -> str:
    words = str(exc.orig).strip() if exc.orig is not None else ""
    return (words.splitlines()[0] if words else str(exc)).rstrip(".")
