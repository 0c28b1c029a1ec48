"""What else used the CPU while the probe timed steps: other processes' CPU time, steal time and the run queue.

Why it matters (bench/README.md, "CPU accuracy under load"): PyTorch's CPU thread pool synchronises its
threads at every operator. With one core taken by another process, a step on two threads waits at each barrier
for the thread that shares its core with the intruder, one scheduler slice at a time: a wide MLP measured 12 ms a
step idle and 110 ms beside one busy loop, while the same step on one thread ran 19 ms beside it. So the probe
counts free cores before each timed window and, when the machine is busy, times on one thread with that
thread's own CPU-time clock (what the step costs, not how long the scheduler kept it waiting), and the predictor
scales one thread to the idle machine's thread count.

Linux reads ``/proc/stat`` (all CPUs' busy and steal time, and the run queue); where it cannot be read (macOS,
Windows, a sandbox that hides /proc) the timed windows' check reads psutil's CPU times instead
(``advisor.probe.cpu_times``: the others' CPU time, no steal time or run queue, recorded as unknown). Where
neither can be read, ``sample`` returns None: the windows are then timed as on an idle machine, as nothing says
otherwise, but their load is recorded as unknown (None), never as a quiet 0.0, and the probe's notes say it could
not be read (``advisor.probe.device_notes.unread_load_notes``). The source is a seam: tests pass a fake with the
same ``sample()``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from advisor.probe.priority import RAISED_NICE, ProbePriority
from advisor.processes import PROBE_PROCESS_NAME, SERVER_PROCESS_NAME
from advisor.schemas.profile import CLEAN_OTHERS_CORES, quiet

FREE_CORES_SAMPLE_SECONDS = 0.05  # how long the free-core count before a window looks


@dataclass(frozen=True)
class CpuSample:
    """Cumulative counters at one instant."""

    wall_seconds: float
    busy_seconds: float  # all CPUs: user + nice + system + irq + softirq (steal apart)
    steal_seconds: float
    own_seconds: float  # this process's CPU time, all its threads
    procs_running: int  # runnable tasks on the whole machine, this one's threads included
    # Which counters: PROC_STAT; CPU_TIMES (psutil's, off Linux) has no steal or run queue, recorded as unknown.
    measure: str = "/proc/stat"


PROC_STAT, CPU_TIMES = "/proc/stat", "psutil"  # Measurement.load_measure's values


class CpuLoadSource(Protocol):
    """Where the counters come from: /proc on Linux, a fake in tests."""

    def sample(self) -> CpuSample | None: ...


@dataclass(frozen=True)
class WindowLoad:
    """The load others put on the machine during one window."""

    others_cores: float  # CPU-seconds others used per second: 1.0 = one core's worth
    steal_fraction: float  # of the machine's CPU time, taken by the hypervisor
    run_queue: float  # runnable tasks beyond this process's own, sampled at the window's ends

    @property
    def clean(self) -> bool:
        return quiet(self.others_cores, self.steal_fraction)


class ProcStat:
    """Counters from ``/proc/stat`` and this process's CPU time."""

    def __init__(self, path: str = "/proc/stat") -> None:
        self.path = path
        self.ticks_per_second = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0

    def sample(self) -> CpuSample | None:
        try:
            with open(self.path) as fh:
                text = fh.read()
        except OSError:
            return None
        busy = steal = 0.0
        running = 0
        for line in text.splitlines():
            if line.startswith("cpu "):
                fields = [float(x) for x in line.split()[1:]]
                # user nice system idle iowait irq softirq steal (guest time is inside user already)
                busy = sum(fields[i] for i in (0, 1, 2, 5, 6) if i < len(fields)) / self.ticks_per_second
                steal = (fields[7] if len(fields) > 7 else 0.0) / self.ticks_per_second
            elif line.startswith("procs_running "):
                running = int(line.split()[1])
        return CpuSample(wall_seconds=time.monotonic(), busy_seconds=busy, steal_seconds=steal,
                         own_seconds=time.process_time(), procs_running=running)


@dataclass(frozen=True)
class TaskTimes:
    """One task's cumulative scheduler counters: CPU time it ran, and time it sat runnable waiting for a CPU."""

    cpu_seconds: float
    wait_seconds: float


def task_times(pid: int | None = None) -> TaskTimes | None:
    """``/proc/<pid>/schedstat`` (the process's main thread), or this thread's with ``pid`` None; None where
    the kernel does not provide it (not Linux, or a process that has ended).

    The run delay is what separates "slow" from "kept waiting": a task that sleeps or waits on a disk adds to
    neither counter, one that wants a CPU another process holds adds to the wait.
    """
    path = "/proc/thread-self/schedstat" if pid is None else f"/proc/{pid}/schedstat"
    try:
        with open(path) as fh:
            ran, waited = fh.read().split()[:2]
        return TaskTimes(cpu_seconds=int(ran) / 1e9, wait_seconds=int(waited) / 1e9)
    except (OSError, ValueError):
        return None


