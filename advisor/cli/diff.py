"""``advisor diff OLD.json NEW.json``: what changed between two ``recommend --json`` outputs (a baseline in CI
and the new run): the chosen machine and the best of each tier, with the change in total time and cost."""

from __future__ import annotations

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
    import stat

    from pydantic import ValidationError

    from advisor.errors import ConfigError
    from advisor.schemas import Recommendation

    hint = "Fix: pass two files written by `advisor recommend ... --json > FILE`."
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a pipe would block the read forever, /dev/zero fill the memory
            raise ConfigError(f"{path}: not a regular file (a folder, device or pipe).", hint=hint)
        if info.st_size > 64 * 1024 * 1024:
            raise ConfigError(f"{path}: larger than 64 MiB, so not a recommendation.", hint=hint)
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror or exc}.", hint=hint) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not JSON ({exc}).", hint=hint) from None
    except (RecursionError, ValueError) as exc:  # nested past Python's recursion limit; an int of 5,000 digits
        raise ConfigError(f"{path} is not a JSON document advisor reads ({str(exc)[:200]}).", hint=hint) from None
    try:
        return Recommendation.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the document"
        raise ConfigError(f"{path} is not a recommendation: {where}: {first['msg']}.", hint=hint) from None


@handle_errors
def diff(
    old: Annotated[Path, typer.Argument(help="The baseline: a `recommend --json` output.")],
    new: Annotated[Path, typer.Argument(help="The new `recommend --json` output.")],
    fmt: Annotated[str, typer.Option("--format", metavar="[text|json|markdown]", help=FORMAT_HELP)] = "text",
    json_out: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """Compare two recommendations: the chosen machine and the best per tier, old -> new, with the change in
    total time (start-up + job) and cost."""
    from advisor.cli import answer, render
    from advisor.cli.options import output_format
    from advisor.ranking.diff import diff as diff_recommendations

    fmt = output_format(fmt, json_out)
    result = diff_recommendations(_load(old), _load(new))
    if fmt == "json":
        render.print_json(result)
    elif fmt == "markdown":
        answer.print_markdown(answer.diff_markdown(result))
    else:
        answer.diff(result)
