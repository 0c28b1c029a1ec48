"""Engines for the history database: one per ``History``, never a module-level one.

SQLite: the parent folder is created, WAL journal (readers never block the writer), a 30 s busy timeout, foreign
keys on, and transactions begun by us rather than by the driver: ``BEGIN IMMEDIATE`` for writes (so two writing
processes queue on the lock instead of failing on a stale snapshot), plain ``BEGIN`` for reads.
PostgreSQL (or anything else SQLAlchemy speaks): a normal pooled engine with pre-ping, since a ``track``ed job
may hold a ``History`` for hours; a connection takes at most 10 s to open, and a PostgreSQL statement on an open
one at most 30 s to answer (:mod:`advisor.history.answer_deadline`); with psycopg2, Ctrl-C and SIGTERM end a
wait for the server at once (:mod:`advisor.history.pg_wait`).
"""

from __future__ import annotations

import re
import shlex
import sqlite3
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.pool import StaticPool

from advisor.errors import DatabaseUnavailableError, HistoryError
from advisor.history import missing_table as missing
from advisor.history import read_only_folder as read_only
from advisor.history.answer_deadline import AnswerDeadline
from advisor.history.answer_deadline import attach as attach_answer_deadline
from advisor.history.connect_fault import connect_cause
from advisor.history.driver_error import driver_not_loaded
from advisor.history.pg_wait import interruptible_waits
from advisor.history.sqlite_wait import begin as begin_in_slices
from advisor.history.url_display import ENCODE_HINT, display_url, masked, refuse_unencoded, scrubbed, shown
from advisor.history.url_parse import file_uri_path, parse_url
from advisor.settings import DEFAULT_HISTORY_HINT, default_database_path

BUSY_TIMEOUT_SECONDS = 30.0
# How long a database server may take to accept a connection (a URL's own ?connect_timeout= wins).
CONNECT_TIMEOUT_SECONDS = 10
_BEGIN_OPTION = "advisor_begin"
SUPPORTED_DATABASES = "advisor's history database is SQLite (built in) or PostgreSQL."
_URL_HINT = ("Fix: set ADVISOR_DATABASE_URL to e.g. sqlite:////path/history.db or postgresql://user@host/db, "
             "or unset it for the default file.")


