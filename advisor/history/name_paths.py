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
says nothing of its folder.
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


def other_paths(files: list[tuple[str | None, str]], info: WorkloadInfo) -> list[str]:
    """The absolute paths of ``files`` that are another file than ``info``'s (its path and hash), each once."""
    if not info.path or not os.path.isabs(info.path):
        return []
    same = {sha for _, sha in files if sha and sha == info.file_sha256}
    out: list[str] = []
    for path, sha in files:
        if path and os.path.isabs(path) and path != info.path and sha not in same and path not in out:
            out.append(path)
    return out


def shared_name_notes(hist: Any, info: WorkloadInfo) -> list[str]:
    """The note where runs of ``info``'s name were recorded from other files (the module docstring); [] else.
    ``hist``: an open ``History`` (its ``run_files``), or None."""
    if hist is None:
        return []
    try:
        files = hist.run_files(info.name)
    except AdvisorError:  # a history that cannot be read: the correction's own note says so (session.py)
        return []
    others = other_paths(files, info)
    if not others:
        return []
    shown = ", ".join(f"'{p}'" for p in others[:_LISTED]) + (
        f" and {len(others) - _LISTED} more" if len(others) > _LISTED else "")
    return [f"workload '{info.name}': the history's runs under this name were recorded from another file, {shown}, "
            f"not this one, '{info.path}'; the history keys a workload by its name, so the learned correction and "
            "its intervals take those runs as this workload's. Fix: if that is another project, give this one a "
            f'name of its own: --name NAME, or WORKLOAD_NAME = "..." in the file (name= in Python).']
