"""The CPU probe's twin: a copy of the probe's child, forked before anything ran, that times the user's batch.

Why: on a CPU, a training step's time depends on what the process allocated before. glibc's ``malloc``
adapts its mmap threshold and heap trimming to the sizes freed so far, and that decides how many pages each
step faults in again. Measured on a 2-core VM (torch 2.13, median ms per step at the user's batch size,
page faults per step): small_cnn at 128 ran 108 ms / 4k faults in a fresh process, 120 ms / 10k after the
workload check at batch size 2, 165 ms / 31k after a few steps at batch size 16; tabular_mlp at 512 ran
9 ms in a fresh process and 13 ms after the check and the smaller ladder points. A real training job is a
fresh process that builds its model and then runs steps at one batch size, so the point a prediction leans on
is timed in a process in that state: the child forks the twin right after importing the workload, before the
check, the analysis or any other step runs, and keeps it waiting. When the CPU probe comes to the user's
batch size (after the smallest ladder point, which prices it, and only when its warm-up and two timed steps
fit what is left of the budget, see ``advisor.probe.ladder``), the twin builds the model and measures that
batch size alone (warm-up, timed steps, memory, out-of-memory), streaming progress, while the child waits;
then it exits and the child measures the points between. A twin whose point never fits is closed unused.

Two twins, forked together, time that batch size one after the other, each half of what a lone one would
(``TwinPair``, ``ProbeOptions.target_part``; ``advisor.probe.pool`` pools them): one fresh process is one draw
from a spread of its own on a shared VM, and the mean of two is the better estimate of a job's step
(bench/README.md, "Two fresh processes for the user's batch size"). The second is skipped where the first's
start-up (model build, first step) took more than a quarter of the time the point was given and 2 s (its gain is
not worth another build of a large model), or where its warm-up and two timed steps would not fit what is left.

Linux only (``fork``), and only while PyTorch's CPU thread pool has not run in the child, since GNU OpenMP
does not survive a fork after that; elsewhere ``Twin.fork`` returns None and the child measures the user's
batch size itself, as before. The twin runs the user's code, so what it sends is data only, in the child's own
frames (``advisor.probe.frames``: length-prefixed JSON, size-limited, validated): ``ProgressFrame``s, then a
``DeviceFrame`` or an ``ErrorFrame`` (an AdvisorError, e.g. a WorkloadError from the user's code). A frame that is
not one of those is a ``ProbeError``.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import signal
import sys
import time
from typing import Any

from advisor import errors
from advisor.errors import AdvisorError, ProbeError
from advisor.probe.frames import (
    DeviceFrame,
    ErrorFrame,
    MalformedFrame,
    ProgressFrame,
    encode,
    error_class_of,
    error_frame,
    parse_child_frame,
    progress_frame,
    read_frames,
)
from advisor.probe.ladder import point_cost
from advisor.probe.lifetime import die_with_parent
from advisor.probe.measure import DeviceProbe, ProbeOptions, Report
from advisor.probe.pool import pool_profiles, timed_measurement
from advisor.schemas import DeviceProfile

TWINS = 2  # fresh processes that time the user's batch size
SECOND_TWIN_STARTUP_SHARE = 0.25  # of the point's seconds: the first twin's start-up, at most, for a second ...
SECOND_TWIN_STARTUP_SECONDS = 2.0  # ... or this, whichever is more (a first optimizer step imports torch._dynamo)


class Twin:
    """The parent's end: ``measure`` once (or ``close`` unused); the twin exits after either."""

    def __init__(self, pid: int, go_fd: int, result_fd: int, label: str = "the workload") -> None:
        self.pid = pid
        self.label = label  # the workload, as error messages name it
        self._reaped = False
        self._go_fd: int | None = go_fd
        self._result_fd: int | None = result_fd

    @classmethod
    def fork(cls, workload: Any, close_fds: tuple[int, ...] = (), fault_file: Any = None) -> Twin | None:
        """A waiting twin of this process, or None where forking is not possible here.

        The twin closes ``close_fds`` (the child's connection to advisor: only the child talks there, and its
        end of file must come when the child exits). With ``fault_file``, it writes its stack there on
        SIGUSR1 while it measures, and ignores SIGUSR1 while it waits: the parent signals the whole process
        group, and only the process running the user's code may answer (two dumps would interleave).
        """
        if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
            return None
        go_r, go_w = os.pipe()
        result_r, result_w = os.pipe()
        parent_pid = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            for fd in (go_r, go_w, result_r, result_w):
                os.close(fd)
            return None
        if pid == 0:  # the twin
            die_with_parent(parent_pid)
            for fd in (go_w, result_r, *close_fds):
                with contextlib.suppress(OSError):
                    os.close(fd)
            _serve(workload, go_r, result_w, fault_file)  # never returns
        os.close(go_r)
        os.close(result_w)
        return cls(pid, go_w, result_r, label=str(getattr(workload, "label", "the workload")))

    def measure(self, batch_size: int, budget_seconds: float, *, precision: str = "fp32",
                threads: int | None = None, report: Report | None = None, part: float = 1.0,
                raise_priority: bool = True) -> DeviceProfile | None:
        """The twin's CPU profile of ``batch_size`` alone, as ``part`` of that point's timing
        (``ProbeOptions.target_part``); None if it died without one (the caller then measures that batch size
        itself). Raises the AdvisorError the twin raised (a WorkloadError from the user's code, say).
        """
        if self._go_fd is None or self._result_fd is None:
            return None
        # The child has priced this point (advisor.probe.ladder) and times the op mix itself: neither here.
        request = {"batch_size": batch_size, "batch_sizes": [batch_size], "budget_seconds": budget_seconds,
                   "precision": precision, "threads": threads, "thread_scaling": False, "cpu_peak": False,
                   "after_ladder": False, "target_part": part, "raise_priority": raise_priority}
        try:
            os.write(self._go_fd, json.dumps(request).encode())
        except OSError:
            self.close()
            return None
        os.close(self._go_fd)
        self._go_fd = None
        result_fd, self._result_fd = self._result_fd, None
        try:
            return self._read_result(result_fd, report)
        finally:
            os.close(result_fd)
            self._reap()

    def _read_result(self, result_fd: int, report: Report | None) -> DeviceProfile | None:
        result: DeviceProfile | None = None
        try:
            for payload in read_frames(result_fd):
                frame = parse_child_frame(payload)
                if isinstance(frame, ProgressFrame):
                    if report is not None:
                        report(frame.fraction, frame.message)
                elif isinstance(frame, DeviceFrame):
                    result = frame.profile
                elif isinstance(frame, ErrorFrame):
                    raise (errors.rebuild(frame.error_class, frame.message, frame.hint)
                           or ProbeError(frame.message, hint=frame.hint))
                else:
                    raise MalformedFrame(f"a {frame.kind!r} frame, which a twin does not send")
        except MalformedFrame as exc:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            raise ProbeError(
                f"the probe of {self.label} sent a malformed message from its CPU twin ({exc.reason}).",
                hint="Fix: the workload (or a library it imports) wrote to a file descriptor it inherited from "
                "advisor's probe; remove that code.") from None
        return result

    def close(self) -> None:
        """Tell an unused twin to exit (end of input without options) and wait for it."""
        for name in ("_go_fd", "_result_fd"):
            fd = getattr(self, name)
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, None)
        self._reap()

    def _reap(self) -> None:
        if self._reaped:  # waiting twice could wait on an unrelated process that reused the pid
            return
        self._reaped = True
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(self.pid, 0)


