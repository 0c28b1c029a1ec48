"""Importing a workload file as a module, and what a failure says: the file and line, and the fix for its kind
(a syntax error, an import that cannot work where advisor imports the file, a package to install, an error in
the file's top-level code).

advisor imports the file by its path under a name of its own (``advisor.workload.worker_import``), with the
file's folder first on ``sys.path``, as ``python FILE`` runs it: never as a module of its package (``python -m
pkg.train``). So a relative import (``from .model import Net``) cannot work, and a package-absolute one (``from
pkg.model import Net``) only where the folder holding the package is on the import path (``PYTHONPATH``): the
fixes say that, not ``pip install``, where the missing name is a folder or file of the user's project.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shlex
import sys
from pathlib import Path
from types import ModuleType

from advisor.errors import WorkloadError
from advisor.workload.dataloader import user_line
from advisor.workload.describe import exception_text, raised
from advisor.workload.shadowed import shadowed_hint
from advisor.workload.siblings import FileFolder
from advisor.workload.worker_import import module_name_of

_INSTALL_HINT = "Fix: install the missing package in this environment (pip install ...), or correct the import."


def import_file(path: Path, shown: str, folder: FileFolder) -> ModuleType:
    """Run the workload file (its absolute ``path``) as a module, its ``folder`` in place while it runs; what it
    raised becomes a WorkloadError naming the file as ``shown`` and the line."""
    module_name = module_name_of(path)  # a spawn DataLoader's workers import it by this name (worker_import)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    # Registered while it runs (and after) so that dataclasses, typing and pickle can find the module.
    sys.modules[module_name] = module
    try:
        with folder.in_place():  # its own folder first on sys.path, so it imports its sibling modules
            spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(module_name, None)
        sibling = bool(exc.filename) and Path(exc.filename).resolve() != path.resolve()
        where = exc.filename if sibling else shown
        raise WorkloadError(
            f"{where}{f':{exc.lineno}' if exc.lineno else ''}: syntax error: {exc.msg}."
            + (f" (imported by {shown})" if sibling else ""),
            hint=f"Fix: correct the syntax ({shlex.join(['python', '-m', 'py_compile', str(where)])} shows it too).",
        ) from exc
    except ImportError as exc:
        sys.modules.pop(module_name, None)
        raise WorkloadError(
            f"{shown}{user_line(exc, path)}: importing the file failed: {raised(exc, whole=True)}",
            hint=import_hint(exc, path),
        ) from exc
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - user code: the file's top level ran
        sys.modules.pop(module_name, None)
        raise WorkloadError(
            f"{shown}{user_line(exc, path)}: running the file failed: {raised(exc, whole=True)}",
            hint=shadowed_hint(exc, path) or _top_level_hint(exc, shown),
        ) from exc
    return module


def _top_level_hint(exc: BaseException, shown: str) -> str:
    """The fix for an exception the file's top-level code raised."""
    if isinstance(exc, EOFError) and exception_text(exc) == "EOF when reading a line":  # input()'s
        return ("Fix: the file runs with no standard input when advisor probes it, so input() at its top level "
                "reads end of file: move the prompt under `if __name__ == \"__main__\":` (which the probe does not "
                "run), or take the answer from an environment variable (os.environ.get(\"NAME\", \"default\")).")
    # quoted for a shell: a path with a space ("dir with spaces/bad file.py") ran `python dir` when pasted
    return f"Fix: the file must import cleanly ({shlex.join(['python', shown])} should run without error)."


def import_hint(exc: ImportError, path: Path) -> str:
    """The fix for an ImportError raised while the workload file ``path`` was imported."""
    if "attempted relative import with no known parent package" in exception_text(exc):
        return _relative_import_hint(path)
    shadowed = shadowed_hint(exc, path)  # `from secrets import KEY` got Python's secrets, not the file's secrets.py
    if shadowed is not None:
        return shadowed
    top = (exc.name or "").split(".")[0] if isinstance(exc, ModuleNotFoundError) else ""
    folder = _folder_holding(top, path) if top and top not in sys.modules else None
    if folder is None:
        return _INSTALL_HINT
    where = shlex.quote(str(folder))
    if folder.name == "src":  # a src layout: the project is meant to be installed, or run with src on the path
        project = folder.parent
        install = (f"install the project in this environment (`pip install -e {shlex.quote(str(project))}`), or "
                   if any((project / name).is_file() for name in ("pyproject.toml", "setup.py", "setup.cfg")) else "")
        return (f"Fix: {top} is in {folder} (a src layout), which is not on the import path: advisor imports the file "
                f"by its path, as `python FILE` does: {install}run with that folder on it: "
                f"`PYTHONPATH={where} advisor ...`.")
    return (f"Fix: {top} is in {folder}, which is not on the import path: advisor imports the file by its path, as "
            "`python FILE` does, not as `python -m` (which puts the current folder on it). Run with that folder on "
            f"it: `PYTHONPATH={where} advisor ...`; or, if {top} is a package to install, pip install it.")


def _relative_import_hint(path: Path) -> str:
    """The fix for ``from .model import Net`` in the workload file: name the module from the package's root, with
    that root's folder on the import path."""
    folder = path.resolve().parent
    packages: list[str] = []
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        packages.insert(0, folder.name)
        folder = folder.parent
    if not packages:
        return ("Fix: advisor imports the file on its own, as `python FILE` does, and it is in no package (no "
                "__init__.py beside it), so a relative import (`from .model import Net`) cannot work: import its "
                "sibling by name (`from model import Net`), as the file's folder is on the import path.")
    package, where = ".".join(packages), shlex.quote(str(folder))
    return (f"Fix: advisor imports the file on its own, as `python FILE` does, not as a module of its package "
            f"{package}, so a relative import (`from .model import Net`) cannot work there: write it absolute "
            f"(`from {package}.model import Net`) and put the folder holding {packages[0]} on the import path: "
            f"`PYTHONPATH={where} advisor ...`.")


def _folder_holding(name: str, path: Path) -> Path | None:
    """The nearest folder above the workload file ``path`` (then the current folder), or its ``src`` folder (a
    src layout: ``src/pkg``), holding a package or module ``name``: a folder with Python files in it, or
    ``name.py``; None where there is none."""
    folders = list(path.resolve().parents)
    with contextlib.suppress(OSError):
        folders.append(Path(os.getcwd()))
    for folder in (place for parent in folders for place in (parent, parent / "src")):
        with contextlib.suppress(OSError):
            if (folder / f"{name}.py").is_file() or (
                    (folder / name).is_dir() and any((folder / name).glob("*.py"))):
                return folder
    return None