def window_load(start: CpuSample | None, end: CpuSample | None, cores: int, own_threads: int = 1) -> WindowLoad:
    """What others used between two samples (zero load when either is missing)."""
    if start is None or end is None:
        return WindowLoad(others_cores=0.0, steal_fraction=0.0, run_queue=0.0)
    wall = max(end.wall_seconds - start.wall_seconds, 1e-6)
    others = (end.busy_seconds - start.busy_seconds) - (end.own_seconds - start.own_seconds)
    steal = end.steal_seconds - start.steal_seconds
    queue = (start.procs_running + end.procs_running) / 2 - own_threads
    # /proc/stat counts in clock ticks (10 ms a CPU): over a window of a few ms one tick reads as several cores,
    # more than the machine has; no process can use more than all of them.
    return WindowLoad(others_cores=min(float(cores), max(0.0, others / wall)),
                      steal_fraction=max(0.0, steal / (wall * cores)), run_queue=max(0.0, queue))


def free_cores(source: CpuLoadSource, cores: int, seconds: float = FREE_CORES_SAMPLE_SECONDS) -> float:
    """Cores not used by other processes, over a short look (this process idle meanwhile)."""
    start = source.sample()
    time.sleep(seconds)
    load = window_load(start, source.sample(), cores, own_threads=1)
    return max(0.0, cores - load.others_cores - load.steal_fraction * cores)


def compute_threads(free: float, full: int) -> int:
    """How many threads a timed window may use: never more than the free cores (at least one)."""
    return max(1, min(full, int(free + CLEAN_OTHERS_CORES)))


def open_window(source: CpuLoadSource, full_threads: int, busiest: dict[str, Any], priority: ProbePriority,
                busy: bool = False) -> Window:
    """Before a timed window on the CPU: count the free cores, and use no more threads than that. On a busy machine
    (or when ``busy`` already), ``priority`` raised above the others' where it may be, and then every thread on the
    wall clock, as on an idle machine; else one thread timed by its own CPU-time clock. The caller sets the threads
    and the clock, and restores the priority when the window ends."""
    cores = os.cpu_count() or 1
    free = 1.0 if busy else free_cores(source, cores)
    nice = None
    if not busy and free < full_threads - CLEAN_OTHERS_CORES and priority.usable:
        if "name" not in busiest:  # who is held back, named while it still runs at its own pace
            busiest.update(busiest_other_process(probe_pids()))
        if priority.raise_():
            free, nice = float(cores), RAISED_NICE
    threads = compute_threads(free, full_threads)
    busy = busy or free < full_threads - CLEAN_OTHERS_CORES
    return Window(cores=cores, clock="thread_cpu" if busy and threads == 1 else "wall", threads=threads,
                  busiest=busiest, nice=nice)


def busiest_other_process(exclude_pids: set[int]) -> dict[str, Any]:
    """The process using the most CPU apart from ours: ``{"name": "name (pid N, 98% CPU)", "nice": its nice
    value}``, both None where none used more than 5%. Another advisor probe (its command line runs
    ``advisor.probe.child``, as do its twin and loader workers) is named as one: "another advisor probe (pid N,
    98% CPU)", the one load a user can remove by running the probes one after another; another advisor command's
    own process (``python -m advisor``, the ``advisor`` script) as "another advisor command (pid N, 98% CPU)"."""
    none: dict[str, Any] = {"name": None, "nice": None}
    try:
        import psutil
    except ImportError:  # pragma: no cover - a dependency
        return none
    procs = []
    for proc in psutil.process_iter(["pid", "name"]):
        if proc.info["pid"] in exclude_pids:
            continue
        try:
            proc.cpu_percent(None)
            procs.append(proc)
        except (psutil.Error, OSError):
            continue
    time.sleep(0.1)
    best: tuple[float, Any] | None = None
    for proc in procs:
        try:
            pct = proc.cpu_percent(None)
        except (psutil.Error, OSError):
            continue
        if pct > 5 and (best is None or pct > best[0]):
            best = (pct, proc)
    if best is None:
        return none
    pct, proc = best
    return {"name": f"{_process_name(proc)} (pid {proc.info['pid']}, {pct:.0f}% CPU)", "nice": _nice(proc)}


ANOTHER_PROBE = "another advisor probe"
# Another advisor command's own process (not its probe): ranking, pricing, fitting the history's correction, or its
# probe's set-up, which run outside the turns the probes take at timing (advisor.probe.turns). It was named by its
# executable, "python (pid N, 84% CPU)" or "advisor (pid N, 98% CPU)", which did not say it was another advisor run.
ANOTHER_COMMAND = "another advisor command"
_PROBE_MODULE = "advisor.probe.child"  # in a probe child's command line (advisor.probe.lifetime.start_fresh)
_COMMAND_NAMES = ("advisor", "advisor.exe")  # the console script, run as "python .../bin/advisor" or by itself
_OPTIONS_WITH_VALUE = ("-X", "-W", "-Q")  # the interpreter's options whose value is the next argument