def _use_wal(cursor) -> None:
    """Switch the file to WAL, waiting out another process that holds the lock meanwhile.

    Changing the journal mode needs an exclusive lock, and SQLite answers "database is locked" to it at once,
    without calling the busy handler, while another connection is opening or migrating the same new file. The
    mode is stored in the file, so only the first connection ever switches it; later ones find it set.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    delay_seconds = 0.005
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() + delay_seconds > deadline:
                raise
            time.sleep(delay_seconds)
            delay_seconds = min(delay_seconds * 2, 0.2)


def _server_engine(parsed: URL) -> Engine:
    """A pooled engine for a database server: PostgreSQL, or another backend SQLAlchemy has a dialect for."""
    backend = parsed.get_backend_name()
    if parsed.drivername == "postgresql":
        # A plain postgresql:// URL means psycopg (3) to SQLAlchemy 2.1 but psycopg2 to 2.0; use the driver
        # that is installed (advisor[postgres] installs psycopg2-binary).
        from importlib.util import find_spec

        if find_spec("psycopg") is None and find_spec("psycopg2") is not None:
            parsed = parsed.set(drivername="postgresql+psycopg2")
    # A server that does not answer (a host cut off, a stalled proxy) must fail a request, not hang it: libpq
    # waits for ever without a timeout, and a service's every request would wait behind the first.
    connect_args = ({"connect_timeout": CONNECT_TIMEOUT_SECONDS}
                    if backend == "postgresql" and "connect_timeout" not in parsed.query else {})
    try:
        engine = create_engine(parsed, pool_pre_ping=True, future=True, connect_args=connect_args)
    except NoSuchModuleError as exc:
        raise HistoryError(f"The history database URL {display_url(parsed)!r} names {parsed.drivername!r}, "
                           f"which SQLAlchemy does not know. {SUPPORTED_DATABASES}", hint=_URL_HINT,
                           public=f"The history database URL names {parsed.drivername!r}, which SQLAlchemy does not "
                                  "know.") from exc
    except (ImportError, SystemError) as exc:
        if not isinstance(exc, ModuleNotFoundError):
            # Installed but failing at import: a build for another Python (psycopg2-binary 2.9.0-2.9.4 on 3.11,
            # "SystemError: initialization of _psycopg raised unreported exception"), a missing libpq.
            raise driver_not_loaded(parsed, exc) from exc
        if backend == "postgresql":
            raise HistoryError(f"The driver for postgresql is not installed ({exc.name}).",
                               hint="Fix: pip install 'advisor[postgres]' (psycopg2-binary).") from exc
        raise HistoryError(f"The history database URL {display_url(parsed)!r} is for {backend}, whose driver "
                           f"({exc.name}) is not installed. {SUPPORTED_DATABASES}",
                           hint=f"Fix: use a sqlite:/// or postgresql:// URL (or install {exc.name} to try "
                                f"{backend}, which advisor is not tested with).",
                           public=f"The history database URL is for {backend}, whose driver is not installed.") from exc
    if backend == "postgresql":
        # ... and a connection already open must not wait for ever for an answer either.
        attach_answer_deadline(engine, AnswerDeadline(), display_url(engine.url))
    if engine.dialect.driver == "psycopg2":
        # Ctrl-C and SIGTERM end a wait for the server (a statement behind another session's lock) at once. Here,
        # not at import: psycopg2's wait callback is one for the whole process (advisor.history.pg_wait).
        interruptible_waits()
    return engine


def _is_default(database: Path) -> bool:
    """Whether ``database`` is the default history file, the one used where ADVISOR_DATABASE_URL is unset."""
    try:
        return database.resolve() == default_database_path().resolve()
    except (OSError, RuntimeError, HistoryError):  # RuntimeError: a symlink loop; HistoryError: no home folder
        return False


def _folder_hint(database: Path) -> str:
    """How to fix a history folder that cannot be made: the default one comes from the environment (unsetting
    ADVISOR_DATABASE_URL, which is what chose it, cannot help), a chosen one from ADVISOR_DATABASE_URL."""
    if _is_default(database):
        return DEFAULT_HISTORY_HINT
    return ("Fix: set ADVISOR_DATABASE_URL to a file in a folder you can write "
            "(e.g. sqlite:////home/me/advisor/history.db), or unset it for the default.")


def _make_folder(database: Path) -> None:
    """Create the folder a SQLite file lives in; HistoryError when that is impossible (read-only, /proc)."""
    folder = database.resolve().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HistoryError(f"Cannot create the folder {str(folder)!r} for the history database "
                           f"{str(database)!r}: {exc.strerror or exc}.", hint=_folder_hint(database),
                           public="Cannot create the folder for the history database.") from exc
    if not folder.is_dir():
        raise HistoryError(f"Cannot use the history database {str(database)!r}: {str(folder)!r} is not a folder.",
                           hint=_folder_hint(database), public="The history database's folder is not a folder.")


def _in_memory(database: str | None) -> bool:
    """Whether a SQLite URL's database part names an in-memory database rather than a file."""
    return not database or database == ":memory:" or database.startswith("file::memory:")


def in_memory_url(url: str) -> bool:
    """Whether ``url`` names an in-memory SQLite database (``sqlite://``, ``sqlite:///:memory:``), which lives
    only as long as the process (False for a file, a server or a URL that does not parse)."""
    try:
        parsed = parse_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return False
    # A URI filename names one too with mode=memory ("sqlite:///file:db1?mode=memory&uri=true").
    return parsed.get_backend_name() == "sqlite" and (_in_memory(parsed.database)
                                                       or parsed.query.get("mode") == "memory")


