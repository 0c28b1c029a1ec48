"""Where the data folders that ship with advisor live (``pricing/``, ``profiles/``, ``migrations/``,
``schemas/``).

In a wheel they are force-included under ``advisor/_data/``; in a source checkout or editable install they
sit at the repository root. Callers ask for a folder by name and never build paths themselves.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_FOLDERS = ("pricing", "profiles", "migrations", "schemas")


def data_dir(name: str) -> Path:
    """Path of a shipped data folder: 'pricing', 'profiles', 'migrations' or 'schemas'."""
    if name not in _FOLDERS:
        raise ValueError(f"unknown data folder {name!r}; expected one of {_FOLDERS}")
    packaged = Path(str(resources.files("advisor"))) / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"advisor's data folder {name!r} is missing from this installation")
