"""The memory this process can get: the one place advisor reads this machine's RAM.

The machine's RAM (psutil) is not what a process may use where it lives under a limit: a Docker or Kubernetes
container, a CI runner or a systemd unit with a cgroup memory limit, or ``ulimit -v`` (RLIMIT_AS). There a 64 GiB
host hands the process 2 GiB, and a step or a real build judged against the 64 is killed by the kernel's
out-of-memory killer instead of refused. So every memory figure of this machine comes from here, each the least of:

* the machine's memory (psutil: its total, or what is available now);
* the process's cgroup memory limit, at every level from its own cgroup up (a parent's limit bounds its children
  too): cgroup v2's ``memory.max`` (``max``: no limit) less ``memory.current``, or cgroup v1's
  ``memory.limit_in_bytes`` (a page-rounded 2^63: no limit) less ``memory.usage_in_bytes``; the usage less the
  inactive file cache (``memory.stat``), which the kernel reclaims before it kills, as ``docker stats`` and
  Kubernetes' working set count it. The cgroup is the one ``/proc/self/cgroup`` names, under ``/sys/fs/cgroup``;
* RLIMIT_AS (``ulimit -v``) less the address space the process already maps.

``process_memory`` takes the root the cgroup files are read under and the readers of the address-space limit
and of the machine's memory, so tests give it fake files and limits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from advisor.units import BYTES_PER_GIB

MACHINE = "machine"
CGROUP = "cgroup"
ADDRESS_SPACE = "address_space"
# The words for each limit (DeviceProfile.memory_limit holds the key), as a user reads which one bound a figure.
LIMIT_WORDS = {CGROUP: "the container's memory limit (cgroup)",
               ADDRESS_SPACE: "the process's address-space limit (ulimit -v, RLIMIT_AS)"}
# cgroup v1 writes "no limit" as the largest page-rounded counter (9223372036854771712 with 4 KiB pages).
_V1_UNLIMITED_BYTES = 1 << 62

MemoryReader = Callable[[], tuple[float, float]]


@dataclass(frozen=True)
class MemoryFigure:
    """One figure in bytes (inf: nothing could be read), which limit bound it (``MACHINE``, ``CGROUP`` or
    ``ADDRESS_SPACE``), and that limit's own size in bytes (None for the machine's)."""

    bytes: float
    bound: str = MACHINE
    limit_bytes: float | None = None

    @property
    def gib(self) -> float:
        """The figure in GiB."""
        return self.bytes / BYTES_PER_GIB

    def limit_words(self) -> str:
        """"the container's memory limit (cgroup), 2.0 GiB" where a limit bound the figure; "" where the
        machine's own memory did."""
        if self.bound == MACHINE or self.limit_bytes is None:
            return ""
        return f"{LIMIT_WORDS[self.bound]}, {self.limit_bytes / BYTES_PER_GIB:.1f} GiB"


@dataclass(frozen=True)
class ProcessMemory:
    """``total``: the most this process may hold (its job's capacity here); ``available``: what it can still get
    now (what a step or a build about to be made may take)."""

    total: MemoryFigure
    available: MemoryFigure


def _machine_memory() -> tuple[float, float]:
    """(total, available) bytes of this machine's RAM; inf where it cannot be read."""
    import psutil

    try:
        vm = psutil.virtual_memory()
        return float(vm.total), float(vm.available)
    except (OSError, psutil.Error):  # /proc unreadable (not mounted, denied): unknown
        return math.inf, math.inf


def _address_space() -> tuple[float, float]:
    """(RLIMIT_AS's soft limit, the address space this process maps) in bytes; the limit inf where none is set
    or it cannot be read (Windows has no ``resource``)."""
    try:
        import resource

        import psutil

        soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY or soft < 0:
            return math.inf, 0.0
        return float(soft), float(psutil.Process().memory_info().vms)
    except (ImportError, OSError, ValueError):  # pragma: no cover - no resource module, or /proc unreadable
        return math.inf, 0.0


