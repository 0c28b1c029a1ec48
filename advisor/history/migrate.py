"""Schema migrations: ``advisor db upgrade`` and the automatic upgrade on first use.

alembic is driven programmatically (no alembic.ini); the environment and the versions live in ``migrations/``,
found with ``advisor.data_files.data_dir`` so that they work from a wheel too. The common path (the database is
already at head) costs one small query and does not import alembic: ``HEAD_REVISION`` names the newest
revision, and a test checks it against the versions folder.

One migration at a time per process (``MIGRATION_LOCK``), whatever the database: alembic keeps the migration it
runs in process-global proxies (``alembic.context``, ``alembic.op``), which each command installs and removes, so
two threads migrating at once, one database or two, ran in each other's environment and failed with alembic's own
``KeyError``/``AssertionError``. Other processes are kept apart by the database's lock, taken in ``migrations/env.py``.
"""

from __future__ import annotations

import re
import sys
import threading

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from advisor.errors import DatabaseUnavailableError
from advisor.history.foreign_db import require_history_or_empty

HEAD_REVISION = "0003"
VERSION_TABLE = "alembic_version"
# A team's one PostgreSQL database can hold the history beside another alembic application's tables: a schema of
# its own has its own alembic_version (the search_path option is how engine.py's URLs name a schema).
_OWN_SCHEMA = (", or keep the history in a schema of its own in this database (CREATE SCHEMA advisor, then "
               "?options=-csearch_path%3Dadvisor in the URL)")
# The one exception to "no module-level singletons" (DESIGN.md), on purpose: it stands for state alembic itself
# keeps once per process (see the module docstring), so a lock per History, engine or URL could not guard it. It
# holds nothing else and is never rebound. Reentrant: ``ensure_schema`` holds it across its check and the upgrade.
MIGRATION_LOCK = threading.RLock()


def _config(connection: Connection | None = None, url: str | None = None):
    from alembic.config import Config

    from advisor.data_files import data_dir

    config = Config()
    config.set_main_option("script_location", str(data_dir("migrations")))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def script_head() -> str:
    """The head revision according to the versions folder (imports alembic)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def revision_of(engine: Engine) -> str | None:
    """The revision the database is at, or None when it has no schema yet (no version table, or an empty one, as
    alembic leaves it at base). ``DatabaseUnavailableError`` for more than one row: which of them the tables are
    at cannot be told (alembic itself failed on them with a traceback, and a plain read took the first row)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:
        raise _damaged(engine, f"table holds {len(rows)} rows ({', '.join(repr(r) for r in sorted(rows, key=str))}), "
                               "where it holds one revision id")
    return rows[0] if rows else None


