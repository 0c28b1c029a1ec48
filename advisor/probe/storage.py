"""Profiles on disk: ``advisor profile -o profile.json`` writes one, ``--profile FILE`` reads it back.

JSON of ``schemas.Profile``; a newer advisor may add fields, and unknown keys are ignored on load.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import ValidationError

from advisor.errors import ProbeError
from advisor.schemas import SCHEMA_VERSION, Profile


def save_profile(profile: Profile, path: str | Path) -> Path:
    """Write ``profile`` as indented JSON (atomically: a crash never leaves half a file). Returns the path."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(profile.model_dump_json(indent=2) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise ProbeError(f"could not write the profile to {path}: {exc.strerror or exc}.",
                         hint="Fix: pass -o with a path in a folder you can write to.") from exc
    return path


def load_profile(path: str | Path) -> Profile:
    """A ``Profile`` from a JSON file; ``ProbeError`` naming the file and the fix when it is not one."""
    path = Path(path)
    hint = f"Fix: pass a file written by `advisor profile WORKLOAD -o {path.name}`."
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ProbeError(f"{path}: no such profile file.", hint=hint) from None
    except IsADirectoryError:
        raise ProbeError(f"{path}: is a folder, not a profile file.", hint=hint) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProbeError(f"{path}: could not read the profile: {exc}.", hint=hint) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProbeError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}).", hint=hint) from exc
    if not isinstance(data, dict) or "workload" not in data:
        raise ProbeError(f"{path}: not an advisor profile (no \"workload\" object at the top level).", hint=hint)
    version = data.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise ProbeError(f"{path}: profile schema version {version} is newer than this advisor understands "
                         f"({SCHEMA_VERSION}).", hint="Fix: upgrade advisor (pip install -U advisor).")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "(top level)"
        raise ProbeError(f"{path}: not a valid advisor profile: {where}: {first.get('msg')} "
                         f"({exc.error_count()} problem{'s' if exc.error_count() > 1 else ''}).",
                         hint=hint) from exc
