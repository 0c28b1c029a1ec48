"""Keeps ``advisor.predict(...)`` and ``advisor.recommend(...)`` callable once their same-named modules load.

DESIGN.md names both a public function (``advisor.predict``, ``advisor.recommend``) and an internal module
(``advisor/predict/``, ``advisor/recommend.py``). Importing a submodule makes Python set it as an attribute of
the package, which would shadow the function; the module's class is therefore swapped for one whose call
forwards to the API function, so both spellings keep working whatever was imported first.
"""

from __future__ import annotations

import importlib
import sys
import types


def make_module_callable(module_name: str, api_function: str) -> None:
    """Let ``sys.modules[module_name](...)`` call ``advisor.api.<api_function>(...)``."""

    class _CallableModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return getattr(importlib.import_module("advisor.api"), api_function)(*args, **kwargs)

    sys.modules[module_name].__class__ = _CallableModule
