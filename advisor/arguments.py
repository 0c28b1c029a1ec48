"""The Python API's checks of its arguments that come before anything runs: what to predict from, yes/no
switches and callbacks. A wrong one is an ``AdvisorError`` naming it, never a ``TypeError`` from deep inside (or,
worse, a wrong value taken: ``save="false"`` is true in Python)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.errors import ConfigError, WorkloadError, did_you_mean
from advisor.schemas import Constraints, Profile, Target

if TYPE_CHECKING:  # pragma: no cover
    from advisor.settings import Settings


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


def recommend_constraints(objective: str, deadline: str | float | None, budget: str | float | None,
                          providers: str | Sequence[str] | None, regions: str | Sequence[str] | None, spot: bool,
                          top: int, precision: str | None, settings: Settings) -> Constraints:
    """``recommend``'s constraints from its arguments, each checked (one message naming the flag)."""
    from advisor.units import parse_deadline_seconds, parse_names, parse_usd
    from advisor.workload.job import positive_int

    if objective not in ("cost", "time"):
        raise ConfigError(f"Unknown objective {objective!r}.{did_you_mean(str(objective), ['cost', 'time'])}",
                          hint="Fix: use --objective cost or --objective time.")
    if positive_int(top) is None:
        raise ConfigError(f"--top must be a whole number, 1 or more, got {top!r}.", hint="Fix: e.g. --top 10.")
    check_precision(precision)
    return Constraints(
        objective=objective, deadline_seconds=parse_deadline_seconds(
            deadline, startup_seconds=min(settings.startup_seconds_cpu, settings.startup_seconds_gpu)),
        budget_usd=parse_usd(budget), providers=parse_names(providers, "--providers"),
        regions=parse_names(regions, "--regions"), spot=spot, top=positive_int(top), precision=precision,
    )
