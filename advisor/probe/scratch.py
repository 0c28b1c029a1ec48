"""The probe's private scratch folder (the fault-handler dump, the workload's import shim): made for one probe,
removed after it, and, where a parent killed with SIGKILL could not remove its own, removed by the next probe."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from advisor.processes import pid_alive

PREFIX = "advisor-probe-"


def make_scratch() -> str:
    """A new scratch folder named after this process (``advisor-probe-<pid>-<random>``), after removing the
    ones left by probes whose process is gone."""
    sweep_stale()
    return tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")


def sweep_stale(folder: str | None = None) -> list[str]:
    """Remove this user's scratch folders under ``folder`` (the temp folder) whose parent process no longer
    exists; return their paths. A folder of a live process, of another user, or without a pid in its name (an
    older advisor's) is left alone."""
    removed = []
    root = Path(folder or tempfile.gettempdir())
    try:
        entries = list(root.glob(f"{PREFIX}*-*"))
    except OSError:
        return removed
    for entry in entries:
        pid_text = entry.name[len(PREFIX):].split("-", 1)[0]
        try:
            if not pid_text.isdigit() or entry.is_symlink() or entry.stat().st_uid != os.getuid() \
                    or pid_alive(int(pid_text)):
                continue
        except OSError:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(str(entry))
    return removed
