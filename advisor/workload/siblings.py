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
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def folder_first_for_life(path: str | Path) -> None:
    """Put the folder of the workload file ``path`` first on ``sys.path``, for good (the probe's child)."""
    sys.path.insert(0, str(Path(path).resolve().parent))


class FileFolder:
    """The folder of one workload file (symbolic links resolved, as ``python FILE`` resolves them)."""

    def __init__(self, path: Path) -> None:
        self.folder = str(path.resolve().parent)

    def ready(self) -> bool:
        """Whether the folder is already first on the path (the probe's child): nothing to put in place."""
        return bool(sys.path) and sys.path[0] == self.folder

    @contextlib.contextmanager
    def in_place(self) -> Iterator[None]:
        """The folder first on ``sys.path`` while the block runs; the path as it was after it."""
        sys.path.insert(0, self.folder)
        try:
            yield
        finally:
            with contextlib.suppress(ValueError):  # the file's code may have taken it out itself
                sys.path.remove(self.folder)  # the first one: the one put in above


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
