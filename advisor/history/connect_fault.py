"""Why a database server could not be used (refused, unreachable, a login or database it does not know), in words
that name no host, port, user or database: the public cause of a ``DatabaseUnavailableError`` from the driver's
connection error, which carries no SQLSTATE (libpq raises it before any session). Before, such a fault was told in
public, in a note of a prediction not saved among others, as only "The history database is unavailable.", where a
full disk or a held lock named its cause."""

from __future__ import annotations

import re

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

# (the driver's words, lower-cased, as a pattern; the cause said): libpq's English messages. Another language's
# matches none, and the generic text stands.
_CAUSES = (
    (r"connection refused", "its server refused the connection (is it running?)"),
    (r"no such file or directory", "its server's socket does not exist (is it running?)"),
    (r"could not translate host name|name or service not known|nodename nor servname",
     "its server's host name does not resolve"),
    (r"timeout expired|timed out", "its server did not answer the connection in time"),
    (r"no route to host|network is unreachable|host is unreachable", "its server cannot be reached from here"),
    (r"password authentication failed|no password supplied|authentication failed",
     "its server refused the login (check the URL's user and password)"),
    (r'role "[^"]*" does not exist', "its server has no such user"),
    (r'database "[^"]*" does not exist', "its server has no database of that name"),
    (r"no pg_hba\.conf entry", "its server does not let this host in (pg_hba.conf)"),
    (r"the database system is (starting up|shutting down|in recovery mode)",
     "its server is starting up or shutting down"),
    (r"too many (clients|connections)", "its server has no connection left"),
)


def connect_cause(engine: Engine, exc: DBAPIError) -> str:
    """"The history database is unavailable: its server refused the connection (is it running?)." for a failed
    call to ``engine``'s database server, from the driver's words in ``exc``; the bare "The history database is
    unavailable." where they name none of these causes, and for SQLite (a file: its faults are told elsewhere)."""
    text = str(exc.orig).lower() if engine.dialect.name != "sqlite" else ""
    said = next((cause for pattern, cause in _CAUSES if re.search(pattern, text)), None) if text else None
    return f"The history database is unavailable: {said}." if said else "The history database is unavailable."
