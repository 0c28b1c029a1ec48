"""The probe's child process: the only place where the user's code runs.

Started by ``advisor.probe.runner`` in one of two ways:

- ``main(fd)`` in a fresh interpreter (``python -c``), for a workload file or an in-memory workload that
  pickles: a ``frames.ChildStart`` (and the pickled workload) comes over the socket ``fd``;
- ``run_forked(sock, start, workload, parent_end)`` in a forked copy of the caller, for an in-memory workload
  that does not pickle (lambdas, closures, functions defined in ``__main__``).

It leads its own process group, with a watchdog in it (``advisor.probe.lifetime``), so that whatever the user's
code starts ends with the probe. It loads the workload, forks the CPU probe's twin (``advisor.probe.twin``: the
user's batch size timed in a process that ran nothing else; Linux), checks one training step
(``advisor.workload.check_workload``), analyses it (``advisor.probe.analysis.analyze``, optional: a failure
sends ``analysis`` None) and probes each device, streaming frames back (``advisor.probe.frames``, JSON only):
``HostFrame``, ``ProgressFrame`` (device "setup" before probing starts, "input" while the input pipeline is
timed), ``SingleThreadFrame`` (forked: PyTorch's CPU thread pool was unusable, one thread), ``WorkloadFrame``,
``CheckFrame``, ``AnalysisFrame``, one ``DeviceFrame`` per device, an ``InputPipelineFrame`` (the host side of a
step, ``advisor.probe.input_pipeline``, timed after the devices), the bf16 ``AnalysisFrame`` where asked, then
``DoneFrame``; or an ``ErrorFrame``, or ``UnpicklableFrame`` (the pickled workload did not load here: fork).

A crash or a hang is the parent's to report: faulthandler writes the Python stack to ``ChildStart.fault_file``
on a fatal signal, and on SIGUSR1 (which the parent sends before killing a child that ran past its timeout).
"""

from __future__ import annotations

import contextlib
import errno
import faulthandler
import functools
import os
import pickle
import signal
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from advisor.errors import AdvisorError, UnbuildableModelError
from advisor.probe import unprobed_cpu
from advisor.probe.check_step import check_step
from advisor.probe.defaults import defaults_frame
from advisor.probe.failure import exception_frame, text_of
from advisor.probe.frames import (
    CHANNEL_LOST_EXIT,
    MAX_TEXT_CHARS,
    AnalysisFrame,
    CheckFrame,
    ChildStart,
    DeviceFrame,
    DoneFrame,
    HostFrame,
    InputPipelineFrame,
    LeftOutDeviceFrame,
    SingleThreadFrame,
    UnpicklableFrame,
    child_text,
    encode,
    progress_frame,
    read_frames,
)
from advisor.probe.lifetime import die_with_parent, drop_advisor_secrets, guard_group
from advisor.probe.line_end import LineEnd, unlocked_std_streams
from advisor.probe.output_relay import output_to
from advisor.probe.request import ProbeRequest
from advisor.probe.startup_clock import PartTimer, StartupParts, timed_first_use, timed_process_start
from advisor.probe.turns import ProbeTurn
from advisor.processes import PROBE_PROCESS_NAME, name_this_process
from advisor.schemas.profile import MAX_OPTIMIZER_CHARS

if TYPE_CHECKING:  # pragma: no cover
    from advisor.probe.measure import DeviceProbe
    from advisor.probe.twin import TwinPair
    from advisor.schemas import Analysis, DeviceProfile, HostInfo
    from advisor.workload import Workload

    Held = tuple[DeviceProbe, DeviceProfile] | None  # the CPU's probe and profile, its frame waiting for the what-if

SETUP = "setup"
INPUT = "input"  # the progress of the input pipeline's measurement
_PARENT_FRAME_LIMIT_BYTES = 1 << 62  # the parent's own frames: a pickled model may be gigabytes


