"""Local CPU detection: model name, architecture, cores, torch's thread count, memory (this process's:
``advisor.hardware.process_memory``)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

from advisor.schemas import CpuInfo


def _model_name() -> str:
    """'model name' from /proc/cpuinfo (Linux x86), else the other fields ARM kernels use, else the OS."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        try:
            fields: dict[str, str] = {}
            for line in cpuinfo.read_text(errors="replace").splitlines():
                key, sep, value = line.partition(":")
                if sep and value.strip():
                    fields.setdefault(key.strip().lower(), value.strip())
            for key in ("model name", "hardware", "cpu model", "processor"):
                value = fields.get(key)
                if value and not value.isdigit():  # x86's "processor" field is the CPU number
                    return value
        except OSError:
            pass
    if sys.platform == "darwin":
        try:
            out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True,
                                 timeout=2, check=False)
            if out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _usable_logical_cpus(total: int) -> int:
    """Logical CPUs this process may run on (the affinity mask a container or taskset sets), else ``total``."""
    try:
        return max(1, min(total, len(os.sched_getaffinity(0))))
    except (AttributeError, OSError):
        return total


def usable_logical_cpus() -> int:
    """The logical CPUs this process may run on: the most threads a probe here can use."""
    return _usable_logical_cpus(os.cpu_count() or 1)


def _torch_threads() -> int:
    """torch's CPU threads; HardwareError when torch cannot be imported (``import_torch``)."""
    from advisor.torch_import import import_torch  # lazy: `import advisor.hardware` must not import torch

    return int(import_torch().get_num_threads())


def detect_cpu() -> CpuInfo:
    """This machine's CPU. Core counts are what this process may use (its CPU affinity), not the socket's; memory
    what it may hold (``advisor.hardware.process_memory``: the RAM, or a container's or ``ulimit -v``'s limit;
    None where none of them could be read, as where /proc is not mounted)."""
    import math

    import psutil

    from advisor.hardware.process_memory import MACHINE, process_memory

    logical_total = psutil.cpu_count(logical=True) or os.cpu_count() or 1
    try:
        physical_total = psutil.cpu_count(logical=False) or logical_total
    except (OSError, psutil.Error):  # Linux reads /sys's CPU topology, which a sandbox may hide or deny
        physical_total = logical_total
    logical = _usable_logical_cpus(logical_total)
    # With an affinity mask, assume the usable share of physical cores is the usable share of logical CPUs.
    physical = max(1, min(physical_total, round(physical_total * logical / logical_total)))
    return CpuInfo(
        model_name=_model_name(),
        arch=platform.machine() or "unknown",
        physical_cores=physical,
        logical_cores=logical,
        torch_threads=_torch_threads(),
        memory_gib=None if math.isinf((total := process_memory().total).bytes) else total.gib,
        memory_limit=None if total.bound == MACHINE else total.bound,
    )