def sqlite_file_missing(url: str) -> bool:
    """Whether ``url`` names a SQLite file that does not exist yet (False for a server URL, an in-memory
    database or a URL that does not parse: those are ``create_history_engine``'s to judge). A caller with
    nothing to store reads no history from such a file, and need not create it."""
    if url != url.strip():  # create_history_engine refuses it
        return False
    try:
        parsed = parse_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return False
    path = _plain_sqlite_path(parsed.get_backend_name(), parsed.database)
    return path is not None and not path.expanduser().exists()


def no_history_error(url: str, hint: str) -> HistoryError:
    """A read of a SQLite file that does not exist (``sqlite_file_missing``), refused rather than creating an empty
    one: a mistyped path would otherwise read as a history with nothing in it. ``hint``: the fix, in the words of
    where the URL came from (a flag's environment variable, the API's ``url``)."""
    return HistoryError(f"No history at {shown(url)}: the file does not exist, so nothing was ever stored there.",
                        hint=hint, public="No history at the history database URL: the file does not exist.")


def make_sqlite_folder(url: str) -> None:
    """Create the folder of ``url``'s SQLite file (an engine made with ``make_folder=False``, before it first
    writes); nothing for another database."""
    parsed = parse_url(url)
    path = _plain_sqlite_path(parsed.get_backend_name(), parsed.database)
    if path is not None:
        _make_folder(path.expanduser())


def _plain_sqlite_path(backend: str, database: str | None) -> Path | None:
    """The path of a SQLite database kept in a plain file (None for a server, an in-memory database, or a
    "file:" URI filename, which is not a plain path: the driver's to open)."""
    if backend != "sqlite" or _in_memory(database) or database.startswith("file:"):
        return None
    return Path(database)


def _sqlite_file(parsed: URL, url: str, make_folder: bool = True) -> URL:
    """``parsed`` (a SQLite file's URL) as the driver is to open it, its folder made (unless not ``make_folder``):
    a path's ~ is the home folder for the driver too, not a folder named "~". A "file:" URI filename is the
    driver's to read, with no folder made for it; HistoryError for one without ?uri=true, which SQLite would read
    as a path in a folder named "file:" here."""
    database = parsed.database or ""
    if not database.startswith("file:"):
        path = Path(database).expanduser()
        _refuse_uri_options(parsed, url, path)
        if make_folder:
            _make_folder(path)
        return parsed.set(database=str(path))
    if str(parsed.query.get("uri", "")).lower() not in ("true", "1"):
        raise HistoryError(f"The history database URL {masked(url)!r} names a SQLite URI filename "
                           f"({database!r}) without ?uri=true, so SQLite would read it as a path in a folder named "
                           "'file:' here.",
                           hint="Fix: add ?uri=true (e.g. sqlite:///file:/path/history.db?uri=true), or give the "
                                "path alone (sqlite:////path/history.db).",
                           public="The history database URL names a SQLite URI filename without ?uri=true.")
    return parsed


# The query arguments SQLAlchemy's pysqlite dialect reads itself; any other is a SQLite URI option (mode=ro, cache,
# immutable), which SQLite reads only from a "file:" URI filename with ?uri=true.
_DRIVER_OPTIONS = frozenset({"uri", "timeout", "isolation_level", "detect_types", "check_same_thread",
                             "cached_statements"})