class _Channel:
    """The child's end of the socket to advisor. Only the process that opened it talks there: a copy of the
    child forked by the user's code (``os.fork()`` at the top of a workload file) exits at its first message
    instead of sending a second set."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.owner_pid = os.getpid()
        self.fault_file: Any = None  # where faulthandler writes this process's stack (SIGUSR1, crashes)

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, frame: BaseModel) -> None:
        if os.getpid() != self.owner_pid:
            os._exit(0)
        try:
            self.sock.sendall(encode(frame))
        except OSError as exc:
            if exc.errno in (errno.EBADF, errno.ENOTSOCK):
                raise ChannelLost from exc  # the workload closed (or reused) the descriptor it inherited
            raise

    def progress(self, device: str, fraction: float, message: str) -> None:
        self.send(progress_frame(device, fraction, message))


def main(fd: int) -> None:
    """Entry point of a fresh interpreter: the ``ChildStart`` (and the pickled workload) arrive on socket ``fd``."""
    sock = socket.socket(fileno=fd)
    incoming = read_frames(sock.fileno(), _PARENT_FRAME_LIMIT_BYTES)
    start = ChildStart.model_validate_json(next(incoming)).with_local_paths()
    pickled = next(incoming) if start.pickled else None
    sys.path[:] = start.sys_path or sys.path
    _serve(sock, start, None, pickled)


def run_forked(sock: socket.socket, start: ChildStart, workload: Any, parent_end: socket.socket,
               output_fd: int | None = None) -> None:
    """Entry point of a forked child: the workload object is already here; its output to ``output_fd`` if any."""
    output_to(output_fd)  # descriptors only: takes no stream's lock, which the caller's threads may hold (line_end)
    inherited = unlocked_std_streams()  # first: the inherited streams' locks may have been held at the fork
    parent_end.close()  # the parent's end: its end of file must come when the parent goes
    drop_advisor_secrets()  # as a fresh child's environment has them removed (advisor.probe.lifetime)
    try:
        os.setsid()  # a group (and session) of its own, as a fresh child's; the parent also sets the group
    except OSError:
        with _suppress_os_errors():
            os.setpgid(0, 0)
    _serve(sock, start, workload, None)
    del inherited  # not reached (_serve ends the process); the name holds the inherited streams until then


class ChannelLost(Exception):
    """The channel to the parent is gone from under the child: user code closed its inherited descriptor."""


def _serve(sock: socket.socket, start: ChildStart, workload: Any, pickled: bytes | None) -> None:
    channel = _Channel(sock)
    code = 0
    # A caller that ignores SIGCHLD (some daemons and workers do) passes that on through fork and exec; the kernel
    # then reaps this process's children itself, and waiting for one (the fork check, a DataLoader's) is ECHILD.
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # CUDA numbers GPUs fastest first by default; advisor numbers them as NVML (and nvidia-smi) do, in PCI bus
    # order. Before CUDA starts here, so that the probe's cuda:N is the GPU advisor names, prices and samples
    # as cuda:N. A user's own setting stands (README "Which GPU is cuda:N").
    os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    line_end, err = LineEnd(), sys.stderr
    try:
        die_with_parent(start.parent_pid)
        name_this_process(PROBE_PROCESS_NAME)  # not "python3" in ps -e, top, contention's naming (forked: the caller)
        guard_group()  # before any user code: what it starts ends with this process's group
        # User code prints go to stderr: the parent's stdout may be --json output.
        with _suppress_os_errors():
            sys.stdout.flush()
            os.dup2(2, 1)
        err = line_end.track(sys.stderr)
        sys.stdout, sys.stderr = line_end.track(sys.stdout), err
        fault_file = open(start.fault_file, "w")  # open for the process's lifetime: faulthandler writes to it
        faulthandler.enable(file=fault_file, all_threads=True)
        faulthandler.register(signal.SIGUSR1, file=fault_file, all_threads=True)
        channel.fault_file = fault_file
        _run(channel, start, workload, pickled)
    except BrokenPipeError:
        code = 3  # the parent is gone: nobody to tell
    except ChannelLost:
        code = CHANNEL_LOST_EXIT
    except BaseException as exc:  # noqa: BLE001 - user code: everything goes back to the parent as data
        code = 1
        with _suppress_os_errors():
            line_end.close_line(err)  # the parent's error then starts a line (not after a prompt)
        with _suppress_os_errors():
            channel.send(exception_frame(exc, start.request.workload_label or start.request.workload_path,
                                         start.request.workload_path))
    finally:
        with _suppress_os_errors():
            sys.stdout.flush()
            sys.stderr.flush()
        with _suppress_os_errors():
            sock.close()
        # Skip interpreter shutdown: a user's non-daemon thread or atexit hook must not keep the probe alive.
        os._exit(code)


def _suppress_os_errors() -> contextlib.suppress:
    return contextlib.suppress(OSError, ValueError, AttributeError)


def _optimizer_name(name: str | None) -> str | None:
    # the user's class name (a metaclass can make it anything), as long as a profile holds it
    return None if name is None else child_text(name, MAX_OPTIMIZER_CHARS)


def _run(channel: _Channel, start: ChildStart, workload: Any, pickled: bytes | None) -> None:
    host = _host(None if start.forked else timed_process_start())  # timed first: _host imports torch
    channel.send(HostFrame(host=host))
    channel.progress(SETUP, 0.05, "loading the workload")
    request = start.request
    import_threads = None
    if workload is None:
        import torch

        before = torch.get_num_threads()
        workload = _load(channel, request, pickled, start.scratch_dir)
        if workload is None:
            return
        # A file's top-level torch.set_num_threads(1) is what its job runs on, unless --threads replaces it: said.
        if torch.get_num_threads() != before and request.threads is None:
            import_threads = (before, torch.get_num_threads())
    if start.forked and (start.single_thread or not _openmp_usable_after_fork()):
        import torch

        torch.set_num_threads(1)
        request = request.model_copy(update={"threads": 1, "thread_scaling": False})
        channel.send(SingleThreadFrame())

    devices = list(request.devices)
    # Forked first, before this process runs any step: see advisor.probe.twin.
    twin = _fork_twin(channel, start, request, workload, devices)
    # Taken at the first timed step, after the twin's fork (which must not hold it), given up after the last.
    turn = ProbeTurn(start.turn_lock, request.probe_wait_seconds, channel)
    try:
        try:
            held = _check_and_probe(channel, request, workload, devices, twin, turn, import_threads)
        finally:
            if twin is not None:
                twin.close()
        # After the device probes, so that the loader's worker processes never share the cores with a timed step.
        turn.take(1.0)
        pipeline = _input_pipeline(channel, request, workload, cpu_name=host.cpu.model_name if host else None)
        if held is not None:  # the allocator's what-if, last: it fixes glibc's thresholds (probe.kept_memory_last)
            from advisor.probe.kept_memory_last import measure_last

            channel.send(DeviceFrame(profile=measure_last(*held)))
        channel.send(pipeline)  # after the CPU's frame: past this frame the parent waits only for the bf16 analysis
    finally:
        turn.release()
    if request.analyze and request.bf16_analysis:  # last: it takes no core from a timed step
        channel.send(AnalysisFrame(analysis=_analysis(request, workload, channel, "bf16"), bf16=True))
    channel.send(DoneFrame())


def _check_and_probe(channel: _Channel, request: ProbeRequest, workload: Workload, devices: list[str],
                     twin: TwinPair | None, turn: ProbeTurn, import_threads: tuple[int, int] | None) -> Held:
    """The check, the analysis and the devices' probes; the CPU's probe and profile where its frame waits for the
    allocator's what-if (``_probe_devices``)."""
    import torch

    from advisor.probe.cuda_device import refuse_bad_fork

    refuse_bad_fork(torch, devices)  # before the check, the analysis and the CPU's probe, which it would waste
    channel.send(defaults_frame(workload, import_threads))
    first_use = timed_first_use() if devices else None  # before the analysis pays it (advisor.probe.coldstart)
    from advisor.workload.check import varying_shapes_note

    shapes = varying_shapes_note(workload, CHECK_BATCH_SIZE)
    analysis = None
    if request.analyze and not devices:
        # Only the analysis is wanted (predicting a GPU that is not here). Tracing forward, loss, backward and
        # the optimizer on fake tensors already checks the workload's structure and shapes, in seconds, where
        # one real step of a large model on this CPU can take a minute. A real step still runs when the
        # analysis fails, so a broken workload gets check_workload's clear message.
        channel.progress(SETUP, 0.3, "analysing the training step (FLOPs, bytes, memory)")
        analysis = _analysis(request, workload, channel)
    parts = StartupParts(first_use=first_use)
    if analysis is not None:
        channel.send(CheckFrame(param_count=analysis.param_count, optimizer=_optimizer_name(analysis.optimizer),
                                shape_note=shapes))
    else:
        channel.progress(SETUP, 0.15, "checking one training step")
        timer = PartTimer()  # the check's load (its own clocks leave out the analysis before it)
        check, analysis, unprobed, stopped = check_step(
            request, workload, devices, turn, functools.partial(_analysis, request, workload, channel),
            functools.partial(channel.progress, SETUP))
        if check is None:  # too big or too slow for this CPU: the analysis stands in for the check
            analysis = analysis.model_copy(update={"optimizer": _optimizer_name(analysis.optimizer)})
            channel.send(CheckFrame(param_count=analysis.param_count, optimizer=analysis.optimizer,
                                    shape_note=shapes, stopped_seconds=stopped))
            channel.send(AnalysisFrame(analysis=analysis))
            if "cpu" in devices:
                channel.send(DeviceFrame(profile=unprobed(analysis)))
            others = [d for d in devices if d != "cpu"]
            channel.progress(SETUP, 1.0, "set-up done")
            if others:
                turn.take(1.0)
                return _probe_devices(channel, request, workload, others, parts, twin=None)
            return None
        parts = StartupParts(first_use=first_use, check=timer.stop(check.seconds, check.cpu_seconds))
        channel.send(CheckFrame(param_count=check.param_count, optimizer=_optimizer_name(check.optimizer_name),
                                shape_note=shapes, optimizer_notes=[child_text(n) for n in check.optimizer_notes]))
    if request.analyze:
        channel.send(AnalysisFrame(analysis=analysis))
    channel.progress(SETUP, 1.0, "set-up done")

    if not devices:
        return None
    turn.take(1.0)
    return _probe_devices(channel, request, workload, devices, parts, twin=twin,
                          flops_per_sample=analysis.flops_per_sample if analysis else None)


