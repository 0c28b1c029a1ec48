"""The error for a history database driver that is installed but cannot be imported.

A driver that is not installed is ``create_history_engine``'s own message ("is not installed"). One that is
installed and fails as it loads (a psycopg2-binary 2.9.0-2.9.4 built from source on Python 3.11: "SystemError:
initialization of _psycopg raised unreported exception"; a libpq the build does not find) came out of advisor as a
traceback; it is one HistoryError with the reinstall that fixes it.
"""

from __future__ import annotations

from sqlalchemy.engine import URL

from advisor.errors import HistoryError

# pyproject's postgres extra: the first psycopg2-binary with wheels for each Python (an older one is built from
# source there, and the 3.11 build of 2.9.0-2.9.4 does not load).
POSTGRES_FIX = ("Fix: pip install -U 'advisor[postgres]' (a psycopg2-binary built for this Python: 2.9.5 or newer on "
                "3.10 and 3.11, 2.9.9 on 3.12, 2.9.10 on 3.13, 2.9.11 on 3.14).")


def driver_not_loaded(parsed: URL, exc: ImportError | SystemError) -> HistoryError:
    """The error for ``parsed``'s driver, which is installed but whose import raised ``exc``."""
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    first_line = str(exc).splitlines()[0] if str(exc).strip() else "no message"
    hint = (POSTGRES_FIX if backend == "postgresql"
            else f"Fix: reinstall {driver} for this Python, or use a sqlite:/// or postgresql:// URL.")
    return HistoryError(f"The {backend} driver ({driver}) is installed but could not be loaded "
                        f"({type(exc).__name__}: {first_line}).", hint=hint,
                        public=f"The {backend} driver of the history database could not be loaded.")
