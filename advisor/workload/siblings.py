"""A workload file's folder on the import path while the file's code runs, as ``python FILE`` has it.

``python FILE`` puts the file's folder first on ``sys.path`` for the whole run, so a sibling module imports by
name at the top level and inside a function too (``def build_model(): from model import Net``;
``importlib.import_module(cfg.model_cls)``; ``torch.load`` of a checkpoint whose pickled classes live in
``model.py``). advisor runs the file in a process that has other code in it:

- the probe's child imports one workload file and ends: the folder stays first on the path for the child's life
  (``folder_first_for_life``), whatever runs the file's code (the model's ``forward``, a ``Dataset``);
- in the caller's own process (``advisor.load_workload``) the folder is first on the path while the file's top
  level runs and while each function of it that the returned ``Workload`` holds runs (``InFolder``), and not
  otherwise: a notebook's own imports are not changed by a project it loaded.

Python imports a module once per process and caches it by name, so in the caller's process a second project's
``train.py`` beside its own ``model.py`` got the first project's cached ``model``. While a file's code runs, a cached
module named as one of its siblings (``NAME.py`` or ``NAME/__init__.py`` beside it) that came from another folder,
not Python's own or an installed package's, is set aside (its submodules too), the file's own siblings are put in
its place, and the set-aside ones come back after it: each file gets its own siblings, as ``python FILE`` would.
A module Python or an installed package provides (``secrets``, ``advisor``) is never set aside: advisor's own code
uses it.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import site
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any


def folder_first_for_life(path: str | Path) -> None:
    """Put the folder of the workload file ``path`` first on ``sys.path``, for good (the probe's child)."""
    sys.path.insert(0, str(Path(path).resolve().parent))


class FileFolder:
    """The folder of one workload file (symbolic links resolved, as ``python FILE`` resolves them) and the
    sibling modules imported from it so far, by name."""

    def __init__(self, path: Path) -> None:
        self.folder = str(path.resolve().parent)
        self.names = _module_names(self.folder)  # the top-level modules the folder provides
        self.modules: dict[str, ModuleType] = {}
        self._installed = _installed_roots()
        self._known_places: dict[tuple[str, str], tuple[bool, bool]] = {}

    def ready(self) -> bool:
        """Whether the folder is already first on the path and no cached module stands in for one of its
        siblings (the probe's child): nothing to put in place."""
        if not sys.path or sys.path[0] != self.folder:
            return False
        if any(sys.modules.get(name) is not module for name, module in self.modules.items()):
            return False
        return not any(self._elsewhere(name, sys.modules.get(name)) for name in self.names)

    @contextlib.contextmanager
    def in_place(self) -> Iterator[None]:
        """The folder first on ``sys.path`` and its siblings in ``sys.modules`` while the block runs; the path,
        and the modules set aside for them, as they were after it."""
        sys.path.insert(0, self.folder)
        aside = self._set_aside()
        for name, module in self.modules.items():
            sys.modules.setdefault(name, module)
        try:
            yield
        finally:
            self.modules.update(self._own())
            with contextlib.suppress(ValueError):  # the file's code may have taken it out itself
                sys.path.remove(self.folder)  # the first one: the one put in above
            sys.modules.update(aside)

    def _set_aside(self) -> dict[str, ModuleType]:
        """Take out of ``sys.modules`` the cached modules (and their submodules) named as one of the folder's
        siblings that came from another folder, and return them."""
        clashing = {name for name in self.names if self._elsewhere(name, sys.modules.get(name))}
        if not clashing:
            return {}
        return {name: sys.modules.pop(name) for name in list(sys.modules) if name.partition(".")[0] in clashing}

    def _own(self) -> dict[str, ModuleType]:
        """The modules in ``sys.modules`` imported from the folder, by name."""
        # Looked up by the folder's own names; the whole cache (over a thousand modules beside torch) is read only
        # for a sibling package's submodules: this runs after every call of a function the Workload holds.
        own = {name: module for name in self.names
               if (module := sys.modules.get(name)) is not None and self._from_folder(name, module)}
        prefixes = tuple(f"{name}." for name, module in own.items() if hasattr(module, "__path__"))
        if prefixes:
            own.update({name: module for name, module in list(sys.modules.items())
                        if name.startswith(prefixes) and self._from_folder(name, module)})
        return own

    def _from_folder(self, name: str, module: ModuleType | None) -> bool:
        """Whether ``module`` (cached as ``name``) is the folder's own: ``NAME.py`` or in ``NAME/``."""
        file = getattr(module, "__file__", None)
        if not isinstance(file, str):
            return False
        return self._places(name, file)[0]

    def _elsewhere(self, name: str, module: ModuleType | None) -> bool:
        """Whether ``module`` (cached as ``name``) came from a file of another user folder: not this one, nor
        Python's or an installed package's (a built-in has no file)."""
        file = getattr(module, "__file__", None)
        if module is None or not isinstance(file, str):
            return False
        return self._places(name, file)[1]

    def _places(self, name: str, file: str) -> tuple[bool, bool]:
        """(whether ``file``, cached as ``name``, is the folder's own; whether it is another user folder's), kept by
        (name, file): both are asked for every sibling around every call of the Workload's functions, and
        ``os.path.abspath`` reads the working folder each time (about 10 us a sibling a call, uncached)."""
        key = (name, file)
        places = self._known_places.get(key) if os.path.isabs(file) else None  # a relative one: from the cwd
        if places is None:
            top = os.path.join(self.folder, name.partition(".")[0])
            absolute = os.path.abspath(file)
            own = absolute == top + ".py" or absolute.startswith(os.path.join(top, ""))
            places = self._known_places[key] = (own, not own and not absolute.startswith(self._installed))
        return places


def _module_names(folder: str) -> frozenset[str]:
    """The top-level modules ``folder`` provides: ``NAME.py`` files and ``NAME/__init__.py`` packages."""
    names = set()
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.name.endswith(".py") and entry.is_file():
                    names.add(entry.name[:-3])
                elif entry.is_dir() and os.path.isfile(os.path.join(entry.path, "__init__.py")):
                    names.add(entry.name)
    return frozenset(name for name in names if name.isidentifier())


def _installed_roots() -> tuple[str, ...]:
    """The folders of Python's own modules, of installed packages and of advisor itself, each ending in a
    separator."""
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    with contextlib.suppress(AttributeError):  # a virtual environment's old site module may lack them
        roots.update(site.getsitepackages())
        roots.add(site.getusersitepackages())
    roots.add(str(Path(__file__).resolve().parents[1]))  # advisor's package, installed editable or not
    return tuple(os.path.join(os.path.abspath(root), "") for root in roots)


class InFolder:
    """One function of a workload file, run with the file's folder in place (``FileFolder.in_place``)."""

    def __init__(self, func: Any, folder: FileFolder) -> None:
        functools.update_wrapper(self, func)  # its name, docstring and signature (inspect follows __wrapped__)
        self._func = func
        self._folder = folder

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._folder.ready():  # the probe's child: a make_batch it times pays for no path change
            return self._func(*args, **kwargs)
        with self._folder.in_place():
            return self._func(*args, **kwargs)

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        # Pickled as the function itself (by its module and name), as it was before it was wrapped.
        return _same, (self._func,)

    def __repr__(self) -> str:
        return repr(self._func)


def _same(value: Any) -> Any:
    return value


def in_folder(value: Any, folder: FileFolder) -> Any:
    """``value`` (a module attribute the ``Workload`` takes) wrapped in ``InFolder`` where it is a function; any
    other value (None, an ``nn.Module`` given as ``build_model``, a number) as it is."""
    return InFolder(value, folder) if inspect.isfunction(value) else value
