"""Whether a database with no schema version is advisor's to create its history in.

Every command creates the history where there is none yet: a new SQLite file, an empty database or schema. A
database that already holds tables but no schema version is someone else's, or what an interrupted creation left
behind: advisor must not add its tables to another program's database on a read (a mistyped URL would then "work",
an empty history listed, eight tables left in a database that is not advisor's), nor tell anyone to drop tables it
cannot tell are its own.
"""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from advisor.errors import DatabaseUnavailableError
from advisor.history.url_display import display_url

VERSION_TABLE = "alembic_version"
# How many of a database's tables a message names (a big application's database has hundreds).
_NAMED_TABLES = 5


def require_history_or_empty(engine: Engine, revision: str | None, explicit: bool = False) -> None:
    """``DatabaseUnavailableError`` for a database with no schema version (``revision`` None) that holds tables:
    none of them advisor's (another program's database: refused unless ``explicit``, ``advisor db upgrade``,
    which creates the history beside them), tables named as advisor's but beside others or with other columns
    (another program's too: nothing to drop), or some of advisor's alone (a creation an earlier advisor left
    unfinished: the migration would stop at the first of them, "table measurements already exists", every time).
    Nothing is dropped here: only the user can say that those tables hold nothing they need. A fault of the
    database, not of a request, whose URL a caller of ``advisor serve`` must not learn (``public``)."""
    if revision is not None:
        return
    from advisor.history.tables import Base

    with engine.connect() as conn:
        found = inspect(conn)
        names = set(found.get_table_names())
        ours = sorted(names & set(Base.metadata.tables))
        unlike = [name for name in ours if {c["name"] for c in found.get_columns(name)}
                  != {c.name for c in Base.metadata.tables[name].columns}]
    others = sorted(names - set(Base.metadata.tables) - {VERSION_TABLE})
    if ours and (others or unlike):
        _refuse_same_names(engine, ours, others, unlike)
    if ours:
        _refuse_stray_tables(engine, ours)
    if others and not explicit:
        _refuse_foreign(engine, others)


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:_NAMED_TABLES])
    return shown + (f" and {len(names) - _NAMED_TABLES} more" if len(names) > _NAMED_TABLES else "")


def _refuse_foreign(engine: Engine, others: list[str]) -> None:
    raise DatabaseUnavailableError(
        f"The database {display_url(engine.url)} does not hold an advisor history: it holds other tables "
        f"({_listed(others)}) and none of advisor's, so advisor did not add its tables to it.",
        hint="Fix: point ADVISOR_DATABASE_URL at another database, or an empty one (a new SQLite file starts a "
             "history); to keep the history in this database beside its tables, run `advisor db upgrade` once, "
             "which creates advisor's tables there.",
        public="The history database is unavailable: it does not hold an advisor history.")


def _refuse_same_names(engine: Engine, ours: list[str], others: list[str], unlike: list[str]) -> None:
    """Tables named as advisor's beside tables that are not (or with columns that are not advisor's): another
    program's database, whose tables no advice may have dropped (the file deleted, with them all)."""
    why = (f"the columns of {', '.join(unlike)} are not advisor's" if unlike
           else f"it also holds tables that are not advisor's ({_listed(others)})")
    raise DatabaseUnavailableError(
        f"The database {display_url(engine.url)} holds tables named like advisor's ({', '.join(ours)}) and no schema "
        f"version ({VERSION_TABLE}), but {why}: it belongs to another program, and is no advisor history.",
        hint="Fix: point ADVISOR_DATABASE_URL at another database (an empty one, or a new SQLite file, starts a "
             "history); leave this one's tables as they are: they are not advisor's to drop.",
        public="The history database is unavailable: it belongs to another program.")


def _refuse_stray_tables(engine: Engine, found: list[str]) -> None:
    what = "delete the file" if engine.dialect.name == "sqlite" else f"drop those tables ({', '.join(found)})"
    raise DatabaseUnavailableError(
        f"The history database {display_url(engine.url)} holds advisor's tables ({', '.join(found)}) but no schema "
        f"version ({VERSION_TABLE}), so advisor cannot tell which schema they have: their creation was interrupted "
        "(an earlier advisor could leave them so when several threads created the history at once), or another "
        "program made them.",
        hint=f"Fix: if they hold no history you need, {what} and run the command again to create the history "
             "afresh; or point ADVISOR_DATABASE_URL at another database.",
        public="The history database is unavailable: it holds tables but no schema version.")