class TwinPair:
    """``TWINS`` twins, forked together; ``measure`` times the batch size in each in turn and pools them."""

    def __init__(self, twins: list[Twin]) -> None:
        self.twins = twins

    @classmethod
    def fork(cls, workload: Any, close_fds: tuple[int, ...] = (), fault_file: Any = None) -> TwinPair | None:
        """Waiting twins of this process (see ``Twin.fork``), or None where none could be forked."""
        twins: list[Twin] = []
        for _ in range(TWINS):
            # A later twin must not hold the earlier ones' pipes: an earlier twin reads its options until the
            # end of its input, which never comes while another process keeps the write end open.
            held = tuple(fd for t in twins for fd in (t._go_fd, t._result_fd) if fd is not None)
            twin = Twin.fork(workload, close_fds=(*close_fds, *held), fault_file=fault_file)
            if twin is None:
                break
            twins.append(twin)
        return cls(twins) if twins else None

    def measure(self, batch_size: int, budget_seconds: float, *, precision: str = "fp32",
                threads: int | None = None, report: Report | None = None,
                raise_priority: bool = True) -> DeviceProfile | None:
        """The pooled CPU profile of ``batch_size`` (``Twin.measure``): the first twin given its equal part of
        ``budget_seconds``, a later one what is left where that fits (``_worth_another``); None if the first
        died without a profile."""
        profiles: list[DeviceProfile] = []
        left = budget_seconds
        try:
            for i, twin in enumerate(self.twins):
                if profiles and not _worth_another(profiles[0], budget_seconds, left):
                    break
                progress = None if report is None else _part_report(report, i, len(self.twins))
                started = time.perf_counter()
                # A lone process's timing of this point, shared: the least seconds and the precision it stops at.
                profile = twin.measure(batch_size, left / (len(self.twins) - i), precision=precision,
                                       threads=threads, report=progress, part=1 / len(self.twins),
                                       raise_priority=raise_priority)
                if profile is None:
                    break  # a twin that died: the others would likely die too
                profiles.append(profile)
                left -= max(0.0, time.perf_counter() - started - profile.startup_seconds)
        finally:
            self.close()
        return pool_profiles(profiles) if profiles else None

    def close(self) -> None:
        """Close every twin not used yet (``Twin.close``)."""
        for twin in self.twins:
            twin.close()