def _read_bytes(path: Path) -> float | None:
    """The number a cgroup file holds; inf for "max" (no limit); None where it is missing or unreadable."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if text == "max":
        return math.inf
    try:
        return float(int(text))
    except ValueError:
        return None


def _stat_bytes(path: Path, key: str) -> float:
    """``key``'s value in a ``memory.stat`` file; 0 where it is not there."""
    try:
        for line in path.read_text(encoding="ascii").splitlines():
            name, _, value = line.partition(" ")
            if name == key and value.strip().isdigit():
                return float(value)
    except (OSError, UnicodeDecodeError):
        pass
    return 0.0


def _levels(mount: Path, cgroup: str) -> list[Path]:
    """The process's cgroup directory under ``mount`` and each one above it, up to the mount itself. A path
    that does not exist there (a container's own cgroup mounted at the root, its host path in
    /proc/self/cgroup) is skipped: the mount is then the container's cgroup."""
    parts = [p for p in cgroup.strip().split("/") if p and p not in (".", "..")]
    dirs = [mount.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]
    return [d for d in dirs if d.is_dir()]


def _cgroup_limits(root: Path) -> list[tuple[float, float]]:
    """(limit, limit less the usage) in bytes of each cgroup level that sets a memory limit, v2 and v1."""
    try:
        lines = (root / "proc/self/cgroup").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    found = []
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":  # cgroup v2, the unified hierarchy
            mount, files = root / "sys/fs/cgroup", ("memory.max", "memory.current", "inactive_file")
        elif "memory" in controllers.split(","):  # cgroup v1's memory controller
            mount = root / "sys/fs/cgroup/memory"
            files = ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")
        else:
            continue
        for level in _levels(mount, path):
            limit = _read_bytes(level / files[0])
            if limit is None or math.isinf(limit) or limit >= _V1_UNLIMITED_BYTES:
                continue
            used = (_read_bytes(level / files[1]) or 0.0) - _stat_bytes(level / "memory.stat", files[2])
            found.append((limit, max(0.0, limit - max(0.0, used))))
    return found


def process_memory(root: Path = Path("/"), address_space: MemoryReader = _address_space,
                   machine: MemoryReader = _machine_memory) -> ProcessMemory:
    """The memory this process can get (see the module doc): its total and what is available now, each the
    least of the machine's, its cgroups' and its address-space limit's, with the one that bound it.

    Args:
        root: the directory ``proc/self/cgroup`` and ``sys/fs/cgroup`` are read under ("/" on a real machine).
        address_space: () -> (RLIMIT_AS's soft limit, address space mapped now) in bytes, the limit inf if none.
        machine: () -> (total, available) bytes of the machine's RAM.
    """
    machine_total, machine_available = machine()
    totals = [MemoryFigure(machine_total)]
    available = [MemoryFigure(machine_available)]
    for limit, headroom in _cgroup_limits(root):
        totals.append(MemoryFigure(limit, CGROUP, limit))
        available.append(MemoryFigure(headroom, CGROUP, limit))
    as_limit, as_used = address_space()
    if not math.isinf(as_limit):
        totals.append(MemoryFigure(as_limit, ADDRESS_SPACE, as_limit))
        available.append(MemoryFigure(max(0.0, as_limit - as_used), ADDRESS_SPACE, as_limit))
    # min keeps the first of equals: the machine's own figure where a limit is no tighter.
    return ProcessMemory(total=min(totals, key=lambda f: f.bytes), available=min(available, key=lambda f: f.bytes))


def limit_note(memory_gib: float, limit: str) -> str:
    """The note for a job judged on the probed machine whose profile recorded ``memory_gib`` under ``limit``
    (``DeviceProfile.memory_limit``): the fit is against the limit, not the machine's RAM."""
    return (f"this machine's memory is judged at {memory_gib:.1f} GiB, {LIMIT_WORDS[limit]} the probe ran under, "
            "not its RAM: a job here gets no more.")
