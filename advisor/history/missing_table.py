"""A history whose schema version says its tables are there while one of them is not (dropped by hand, a partial
restore): the driver's "no such table" (SQLite) or "relation ... does not exist" (PostgreSQL, SQLSTATE 42P01) is
damage to the schema, not a database to check the reachability of."""

from __future__ import annotations

import re

from sqlalchemy.exc import DBAPIError

HINT = ("Fix: the history's schema is damaged: its table {table} is missing, though its schema version says it is "
        "there (a table dropped by hand, a partial restore). Restore the database from a backup, or point "
        "ADVISOR_DATABASE_URL at another database.")
PUBLIC = "The history database is unavailable: its schema is damaged (a table is missing)."
_SQLITE = re.compile(r"no such table: (\S+)")
_POSTGRES = re.compile(r'relation "([^"]+)" does not exist')


def missing_table(exc: DBAPIError) -> str | None:
    """The table the driver says is missing, or None where ``exc`` is not about one."""
    words = str(exc.orig)
    state = getattr(exc.orig, "pgcode", None) or getattr(exc.orig, "sqlstate", None)
    found = _POSTGRES.search(words) if state == "42P01" else _SQLITE.search(words)
    return found.group(1) if found else None


def hint(exc: DBAPIError) -> str:
    """``HINT`` with the missing table named."""
    table = missing_table(exc)
    return HINT.format(table=repr(table) if table else "(the one named above)")
