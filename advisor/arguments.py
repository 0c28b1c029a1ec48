"""The Python API's checks of its arguments that come before anything runs: what to predict from, yes/no
switches and callbacks. A wrong one is an ``AdvisorError`` naming it, never a ``TypeError`` from deep inside (or,
worse, a wrong value taken: ``save="false"`` is true in Python)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from advisor.errors import ConfigError, WorkloadError
from advisor.schemas import Profile, Target


def check_source(source: Any) -> None:
    """WorkloadError unless ``source`` is something to predict from (checked before anything reads it)."""
    from advisor.workload import Workload

    if not isinstance(source, (Profile, str, Path, Workload)):
        raise WorkloadError(f"Cannot predict from {source!r:.60} (type {type(source).__name__}).", hint="Fix: pass a "
                            "workload file path, an advisor.Workload, a Profile or a profile .json path.")
    # A NUL can be in no path, and in no name the history can store (PostgreSQL refuses it).
    what, text = ("name", source.name) if isinstance(source, Workload) else ("path", source)
    if not isinstance(source, Profile) and "\x00" in str(text):
        raise WorkloadError(f"The workload's {what} {text!r} contains a NUL character (\\x00).",
                            hint=f"Fix: give a {what} without one.")


def check_objects(**given: tuple[Any, type]) -> None:
    """ConfigError for an object argument of another type (``settings="x"``, ``history="x"``); None is allowed."""
    for name, (value, kind) in given.items():
        if value is not None and not isinstance(value, kind):
            raise ConfigError(f"{name} must be an advisor {kind.__name__} (or None), got {value!r:.60}.",
                              hint=f"Fix: leave {name} out, or pass a {kind.__module__}.{kind.__name__}.")


def check_options(switches: dict[str, Any], callbacks: dict[str, Any] | None = None) -> None:
    """ConfigError for a yes/no option that is not a bool (``save="false"`` is true in Python) or a callback
    that cannot be called: refused before anything runs, as a wrong job size is. None is allowed (the default)."""
    for name, value in switches.items():
        if value is not None and not isinstance(value, bool):
            raise ConfigError(f"{name} is True or False, got {value!r:.60}.", hint=f"Fix: {name}=False or True.")
    for name, value in (callbacks or {}).items():
        if value is not None and not callable(value):
            how = ("callback(device, fraction, message)" if name == "progress"
                   else "callback(recommendation)" if name == "before_save" else "a function")
            raise ConfigError(f"{name} must be a function, got {value!r:.60}.",
                              hint=f"Fix: {name}=None, or {name}={how}.")


def pricing_paths(pricing_files: Any) -> list[Path]:
    """The rate files given (one path, or a list or tuple of them) as paths; ConfigError for anything else."""
    if isinstance(pricing_files, (str, Path)):  # one file, not its characters
        pricing_files = [pricing_files]
    if not isinstance(pricing_files, (list, tuple)) or not all(isinstance(p, (str, Path)) for p in pricing_files):
        raise ConfigError(f"pricing_files is a list of rate-file paths, got {pricing_files!r:.60}.",
                          hint="Fix: pricing_files=[\"my_rates.csv\"] (or one path).")
    return [Path(p) for p in pricing_files]


def check_precision(precision: str | None) -> None:
    """A precision the predictor knows (or None), else a ConfigError with the nearest name."""
    from advisor.precision_words import unknown_precision
    from advisor.schemas import PRECISIONS

    if precision is not None and precision not in PRECISIONS:
        raise unknown_precision(precision)


def check_target(target: Any) -> None:
    """ConfigError unless ``target`` is a way to name one: a ``Target``, "cpu" or a GPU name, or None."""
    if target is not None and not isinstance(target, Target) and not (isinstance(target, str) and target.strip()):
        raise ConfigError(f"target must be advisor.Target.cpu(threads), advisor.Target.gpu(NAME, COUNT), \"cpu\" "
                          f"or a GPU name, got {target!r} ({type(target).__name__}).",
                          hint='Fix: e.g. target="A100-80GB" or target=advisor.Target.gpu("A100-80GB", 4).')
