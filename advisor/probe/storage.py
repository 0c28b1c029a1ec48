"""Profiles on disk: ``advisor profile -o profile.json`` writes one, ``--profile FILE`` reads it back.

JSON of ``schemas.Profile``; a newer advisor may add fields, and unknown keys are ignored on load.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import stat
from pathlib import Path

from pydantic import ValidationError

from advisor.errors import ProbeError
from advisor.output_file import out_of_space, write_in_place
from advisor.schemas import SCHEMA_VERSION, Profile
from advisor.schemas.base import SURROGATE_WHAT, surrogate_path

MAX_PROFILE_BYTES = 64 * 2**20  # the probe's own frames are capped at this size too


def save_profile(profile: Profile, path: str | Path) -> Path:
    """Write ``profile`` as indented JSON (atomically: a crash never leaves half a file). Returns the path."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # UTF-8 whatever the locale: JSON is UTF-8, and a profile written under one locale opens under any other
        write_in_place(path, lambda tmp: tmp.write_text(profile.model_dump_json(indent=2) + "\n", encoding="utf-8"))
    except OSError as exc:
        space = " (or free some space there)" if out_of_space(exc) else ""
        raise ProbeError(f"could not write the profile to {path}: {exc.strerror or exc}.",
                         # the API's path= and the CLI's -o alike: neither reader's word for it
                         hint=f"Fix: save it to a path in a folder you can write to{space}.") from exc
    return path


# Top-level keys that only another advisor output has, and what to call that output in the error.
_OTHER_OUTPUTS = (
    (("chosen", "candidates"), "a `recommend --json` output"),
    (("recommendation", "outcomes"), "a `history show --json` output"),
    (("estimate", "prediction"), "a `history show pN --json` output"),
    (("entries",), "a `history list --json` output"),
    (("rows", "old_status"), "a `diff --json` output"),
    (("fits_memory", "base_seconds"), "a `predict --json` output"),
    (("error",), "an advisor error document"),
)


def _other_output(data: object) -> str | None:
    """What advisor output ``data`` looks like, if it looks like one that is not a profile."""
    if not isinstance(data, dict):
        return None
    return next((what for keys, what in _OTHER_OUTPUTS if all(key in data for key in keys)), None)


def _missing_hint(path: Path, hint: str) -> str:
    """The fix for a profile file that does not exist: the command that writes it there, pasteable (the path
    quoted for the shell, its folder kept). Not for "-", which ``profile -o`` refuses as standard input is no file
    here, nor for a .py file (``hint`` says to pass it as the workload)."""
    if str(path) == "-":
        return ("Fix: --profile reads a file, not standard input: write one with `advisor profile WORKLOAD -o "
                "profile.json` and pass --profile profile.json.")
    if path.suffix == ".py":
        return hint
    if not path.parent.is_dir():  # a mistyped folder, most likely: `profile -o` would refuse it too
        return (f"Fix: check the path: its folder {shlex.quote(str(path.parent))} does not exist either. A profile "
                "is the file `advisor profile WORKLOAD -o profile.json` writes.")
    return f"Fix: pass a file written by `advisor profile WORKLOAD -o {shlex.quote(str(path))}`."