# The check step's batch size (also what the CPU is recorded to run out of memory at when it does).
CHECK_BATCH_SIZE = unprobed_cpu.CHECK_BATCH_SIZE


def _input_pipeline(channel: _Channel, request: ProbeRequest, workload: Workload,
                    cpu_name: str | None) -> InputPipelineFrame:
    """Time the host side of a step (``advisor.probe.input_pipeline``): its frame. A make_dataloader that fails
    is the user's error; a make_batch that cannot be timed on its own only leaves the pipeline out, with a note."""
    from advisor.probe.input_pipeline import input_budget_seconds, measure_input_pipeline

    try:
        pipeline = measure_input_pipeline(workload, request.batch_size, input_budget_seconds(request.probe_seconds),
                                          cpu_name=cpu_name, report=functools.partial(channel.progress, INPUT))
    except Exception as exc:  # noqa: BLE001 - user code: make_batch (optional here), make_dataloader (not)
        if workload.make_dataloader is not None:
            raise
        text = str(getattr(exc, "message", None) or text_of(exc) or type(exc).__name__).splitlines()[0]
        return InputPipelineFrame(pipeline=None, note=f"input pipeline: not timed: {text}"[:MAX_TEXT_CHARS])
    return InputPipelineFrame(pipeline=pipeline)


