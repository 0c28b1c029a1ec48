"""``import_torch``: any failure to import torch is one HardwareError naming the reason and the fix."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from advisor import torch_import
from advisor.errors import HardwareError


def test_torch_itself_imports():
    assert torch_import.import_torch() is sys.modules["torch"]


def test_a_missing_torch_is_a_hardware_error_and_stays_one(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` then fails as for a torch not installed
    for _ in range(2):  # the second call raises the first reason again, not a half-imported torch's
        with pytest.raises(HardwareError) as info:
            torch_import.import_torch()
        assert info.value.message == f"torch is not installed in this Python ({sys.executable})."
        assert info.value.hint.startswith("Fix: install the torch build for this machine (README \"Set-up\"")


# A torch whose __init__ fails part-way, as a CUDA build without its libraries does: a submodule loaded first, then
# the error. Run a second time over what it left, it fails for another reason (a half-registered C extension's).
_BROKEN_TORCH = {
    "__init__.py": "import builtins, os\n"
                   "with open(os.environ['TORCH_INITS'], 'a') as f:\n    f.write('init\\n')\n"
                   "import torch._part\n"
                   "if getattr(builtins, '_torch_registered', False):\n"
                   "    raise RuntimeError('generic_type: type already registered')\n"
                   "builtins._torch_registered = True\n"
                   "raise OSError('libcudnn.so.9: cannot open shared object file')\n",
    "_part.py": "",
}


def test_a_torch_that_fails_part_way_is_imported_once_and_never_blamed_on_the_second_try(tmp_path):
    """The first failure was kept in a module global (``_failure``), which the project forbids; now nothing is
    kept: a torch whose import failed part-way is found in ``sys.modules`` and not run again."""
    import json
    import os
    import subprocess

    (tmp_path / "torch").mkdir()
    for name, text in _BROKEN_TORCH.items():
        (tmp_path / "torch" / name).write_text(text)
    code = ("import json\nfrom advisor.errors import HardwareError\nfrom advisor.torch_import import import_torch\n"
            "out = []\nfor _ in range(3):\n    try:\n        import_torch()\n"
            "    except HardwareError as exc:\n        out.append(str(exc))\nprint(json.dumps(out))\n")
    inits = tmp_path / "inits.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(Path(torch_import.__file__).parents[1])]),
           "TORCH_INITS": str(inits)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    first, *again = json.loads(done.stdout)
    assert inits.read_text() == "init\n"  # torch's __init__ ran once for three calls
    assert first.startswith("torch cannot be imported (OSError: libcudnn.so.9: cannot open shared object file) in "
                            f"this Python ({sys.executable}).\nFix: install the torch build for this machine")
    assert len(again) == 2 and again[0] == again[1]
    assert "failed part-way earlier in this process (the first error gave the reason)" in again[0]
    assert "already registered" not in again[0] and again[0].endswith('"import torch" in a new process.')
