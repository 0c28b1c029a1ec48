"""The fix where a workload file's sibling module is shadowed by a module of the same name imported before it.

Python imports a module once per process. The probe's child has imported advisor and what it uses (``secrets``,
``decimal``, ``shlex``, ``pydantic``, ``advisor`` itself...) before it runs the file, so a project's
``secrets.py`` beside the file is not the ``secrets`` that ``from secrets import WANDB_KEY`` gets, though
``python FILE`` gets it: the import fails with "cannot import name 'WANDB_KEY' from 'secrets' (.../secrets.py)",
or ``secrets.WANDB_KEY`` with an AttributeError, and the generic fix said to pip install a package. Such a module
is not set aside for the file (``advisor.workload.siblings``: advisor's own code uses it), so the fix names the
clash and says to rename the file's module.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from types import ModuleType


def shadowed_hint(exc: BaseException, path: Path) -> str | None:
    """The fix where ``exc`` (raised while the workload file ``path`` ran) came from a module imported before the
    file that its folder's module of the same name would have been under ``python FILE``; None otherwise."""
    name = _module_named(exc)
    top = name.partition(".")[0]
    cached = sys.modules.get(top) if top else None
    if cached is None:
        return None
    folder = path.resolve().parent
    mine = None
    with contextlib.suppress(OSError):
        if (folder / f"{top}.py").is_file():
            mine = f"{top}.py"
        elif (folder / top / "__init__.py").is_file():
            mine = f"{top}/"
    file = getattr(cached, "__file__", None)
    if mine is None or (isinstance(file, str) and Path(file).resolve().is_relative_to(folder / mine.rstrip("/"))):
        return None
    where = f" ({file})" if isinstance(file, str) else " (built into Python)"
    return (f"Fix: `{mine}` beside the file is not the `{top}` it imports: the process running the file (advisor's) "
            f"had already imported another `{top}`{where}, and Python imports a module once per process, so yours "
            f"is shadowed there (not under `python FILE`). Rename yours (e.g. "
            f"`my_{top}{'.py' if mine.endswith('.py') else ''}`) and the imports of it.")


def _module_named(exc: BaseException) -> str:
    """The module an ImportError could not import from, or whose attribute an AttributeError did not find."""
    if isinstance(exc, ImportError):
        return exc.name or ""
    obj = getattr(exc, "obj", None) if isinstance(exc, AttributeError) else None
    return obj.__name__ if isinstance(obj, ModuleType) and isinstance(obj.__name__, str) else ""