def _host(process_start: dict[str, Any] | None = None) -> HostInfo | None:
    """This machine (``advisor.hardware.detect_host``); HardwareError where torch cannot be imported."""
    from advisor.hardware import detect_host
    from advisor.torch_import import import_torch

    import_torch()  # first: a forked child's first import of torch is here
    try:  # torch_child: no grandchild asking torch for the GPUs NVML misses (the parent did)
        return detect_host(torch_child=False).model_copy(update=process_start or {})  # its seconds and clock
    except (AdvisorError, OSError):  # the profile stands without it
        return None


def _load(channel: _Channel, request: ProbeRequest, pickled: bytes | None, scratch_dir: str | None) -> Any:
    if request.workload_path is not None:
        from advisor.workload.loader import load_workload_for_life
        from advisor.workload.worker_import import importable_by_workers

        # As `python FILE` has it: a script's argparse names the file in its usage line (it named "-c"); a sibling
        # imported inside build_model() or a Dataset finds the file's folder first on the path, all the child's life.
        sys.argv = [request.workload_label or request.workload_path]
        workload = load_workload_for_life(request.workload_path, label=request.workload_label)
        if scratch_dir is not None:
            importable_by_workers(Path(request.workload_path), Path(scratch_dir))
        return workload
    try:
        return pickle.loads(pickled or b"")
    except Exception as exc:  # noqa: BLE001 - user code: unpickling imports the user's modules, runs __setstate__
        channel.send(UnpicklableFrame(reason=f"{type(exc).__name__}: {text_of(exc)}"[:MAX_TEXT_CHARS]))
        return None


