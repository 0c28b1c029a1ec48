"""A workload's name: what the history keys its runs by.

The history stores a workload under its name (and its file's hash), and the learned correction and its
intervals are learned per name (``advisor.predictor.learned``). The name is, first to last: the ``--name`` flag
(``name=`` in the Python API), the workload file's ``WORKLOAD_NAME = "..."`` constant (read from its text, never run:
``advisor.workload.constants``), else the file's name without ``.py`` (``advisor.workload.loader.workload_name``;
an ``advisor.Workload``'s own ``name``). Without a name every project's ``train.py`` is the one workload
``train``: one project's recorded runs corrected another's predictions.

A name is text without control characters (``advisor.text.has_controls``: it is printed in tables and notes;
any other Unicode, a Persian name's zero-width non-joiner or a no-break space, is text), 1 to
``MAX_WORKLOAD_NAME_CHARS`` characters once stripped of surrounding blanks (what the history's column holds).
A flag that names it wins over the file, whose ``WORKLOAD_NAME`` is then not read, so a file's unusable
``WORKLOAD_NAME`` can be worked round without editing the file. Not ``NAME``: training scripts use that for labels
of their own (``NAME = os.environ.get("RUN_NAME", "baseline")``), which must neither fail nor rename a workload.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from advisor.errors import WorkloadError
from advisor.output_file import path_text
from advisor.schemas import Profile
from advisor.schemas.profile import MAX_WORKLOAD_NAME_CHARS
from advisor.text import has_controls

# Format characters and spaces: a name of these alone (a zero-width space) was a blank in every table and note.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Zs"})
NAME_WHERE = "--name (name= in Python)"  # where a command's own name came from, as its error says
_HINT = ('Fix: give a short name such as resnet_cifar: --name resnet_cifar, WORKLOAD_NAME = "resnet_cifar" in the '
         'workload file, or name="resnet_cifar" in Python. The history keeps the workload\'s runs under it.')


def _problem(value: Any) -> str | None:
    """Why ``value`` is not a workload name; None where it is one."""
    if not isinstance(value, str):
        return f"must be text, not {type(value).__name__}"
    text = value.strip()
    if not text:
        return "must not be empty"
    if has_controls(text):  # the characters a terminal obeys (advisor.text); not str.isprintable, which also
        # refused a Persian name's zero-width non-joiner, a no-break space and an emoji's joiner
        return "must not hold a control character (a tab, a newline, an escape...)"
    if all(unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in text):  # str.strip keeps these
        return "must hold a visible character, not only invisible ones (a zero-width space, a byte order mark...)"
    if len(text) > MAX_WORKLOAD_NAME_CHARS:
        return f"must be at most {MAX_WORKLOAD_NAME_CHARS} characters, not {len(text):,}"
    return None


def checked_name(value: Any, where: str) -> str:
    """``value`` stripped, once it is a workload name (the module docstring); else a ``WorkloadError`` saying
    what is wrong with it, where it came from (``where``: "--name", "/p/train.py: WORKLOAD_NAME") and the fix."""
    problem = _problem(value)
    if problem is not None:
        shown = repr(value)  # escaped; a 10,000-character name is shown by its start
        shown = shown if len(shown) <= 60 else f"{shown[:57]}..."
        raise WorkloadError(f"{where}: a workload's name {problem}: {shown}.", hint=_HINT)
    return value.strip()


def declared_name(path: Path) -> str | None:
    """The ``WORKLOAD_NAME`` a workload file declares, checked; None where it declares none (or
    ``WORKLOAD_NAME = None``).

    A ``WORKLOAD_NAME`` set by an expression advisor does not run (``WORKLOAD_NAME = os.environ["RUN"]``) is an
    error rather than the file's stem taken instead: the runs would be stored under a name the user did not mean."""
    from advisor.workload.constants import read_file_constants

    constants = read_file_constants(path)
    if constants.name_source is not None:
        raise WorkloadError(f"{path}: WORKLOAD_NAME is set by `{constants.name_source}`, which advisor does not run "
                            "(it reads the file's constants from its text), so it cannot tell the workload's name.",
                            hint=_HINT)
    if constants.name is None:
        return None
    return checked_name(constants.name, f"{path}: WORKLOAD_NAME")


def resolved_name(source: Any, name: Any, label: str | None = None) -> str | None:
    """The name a command gives the workload of ``source`` (a file path, an ``advisor.Workload``, a profile):
    ``name`` (the flag) checked where given, else a file's declared ``WORKLOAD_NAME``; None: the source's own name,
    which is checked here where a file's name or a profile's gives it (an ``advisor.Workload`` checked its own):
    a profile sent to a server, or saved and edited, holds any text. ``label``: how a profile's errors name it
    (its file's path; default "the profile")."""
    if name is not None:
        return checked_name(name, NAME_WHERE)
    if isinstance(source, Profile):
        checked_name(source.workload.name, f"{label or 'the profile'}: workload.name")
        return None
    path = _workload_path(source)
    if path is None:
        return None
    declared = declared_name(path)
    if declared is None and path_text(path.stem) is not None:  # the file's name names it (one not UTF-8: the
        checked_name(workload_name(path), f"{path}: the file's name (without .py)")  # loader's message says so)
    return declared


def workload_name(path: Path) -> str:
    """The workload's name for a file: its name without ``.py``, as UTF-8 text of its bytes wherever they are
    (``advisor.output_file.path_text``), so that one file is one workload in the history under any locale."""
    return path_text(path.stem) or path.stem


def _workload_path(source: Any) -> Path | None:
    """``source`` as a workload file's path; a command's ``WorkloadFile`` kept as it is, whose constants are those
    of its one reading (a ``Path`` made of it read and parsed the file again); None for anything else."""
    if not isinstance(source, (str, Path)):
        return None
    path = source if isinstance(source, Path) else Path(source)
    return path if path.suffix == ".py" else None


def early_name(source: Any, name: Any) -> None:
    """``resolved_name``'s checks, made before a command opens the history (a first run's bad name must not leave
    an empty history behind): the flag, else a ``Profile``'s name, else the WORKLOAD_NAME (or the file's name) of a
    workload file that exists (a missing one is the loader's to report, as is one the system cannot open: a name too
    long, no permission), else a saved profile's name (one that does not load is its loader's to report)."""
    path = _workload_path(source)
    if name is not None or isinstance(source, Profile) or (path is not None and _is_file(path)):
        resolved_name(source, name)
    elif (saved := _saved_profile(source)) is not None:
        resolved_name(saved, None, label=str(source))


def _saved_profile(source: Any) -> Profile | None:
    """``source`` read as a saved profile's .json (data, as ``advisor.workload.settings`` reads it before a
    probe); None where it is none, or not one that loads (its loader says why)."""
    if not isinstance(source, (str, Path)) or Path(source).suffix != ".json":
        return None
    try:
        return Profile.model_validate_json(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # pydantic's ValidationError is a ValueError
        return None


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # ENAMETOOLONG, EACCES: the probe's loader says so, with its fix
        return False


def named(prof: Profile, name: str | None) -> Profile:
    """``prof`` with its workload called ``name`` (None: as it is)."""
    if name is None or prof.workload.name == name:
        return prof
    return prof.model_copy(update={"workload": prof.workload.model_copy(update={"name": name})})