def _process_name(proc: Any) -> str:
    try:
        cmdline = [str(part) for part in proc.cmdline()]
    except Exception:  # noqa: BLE001 - psutil.Error: gone, or not ours to read; named as the OS names it
        cmdline = []
    name = str(proc.info["name"])  # as the process names itself (advisor.processes), else its executable's
    if name == PROBE_PROCESS_NAME or any(_PROBE_MODULE in part for part in cmdline):
        return ANOTHER_PROBE  # by its name too: a probe forked from a Python caller has the caller's command line
    if name == SERVER_PROCESS_NAME or _advisor_command(cmdline):
        return ANOTHER_COMMAND  # by its name too: `advisor serve --workers N`'s are "python3 -c ...spawn_main..."
    return name


def _advisor_command(cmdline: list[str]) -> bool:
    """Whether ``cmdline`` runs advisor's CLI: its console script ``advisor ...``, or a Python running ``-m
    advisor`` or that script (``python /path/bin/advisor ...``, as Linux runs it), interpreter options first
    (``python3 -X importtime -m advisor``). Another program given a file called advisor (``less .../advisor``) is
    not."""
    if not cmdline:
        return False
    first = os.path.basename(cmdline[0])
    if first in _COMMAND_NAMES:
        return True
    if not first.lower().startswith("python"):
        return False
    rest, i = cmdline[1:], 0
    while i < len(rest) and rest[i].startswith("-") and rest[i] not in ("-m", "-c", "-"):
        i += 2 if rest[i] in _OPTIONS_WITH_VALUE else 1
    if i < len(rest) and rest[i] == "-m":
        return rest[i + 1:i + 2] == ["advisor"]
    return i < len(rest) and rest[i] not in ("-c", "-") and os.path.basename(rest[i]) in _COMMAND_NAMES


def _nice(proc: Any) -> int | None:
    try:
        nice = proc.nice()
    except Exception:  # noqa: BLE001 - psutil.Error: a process that ended since it was measured
        return None
    return int(nice) if isinstance(nice, int) and -20 <= nice <= 19 else None


@dataclass
class Window:
    """One timed window's set-up and the load others put on the machine during it."""

    cores: int
    clock: str
    threads: int = 1
    nice: int | None = None  # the probe's raised scheduling priority during the window (probe.priority); None: as is
    # Shared by a probe's windows: the busiest other process is looked up once (it takes a tenth of a second).
    busiest: dict[str, Any] = field(default_factory=dict)
    _start: CpuSample | None = None

    def begin(self, source: CpuLoadSource) -> None:
        self._start = source.sample() if self.cores else None

    def end(self, source: CpuLoadSource) -> dict[str, Any]:
        """The Measurement fields that describe the window (none on a GPU)."""
        if not self.cores:
            return {}
        end = source.sample()
        if self._start is None or end is None:  # not measured: unknown, which no reader may take for quiet
            return {"others_cpu_cores": None, "steal_fraction": None, "run_queue": None, "clock": self.clock,
                    "priority_nice": self.nice}
        load = window_load(self._start, end, self.cores, own_threads=self.threads)
        counted = end.measure == PROC_STAT  # psutil's CPU times count no steal and no run queue: unknown, not 0
        fields: dict[str, Any] = {"others_cpu_cores": round(load.others_cores, 3),
                                  "steal_fraction": round(min(1.0, load.steal_fraction), 4) if counted else None,
                                  "run_queue": round(load.run_queue, 2) if counted else None, "clock": self.clock,
                                  "priority_nice": self.nice, "load_measure": end.measure}
        if not load.clean or self.clock != "wall" or self.nice is not None:
            if "name" not in self.busiest:
                self.busiest.update(busiest_other_process(probe_pids()))
            fields["busiest_other"] = self.busiest["name"]
            fields["busiest_other_nice"] = self.busiest.get("nice")
        return fields


def probe_pids() -> set[int]:
    """This probe's own processes (its group: child, twin, watchdog) and the advisor process above them."""
    pids = {os.getpid(), os.getppid()}
    try:
        import psutil

        group = os.getpgid(0)
        for proc in psutil.process_iter(["pid"]):
            try:
                if os.getpgid(proc.info["pid"]) == group:
                    pids.add(proc.info["pid"])
            except OSError:
                continue
        pids.add(psutil.Process(os.getppid()).ppid())
    except (ImportError, OSError):
        pass
    except Exception:  # noqa: BLE001 - psutil.Error: a process that vanished while listed
        pass
    return pids