def _analysis(request: ProbeRequest, workload: Workload, channel: _Channel,
              precision: str | None = None) -> Analysis | None:
    try:
        from advisor.probe.analysis import analyze
        analysis = analyze(workload, precision=precision or request.analysed_at, one_sample=precision is None)
    except UnbuildableModelError:
        raise  # the one-step check would build the model for real too: the probe stops with its message
    except Exception as exc:  # noqa: BLE001 - user code; optional: the probes stand without it
        text = text_of(exc)
        text = str(getattr(exc, "message", text)).splitlines()[0] if text else type(exc).__name__
        channel.progress(SETUP, 0.9, f"{precision + ' ' if precision else ''}analysis skipped: {text}")
        # The progress bar is gone with the probe: the profile's notes carry why, and the fix (AnalysisFrame)
        failure = f"{text.rstrip('.')}. {getattr(exc, 'hint', None) or ''}".strip()[:MAX_TEXT_CHARS]
        channel.send(AnalysisFrame(analysis=None, bf16=precision is not None, failure=failure))
        return None
    # The optimizer's class name is the user's (a metaclass can put a NUL in it, which a frame refuses)
    return analysis.model_copy(update={"optimizer": _optimizer_name(analysis.optimizer)})


def _fork_twin(channel: _Channel, start: ChildStart, request: ProbeRequest, workload: Workload,
               devices: list[str]) -> TwinPair | None:
    """The twin that will time the user's batch size on the CPU in a fresh state, or None (not wanted,
    an explicit ladder, not Linux, or a thread pool that would not survive the fork)."""
    if "cpu" not in devices or request.batch_sizes or not request.fresh_target:
        return None
    from advisor.probe.twin import TwinPair

    if not start.forked and not _openmp_usable_after_fork():
        return None  # the workload file ran parallel work when it was imported
    return TwinPair.fork(workload, close_fds=(channel.fileno(),), fault_file=channel.fault_file)


