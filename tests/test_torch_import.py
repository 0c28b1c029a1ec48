"""``import_torch``: any failure to import torch is one HardwareError naming the reason and the fix."""

from __future__ import annotations

import sys

import pytest

from advisor import torch_import
from advisor.errors import HardwareError


def test_torch_itself_imports():
    assert torch_import.import_torch() is sys.modules["torch"]


def test_a_missing_torch_is_a_hardware_error_and_stays_one(monkeypatch):
    monkeypatch.setattr(torch_import, "_failure", None)
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` then fails as for a torch not installed
    for _ in range(2):  # the second call raises the first reason again, not a half-imported torch's
        with pytest.raises(HardwareError) as info:
            torch_import.import_torch()
        assert info.value.message == f"torch is not installed in this Python ({sys.executable})."
        assert info.value.hint.startswith("Fix: install the torch build for this machine (README \"Set-up\"")