def _refuse_uri_options(parsed: URL, url: str, path: Path) -> None:
    """HistoryError for a plain path's URL with SQLite URI options: without ?uri=true the driver drops them (a
    history opened ?mode=ro was written to); with it, SQLite opens a file named after them ("h.db?mode=ro")."""
    options = sorted(set(parsed.query) - _DRIVER_OPTIONS)
    if not options:
        return
    query = "&".join(f"{k}={v}" for k in options for v in (
        parsed.query[k] if isinstance(parsed.query[k], tuple) else (parsed.query[k],)))
    if str(parsed.query.get("uri", "")).lower() in ("true", "1"):
        what = f"with ?uri=true but a plain path, so SQLite would open a file named {path.name + '?' + query!r}"
    else:
        what = "without ?uri=true, so SQLite would ignore them (a history opened ?mode=ro would be written to)"
    raise HistoryError(f"The history database URL {masked(url)!r} gives SQLite URI options "
                       f"({', '.join(options)}) {what}.",
                       hint="Fix: add ?uri=true and write the path as a URI filename: "
                            f"sqlite:///file:{file_uri_path(path)}?{query}&uri=true (or leave the options out).",
                       public="The history database URL gives SQLite URI options with a plain path.")


def create_history_engine(url: str, *, make_folder: bool = True) -> Engine:
    """A new engine for ``url``; for a SQLite file, creates the folder it lives in (``make_folder`` False: the
    caller does, with ``make_sqlite_folder``, once it is to write)."""
    if url != url.strip():
        # A pasting slip, not part of a name: a trailing space would parse, and silently start a new, empty
        # history in a file whose name ends in a space.
        raise HistoryError(f"The history database URL {masked(url)!r} is not a database URL: it starts or ends "
                           "with a space or a line break.", hint=_URL_HINT,
                           public="The history database URL starts or ends with a space or a line break.")
    try:
        parsed = parse_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        # A password pasted as it is (a "/" or ":" in it) is the likeliest cause where the URL has one.
        encode = f" If it holds a password: {ENCODE_HINT}." if "@" in url else ""
        raise HistoryError(f"The history database URL {masked(url)!r} is not a database URL.{encode}",
                           hint=_URL_HINT, public=f"The history database URL is not a database URL.{encode}") from exc
    if parsed.get_backend_name() != "sqlite":
        refuse_unencoded(url, parsed)
        return _server_engine(parsed)

    database = parsed.database
    memory = _in_memory(database)
    if memory:
        # One shared connection, so that every session sees the same in-memory database.
        engine = create_engine(parsed, poolclass=StaticPool,
                               connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_SECONDS})
    else:
        engine = create_engine(_sqlite_file(parsed, url, make_folder), connect_args={"timeout": BUSY_TIMEOUT_SECONDS})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # We issue BEGIN ourselves (see _on_begin); the driver must not open transactions behind our back.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        if not memory:
            _use_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "")
        if mode:  # a write: its wait for the lock must yield to Ctrl-C and SIGTERM (advisor.history.sqlite_wait)
            begin_in_slices(conn, f"BEGIN {mode}", BUSY_TIMEOUT_SECONDS)
        else:
            conn.exec_driver_sql("BEGIN")

    @event.listens_for(engine, "handle_error")
    def _on_interrupt(ctx) -> None:
        # Ctrl-C (or SystemExit) inside a statement: SQLAlchemy then drops the connection without a rollback
        # and without closing the cursor. A sqlite3 connection with a live statement (an executemany) does not
        # really close; it would keep the transaction, and the write lock, for as long as this process lives
        # (a notebook, say). Roll back and close the cursor first, so that the lock goes now.
        if isinstance(ctx.original_exception, Exception):
            return
        try:
            cursor = getattr(ctx.execution_context, "cursor", None)
            if cursor is not None:
                cursor.close()
            raw = ctx.connection.connection.dbapi_connection if ctx.connection is not None else None
            if raw is not None and raw.in_transaction:
                raw.rollback()
        except (sqlite3.Error, SQLAlchemyError):
            pass  # best effort: the connection is being discarded anyway

    return engine