def _probe_devices(channel: _Channel, request: ProbeRequest, workload: Workload, devices: list[str],
                   parts: StartupParts, twin: TwinPair | None = None, flops_per_sample: float | None = None) -> Held:
    from advisor.probe.measure import DeviceProbe, ProbeOptions
    from advisor.probe.sampler import nvml_index

    if request.optional_gpus and any(d.startswith("cuda") for d in devices):
        import torch

        from advisor.probe.cuda_device import left_out_gpus

        for device, why in left_out_gpus(torch, devices).items():
            channel.send(LeftOutDeviceFrame(device=device, reason=why))
            devices = [d for d in devices if d != device]
    budget = request.probe_seconds
    held = None
    started = time.perf_counter()
    nvml = None
    if any(d.startswith("cuda") for d in devices):
        from advisor.hardware.nvml import Nvml

        nvml = Nvml()
        nvml.open()  # never raises: without a driver, ``available`` stays False
        if not nvml.available:
            nvml = None
    try:
        for i, device in enumerate(devices):
            left = budget - (time.perf_counter() - started)
            options = ProbeOptions(
                batch_size=request.batch_size, batch_sizes=list(request.batch_sizes) if request.batch_sizes else None,
                budget_seconds=max(left / (len(devices) - i), 0.1 * budget / len(devices)),
                precision=request.precision, threads=request.threads,
                thread_scaling=request.thread_scaling, startup_parts=parts, raise_priority=request.raise_priority,
                flops_per_sample=flops_per_sample, kept_memory_last=True)
            index = None
            if nvml is not None and device.startswith("cuda"):
                index = nvml_index(int(device.partition(":")[2] or 0), nvml)

            def report(fraction: float, message: str, device: str = device) -> None:
                channel.progress(device, fraction, message)

            if device == "cpu" and twin is not None:
                options.target_measurer = functools.partial(_measure_in_twin, channel, twin, options)

            probe = DeviceProbe(workload, device, options, report=report, nvml=nvml, nvml_index=index)
            profile = probe.run()
            if probe.kept_memory_later is None:
                channel.send(DeviceFrame(profile=profile))
            else:  # sent once the allocator's what-if ran, last of the child's timings (see _run)
                held = (probe, profile)
    finally:
        if nvml is not None:
            nvml.close()
    return held


def _measure_in_twin(channel: _Channel, twin: Any, options: Any, share_seconds: float, report: Any) -> Any:
    """The CPU probe's user batch size, timed by the twin (``ProbeOptions.target_measurer``)."""
    with _quiet_while_twin_works(channel):
        return twin.measure(options.batch_size, share_seconds, precision=options.precision,
                            threads=options.threads, report=report, raise_priority=options.raise_priority)


@contextlib.contextmanager
def _quiet_while_twin_works(channel: _Channel):
    """Ignore SIGUSR1 while the twin runs the user's code: the parent signals the whole process group when
    the probe hangs, and the stack it wants is the twin's (which kept faulthandler's handler), not this
    process's wait for it."""
    if channel.fault_file is None:
        yield
        return
    faulthandler.unregister(signal.SIGUSR1)
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    try:
        yield
    finally:
        faulthandler.register(signal.SIGUSR1, file=channel.fault_file, all_threads=True)


def _openmp_usable_after_fork() -> bool:
    """In a forked child, check that PyTorch's CPU thread pool still works; if not, use one thread.

    GNU OpenMP (which PyTorch's CPU kernels and MKL use) does not survive ``fork`` once the parent has run
    a parallel region: the child's first parallel operation waits forever for threads that were not copied.
    The test runs in a grandchild, so a hang costs a timeout there, not here. The caller remembers a
    failure (the parent's pool does not go away) and sends ``single_thread`` next time.
    """
    import torch

    if torch.get_num_threads() <= 1:
        return True
    pid = os.fork()
    if pid == 0:  # grandchild
        try:
            torch.ones(1 << 20).mul_(2.0).sum()
            a = torch.ones(256, 256)
            (a @ a).sum()
            os._exit(0)
        except BaseException:  # noqa: BLE001 - a forked test process: it must exit, whatever happened
            os._exit(1)
    deadline = time.monotonic() + 1.0  # the test takes milliseconds when the pool works
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return True
        time.sleep(0.01)
    with _suppress_os_errors():
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return False
