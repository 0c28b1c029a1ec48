"""A SQLite history in a folder this process may not write: a CI artifact, a read-only mount of a team's file.

The history is a WAL database (``advisor.history.engine``), and SQLite opens one only where it can make its
shared-memory index (``history.db-shm``) beside the file, read-only opens (``?mode=ro``) included: in a read-only
folder every command fails, reads too, with "attempt to write a readonly database" (SQLITE_READONLY_DIRECTORY).
Such a file can still be read as it is, with SQLite's ``immutable=1``; this module says so, with the URL to use.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from advisor.history.url_parse import file_uri_path

PUBLIC = "The history database is unavailable: its folder is read-only."


def sqlite_path(engine: Engine) -> Path | None:
    """The file of ``engine``'s SQLite database, given as a plain path or as a "file:" URI filename; None for a
    server or an in-memory database."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or engine.url.query.get("mode") == "memory":
        return None
    if not database.startswith("file:"):
        return Path(database)
    path = unquote(urlsplit(database).path)
    return Path(path) if path and path != ":memory:" else None


def read_only_folder(engine: Engine, exc: DBAPIError) -> Path | None:
    """The folder of ``engine``'s SQLite file where the driver failed because that folder may not be written
    (SQLite says so with SQLITE_READONLY_DIRECTORY; a read-only or unopenable file in a folder that may not be
    written reads the same), else None."""
    name = getattr(exc.orig, "sqlite_errorname", "")
    if not isinstance(name, str) or not name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")):
        return None
    path = sqlite_path(engine)
    if path is None:
        return None
    folder = path.expanduser().absolute().parent
    if name == "SQLITE_READONLY_DIRECTORY" or (folder.is_dir() and not os.access(folder, os.W_OK)):
        return folder
    return None


def creating(path: Path) -> bool:
    """Whether the history at ``path`` does not exist yet, so that it was to be made, not read: there is no file to
    read as it is, only one that cannot be created in that folder."""
    return not path.expanduser().exists()


def detail(folder: Path, path: Path) -> str:
    """What went wrong, in words (the driver's own follow in the message)."""
    if creating(path):
        return (f"the folder {str(folder)!r} may not be written, so the history file {path.name!r} cannot be "
                "created there")
    return (f"the folder {str(folder)!r} may not be written, and SQLite opens the history (a WAL database) only "
            f"where it can make its index file {path.name + '-shm'!r} beside it, to read it too")


def hint(path: Path, immutable: bool = False) -> str:
    """How to read the history where it is, and how to write it. ``immutable``: the URL in use reads the file as it
    is already (``?immutable=1``), so it is not given again: what failed then was a write."""
    copy = ("make the folder writable, or copy the file to a folder you can write and point ADVISOR_DATABASE_URL "
            "there.")
    if immutable:
        return f"Fix: this URL (immutable=1) reads the file as it is and never writes it; to save to it, {copy}"
    uri = file_uri_path(path)
    return (f"Fix: to read it as it is, set ADVISOR_DATABASE_URL='sqlite:///file:{uri}?immutable=1&uri=true' "
            "(while nothing writes the file: SQLite then takes no lock; ?mode=ro alone cannot open it while its -shm "
            f"file is missing); to save to it, {copy}")
