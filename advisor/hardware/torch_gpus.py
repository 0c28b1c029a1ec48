"""The GPUs torch.cuda sees, asked in a fresh interpreter: ``detect_gpus``' fallback where NVML lists none that
CUDA will use (no pynvml, a container without the driver's NVML library, NVML failing, ``CUDA_VISIBLE_DEVICES``
naming MIG instances) or lists whole GPUs while CUDA sees their MIG slices.

This (parent) process never initialises CUDA, since probes fork from it and a CUDA context does not survive
``fork``; so torch is asked in a child process (a few seconds: torch's import and CUDA's start), only where the
machine has NVIDIA device nodes, and once per ``CUDA_VISIBLE_DEVICES`` value in this process.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from functools import lru_cache

from advisor.units import BYTES_PER_GIB

# torch's import and CUDA's start-up; a wedged driver must not hang `advisor hardware`.
QUERY_TIMEOUT_SECONDS = 120.0
_QUERY = ("import json, torch\n"
          "c = torch.cuda\n"
          "n = c.device_count() if c.is_available() else 0\n"
          "p = [c.get_device_properties(i) for i in range(n)]\n"
          "print(json.dumps([[d.name, d.total_memory] for d in p]))\n")


def gpu_device_nodes() -> bool:
    """Whether this machine (or container) has NVIDIA GPU device nodes (/dev/nvidia0, ...): the cheap sign that a
    GPU was passed in, checked before torch is asked."""
    return bool(glob.glob("/dev/nvidia[0-9]*"))


def query_torch_gpus() -> list[tuple[str, float]] | str:
    """[(name, memory GiB)] of the CUDA devices torch sees, in CUDA ordinal order, asked in a child process; a
    string: why torch could not say (not installed, no CUDA build, a driver error, a timeout)."""
    # The probe child's device order (PCI bus, as NVML's), so that cuda:N here is the probe's cuda:N; and -P
    # (Python 3.11+), as the probe child: a json.py or torch.py in the current folder is not imported instead.
    env = {**os.environ, "CUDA_DEVICE_ORDER": os.environ.get("CUDA_DEVICE_ORDER", "PCI_BUS_ID")}
    safe_path = ("-P",) if sys.version_info >= (3, 11) else ()
    try:
        done = subprocess.run([sys.executable, *safe_path, "-c", _QUERY], capture_output=True, text=True,
                              timeout=QUERY_TIMEOUT_SECONDS, env=env, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"asking torch failed ({type(exc).__name__})"
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"torch could not list CUDA devices ({last[:200]})"
    try:
        return [(str(name), float(total) / BYTES_PER_GIB) for name, total in json.loads(lines[-1])]
    except (ValueError, TypeError):
        return f"torch's answer could not be read ({lines[-1][:120]!r})"


@lru_cache(maxsize=4)
def torch_gpus(visible: str | None) -> tuple[tuple[str, float], ...] | str:
    """``query_torch_gpus()`` once per ``CUDA_VISIBLE_DEVICES`` value (``visible``) in this process: an API call
    detects the GPUs several times."""
    found = query_torch_gpus()
    return found if isinstance(found, str) else tuple(found)
