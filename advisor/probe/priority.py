"""The CPU probe's scheduling priority: raised above other processes while it times a window on a busy machine.

Why: the question a probe answers is how fast the step runs on an idle machine, and on a busy one the probe can
otherwise only time one thread on the free core and assume what the others are worth (``cpu_scaling``: a
workload's own parallel fraction, 0.6-1.0 on a 2-core VM, moves that guess by -17% to +17%). At nice -20 against a
busy loop's 0, the kernel's fair scheduler gives the probe's threads about 88 parts in 89 of each core (its
weights 88,761 and 1,024), so the busy process all but stops while a window runs. Measured on a 2-core AMD EPYC
VM beside ``python -c "while True: pass"`` (``bench/raised_priority.py``: two threads, median ms a step, idle /
beside it at nice 0 / at nice -20): tabular_mlp 8.1 / 16.2 / 8.1, small_cnn 89.2 / 259.2 / 86.2, wide_mlp
19.5 / 40.2 / 19.5 (bench/README.md, "A probe at raised priority").

How: every thread of this process gets nice -20 (``setpriority`` on its thread id; the threads PyTorch's pool
starts later inherit it from the thread that starts them), and so does its autogroup (``/proc/self/autogroup``),
where the kernel groups a terminal session's processes and shares the CPU between the groups before a thread's
nice counts: a busy process started from another terminal is in another group. Both are put back when the window
ends. It needs the privilege to raise a priority (``CAP_SYS_NICE``: root, or a container granted it); without it
``setpriority`` fails and nothing changes, and the probe times as it would have. Linux only.

Whether it worked is measured, not assumed: the window's load (``probe.contention``) says how much CPU the
others still got. Control groups with CPU weights (containers, systemd units) share the CPU between themselves
before nice counts, and there a raised window is still disturbed; the probe then stops raising
(``ProbePriority.held_back`` False) and times as it would have.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator

RAISED_NICE = -20  # the highest priority a nice value gives


class ProbePriority:
    """Raises this process's threads (and its autogroup) to ``RAISED_NICE`` and puts them back.

    ``enabled`` False (the user's choice, another OS, or no privilege found on a first try): ``raise_()`` does
    nothing and returns False. The ``/proc`` paths and ``setpriority`` are a seam for tests.
    """

    def __init__(self, enabled: bool = True, *, tasks_dir: str = "/proc/self/task",
                 autogroup_path: str = "/proc/self/autogroup",
                 getpriority: Callable[[int, int], int] | None = None,
                 setpriority: Callable[[int, int, int], None] | None = None) -> None:
        self.enabled = enabled and sys.platform.startswith("linux") and hasattr(os, "setpriority")
        self.held_back = True  # until a raised window shows the others were not held back
        self._tasks_dir = tasks_dir
        self._autogroup_path = autogroup_path
        self._get = getpriority or (lambda tid: os.getpriority(os.PRIO_PROCESS, tid))
        self._set = setpriority or (lambda tid, nice: os.setpriority(os.PRIO_PROCESS, tid, nice))
        self._saved: dict[int, int] = {}
        self._saved_autogroup: int | None = None

    @property
    def usable(self) -> bool:
        """Worth trying for the next window: enabled, and no raised window was disturbed yet."""
        return self.enabled and self.held_back

    @property
    def raised(self) -> bool:
        return bool(self._saved)

    def raise_(self) -> bool:
        """Every thread (and the autogroup) at ``RAISED_NICE``; False, with nothing changed, where not allowed."""
        if not self.usable or self.raised:
            return self.raised
        saved: dict[int, int] = {}
        try:
            for tid in self._threads():
                try:
                    saved[tid] = self._get(tid)
                    self._set(tid, RAISED_NICE)
                except ProcessLookupError:  # a thread that ended since the listing
                    saved.pop(tid, None)
        except OSError:  # PermissionError: no CAP_SYS_NICE; it will not come later in this process
            self._saved = saved
            self.restore()
            self.enabled = False
            return False
        self._saved = saved
        before = self._autogroup_nice()
        if before is not None:
            if not self._write_autogroup(RAISED_NICE):
                # Threads raised in a group that is not: a busy program in another group keeps half the CPU, and
                # the probe's threads, raised over each other only, waited 7-33x longer a step than idle
                # (bench/raised_priority.py). Better not raised at all.
                self.restore()
                self.enabled = False
                return False
            self._saved_autogroup = before
        return self.raised

    def restore(self) -> None:
        """The saved priorities back (raising a nice value needs no privilege)."""
        for tid, nice in self._saved.items():
            try:
                self._set(tid, nice)
            except OSError:  # ended meanwhile
                continue
        self._saved = {}
        if self._saved_autogroup is not None:
            self._write_autogroup(self._saved_autogroup)
            self._saved_autogroup = None

    def judge(self, *, raised: bool, clean: bool) -> None:
        """After a window: one timed raised that others still disturbed (``clean`` False) stops the raising."""
        if raised and not clean:
            self.held_back = False

    @contextlib.contextmanager
    def raised_if(self, condition: bool) -> Iterator[None]:
        """Raised (where it may be) for the block when ``condition``, put back after: steps timed like a window
        that was raised (the probe's after-ladder steps on its top point's threads)."""
        if condition:
            self.raise_()
        try:
            yield
        finally:
            self.restore()

    def _threads(self) -> list[int]:
        return sorted(int(name) for name in os.listdir(self._tasks_dir) if name.isdigit())

    def _autogroup_nice(self) -> int | None:
        """The autogroup's nice ("/autogroup-85 nice 0"); None without autogroups (a kernel built without them)."""
        try:
            with open(self._autogroup_path) as fh:
                return int(fh.read().split("nice")[1])
        except (OSError, IndexError, ValueError):
            return None

    def _write_autogroup(self, nice: int) -> bool:
        try:
            with open(self._autogroup_path, "w") as fh:
                fh.write(str(nice))
        except OSError:  # no right to lower it
            return False
        return True
