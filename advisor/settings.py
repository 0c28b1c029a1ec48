"""Settings: where the history database is, which pricing files to load, start-up overheads.

Built once by the caller (CLI or Python user) with ``Settings.from_env()`` and passed down; nothing reads
the environment behind the caller's back.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from advisor.errors import ConfigError, HistoryError

MAX_STARTUP_SECONDS = 7 * 24 * 3600.0


def _startup_seconds(name: str, text: str) -> float:
    """A start-up overhead from the environment: a finite number of seconds, from 0 to a week."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 <= value <= MAX_STARTUP_SECONDS:
        raise ConfigError(f"{name}={text!r} is not a number of seconds from 0 to {MAX_STARTUP_SECONDS:.0f}.",
                          hint=f"Fix: set {name} to e.g. 300, or unset it.")
    return value


PROBE_PRIORITIES = ("raised", "normal")


def raise_probe_priority(env: Mapping[str, str] | None = None) -> bool:
    """``ADVISOR_PROBE_PRIORITY``: "raised" (the default) lets a CPU probe on a busy machine time its windows at
    raised scheduling priority where it may (``advisor.probe.priority``); "normal" never changes it."""
    env = os.environ if env is None else env
    text = env.get("ADVISOR_PROBE_PRIORITY", "").strip().lower() or "raised"
    if text not in PROBE_PRIORITIES:
        raise ConfigError(f"ADVISOR_PROBE_PRIORITY={text!r} is not one of {', '.join(PROBE_PRIORITIES)}.",
                          hint="Fix: set ADVISOR_PROBE_PRIORITY=normal to probe at the priority advisor was "
                               "started with, or unset it.")
    return text == "raised"


# A sibling probe's timed part takes ~10-40 s; waiting up to 60 keeps recommend within issue 8's 120 s.
DEFAULT_PROBE_WAIT_SECONDS = 60.0
MAX_PROBE_WAIT_SECONDS = 3600.0


def probe_wait_seconds(env: Mapping[str, str] | None = None) -> float:
    """``ADVISOR_PROBE_WAIT``: the most seconds a probe waits for another advisor probe on this machine to finish
    timing before it times (``advisor.probe.turns``; default 60); 0 turns the waiting off."""
    env = os.environ if env is None else env
    text = env.get("ADVISOR_PROBE_WAIT", "").strip()
    try:
        value = float(text) if text else DEFAULT_PROBE_WAIT_SECONDS
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 <= value <= MAX_PROBE_WAIT_SECONDS:
        raise ConfigError(f"ADVISOR_PROBE_WAIT={text!r} is not a number of seconds from 0 to "
                          f"{MAX_PROBE_WAIT_SECONDS:.0f}.",
                          hint="Fix: set ADVISOR_PROBE_WAIT to e.g. 60 (0: probe without waiting for other advisor "
                               "probes on this machine), or unset it.")
    return value


DEBUG_OFF = ("", "0", "false", "no", "off")


def debug_enabled(env: Mapping[str, str] | None = None) -> bool:
    """``ADVISOR_DEBUG``: tracebacks for user errors unless unset or "0", "false", "no" or "off" (any case)."""
    env = os.environ if env is None else env
    return env.get("ADVISOR_DEBUG", "").strip().lower() not in DEBUG_OFF


# The fix for a default history location that cannot be used: it comes from the environment, so unsetting
# ADVISOR_DATABASE_URL (which would choose another) cannot help.
DEFAULT_HISTORY_HINT = ("Fix: this is the default location, which comes from "
                        + ("$HOME" if sys.platform == "darwin" else "$XDG_DATA_HOME (else $HOME/.local/share)")
                        + "; set XDG_DATA_HOME or ADVISOR_DATABASE_URL (e.g. sqlite:////home/me/advisor/history.db) "
                          "to a folder you can write, or pass --no-save to recommend or predict without keeping a "
                          "history.")


def default_database_path() -> Path:
    """The history file used when ``ADVISOR_DATABASE_URL`` is unset: in the user data folder (on Linux
    ``$XDG_DATA_HOME/advisor``, else ``$HOME/.local/share/advisor``). HistoryError where there is no home folder
    to put it in."""
    from platformdirs import user_data_dir

    try:
        folder = user_data_dir("advisor", appauthor=False)
    except RuntimeError:
        # platformdirs: HOME unset, empty or relative, and no passwd entry to fall back on (a container run
        # with --user N, env -i)
        raise HistoryError("The default history database has no folder: HOME is unset, empty or not an absolute "
                           "path, and this user has no home folder in the system's user list.",
                           hint=DEFAULT_HISTORY_HINT,
                           public="The history database has no folder: the server's HOME is not set.") from None
    return Path(folder) / "history.db"


def default_database_url() -> str:
    """``default_database_path`` as a SQLite URL. The URL's database part is percent-decoded and ends at a "?"
    (SQLAlchemy 2.1's reading, which ``advisor.history.url_parse`` gives on 2.0 too), so those two are encoded: a
    HOME of ``home%41b`` put the history in ``homeAb``, and one of ``home?x=1`` was refused as SQLite URI options no
    one gave."""
    return "sqlite:///" + str(default_database_path()).replace("%", "%25").replace("?", "%3F")


@dataclass(frozen=True)
class Settings:
    """Process-wide options. ``database_url`` None means the default SQLite file in the user data dir."""

    database_url: str | None = None
    pricing_files: tuple[Path, ...] = field(default_factory=tuple)
    # Paid time before training starts: instance boot, environment set-up, data staging.
    startup_seconds_cpu: float = 120.0
    startup_seconds_gpu: float = 300.0
    debug: bool = False
    raise_probe_priority: bool = True  # ADVISOR_PROBE_PRIORITY (raise_probe_priority)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url()

    def with_startup(self, cpu: str | float | None, gpu: str | float | None) -> Settings:
        """These settings with the start-up times given as flags (``--startup-cpu`` / ``--startup-gpu``:
        seconds or a duration such as "5m") in place."""
        from advisor.units import parse_startup_seconds

        values = {key: parse_startup_seconds(value, flag=flag) for key, flag, value in (
            ("startup_seconds_cpu", "--startup-cpu", cpu), ("startup_seconds_gpu", "--startup-gpu", gpu))
            if value is not None}
        return replace(self, **values) if values else self

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> Settings:
        env = os.environ if env is None else env
        values: dict = {
            "database_url": env.get("ADVISOR_DATABASE_URL") or None,
            "pricing_files": tuple(Path(p) for p in env.get("ADVISOR_PRICING", "").split(os.pathsep) if p),
            "debug": debug_enabled(env),
            "raise_probe_priority": raise_probe_priority(env),
        }
        for key, name in (("startup_seconds_cpu", "ADVISOR_STARTUP_SECONDS_CPU"),
                          ("startup_seconds_gpu", "ADVISOR_STARTUP_SECONDS_GPU")):
            if env.get(name):
                values[key] = _startup_seconds(name, env[name])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