def _worth_another(first: DeviceProfile, budget_seconds: float, left_seconds: float) -> bool:
    """Whether another fresh process should time the point the first timed: it was timed, another start-up
    costs at most ``SECOND_TWIN_STARTUP_SHARE`` of the point's seconds or ``SECOND_TWIN_STARTUP_SECONDS``, and
    a warm-up and two timed steps fit what is left of them."""
    if (timed := timed_measurement(first)) is None:
        return False
    step = (timed.compute_seconds or 0.0) + (timed.batch_seconds or 0.0)
    most = max(SECOND_TWIN_STARTUP_SHARE * budget_seconds, SECOND_TWIN_STARTUP_SECONDS)
    return first.startup_seconds <= most and point_cost(step) <= left_seconds


def _part_report(report: Report, i: int, n: int) -> Report:
    return lambda fraction, message: report((i + fraction) / n, message)


def _serve(workload: Any, go_fd: int, result_fd: int, fault_file: Any) -> None:
    """The twin's life: wait for options, measure, answer, exit without running the parent's clean-up."""
    code = 0
    try:
        if fault_file is not None:
            faulthandler.unregister(signal.SIGUSR1)
            signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        with os.fdopen(go_fd, "rb") as go:
            request = go.read()  # blocks until the parent writes the options and closes, or exits
        if request:
            if fault_file is not None:
                faulthandler.register(signal.SIGUSR1, file=fault_file, all_threads=True)
            out = os.fdopen(result_fd, "wb")
            result_fd = -1

            def send(frame: Any) -> None:
                out.write(encode(frame))
                out.flush()

            try:
                options = ProbeOptions(**json.loads(request))
                probe = DeviceProbe(workload, "cpu", options,
                                    report=lambda fraction, text: send(progress_frame("cpu", fraction, text)))
                send(DeviceFrame(profile=probe.run()))
            except AdvisorError as exc:
                hint = exc.cli_hint if isinstance(exc.cli_hint, str) else None  # as written: the parent words it
                send(error_frame(error_class_of(exc), str(exc.cli_message), hint))
            out.flush()
    except BaseException:  # noqa: BLE001 - the parent sees no profile and measures in its own process
        code = 1
    finally:
        if result_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(result_fd)
        os._exit(code)
