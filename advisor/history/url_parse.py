"""Reading a history database URL's text the same way on SQLAlchemy 2.0 and 2.1.

SQLAlchemy 2.1 percent-decodes a URL's database part (``sqlite:////data%25b/h.db`` is the file ``/data%b/h.db``,
and ``%3F`` is how a ``?`` in a path is written, since a bare one starts the query); 2.0 keeps it as written, so
there a path holding a ``?`` cannot be written at all, and the default history of a data folder named ``data%41b``
(whose URL must encode the ``%`` for 2.1) went to a new folder named ``data%2541b``. advisor reads every URL as 2.1
does, on either version: the default URL (``advisor.settings.default_database_url``) is encoded once, and a URL a
user gives means the same file whichever SQLAlchemy is installed. It also writes a path as the database part of a
URL naming a SQLite URI filename (``sqlite:///file:...?uri=true``), which is read twice (``file_uri_path``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy.engine import URL, make_url


def decodes_database() -> bool:
    """Whether the installed SQLAlchemy percent-decodes a URL's database part itself (2.1 does, 2.0 does not)."""
    return make_url("sqlite:///%25").database == "%"


def parse_url(raw: str) -> URL:
    """``raw`` as SQLAlchemy 2.1 reads it: its database part percent-decoded. Raises what ``make_url`` raises
    (ArgumentError; ValueError for a port that is not a number)."""
    url = make_url(raw)
    if url.database is None or decodes_database():
        return url
    return url.set(database=unquote(url.database))


def file_uri_path(path: Path) -> str:
    """``path`` (made absolute) as written after ``sqlite:///file:`` in a URL that SQLite is to read as a URI
    filename (``?uri=true``), so that the URL names that very file."""
    # Read twice: the URL's database part by SQLAlchemy (parse_url), then the "file:" URI by SQLite, so a "%", "?"
    # or "#" in the path is encoded for SQLite first ("%" -> "%25"), then that for the URL ("%2525").
    for_sqlite = str(path.expanduser().absolute()).replace("%", "%25").replace("?", "%3F").replace("#", "%23")
    return quote(for_sqlite, safe="/")
