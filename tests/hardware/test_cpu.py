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


def test_detect_cpu_where_proc_and_sys_cannot_be_read_counts_logical_cores_and_leaves_memory_unknown(
        monkeypatch, tmp_path):
    """/proc and /sys not mounted (a minimal sandbox): psutil's core count and RAM raised, and the RAM's inf
    reached CpuInfo's finite memory_gib (an audit: `advisor hardware` and every probe ended in a traceback)."""
    import functools
    import math

    import psutil

    from advisor.hardware import process_memory

    def cpu_count(logical: bool = True) -> int:
        if not logical:
            raise FileNotFoundError(2, "No such file or directory", "/sys/devices/system/cpu/cpu1/topology")
        return 4

    def denied() -> None:
        raise psutil.AccessDenied()

    monkeypatch.setattr(psutil, "cpu_count", cpu_count)
    monkeypatch.setattr(psutil, "virtual_memory", denied)
    monkeypatch.setattr(process_memory, "process_memory", functools.partial(  # no cgroup files, no ulimit -v
        process_memory.process_memory, root=tmp_path, address_space=lambda: (math.inf, 0.0)))
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(4)), raising=False)
    cpu = detect_cpu()
    assert (cpu.physical_cores, cpu.logical_cores) == (4, 4)
    assert cpu.memory_gib is None and cpu.memory_limit is None
