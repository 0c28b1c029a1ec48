"""The published JSON Schema of ``advisor recommend --json`` (schema_version 1), generated from the pydantic
models, so CI pipelines in any language can validate what advisor prints.

    python -m advisor.schemas.publish            # rewrites schemas/recommendation.schema.json
    python -m advisor.schemas.publish --check    # exit 1 if the committed file is not current

Fields are only ever added within a schema_version (readers ignore what they do not know); a field removed or
changed in meaning bumps it. ``tests/cli/test_json_schema.py`` checks the committed file is current and that
real output validates against it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from advisor.schemas.base import SCHEMA_VERSION
from advisor.schemas.results import Recommendation

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "recommendation.schema.json"
SCHEMA_ID = "https://github.com/advisor/advisor/schemas/recommendation.schema.json"


def recommendation_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a recommendation as ``recommend --json`` prints it."""
    schema = Recommendation.model_json_schema(mode="serialization")
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


def main(argv: list[str] | None = None) -> int:
    """Write the schema file, or with ``--check`` compare it; ``--help`` (or an unknown flag) touches nothing."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m advisor.schemas.publish",
                                 description=f"Write {SCHEMA_FILE.name} (the JSON Schema of `advisor recommend "
                                             "--json`) from the pydantic models.")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if the committed file is not current")
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    text = render()
    if args.check:
        current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
        if current != text:
            print(f"{SCHEMA_FILE} is not current: run `python -m advisor.schemas.publish`.", file=sys.stderr)
            return 1
        return 0
    SCHEMA_FILE.parent.mkdir(exist_ok=True)
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