def database_error(engine: Engine, exc: DBAPIError, message: str, default_hint: str) -> DatabaseUnavailableError:
    """A ``DatabaseUnavailableError`` for a failed database call: ``message`` with ``{where}`` (the URL without
    its password) and ``{detail}`` (the driver's first line) filled in, and the hint for the cause the driver
    names (a full disk, a lock, no access), else ``default_hint``. Its ``public`` text names only that cause:
    the URL and the driver's words (host, port, database name) are for the database's own user, not for a
    caller of ``advisor serve``."""
    where = display_url(engine.url)
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None and str(exc.orig).strip() else str(exc)
    detail = scrubbed(detail, engine.url)  # a driver may quote the connection string, or a piece of the password
    fault = _sqlite_file_fault(engine, exc)
    if fault is not None:  # the file itself, not a server or the permissions: say what it is
        return DatabaseUnavailableError(message.format(where=where, detail=f"{fault} ({detail})"),
                                        hint=_not_sqlite_hint(engine), public=_PUBLIC_CAUSES[_NOT_SQLITE_HINT])
    folder = read_only.read_only_folder(engine, exc)
    if folder is not None:  # a WAL file cannot be opened there at all, reads included: say how to read it
        path = read_only.sqlite_path(engine)
        return DatabaseUnavailableError(message.format(where=where, detail=f"{read_only.detail(folder, path)} "
                                                                           f"({detail})"),
                                        hint=_folder_hint(path) if read_only.creating(path)
                                        else read_only.hint(path, _immutable(engine)), public=read_only.PUBLIC)
    cause = _cause_hint(exc)
    path = read_only.sqlite_path(engine)
    if getattr(exc.orig, "sqlite_errorname", None) == _SHM_FULL and path is not None:
        detail += f" (no space to grow its index file {path.name + '-shm'!r}: the disk is full)"
    hint = {_PG_ACCESS_HINT: access_hint, _PG_NO_SCHEMA_HINT: _schema_hint,
            missing.HINT: lambda _: missing.hint(exc)}.get(cause, lambda _: cause)(engine)
    return DatabaseUnavailableError(message.format(where=where, detail=detail), hint=hint or default_hint,
                                    public=_PUBLIC_CAUSES.get(cause) or connect_cause(engine, exc))


def _immutable(engine: Engine) -> bool:
    """Whether ``engine``'s SQLite URL opens its file with ``?immutable=1`` (read as it is, never written)."""
    return str(engine.url.query.get("immutable", "")).lower() in ("1", "true", "yes", "on")


def database_fault(exc: DBAPIError) -> bool:
    """Whether ``exc`` is the database failing or refusing this connection (unreachable, locked, full, a missing
    privilege, a read-only server), rather than a statement advisor got wrong: the former is a
    ``DatabaseUnavailableError`` for the user, the latter a bug to show whole."""
    return isinstance(exc, (OperationalError, InterfaceError)) or _cause_hint(exc) is not None


def refuses_writes(exc: DBAPIError) -> bool:
    """Whether ``exc`` is the database refusing this connection's access (a privilege, a file's permissions, a
    read-only file or server) rather than failing for a while (unreachable, locked, full): retrying does not help."""
    return _cause_hint(exc) in (_ACCESS_HINT, _PG_ACCESS_HINT, _PG_READ_ONLY_HINT)


def access_hint(engine: Engine, role: str | None = None) -> str:
    """How to fix a history that may not be read or written here, in the words of its backend: a SQLite file's
    permissions, or the GRANTs a PostgreSQL ``role`` (default: the URL's user) lacks."""
    if engine.dialect.name != "postgresql":
        return _ACCESS_HINT
    return _PG_ACCESS_HINT.format(role=_pg_name(role or engine.url.username, "<your role>"))


def _pg_name(name: str | None, unknown: str) -> str:
    """``name`` as PostgreSQL reads it in a statement (quoted where it must be); ``unknown`` where there is none."""
    return (unknown if not name else name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name)
            else '"' + name.replace('"', '""') + '"')


