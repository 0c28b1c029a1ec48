"""The workload file, importable by name in the processes a DataLoader starts with ``spawn`` or ``forkserver``.

The probe child imports the file as ``advisor_workload_<hash>`` (never as ``__main__``, so that its ``if
__name__ == "__main__":`` block does not run). A forked worker inherits that module; a spawned one starts a fresh
interpreter and unpickles the dataset by its class's module name, which no folder on its path provides: every
such loader failed with "No module named 'advisor_workload_...'". A one-file shim of that name, in a folder of
its own at the end of ``sys.path`` (which spawn passes on), runs the real file under the same name, with
``__file__`` the real path and its folder first on the path, as the probe child ran it. The folder is one the
probe's parent made and removes (``ChildStart.scratch_dir``): the child ends with ``os._exit``, which runs no
clean-up of its own.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

_SHIM = '''"""advisor: the workload {path} under the name the probe imported it as, for spawned DataLoader workers."""
import importlib.util as _util
import os as _os
import sys as _sys

_path = {path}
if _os.path.dirname(_path) not in _sys.path:
    _sys.path.insert(0, _os.path.dirname(_path))
_spec = _util.spec_from_file_location(__name__, _path)
_module = _util.module_from_spec(_spec)
_sys.modules[__name__] = _module
_spec.loader.exec_module(_module)
'''


def module_name_of(path: Path) -> str:
    """The name the probe child imports the workload file as: one per file, never ``__main__``."""
    # its bytes: an ASCII locale's name for a UTF-8 file holds escaped bytes (lone surrogates) str.encode refuses
    return f"advisor_workload_{hashlib.sha1(os.fsencode(path.resolve())).hexdigest()[:12]}"


def importable_by_workers(path: Path, folder: Path) -> None:
    """Write the shim for ``path`` into ``folder`` and put the folder at the end of ``sys.path``."""
    # ascii(): a literal of ASCII only, which is the same path in a source file whatever this locale's encoding
    (folder / f"{module_name_of(path)}.py").write_text(_SHIM.format(path=ascii(str(path.resolve()))),
                                                        encoding="utf-8")
    sys.path.append(str(folder))
