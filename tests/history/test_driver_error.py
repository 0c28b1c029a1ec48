"""A database driver that is installed but fails as it loads is one error with the fix, not a traceback
(advisor.history.driver_error)."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2
from typer.testing import CliRunner

from advisor.errors import HistoryError
from advisor.history.engine import create_history_engine

URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
# What psycopg2-binary 2.9 built from source on Python 3.11 raises at `import psycopg2`.
BROKEN = "initialization of _psycopg raised unreported exception"


@pytest.fixture
def broken_psycopg2(monkeypatch):
    """psycopg2's import failing as a build for another Python does (SystemError), or as ``exc`` given."""

    def breaking(exc: BaseException) -> None:
        def import_dbapi(cls):
            raise exc

        monkeypatch.setattr(PGDialect_psycopg2, "import_dbapi", classmethod(import_dbapi))

    return breaking


def test_a_driver_that_does_not_load_is_one_error_with_the_reinstall(broken_psycopg2):
    broken_psycopg2(SystemError(BROKEN))
    with pytest.raises(HistoryError) as info:
        create_history_engine(URL)
    err = info.value
    assert err.message == ("The postgresql driver (psycopg2) is installed but could not be loaded "
                           f"(SystemError: {BROKEN}).")
    assert err.hint.startswith("Fix: pip install -U 'advisor[postgres]'")
    assert err.public == "The postgresql driver of the history database could not be loaded."


def test_an_import_error_inside_the_driver_is_the_same_error(broken_psycopg2):
    """An ImportError that is not "no such module" (libpq.so.5 missing) is not told as a driver not installed."""
    broken_psycopg2(ImportError("libpq.so.5: cannot open shared object file: No such file or directory"))
    with pytest.raises(HistoryError) as info:
        create_history_engine(URL)
    assert info.value.message == ("The postgresql driver (psycopg2) is installed but could not be loaded (ImportError: "
                                  "libpq.so.5: cannot open shared object file: No such file or directory).")


def test_history_list_with_a_driver_that_does_not_load_is_exit_1_without_a_traceback(broken_psycopg2, monkeypatch):
    from advisor.cli.app import build_app

    broken_psycopg2(SystemError(BROKEN))
    monkeypatch.setenv("ADVISOR_DATABASE_URL", URL)
    result = CliRunner().invoke(build_app(), ["history", "list"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert f"could not be loaded (SystemError: {BROKEN})" in result.output
    assert "pip install -U 'advisor[postgres]'" in result.output
