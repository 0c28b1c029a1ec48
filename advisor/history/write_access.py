"""Whether this connection may write the history, asked before a probe whose result is to be saved.

A history that may be read but not written (a SQLite file opened with ``mode=ro``, on a read-only mount or owned by
someone else; a PostgreSQL role with SELECT alone, or a server that takes no writes) passes every read, so without
this check it is found only when the probe (seconds to minutes) is over and its result is saved. Nothing is written
to ask: SQLite gets a no-op UPDATE that is rolled back, PostgreSQL is asked for the role's privileges.
"""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from advisor.errors import DatabaseUnavailableError
from advisor.history.engine import access_denied_error, database_error, database_fault, refuses_writes, writer
from advisor.history.migrate import VERSION_TABLE
from advisor.history.tables import (
    CandidateTable,
    MeasurementTable,
    PredictionTable,
    ProfileTable,
    RecommendationTable,
    WorkloadTable,
)

# What a saved predict or recommend inserts (the workload first: its missing fields are filled in with an UPDATE).
RUN_TABLES = tuple(t.__tablename__ for t in (WorkloadTable, ProfileTable, MeasurementTable, PredictionTable,
                                             RecommendationTable, CandidateTable))
_CHECKED = "It was checked before any probe: nothing ran and nothing was written."
_NO_SAVE = " Or pass --no-save to run without saving."


def check_writable(engine: Engine) -> None:
    """``DatabaseUnavailableError`` (the cause and its fix) unless this connection may store a run in the history at
    ``engine``, whose schema is at head; writes nothing."""
    try:
        if engine.dialect.name == "postgresql":
            _check_privileges(engine)
        else:
            _check_by_rollback(engine)
    except DBAPIError as exc:
        if not database_fault(exc):
            raise
        err = database_error(engine, exc, "The history database {where} cannot be written: {detail}. " + _CHECKED,
                             "Fix: check that the database is reachable and writable, then run the command again.")
        if str(engine.url.query.get("mode", "")).lower() == "ro":
            err.hint = ("Fix: the URL opens the file read-only (mode=ro): leave mode=ro out to save to it, or point "
                        "ADVISOR_DATABASE_URL at another file.")
        raise _or_no_save(err, writes_refused=refuses_writes(exc)) from exc


def _check_by_rollback(engine: Engine) -> None:
    """A write that changes nothing, rolled back: it fails where the database may not be written (SQLite:
    SQLITE_READONLY), and waits out another writer's lock as a save would."""
    with writer(engine).connect() as conn:
        trans = conn.begin()
        try:
            conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = version_num"))
        finally:
            trans.rollback()


def _check_privileges(engine: Engine) -> None:
    """The role's privileges on the tables a run writes (and their id sequences), and whether the server takes
    writes at all (a standby, ``default_transaction_read_only``)."""
    checks = [(f"INSERT on {t}", f"has_table_privilege(:t{i}, 'INSERT')") for i, t in enumerate(RUN_TABLES)]
    checks.append((f"UPDATE on {WorkloadTable.__tablename__}", "has_table_privilege(:t0, 'UPDATE')"))
    checks += [(f"USAGE on the id sequence of {t}",
                f"coalesce(has_sequence_privilege(pg_get_serial_sequence(:t{i}, 'id'), 'USAGE'), true)")
               for i, t in enumerate(RUN_TABLES)]
    with engine.connect() as conn:
        row = conn.execute(text("SELECT current_user, current_setting('transaction_read_only'), "
                                + ", ".join(sql for _, sql in checks)),
                           {f"t{i}": t for i, t in enumerate(RUN_TABLES)}).one()
    role, read_only = row[0], row[1] == "on"
    if read_only:
        raise _or_no_save(access_denied_error(
            engine, "The history database {where} takes no writes (transaction_read_only is on). " + _CHECKED,
            read_only=True), writes_refused=True)
    missing = [what for (what, _), ok in zip(checks, row[2:], strict=True) if not ok]
    if missing:
        shown = "; ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise _or_no_save(access_denied_error(
            engine, f"The history database {{where}} may not be written by the role {_braces(role)}: it lacks "
                    f"{_braces(shown)}. " + _CHECKED, role=role), writes_refused=True)


def _braces(text_: str) -> str:
    """``text_`` as it stays itself in a ``str.format`` template."""
    return text_.replace("{", "{{").replace("}", "}}")


def _or_no_save(err: DatabaseUnavailableError, *, writes_refused: bool) -> DatabaseUnavailableError:
    """``err`` with ``--no-save`` added to its hint: what a run can do without a history it may write.
    ``writes_refused``: the database refuses this connection's writes (not an outage a retry outlasts)."""
    return DatabaseUnavailableError(err.message, hint=(err.hint or "Fix:") + _NO_SAVE, public=err.public,
                                    writes_refused=writes_refused)