def load_profile(path: str | Path) -> Profile:
    """A ``Profile`` from a JSON file; ``ProbeError`` naming the file and the fix when it is not one."""
    path = Path(path)
    # Only a missing file is named in the fix: naming an existing one would tell the user to overwrite it.
    hint = "Fix: pass a file written by `advisor profile WORKLOAD -o profile.json`."
    if path.suffix == ".py":
        hint = (f"Fix: pass {path.name} as the workload (the first argument) without --profile; --profile takes "
                f"the JSON that `advisor profile {path.name} -o profile.json` writes.")
    with contextlib.suppress(OSError):
        info = path.stat()
        # A device (/dev/zero), a pipe or a huge file would be read without end: a profile is a small file.
        if not stat.S_ISREG(info.st_mode) and not stat.S_ISDIR(info.st_mode):
            raise ProbeError(f"{path}: not a regular file.", hint=hint)
        if info.st_size > MAX_PROFILE_BYTES:
            raise ProbeError(f"{path}: {info.st_size / 2**20:.0f} MiB is too large for a profile (at most "
                             f"{MAX_PROFILE_BYTES // 2**20} MiB).", hint=hint)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProbeError(f"{path}: no such profile file.", hint=_missing_hint(path, hint)) from None
    except IsADirectoryError:
        raise ProbeError(f"{path}: is a folder, not a profile file.", hint=hint) from None
    except UnicodeDecodeError as exc:
        # what a profile written under a Latin-1 locale by an advisor before profiles were always UTF-8 reads as
        raise ProbeError(f"{path}: could not read the profile: {exc}.",
                         hint=f"Fix: a profile is UTF-8 JSON; convert this file (`iconv -f ISO-8859-1 -t UTF-8 "
                              f"{shlex.quote(str(path))} > profile.json`, if it was written under a Latin-1 "
                              "locale), or write it again with `advisor profile WORKLOAD -o profile.json`.") from exc
    except PermissionError as exc:
        shown = shlex.quote(str(path))
        raise ProbeError(f"{path}: could not read the profile ({exc.strerror}).",
                         hint=f"Fix: the permissions keep advisor from reading the file (`ls -l {shown}` shows them): "
                              "make it readable to this user (chmod), or run advisor as a user who can read it."
                         ) from None
    except OSError as exc:
        raise ProbeError(f"{path}: could not read the profile: {exc}.", hint=hint) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProbeError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}).", hint=hint) from exc
    except (RecursionError, ValueError) as exc:  # nested past Python's recursion limit; an int of 5,000 digits
        raise ProbeError(f"{path}: not a JSON document advisor reads ({str(exc)[:200]}).", hint=hint) from None
    if not isinstance(data, dict) or "workload" not in data:
        other = _other_output(data)
        raise ProbeError(f"{path}: not an advisor profile: " + (f"it looks like {other}." if other else
                         "no \"workload\" object at the top level."), hint=hint)
    bad = surrogate_path(data)
    if bad is not None:  # a JSON escape ("\ud800") no print, database or encoder takes: one message, as a NUL gets
        where = ".".join(str(part) for part in bad).encode("utf-8", "backslashreplace").decode("utf-8")
        raise ProbeError(f"{path}: not a valid advisor profile: {where or '(top level)'} {SURROGATE_WHAT}.",
                         hint="Fix: remove that escape from the file, or write the character itself as UTF-8.")
    version = data.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise ProbeError(f"{path}: profile schema version {version} is newer than this advisor understands "
                         f"({SCHEMA_VERSION}).", hint="Fix: upgrade advisor (pip install -U advisor).")
    if isinstance(version, int) and not isinstance(version, bool) and version < 1:  # the server words it so too
        raise ProbeError(f"{path}: not a valid advisor profile: schema_version {version} is not one advisor "
                         f"writes (versions start at 1; this advisor understands up to {SCHEMA_VERSION}).",
                         hint="Fix: write the profile again with `advisor profile WORKLOAD -o profile.json`.")
    # Every profile advisor writes has its "devices" list (empty when none was timed); another advisor output (a
    # `recommend --json` file beside it in CI) has a "workload" object too, and would be read as a profile with
    # nothing timed, to fail later on a misleading error or exit 3.
    other = _other_output(data)
    if other is not None or not isinstance(data.get("devices"), list):
        raise ProbeError(f"{path}: not an advisor profile: " + (f"it looks like {other}." if other else
                         "no \"devices\" list at the top level."), hint=hint)
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "(top level)"
        raise ProbeError(f"{path}: not a valid advisor profile: {where}: {first.get('msg')} "
                         f"({exc.error_count()} problem{'s' if exc.error_count() > 1 else ''}).",
                         hint=hint) from exc