def _schema_hint(engine: Engine) -> str:
    """How to fix a search_path whose schema does not exist: the schema the URL names (``?options=-csearch_path=``),
    to be created for the URL's role."""
    options = engine.url.query.get("options", "")
    named = re.search(r"search_path\s*=\s*([^\s,]+)", " ".join(options) if isinstance(options, tuple) else options)
    schema = _pg_name(named.group(1).strip('"') if named else None, "<schema>")
    return _PG_NO_SCHEMA_HINT.format(schema=schema, role=_pg_name(engine.url.username, "<your role>"))


def access_denied_error(engine: Engine, message: str, role: str | None = None, *,
                        read_only: bool = False) -> DatabaseUnavailableError:
    """A ``DatabaseUnavailableError`` for a history this connection may not write, found by asking rather than by
    a failed statement: ``message`` with ``{where}`` filled in, the backend's access hint (``read_only``: a
    PostgreSQL server or role that takes no writes at all)."""
    hint = _PG_READ_ONLY_HINT if read_only else access_hint(engine, role)
    return DatabaseUnavailableError(message.format(where=display_url(engine.url)), hint=hint,
                                    public=_PUBLIC_CAUSES[_PG_READ_ONLY_HINT if read_only else _ACCESS_HINT])


def _not_sqlite_hint(engine: Engine) -> str:
    """How to fix a history file that is not a SQLite database (or is corrupt): the default one is no
    ADVISOR_DATABASE_URL's to unset, so it is to be moved aside (a new history starts where it was)."""
    path = _plain_sqlite_path(engine.dialect.name, engine.url.database)
    if path is None or not _is_default(path):
        return _NOT_SQLITE_HINT
    aside = shlex.quote(str(path) + ".bad")
    return ("Fix: this is the default history file (used where ADVISOR_DATABASE_URL is unset): move it aside to "
            f"start a new one (mv {shlex.quote(str(path))} {aside}), set ADVISOR_DATABASE_URL to another file, or "
            "pass --no-save to recommend or predict without a history.")


def _sqlite_file_fault(engine: Engine, exc: DBAPIError) -> str | None:
    """What is wrong with a SQLite database's path, when that is why the driver failed: a folder, a device, or
    a file that is not a SQLite database (or is corrupt); None for anything else."""
    path = _plain_sqlite_path(engine.dialect.name, engine.url.database)
    if path is None:
        return None
    if path.is_dir():
        return f"{str(path)!r} is a folder, not a database file"
    if path.exists() and not path.is_file():
        return f"{str(path)!r} is a device or a pipe, not a database file"
    name = getattr(exc.orig, "sqlite_errorname", "")
    if isinstance(name, str) and name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return f"{str(path)!r} is not a SQLite database, or is corrupt"
    return None


_FULL_HINT = ("Fix: free some space on the disk that holds the database (or point ADVISOR_DATABASE_URL at "
              "another disk), then run the command again.")
_LOCKED_HINT = ("Fix: another process holds the database's lock; wait for it or stop it (a stuck advisor "
                "command or notebook), then run the command again.")
_ACCESS_HINT = ("Fix: check that you may read and write the database file and its folder, or point "
                "ADVISOR_DATABASE_URL at another file.")
# SQLite's result codes (sqlite3 errors carry them as sqlite_errorname; an extended code such as
# SQLITE_BUSY_SNAPSHOT counts as its primary one unless named) and PostgreSQL SQLSTATEs, by cause.
# SQLITE_IOERR_SHMSIZE: no room to grow a WAL database's -shm index, "generally because the disk is full" (SQLite's
# words), whose "disk I/O error" read as a failing disk or a wrong URL.
_SHM_FULL = "SQLITE_IOERR_SHMSIZE"
_SQLITE_CAUSES = {_SHM_FULL: _FULL_HINT, "SQLITE_FULL": _FULL_HINT, "SQLITE_BUSY": _LOCKED_HINT,
                  "SQLITE_LOCKED": _LOCKED_HINT, "SQLITE_READONLY": _ACCESS_HINT, "SQLITE_CANTOPEN": _ACCESS_HINT,
                  "SQLITE_PERM": _ACCESS_HINT}
