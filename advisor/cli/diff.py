"""``advisor diff OLD.json NEW.json``: what changed between two ``recommend --json`` outputs (a baseline in CI
and the new run): the chosen machine and the best of each tier, with the change in total time and cost."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated

import typer

from advisor.cli.errors import handle_errors
from advisor.cli.options import FORMAT_HELP


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)


def _load(path: Path):
    """A ``Recommendation`` from a ``recommend --json`` file; ConfigError naming the file otherwise."""
    import json

    from pydantic import ValidationError

    from advisor.errors import ConfigError
    from advisor.schemas import SCHEMA_VERSION, Recommendation

    hint = "Fix: pass two files written by `advisor recommend ... --json > FILE`."
    try:
        data = json.loads(_read(path, hint).decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror or exc}.", hint=hint) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not JSON ({exc}).", hint=hint) from None
    except (RecursionError, ValueError) as exc:  # nested past Python's recursion limit; an int of 5,000 digits
        raise ConfigError(f"{path} is not a JSON document advisor reads ({str(exc)[:200]}).", hint=hint) from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise ConfigError(f"{path}: recommendation schema version {version} is newer than this advisor understands "
                          f"({SCHEMA_VERSION}).", hint="Fix: upgrade advisor (pip install -U advisor).")
    try:
        rec = Recommendation.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the document"
        raise ConfigError(f"{path} is not a recommendation: {where}: {first['msg']}.", hint=hint) from None
    read = rec.model_dump(by_alias=True)  # the figures as read: "NaN", "-inf" or "-1" written as text are floats here
    unusable = _not_finite(read)
    if unusable:
        raise ConfigError(f"{path} is not a recommendation: {unusable[0]} is {unusable[1]!r}, which is not a number a "
                          "time or cost can be.", hint=hint)
    bad = _negative_figure(data) or _negative_figure(read)  # as written: a computed total is not read back
    if bad:
        raise ConfigError(f"{path} is not a recommendation: {bad[0]} is {bad[1]!r}, a time or cost below zero.",
                          hint=hint)
    return rec


MAX_BYTES = 64 * 1024 * 1024  # far past any recommendation: a file larger is something else


def _read(path: Path, hint: str) -> bytes:
    """The bytes of a regular file, a pipe (``<(advisor recommend ... --json)``, ``/dev/stdin``) or standard input
    (``-``), at most ``MAX_BYTES``; ConfigError for a folder or a device (``/dev/zero`` would fill the memory)."""
    import os
    import stat
    import sys

    from advisor.errors import ConfigError

    if str(path) == "-":
        if sys.stdin is None or sys.stdin.isatty():  # a read would wait for typing, with no prompt
            raise ConfigError("-: standard input is a terminal, not a recommendation.",
                              hint="Fix: pipe one in (`advisor recommend ... --json | advisor diff OLD.json -`), "
                                   "or pass a file.")
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
    else:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(f"{path}: is a folder, not a recommendation file.", hint=hint)
        if not stat.S_ISREG(mode) and not stat.S_ISFIFO(mode):
            raise ConfigError(f"{path}: not a regular file or a pipe (a device).", hint=hint)
        # Opened without waiting for a writer: a named pipe nothing writes to would block the open forever; then
        # read to its end (a process substitution's writer is there from the start, and is waited for).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as handle:  # a pipe has no size to check first: read one byte past the cap
            data = handle.read(MAX_BYTES + 1)
        if not data and stat.S_ISFIFO(mode):
            raise ConfigError(f"{path}: a pipe with nothing written to it (no process was writing to it).",
                              hint=hint)
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_BYTES // 2**20} MiB, so not a recommendation.", hint=hint)
    return data


def _no_constant(name: str) -> float:
    """``json.loads``'s hook for NaN and Infinity: a recommendation has neither (and a diff must not print one)."""
    raise ValueError(f"it holds {name}, which is not a number a time or cost can be")


def _finite(text: str) -> float:
    """``json.loads``'s hook for a float: one past the largest double (1e999) would be read as infinity."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"it holds {text}, past the largest number a time or cost can be")
    return value


def _not_finite(value: object, where: str = "") -> tuple[str, float] | None:
    """The first NaN or infinite float anywhere in a dumped recommendation, as (its JSON path, its value): JSON
    text such as ``"NaN"`` or ``"-inf"`` passes ``json.loads``'s hooks and becomes one when pydantic reads it."""
    if isinstance(value, float):
        return None if math.isfinite(value) else (where or "the document", value)
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
    for key, item in items:
        found = _not_finite(item, f"{where}.{key}" if where else str(key))
        if found:
            return found
    return None


# A candidate's or a Here run's figures that are times, their interval or dollars: none may be negative.
_FIGURE = re.compile(r"(^|_)(seconds|low|high|usd)($|_)")


def _negative_figure(data: dict) -> tuple[str, float] | None:
    """The first negative time or cost among the candidates and Here runs, as (its JSON path, its value)."""
    def sections():
        for key in ("chosen",):
            yield key, data.get(key)
        for key in ("candidates", "excluded", "here"):
            for i, item in enumerate(data.get(key) or ()):
                yield f"{key}.{i}", item
        for key in ("best_per_tier", "best_per_provider"):
            for name, item in (data.get(key) or {}).items():
                yield f"{key}.{name}", item

    for where, item in sections():
        for name, value in (item or {}).items():
            if _FIGURE.search(name) and isinstance(value, (int, float)) and value < 0:
                return f"{where}.{name}", value
    return None


@handle_errors
def diff(
    old: Annotated[Path, typer.Argument(metavar="OLD.json", help="The baseline: a `recommend --json` output (a file, "
                                        "a pipe, or - for standard input).")],
    new: Annotated[Path, typer.Argument(metavar="NEW.json", help="The new `recommend --json` output (a file, a pipe, "
                                        "or - for standard input).")],
    fmt: Annotated[str, typer.Option("--format", metavar="[text|json|markdown]", help=FORMAT_HELP)] = "text",
    json_out: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """Compare two recommendations: the chosen machine and the best per tier, old -> new, with the change in
    total time (start-up + job) and cost."""
    from advisor.cli import answer, render
    from advisor.cli.options import output_format
    from advisor.errors import ConfigError
    from advisor.ranking.diff import diff as diff_recommendations

    fmt = output_format(fmt, json_out)
    if str(old) == str(new) == "-":
        raise ConfigError("OLD.json and NEW.json are both standard input (-), which holds one document.",
                          hint="Fix: pass one of them as a file, e.g. `advisor diff baseline.json -`.")
    result = diff_recommendations(_load(old), _load(new))
    if fmt == "json":
        render.print_json(result)
    elif fmt == "markdown":
        answer.print_markdown(answer.diff_markdown(result))
    else:
        answer.diff(result)
