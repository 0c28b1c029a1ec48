"""alembic environment for the advisor history database.

Run by ``advisor db upgrade`` / ``advisor.history.migrate`` with an open connection in
``config.attributes["connection"]``; with plain alembic, ``sqlalchemy.url`` in the config is used instead.
Every upgrade runs in one transaction that first takes a lock, so that two processes upgrading a fresh
database at once do not both create the tables: SQLite's write lock (``BEGIN IMMEDIATE``, from the engine),
a PostgreSQL transaction-level advisory lock.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from advisor.history.tables import Base

ADVISORY_LOCK_KEY = 727_100_001  # arbitrary, constant: "advisor history migrations"

config = context.config
target_metadata = Base.metadata


def _migrate(connection) -> None:
    with connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        # The revisions before and after, read under the lock: what this process migrated, not what another one
        # did while it waited (``advisor.history.migrate`` says so when it moved an existing database).
        migration = context.get_context()
        before = migration.get_current_revision()
        context.run_migrations()
        config.attributes["revisions"] = (before, migration.get_current_revision())


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    from advisor.history.engine import create_history_engine, writer

    engine = create_history_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with writer(engine).connect() as conn:
            _migrate(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