_NOT_SQLITE_HINT = ("Fix: point ADVISOR_DATABASE_URL at a SQLite database file (a path where none exists yet "
                    "starts a new history), or unset it for the default file.")
# 42501: a privilege the role lacks ({role}: access_hint fills it in). 25006: a server that takes no writes.
_PG_ACCESS_HINT = ("Fix: have the database's owner grant the role what advisor needs: GRANT SELECT, INSERT, UPDATE, "
                   "DELETE ON ALL TABLES IN SCHEMA public TO {role}; GRANT USAGE ON ALL SEQUENCES IN SCHEMA public "
                   "TO {role} (the history's schema where it is not public, and CREATE ON SCHEMA to create or "
                   "migrate its tables), or point ADVISOR_DATABASE_URL at a database that role may use.")
_PG_READ_ONLY_HINT = ("Fix: this server or role takes no writes (a standby, or default_transaction_read_only on): "
                      "point ADVISOR_DATABASE_URL at the primary server, or turn default_transaction_read_only off.")
# 55P03: a lock not granted within lock_timeout, which advisor sets below its statement deadline
# (advisor.history.answer_deadline), so that a wait behind a lock is told as one, not as a hung server.
_PG_LOCKED_HINT = ("Fix: another session holds a lock on the history's tables (a backup, a long transaction, an "
                   "advisor migrating it); wait for it or end it (pg_stat_activity shows it: the waiting session's "
                   "wait_event_type is Lock, pg_blocking_pids() names the holder), then run the command again.")
# 3F000: a schema that does not exist, as the search_path the URL sets names one ("no schema has been selected to
# create in"); {schema} and {role}: _schema_hint fills them in.
_PG_NO_SCHEMA_HINT = ("Fix: the schema named in search_path does not exist (or the role may not use it): have the "
                      "database's owner create it, CREATE SCHEMA {schema} AUTHORIZATION {role}, or name an existing "
                      "one in ADVISOR_DATABASE_URL (?options=-csearch_path%3Dname).")
_PG_CAUSES = {"53100": _FULL_HINT, "55P03": _PG_LOCKED_HINT, "40P01": _LOCKED_HINT, "42501": _PG_ACCESS_HINT,
              "25006": _PG_READ_ONLY_HINT, "3F000": _PG_NO_SCHEMA_HINT}
_PUBLIC_CAUSES = {_FULL_HINT: "The history database is unavailable: its disk is full.",
                  _LOCKED_HINT: "The history database is unavailable: another process holds its lock.",
                  _PG_LOCKED_HINT: "The history database is unavailable: another process holds its lock.",
                  _ACCESS_HINT: "The history database is unavailable: it may not be read or written here.",
                  _PG_ACCESS_HINT: "The history database is unavailable: it may not be read or written here.",
                  _PG_READ_ONLY_HINT: "The history database is unavailable: it takes no writes.",
                  _PG_NO_SCHEMA_HINT: "The history database is unavailable: its schema does not exist.",
                  _NOT_SQLITE_HINT: "The history database is unavailable: its file is not a SQLite database.",
                  missing.HINT: missing.PUBLIC}


def _cause_hint(exc: DBAPIError) -> str | None:
    if missing.missing_table(exc) is not None:
        return missing.HINT
    orig = exc.orig
    name = getattr(orig, "sqlite_errorname", None)
    if isinstance(name, str):
        return _SQLITE_CAUSES.get(name, _SQLITE_CAUSES.get("_".join(name.split("_")[:2])))
    state = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        return _PG_CAUSES.get(state)
    text = str(orig).lower()
    if "no space left" in text or "disk is full" in text or "disk full" in text:
        return _FULL_HINT
    return None


def writer(engine: Engine) -> Engine:
    """The same engine (same pool), but its transactions take SQLite's write lock up front."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
    return engine
