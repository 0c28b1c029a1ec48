from __future__ import annotations

import os
import sys

from advisor.hardware import detect_cpu, detect_host


def test_detect_cpu_is_sane():
    cpu = detect_cpu()
    assert cpu.model_name and cpu.model_name != "unknown CPU"
    assert cpu.arch
    assert 1 <= cpu.physical_cores <= cpu.logical_cores <= (os.cpu_count() or cpu.logical_cores)
    assert cpu.torch_threads >= 1
    assert 0.1 < cpu.memory_gib < 1e5


def test_detect_host(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # whatever is plugged in, no GPU is visible
    host = detect_host()
    assert host.gpus == []
    assert host.cuda_available is False
    assert host.python_version == ".".join(map(str, sys.version_info[:3]))
    assert host.cpu.logical_cores >= 1


def test_importing_the_package_does_not_import_torch():
    import subprocess

    code = "import sys, advisor.hardware, advisor.hardware.specs; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
