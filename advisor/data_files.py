"""Where the data folders that ship with advisor live (``pricing/``, ``profiles/``, ``migrations/``,
``schemas/``, ``examples/``).

In a wheel they are force-included under ``advisor/_data/``; in a source checkout or editable install they
sit at the repository root. Callers ask for a folder by name and never build paths themselves.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_FOLDERS = ("pricing", "profiles", "migrations", "schemas", "examples")


def data_dir(name: str) -> Path:
    """Path of a shipped data folder: 'pricing', 'profiles', 'migrations', 'schemas' or 'examples'."""
    if name not in _FOLDERS:
        raise ValueError(f"unknown data folder {name!r}; expected one of {_FOLDERS}")
    packaged = Path(str(resources.files("advisor"))) / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"advisor's data folder {name!r} is missing from this installation")


def example_file(name: str = "tabular_mlp.py") -> str | None:
    """One of the example workloads as a hint should name it: ``examples/NAME`` where that path works from the
    current folder (a checkout), else the installed copy's full path (a wheel ships them under ``advisor/_data``);
    None when this installation has no such file."""
    relative = Path("examples") / name
    if relative.is_file():
        return str(relative)
    try:
        installed = data_dir("examples") / name
    except FileNotFoundError:
        return None
    return str(installed) if installed.is_file() else None


def data_file(folder: str, name: str) -> str:
    """A shipped data file as a message names it, resolved when the message is made: ``folder/name`` where that
    path from the current folder is the very file this installation reads (a checkout's root), else the full
    path of the one it reads (a wheel's is under site-packages' ``advisor/_data``), so a hint to add or correct a
    row names a file that exists; ``folder/name`` where this installation lacks the folder."""
    relative = Path(folder) / name
    try:
        read = data_dir(folder) / name
    except FileNotFoundError:
        return str(relative)
    try:
        if relative.resolve() == read.resolve():
            return str(relative)
    except OSError:  # an unreadable current folder: the full path still works
        pass
    return str(read)