def upgrade_engine(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """alembic upgrade on ``engine``; the revisions (before, after) it found under the lock (None: no schema).
    Safe when several threads do it at once (``MIGRATION_LOCK``), and several processes: the migration environment
    takes a lock (SQLite's write lock, a PostgreSQL advisory lock) before it reads the current revision, and runs
    the whole upgrade in that one transaction, so a failure leaves the database as it was. An existing database it
    moved is announced (``announce_migration``)."""
    from alembic import command

    from advisor.history.engine import writer

    with MIGRATION_LOCK, writer(engine).connect() as conn:
        config = _config(connection=conn)
        command.upgrade(config, revision)
    before, after = config.attributes.get("revisions", (None, None))
    announce_migration(before, after)
    return before, after


def announce_migration(before: str | None, after: str | None) -> None:
    """One line on stderr when an existing database (``before`` not None) was moved to another revision: every
    command migrates on first use, reads included, and an advisor older than this one then refuses the database
    (``_require_known``), so whoever moved a shared one should know. A new database's creation says nothing."""
    if before is None or before == after or sys.stderr is None:
        return
    sys.stderr.write(f"migrated the history database from revision {before} to {after}; advisor versions before "
                     "this one can no longer open it\n")
    sys.stderr.flush()


def ensure_schema(engine: Engine, reading: bool = False) -> None:
    """Upgrade to head unless the database is there already (the cheap check on first use, made again under
    ``MIGRATION_LOCK``: a thread that waited there for another one's upgrade of the same database loads no
    alembic). ``reading``: the caller only reads, so an older history that may not be written (a read-only file or
    folder, ``?mode=ro``, ``?immutable=1``) is read as it is where no pending migration changes anything on its
    dialect (``NO_OP_DIALECTS``): its tables are already this advisor's, only the version row is behind."""
    try:
        if revision_of(engine) == HEAD_REVISION:
            return
        with MIGRATION_LOCK:
            current = revision_of(engine)
            if current == HEAD_REVISION:
                return
            _require_known(engine, current)
            require_history_or_empty(engine, current)
            _migrate(engine, current, reading=reading)
    except DBAPIError as exc:
        raise _unreachable(engine, exc) from exc


def _migrate(engine: Engine, current: str | None, revision: str = "head", reading: bool = False) -> str | None:
    """``upgrade_engine``; the revision it found (None: no schema). An existing database (``current`` not None)
    that the database refuses to migrate is a ``DatabaseUnavailableError`` worded as a failed migration, from
    which revision to which (``advisor.history.migration_failure``), not as a database that cannot be reached."""
    try:
        return upgrade_engine(engine, revision)[0]
    except DBAPIError as exc:
        if current is None:
            raise
        from advisor.history.migration_failure import migration_error, refuses_writes

        if reading and refuses_writes(exc) and no_op_upgrade(engine.dialect.name, current):
            return current  # read as it is: the same tables on this dialect, the version row left behind

        target = HEAD_REVISION if revision == "head" else revision
        raise migration_error(engine, exc, current, target) from exc


def no_op_upgrade(dialect: str, current: str) -> bool:
    """Whether every migration from ``current`` to head changes nothing on ``dialect`` (each says so in its
    ``NO_OP_DIALECTS``; one that does not is taken to change something)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config())
    return all(dialect in getattr(rev.module, "NO_OP_DIALECTS", ()) for rev in
               script.iterate_revisions(HEAD_REVISION, current))


# What an alembic revision id looks like (advisor's are "0001"...; alembic's own, 12 hex digits): anything else
# in the version row (empty, spaces, a sentence) is damage, not a newer advisor's revision.
_REVISION_ID = re.compile(r"[0-9A-Za-z_]{1,64}")
# advisor's own revision ids, every one of them, newer advisors' included: another well-formed id (alembic's
# autogenerated 12 hex digits) is another application's, which no upgrade of advisor can read.
_ADVISOR_REVISION = re.compile(r"[0-9]{4}")


def _require_known(engine: Engine, revision: str | None) -> None:
    """``DatabaseUnavailableError`` unless ``revision`` is None (no schema yet) or one of this advisor's
    migrations. The message names the database (several ADVISOR_DATABASE_URLs during a rolling upgrade: which one
    is ahead), and tells a version row that holds no revision id, and another application's revision (alembic's
    default version table is advisor's too), from one a newer advisor wrote. A fault of the
    database, not of a request, whose URL a caller of ``advisor serve`` must not learn (``public``), as
    ``require_history_or_empty``'s."""
    if revision is None or _known(revision):
        return
    from advisor.history.engine import display_url

    where = display_url(engine.url)
    if not isinstance(revision, str) or not _REVISION_ID.fullmatch(revision):
        raise _damaged(engine, f"row holds {revision!r}, which is not a revision id")
    if not _ADVISOR_REVISION.fullmatch(revision):
        raise DatabaseUnavailableError(
            f"The database {where} holds another application's alembic revision {revision!r} in {VERSION_TABLE} "
            f"(advisor's are four digits, 0001 to {HEAD_REVISION}): it is not an advisor history.",
            hint="Fix: point ADVISOR_DATABASE_URL at another database (an empty one, or a new SQLite file, starts a "
                 f"history){_OWN_SCHEMA if engine.dialect.name == 'postgresql' else ''}; advisor keeps its own "
                 f"schema version in {VERSION_TABLE}, so it cannot share this one.",
            public="The history database is unavailable: it holds another application's schema.")
    raise DatabaseUnavailableError(
        f"The history database {where} is at schema revision {revision!r}, which this version of advisor does not "
        "know (it was written by a newer advisor).",
        hint="Fix: upgrade advisor, or point ADVISOR_DATABASE_URL at another database.",
        public="The history database is unavailable: its schema is from a newer advisor.")


def _damaged(engine: Engine, what: str) -> DatabaseUnavailableError:
    """The database's version table is damaged: its ``what`` ("row holds ''...", "2 rows ...")."""
    from advisor.history.engine import display_url

    one = (f"write the revision back (UPDATE {VERSION_TABLE} SET version_num = '{HEAD_REVISION}')"
           if what.startswith("row ") else
           f"leave one row holding it (DELETE FROM {VERSION_TABLE}; INSERT INTO {VERSION_TABLE} VALUES "
           f"('{HEAD_REVISION}'))")
    return DatabaseUnavailableError(
        f"The history database {display_url(engine.url)} has a damaged schema version: its {VERSION_TABLE} {what}, "
        "so advisor cannot tell which schema its tables have.",
        hint=f"Fix: restore the database from a backup; or, if its tables are this advisor's newest schema, {one}; "
             "or point ADVISOR_DATABASE_URL at another database.",
        public="The history database is unavailable: its schema version is damaged.")


def _known(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    if not revision:
        return False
    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except (CommandError, RevisionError):
        return False


def _unreachable(engine: Engine, exc: DBAPIError) -> DatabaseUnavailableError:
    from advisor.history.engine import database_error

    server = "" if engine.dialect.name == "sqlite" else " (and that the server is running)"
    return database_error(engine, exc, "Cannot use the history database {where}: {detail}",
                          f"Fix: check ADVISOR_DATABASE_URL{server}, or unset it to use the default SQLite file.")


def upgrade(url: str | None = None, revision: str = "head") -> str:
    """``advisor db upgrade``: bring the database at ``url`` (default: settings) to ``revision``; returns the
    revision it is at afterwards (``upgrade_from`` also says the one it was at)."""
    return upgrade_from(url, revision)[1]


def upgrade_from(url: str | None = None, revision: str = "head") -> tuple[str | None, str]:
    """``upgrade``, returning the revisions (before, after): before is None for a database with no schema yet."""
    from advisor.history.engine import create_history_engine
    from advisor.settings import Settings

    url = url or Settings.from_env().resolved_database_url
    engine = create_history_engine(url)
    try:
        try:
            current = revision_of(engine)
            _require_known(engine, current)
            require_history_or_empty(engine, current, explicit=True)
            before = _migrate(engine, current, revision)
            return before, revision_of(engine) or ""
        except DBAPIError as exc:
            raise _unreachable(engine, exc) from exc
    finally:
        engine.dispose()


def current_revision(url: str | None = None) -> str | None:
    """The revision the database at ``url`` is at (None: empty database)."""
    from advisor.history.engine import create_history_engine
    from advisor.settings import Settings

    engine = create_history_engine(url or Settings.from_env().resolved_database_url)
    try:
        try:
            return revision_of(engine)
        except DBAPIError as exc:
            raise _unreachable(engine, exc) from exc
    finally:
        engine.dispose()
