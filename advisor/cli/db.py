"""``advisor db upgrade``: bring the history database to the newest schema (also done on first use)."""

from __future__ import annotations

from typing import Annotated

import typer

from advisor.cli.errors import handle_errors

app = typer.Typer(help="The history database.", no_args_is_help=True)


@app.command("upgrade")
@handle_errors
def upgrade(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Run the alembic migrations up to head on ADVISOR_DATABASE_URL (default: SQLite in the user data dir)."""
    from advisor.cli import render
    from advisor.history.migrate import current_revision, upgrade_from
    from advisor.settings import Settings

    check_history_url()
    url = Settings.from_env().resolved_database_url
    before, _ = upgrade_from(url)
    revision = current_revision(url)
    if json_out:
        render.print_json({"schema_version": 1, "database": _redact(url), "revision": revision,
                           "previous_revision": before, "migrated": before != revision})
    elif before == revision:
        render.line(f"{_redact(url)} is already at revision {revision}.")
    else:
        render.line(f"{_redact(url)}: revision {before or 'none (no schema yet)'} -> {revision}.")


def check_history_url(server: str | None = None, save: bool = True) -> None:
    """HistoryError when ADVISOR_DATABASE_URL names an in-memory SQLite database: a command that saves to or
    reads the history would use one that is gone when the command ends (the Python API, where one process may
    hold it open, still takes it). Nothing to check with ``server`` (its history is used) or without ``save``
    (nothing is kept, and an empty history is all there is to read)."""
    if server or not save:
        return
    from advisor.errors import HistoryError
    from advisor.history.engine import in_memory_url
    from advisor.settings import Settings

    url = Settings.from_env().resolved_database_url
    if in_memory_url(url):
        raise HistoryError(f"ADVISOR_DATABASE_URL={_redact(url)!r} is an in-memory database: it is gone when the "
                           "command ends, so nothing saved would be kept and nothing stored could be read.",
                           hint="Fix: name a file (e.g. sqlite:////home/me/advisor/history.db) or a server "
                                "(postgresql://user@host/db), or unset it for the default file.")


def _redact(url: str) -> str:
    # Never echo a password from the URL.
    from advisor.history.url_display import shown

    return shown(url)
