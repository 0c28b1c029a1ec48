"""Whether a workload's name is shared with other files' recorded runs: the note ``predict`` and ``recommend`` add.

The history keys a workload by its name (``advisor.workload.identity``), and the learned correction and its
intervals are learned per name from the runs recorded under it. Two projects' ``train.py`` are both ``train``:
one project's runs corrected the other's predictions with no word of it. Where runs under this name were recorded
from another file path (and another file: the same bytes copied elsewhere are the same workload), the answer says
so, names the paths and gives the fix.

The correction is still applied then: the name is the identity the user controls, and the paths of one project
differ between its clones (each teammate's checkout, each CI runner's folder), so a correction dropped on a path
change would silently drop a team's learned correction. The note makes the sharing visible instead.

Only absolute paths are compared: a path stored as it was typed (``train.py``, by an advisor before this one)
says nothing of its folder. Two spellings of one file are one file: the history stores the absolute path as it was
reached (``os.path.abspath``; the Python API's ``Path.absolute()`` keeps a ``..``), not resolved, so the same file
through a symbolic link, or ``a/../w.py``, is another string. Where the workload was probed here and both files
exist, they are compared as files (``os.stat``: device and inode, hard links too); else, a recorded file gone or a
saved profile's paths (which may name another machine's files: the server never reads its own disk for a client's
paths), as normalized text.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from advisor.errors import AdvisorError
from advisor.history.tables import OutcomeTable, WorkloadTable

if TYPE_CHECKING:  # pragma: no cover
    from advisor.schemas import WorkloadInfo

_LISTED = 3  # other paths a note names


def run_files(conn: Connection, name: str) -> list[tuple[str | None, str]]:
    """(path, file hash) of each stored workload called ``name`` that has a recorded run (outcome)."""
    has_run = select(OutcomeTable.id).where(OutcomeTable.workload_id == WorkloadTable.id).exists()
    stmt = (select(WorkloadTable.path, WorkloadTable.file_sha256).where(WorkloadTable.name == name, has_run)
            .order_by(WorkloadTable.id))
    return [(path, sha) for path, sha in conn.execute(stmt)]


def file_key(path: str, on_disk: bool) -> tuple[Any, ...]:
    """What tells ``path``'s file apart: its (device, inode) where ``on_disk`` and it exists, else its normalized
    text (``os.path.normpath``: ``/a/./b/../w.py`` is ``/a/w.py``)."""
    if on_disk:
        try:
            st = os.stat(path)
        except (OSError, ValueError):  # gone, unreadable, or a name the OS refuses (a NUL): compared as text
            pass
        else:
            return ("file", st.st_dev, st.st_ino)
    return ("text", os.path.normpath(path))


def other_paths(files: list[tuple[str | None, str]], info: WorkloadInfo, *, on_disk: bool = False) -> list[str]:
    """The absolute paths of ``files`` that are another file than ``info``'s (its path and hash), each file once.
    ``on_disk``: the paths are this machine's, so existing files are compared as files (the module docstring)."""
    if not info.path or not os.path.isabs(info.path):
        return []
    same = {sha for _, sha in files if sha and sha == info.file_sha256}
    mine = file_key(info.path, on_disk)
    seen: set[tuple[Any, ...]] = set()
    out: list[str] = []
    for path, sha in files:
        if not path or not os.path.isabs(path) or sha in same:
            continue
        key = file_key(path, on_disk)
        if not _is_mine(key, path, mine, info.path) and key not in seen:
            seen.add(key)
            out.append(path)
    return out


def _is_mine(key: tuple[Any, ...], path: str, mine: tuple[Any, ...], my_path: str) -> bool:
    """Whether the recorded ``path`` (its ``file_key``, ``key``) is the file ``my_path`` (``mine``): as files where
    both exist, as normalized text only where one does not. Not text too where both exist: ``normpath`` takes a
    ``..`` away lexically, so ``x/link/../w.py`` (the API keeps a ``..``) read as ``x/w.py``, another file where
    ``link`` is a symbolic link elsewhere."""
    if key[0] == "file" and mine[0] == "file":
        return key == mine
    return file_key(path, False) == file_key(my_path, False)


def shared_name_notes(hist: Any, info: WorkloadInfo, *, on_disk: bool = False) -> list[str]:
    """The note where runs of ``info``'s name were recorded from other files (the module docstring); [] else.
    ``hist``: an open ``History`` (its ``run_files``), or None. ``on_disk``: the workload was probed here, so its
    path and the recorded ones are this machine's files (not a saved profile's, nor a server's client's)."""
    if hist is None:
        return []
    try:
        files = hist.run_files(info.name)
    except AdvisorError:  # a history that cannot be read: the correction's own note says so (session.py)
        return []
    others = other_paths(files, info, on_disk=on_disk)
    if not others:
        return []
    shown = ", ".join(f"'{p}'" for p in others[:_LISTED]) + (
        f" and {len(others) - _LISTED} more" if len(others) > _LISTED else "")
    return [f"workload '{info.name}': the history's runs under this name were recorded from another file, {shown}, "
            f"not this one, '{info.path}'; the history keys a workload by its name, so the learned correction and "
            "its intervals take those runs as this workload's. Fix: if that is another project, give this one a "
            f'name of its own: --name NAME, or WORKLOAD_NAME = "..." in the file (name= in Python).']
