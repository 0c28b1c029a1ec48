"""The published JSON Schema of ``advisor recommend --json`` (schema_version 1), generated from the pydantic
models, so CI pipelines in any language can validate what advisor prints.

    python -m advisor.schemas.publish            # in a checkout: rewrites schemas/recommendation.schema.json;
                                                 # installed from a wheel: prints the schema
    python -m advisor.schemas.publish -o FILE    # writes it to FILE
    python -m advisor.schemas.publish --check    # exit 1 if the committed (or shipped) file is not current

A wheel ships the file as ``advisor/_data/schemas/recommendation.schema.json`` (``advisor.data_files``); outside
a checkout nothing is written next to the installed package unless ``-o`` names it. Fields are only ever added
within a schema_version (readers ignore what they do not know); a field removed or changed in meaning bumps it.
``tests/cli/test_json_schema.py`` checks the committed file is current and that real output validates against it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic.json_schema import GenerateJsonSchema

from advisor.schemas.base import SCHEMA_VERSION
from advisor.schemas.results import Recommendation

SCHEMA_NAME = "recommendation.schema.json"
# The source checkout this module sits in (for an installed wheel: site-packages, which is none).
REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = REPO_ROOT / "schemas" / SCHEMA_NAME
SCHEMA_ID = "https://github.com/advisor/advisor/schemas/recommendation.schema.json"


class _OutputSchema(GenerateJsonSchema):
    """The schema of what advisor prints: a field with a default is printed all the same (``model_dump`` keeps
    every field), so it is required there, as pydantic's ``json_schema_serialization_defaults_required`` makes it;
    set here rather than on the models, whose other schemas (the service's) are left as they are."""

    def field_is_required(self, field, total: bool) -> bool:  # noqa: ANN001 (pydantic-core's field schema types)
        if self.mode == "serialization" and field["type"] != "typed-dict-field":
            return field.get("serialization_exclude_if") is None
        return super().field_is_required(field, total)


def recommendation_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a recommendation as ``recommend --json`` prints it: every field it always
    prints is required."""
    schema = Recommendation.model_json_schema(mode="serialization", schema_generator=_OutputSchema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"advisor recommend --json (schema_version {SCHEMA_VERSION})",
        "description": "Generated from advisor.schemas.results.Recommendation by `python -m "
                       "advisor.schemas.publish`. Times in seconds, money in US$; total_* = start-up + job.",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def render() -> str:
    return json.dumps(recommendation_schema(), indent=2, sort_keys=True) + "\n"


def checkout_schema_file() -> Path | None:
    """The repository's schema file when this module runs from a source checkout (or an editable install of
    one), else None."""
    return REPO_ROOT / "schemas" / SCHEMA_NAME if (REPO_ROOT / "pyproject.toml").is_file() else None


def _shipped_schema_file() -> Path:
    """The file this installation holds: the checkout's, or the copy a wheel ships."""
    from advisor.data_files import data_dir

    try:
        return data_dir("schemas") / SCHEMA_NAME
    except FileNotFoundError:
        return Path(SCHEMA_NAME)  # read as missing: not current


def main(argv: list[str] | None = None) -> int:
    """Write the schema (the checkout's file, ``-o FILE``, else stdout), or with ``--check`` compare the
    installed one; ``--help`` (or an unknown flag) touches nothing."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m advisor.schemas.publish",
                                 description=f"Write {SCHEMA_NAME} (the JSON Schema of `advisor recommend --json`) "
                                             "from the pydantic models: in a source checkout to its schemas/ "
                                             "folder, else to standard output.")
    ap.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the schema to FILE instead")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if the committed (or, installed, the shipped) file is not current")
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    text = render()
    if args.check:
        target = checkout_schema_file() or _shipped_schema_file()
        current = target.read_text(encoding="utf-8") if target.is_file() else ""
        if current != text:
            print(f"{target} is not current: run `python -m advisor.schemas.publish`.", file=sys.stderr)
            return 1
        return 0
    target = args.output or checkout_schema_file()
    if target is None:
        sys.stdout.write(text)
        return 0
    try:
        if args.output is None:
            target.parent.mkdir(exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot write {target}: {exc.strerror or exc}.\nFix: pass -o with a file in a folder you can "
              "write, or leave -o out to print the schema.", file=sys.stderr)
        return 1
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
