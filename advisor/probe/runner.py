"""``run_profile``: probe a workload in a child process and assemble the ``Profile``.

The parent never imports the workload file: all user code (loading, the one-step check, the analysis, the
probes) runs in ONE child process, so that a model that crashes (segfault, abort), hangs (an endless loop,
a deadlock) or exhausts the host's memory ends in a ``ProbeError`` that says what happened and where,
never in a hung or dead advisor. The parent enforces the timeout, kills the child's whole process group
(the child, its twin, its watchdog and whatever the workload started) whenever the probe ends, on every path,
and turns a ``WorkloadError`` (or any ``AdvisorError``) raised in the child into the same error here.

What crosses between the processes (``advisor.probe.frames``): to the child, a ``ChildStart`` as JSON (the
``ProbeRequest`` checked here, the parent's ``sys.path``, pid and fault file) and, for an in-memory workload
that pickles, that pickle (the API user's own object); from the child, JSON frames of at most
``frames.MAX_FRAME_BYTES``, each validated as one of the frame models. A frame that is not is a ``ProbeError``
naming the workload, and the child is stopped: the parent never unpickles what the child sends.

How the child starts:

- a workload file: a fresh interpreter (``python -c``, like multiprocessing's "spawn"), which loads the file
  itself. Not multiprocessing's "spawn" proper: that re-imports the caller's ``__main__`` in the child, which
  breaks (or reruns) a user's script that calls ``advisor.profile`` without a ``__main__`` guard;
- an in-memory ``Workload`` that pickles (module-level functions, an ``nn.Module`` object): the same, with
  the pickle sent over the socket;
- one that does not (lambdas, closures, functions defined in ``__main__``): ``fork``. A forked child cannot
  use CUDA if the parent already initialised it (refused with a clear message), nor PyTorch's CPU thread
  pool if the parent already ran a parallel operation (the child then probes the CPU on one thread, and
  says so with a warning).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor import errors
from advisor.caller import outside_stacklevel
from advisor.errors import ProbeError, ProbeNote
from advisor.output_file import path_text
from advisor.probe.child import run_forked
from advisor.probe.cuda_device import fork_refusal, in_bad_fork
from advisor.probe.defaults import import_threads_note, with_module_settings
from advisor.probe.device_notes import (
    check_notes,
    noise_notes,
    pipeline_busy_notes,
    precision_notes,
    shared_gpu_notes,
    small_batch_notes,
    too_big_notes,
)
from advisor.probe.endings import died_error, early_done_error, timeout_error
from advisor.probe.frames import (
    MAX_TEXT_CHARS,
    AnalysisFrame,
    CheckFrame,
    ChildStart,
    DeviceFrame,
    DoneFrame,
    ErrorFrame,
    HostFrame,
    InputPipelineFrame,
    LeftOutDeviceFrame,
    MalformedFrame,
    ProgressFrame,
    SingleThreadFrame,
    TurnFrame,
    UnpicklableFrame,
    WorkloadFrame,
    one_line,
    parse_child_frame,
)
from advisor.probe.lifetime import ChildProcess, Starter, fork_starter, start_fresh
from advisor.probe.output_relay import OutputRelay, output_sink, partial_sink
from advisor.probe.request import ProbeRequest
from advisor.probe.scratch import make_scratch
from advisor.probe.startup_clock import startup_notes
from advisor.probe.turns import lock_path
from advisor.schemas import HALF_PRECISIONS, Analysis, DeviceProfile, HostInfo, InputPipeline, Profile, WorkloadInfo
from advisor.schemas.missing_analysis import failed_note
from advisor.schemas.profile import MAX_WORKLOAD_PATH_CHARS
from advisor.text import show_controls
from advisor.workload import Workload, file_sha256
from advisor.workload.constants import WorkloadFile
from advisor.workload.identity import workload_name

Progress = Callable[[str, float, str], None]

# What a forked child found about this process: once PyTorch's CPU thread pool has run here, it stays, and
# every later forked child has to run on one thread (see advisor.probe.child._openmp_usable_after_fork).
_FORK_STATE = {"pool_broken": False}
_KILL_GRACE_SECONDS = 5.0  # after "done", for the child to exit on its own
_MAX_HINT_CHARS = 1000  # a child's "Fix:" as an error shows it: advisor's own are a sentence or two
_ONE_THREAD_NOTE = (
    "cpu: this process had already used PyTorch's CPU thread pool, which a forked probe cannot reuse, so the CPU "
    "probe ran on 1 thread (DeviceProfile.threads = 1). For a probe on all threads, pass the workload as a file "
    "path, or build it from functions defined in an importable module (so that it pickles).")


def run_profile(
    source: str | Path | Any,
    *,
    devices: list[str] | None = None,
    batch_size: int,
    batch_sizes: list[int] | None = None,
    probe_seconds: float = 60.0,
    precision: str = "fp32",
    threads: int | None = None,
    timeout_seconds: float | None = None,
    progress: Progress | None = None,
    analyze: bool = True,
    thread_scaling: bool = True,
    fresh_target: bool = True,
    analysis_precision: str | None = None,
    bf16_analysis: bool = False,
    raise_priority: bool = True,
    optional_gpus: bool = False,
    probe_wait_seconds: float = 0.0,
) -> Profile:
    """Probe ``source`` (a workload file path, or an ``advisor.Workload``) and return its ``Profile``.

    Args:
        devices: "cpu", "cuda:N" (default ``["cpu"]``); an empty list only checks and analyses the workload.
        batch_size: the training batch size: the top of the automatic ladder (B/8, B/4, B/2, B).
        batch_sizes: an explicit ladder instead.
        probe_seconds: time budget for probing, shared by the devices (set-up and analysis come on top, and so
            does timing the input pipeline, ``Profile.input_pipeline``: a tenth of it, within 3 to 15 s).
        precision: fp32 | tf32 | bf16 | fp16.
        threads: CPU threads for the CPU probe (default: PyTorch's, the number of physical cores).
        timeout_seconds: the child is killed after this long (default ``probe_seconds * 3 + 60``).
        progress: ``progress(device, fraction 0..1, message)``; device is "setup" before probing starts.
        analyze: also run the shape-level analysis (FLOPs per sample, bytes) used to scale to other GPUs.
        thread_scaling: on a multi-core CPU, also time the user's step at 1 thread vs all threads.
        fresh_target: on the CPU (Linux), time the user's batch size in a twin of the probe process forked
            before any step ran, in the state a real training job is in (``advisor.probe.twin``); False
            times it in the probe process itself, after the workload check.
        analysis_precision: the precision the analysis is made at (the GPUs' job precision) when it is not
            ``precision`` (``recommend`` probes this CPU in fp32 for a bf16 GPU job); None: ``precision``.
        bf16_analysis: also analyse at bf16, last (``Profile.bf16_analysis``); ignored where the analysis is
            16-bit already.
        raise_priority: on a CPU that other processes are using, time each window at raised scheduling priority
            (nice -20) where this process may (``advisor.probe.priority``: root or CAP_SYS_NICE); the profile's
            notes say when it did.
        optional_gpus: the GPUs in ``devices`` are every one NVML lists ("auto"): one torch cannot use (a
            CPU-only torch build, a driver older than torch's CUDA) is left out, and the profile's notes say why.
        probe_wait_seconds: the most to wait for another advisor probe here to finish timing (0: no turns).

    Raises:
        WorkloadError: the workload is broken (the same message the child found), or the batch size is not a
            positive whole number.
        ConfigError, HardwareError: another setting is invalid (checked before any process starts).
        ProbeError: the child crashed, hung past the timeout, sent a malformed message, or nothing fitted in
            memory on any device.
    """
    request = ProbeRequest.build(
        workload_path=None if isinstance(source, Workload) else str(Path(source).absolute()),
        workload_label=None if isinstance(source, Workload) else str(Path(source)),
        devices=["cpu"] if devices is None else [devices] if isinstance(devices, str) else _listed("devices", devices),
        batch_size=batch_size, batch_sizes=None if batch_sizes is None else _listed("batch_sizes", batch_sizes),
        probe_seconds=probe_seconds, precision=precision, threads=threads, analyze=bool(analyze),
        thread_scaling=bool(thread_scaling), fresh_target=bool(fresh_target), timeout_seconds=timeout_seconds,
        analysis_precision=analysis_precision, raise_priority=bool(raise_priority), optional_gpus=bool(optional_gpus),
        probe_wait_seconds=probe_wait_seconds,
        bf16_analysis=bool(analyze and bf16_analysis) and (analysis_precision or precision) not in HALF_PRECISIONS)
    started = time.perf_counter()
    notify: Progress = progress or (lambda device, fraction, message: None)
    notify("setup", 0.0, "starting the probe process")
    label, info = _describe(source)
    collected = _probe(source, request, notify, label)
    info = with_module_settings(info, collected.defaults, in_memory=isinstance(source, Workload))
    notes = _notes(collected, request, source)
    stacklevel = outside_stacklevel()  # the user's line, however deep in advisor this was called from
    for note in notes:  # raw in Profile.notes; Python prints a warning as it is, so terminal escapes shown
        warnings.warn(show_controls(note, multiline=True), ProbeNote, stacklevel=stacklevel)
    return collected.profile(info, label, notes, probe_wall_seconds=time.perf_counter() - started)


def _notes(collected: _Collected, request: ProbeRequest, source: Any) -> list[str]:
    """The profile's notes, from what the child sent and, for a file read once (``WorkloadFile``), whether it
    changed on disk by the end of the probe."""
    return (([_ONE_THREAD_NOTE] if collected.single_thread else []) + too_big_notes(collected.devices)
            + noise_notes(collected.devices, shapes_vary=bool(collected.check and collected.check.shape_note),
                          cores=collected.host.cpu.logical_cores if collected.host else None,
                          os_name=collected.host.os_name if collected.host else None)
            + precision_notes(collected.devices, request.precision) + small_batch_notes(collected.devices)
            + shared_gpu_notes(collected.devices)
            + [n for n in (collected.turn_note, collected.input_note, collected.bf16_note) if n] + collected.left_out
            + ([failed_note(collected.analysis_failure)] if collected.analysis_failure else [])
            + import_threads_note(collected.defaults, request.workload_label, request.devices)
            + check_notes(collected.check, request.probe_seconds, collected.devices)
            + pipeline_busy_notes(collected.input_pipeline) + startup_notes(collected.devices, collected.host)
            + ([source.changed_note()] if isinstance(source, WorkloadFile) and source.changed_on_disk() else []))


def _describe(source: Any) -> tuple[str, WorkloadInfo]:
    """(how messages name the workload, what the profile says about it before the child adds to it)."""
    from advisor.workload.constants import read_file_constants
    from advisor.workload.job import declared_settings, positive_int

    if isinstance(source, Workload):
        return source.label, WorkloadInfo(
            name=source.name, path=path_text(source.path) if source.path else None, file_sha256=source.file_sha256,
            # what it was given, where usable: a default that the call's values replace may be anything
            dataset_size=positive_int(source.dataset_size), epochs=positive_int(source.epochs),
            batch_size=positive_int(source.batch_size),
            **declared_settings(source.job_constants()))
    path = source if isinstance(source, Path) else Path(source)  # a WorkloadFile: the command's one reading
    sha = None
    with contextlib.suppress(OSError):
        sha = file_sha256(path)
    # The job settings the file declares, read from its text (never run here), so the profile carries them, and
    # those it set in a way not read or under a near-miss name (``BATCHSIZE``), so that a prediction from the
    # profile notes them as one from the file does (a name longer than the schema holds is left out).
    constants = read_file_constants(path)
    near = {name: miss for name, miss in constants.near_misses.items() if len(name) <= 200}
    text = path_text(path) or str(path)  # the child's messages name it so too (advisor.probe.frames)
    # Stored absolute: the history tells two projects' train.py apart by it (advisor.history.name_paths).
    full = path_text(os.path.abspath(path)) or text
    return text, WorkloadInfo(name=workload_name(path), path=full if len(full) <= MAX_WORKLOAD_PATH_CHARS else text,
                              file_sha256=sha, unread=constants.unread, near_misses=near,
                              **declared_settings(constants.values))


def _probe(source: Any, request: ProbeRequest, notify: Progress, label: str) -> _Collected:
    """What the child sent, from a fresh interpreter when it can, else from a fork of this process."""
    if not isinstance(source, Workload):
        collected = _run_child(start_fresh, request, notify, label)  # same cwd
        assert collected is not None  # only a pickled workload comes back "unpicklable"
        return collected
    pickled = _pickle(source)
    if pickled is not None:  # a fresh interpreter, as for a file
        collected = _run_child(start_fresh, request, notify, label, pickled=pickled)
        if collected is not None:
            return collected
    # Does not pickle, or the fresh interpreter could not load the pickle: fork.
    _check_fork_is_safe(request.devices)
    collected = _run_child(fork_starter(source, run_forked), request, notify, label, forked=True,
                           single_thread=_FORK_STATE["pool_broken"])
    assert collected is not None
    if collected.single_thread:
        _FORK_STATE["pool_broken"] = True
    return collected


@dataclass
class _Collected:
    """What the child reported, frame by frame."""

    host: HostInfo | None = None
    defaults: WorkloadFrame | None = None
    check: CheckFrame | None = None
    analysis: Analysis | None = None
    bf16_analysis: Analysis | None = None
    devices: list[DeviceProfile] = field(default_factory=list)
    input_pipeline: InputPipeline | None = None
    input_note: str | None = None  # why the input pipeline was not timed
    input_done: bool = False  # the input pipeline's frame came: all that is left is the bf16 analysis
    bf16_note: str | None = None  # why the bf16 analysis that was asked for is missing
    analysis_failure: str | None = None  # why the analysis failed, and its fix (None: it did not, or was not run)
    single_thread: bool = False
    left_out: list[str] = field(default_factory=list)  # why a GPU of "auto" was not probed
    waited_seconds: float | None = None  # for another probe's timing (advisor.probe.turns); None: no turn taken
    turn_note: str | None = None

    def take(self, frame: Any, request: ProbeRequest) -> None:
        """Keep what ``frame`` reports; ``MalformedFrame`` for a profile of a device not asked for, or a second."""
        if isinstance(frame, HostFrame):
            self.host = frame.host
        elif isinstance(frame, WorkloadFrame):
            self.defaults = frame
        elif isinstance(frame, CheckFrame):
            self.check = frame
        elif isinstance(frame, AnalysisFrame) and frame.bf16:
            self.bf16_analysis = frame.analysis if request.bf16_analysis else None
            if frame.failure and self.analysis is not None:
                self.bf16_note = (f"the bf16 analysis failed ({one_line(frame.failure)}): a 16-bit job is priced "
                                  "from the fp32 analysis with its bytes retyped to 16 bits (an approximation).")
        elif isinstance(frame, AnalysisFrame):
            self.analysis = frame.analysis
            failure = one_line(frame.failure) if frame.failure else None
            self.analysis_failure = None if frame.analysis else failure or self.analysis_failure
        elif isinstance(frame, DeviceFrame):
            device = frame.profile.device
            if device not in request.devices or any(d.device == device for d in self.devices):
                raise MalformedFrame(f"a profile of {device[:64]!r}, which was not asked for or came twice")
            self.devices.append(frame.profile)
            self.devices.sort(key=lambda d: request.devices.index(d.device))  # the CPU's may come last (child._run)
        elif isinstance(frame, InputPipelineFrame):
            note = one_line(frame.note) if frame.note else None
            self.input_pipeline, self.input_note, self.input_done = frame.pipeline, note, True
        elif isinstance(frame, SingleThreadFrame):
            self.single_thread = True
        elif isinstance(frame, TurnFrame):
            self.waited_seconds, self.turn_note = frame.waited_seconds, frame.note
        elif isinstance(frame, LeftOutDeviceFrame) and request.optional_gpus and frame.device in request.devices:
            self.left_out.append(f"{frame.device}: not probed: {one_line(frame.reason)}")

    def missing(self, request: ProbeRequest) -> list[str]:
        """What an honest child sends before "done" and did not: the workload's constants, the check, a profile
        (or a reason it was left out) of each device asked for."""
        gone = {d for d in request.devices if any(n.startswith(f"{d}: not probed:") for n in self.left_out)}
        return ([] if self.defaults else ["workload constants"]) + ([] if self.check else ["workload check"]) + [
            f"{d} profile" for d in request.devices if d not in gone and all(p.device != d for p in self.devices)]

    def profile(self, info: WorkloadInfo, label: str, notes: list[str], probe_wall_seconds: float) -> Profile:
        """The ``Profile``; ``ProbeError`` when nothing fitted in memory on any device."""
        # Counts of a job's range only (WorkloadFrame): the child sends -5 or 10^13 as text, shown not used
        defaults = self.defaults.model_dump(include={"dataset_size", "epochs", "batch_size"}) if self.defaults else {}
        unusable = dict(self.defaults.unusable) if self.defaults else {}
        info = info.model_copy(update={
            **{k: v for k, v in defaults.items() if v is not None},
            "unusable_defaults": unusable,
            "param_count": self.check.param_count if self.check else None,
            "optimizer": self.check.optimizer if self.check else None,
            "flops_per_sample": self.analysis.flops_per_sample if self.analysis else None,
        })
        # A device that timed nothing because not even one step fitted its budget (DeviceProfile.skipped), or a
        # CPU one step did not fit in memory but whose op rates were timed, is a result when the model was
        # analysed: its estimate comes from the analysis (advisor.predictor.cpu_roofline). Out of memory on a
        # device with nothing to price it by is not.
        priced = self.analysis is not None
        if self.devices and not any(d.largest_batch_size or d.skipped or (priced and d.cpu_peak is not None)
                                    for d in self.devices):
            raise ProbeError(
                f"{label}: the model ran out of memory on "
                + ", ".join(f"{d.device} (even at batch size {d.oom_batch_size})" for d in self.devices) + ".",
                hint="Fix: probe a smaller model, or a device with more memory (bf16/fp16 precision also halves "
                "activation memory).")
        return Profile(workload=info, host=self.host, devices=self.devices, analysis=self.analysis,
                       bf16_analysis=self.bf16_analysis if self.analysis else None, input_pipeline=self.input_pipeline,
                       probe_wall_seconds=probe_wall_seconds, probe_wait_seconds=self.waited_seconds or 0.0,
                       notes=notes)


def _pickle(workload: Workload) -> bytes | None:
    """The workload pickled for a fresh interpreter, or None if it does not pickle (or needs ``__main__``)."""
    try:
        data = pickle.dumps(workload, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return None
    return None if b"__main__" in data else data


def _check_fork_is_safe(devices: list[str]) -> None:
    torch = sys.modules.get("torch")
    if torch is None or not any(d.startswith("cuda") for d in devices):
        return
    # What this process can tell without starting CUDA: CUDA started here, or this process is itself a fork of
    # one that had (its forks inherit that). A torch.cuda.is_available() call leaves neither trace, only its
    # forks are marked: the forked child checks that itself (cuda_device.cuda_problem) with the same message.
    if torch.cuda.is_initialized() or in_bad_fork(torch):
        raise fork_refusal()


def _listed(name: str, value: Any) -> list:
    """A list argument of the API as a list; a ConfigError for a string or a lone value (``batch_sizes="8,16"``
    would otherwise be probed character by character)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset, range)):
        example = "[8, 16, 32]" if name == "batch_sizes" else '["cpu", "cuda:0"]'
        raise errors.ConfigError(f"{name} must be a list, got {value!r:.80} ({type(value).__name__}).",
                                 hint=f"Fix: e.g. {name}={example}.")
    return list(value)


def _run_child(starter: Starter, request: ProbeRequest, notify: Progress, label: str, *,
               pickled: bytes | None = None, forked: bool = False, single_thread: bool = False) -> _Collected | None:
    """Start the child, take its frames until "done", and return what it sent (None: "unpicklable"). The
    child's process group is killed on the way out, whatever happened."""
    # One private folder per probe, removed after it: the fault-handler dump and the workload's import shim (a
    # parent killed with SIGKILL leaves this one folder, which the next probe removes).
    scratch = make_scratch()
    fault_file = os.path.join(scratch, "advisor-probe-fault.stack")
    with open(fault_file, "w"):
        pass
    start = ChildStart(request=request, sys_path=list(sys.path), fault_file=fault_file, parent_pid=os.getpid(),
                       pickled=pickled is not None, forked=forked, single_thread=single_thread, scratch_dir=scratch,
                       turn_lock=lock_path() if request.probe_wait_seconds > 0 else None)
    sink = output_sink(notify)  # the workload's prints drawn above a progress bar, not through it
    relay = OutputRelay(sink, partial_sink(notify)) if sink is not None else None
    try:
        child = starter(start, pickled, **({"output_fd": relay.write_fd} if relay else {}))
        try:
            if relay:
                relay.started()
            return _exchange(child, request, notify, label, fault_file, pickled=pickled is not None)
        finally:
            child.end()
    finally:
        if relay:
            relay.close()  # after the group ended: its last lines shown before the bar goes
        shutil.rmtree(scratch, ignore_errors=True)


def _exchange(child: ChildProcess, request: ProbeRequest, notify: Progress, label: str,
              fault_file: str, *, pickled: bool = False) -> _Collected | None:
    collected = _Collected()
    phase = "starting"
    started = time.monotonic()
    while True:
        waited = request.probe_wait_seconds if collected.waited_seconds is None else collected.waited_seconds
        left = started + request.timeout + waited - time.monotonic()  # a turn's (bounded) wait on top
        if left <= 0 and request.bf16_analysis and collected.input_done:
            # Only the bf16 analysis, an extra that runs last, was still going: the profile stands without it.
            child.end()
            collected.bf16_note = (
                f"the bf16 analysis did not finish within the probe's {request.timeout:.0f} s and was stopped: a "
                "16-bit job is priced from this analysis with its bytes retyped to 16 bits (an approximation). "
                "Fix: a larger --probe-seconds gives it more time.")
            return collected
        if left <= 0:
            raise timeout_error(child, label, phase, request, fault_file, turn_seconds=waited,
                                turn_taken=collected.waited_seconds is not None)
        try:
            payloads, closed = child.receive(min(left, 0.25))
            for payload in payloads:
                frame = parse_child_frame(payload)
                if isinstance(frame, ProgressFrame):
                    phase = frame.message if frame.device == "setup" else f"probing {frame.message}"
                    notify(frame.device, frame.fraction, frame.message)
                elif isinstance(frame, ErrorFrame):
                    raise _child_error(frame, label)
                elif isinstance(frame, UnpicklableFrame):
                    if not pickled:  # only a child sent a pickle can fail to load one
                        raise MalformedFrame("an 'unpicklable' message, though no pickle was sent")
                    return None
                elif isinstance(frame, DoneFrame):
                    if collected.missing(request):
                        raise early_done_error(label, phase, collected.missing(request))
                    child.wait_status(_KILL_GRACE_SECONDS)
                    return collected
                else:
                    collected.take(frame, request)
        except MalformedFrame as exc:
            raise _malformed_error(label, phase, exc.reason) from None
        if closed or (not payloads and child.status() is not None and not child.readable()):
            raise died_error(child, label, phase, request, fault_file)


def _child_error(frame: ErrorFrame, label: str) -> Exception:
    """The error the child sent, as advisor's own class, its message naming the workload: the child runs the
    workload's code, which can forge one ("ADVISOR_DATABASE_URL is invalid", with a hint of its own), so a
    message that does not start with the workload's name gets it ("model.py: the probe reported: ..."), and its
    hint says it is the probe's too ("Fix: the probe reported: ..."). Both are one line with their control
    characters shown (``\\x1b``): a forged newline printed a "Fix: advisor says buy 8 x H100" line of its own,
    as if advisor's."""
    text = _reported(frame.message, MAX_TEXT_CHARS)
    message = text if text.startswith(label) else f"{label}: the probe reported: {text}"
    hint = None
    if frame.hint is not None:
        advice = _reported(frame.hint, _MAX_HINT_CHARS)
        hint = f"Fix: the probe reported: {advice.removeprefix('Fix:').strip()}"
    known = errors.rebuild(frame.error_class, message, hint)
    if known is not None:
        return known
    tb = frame.traceback or ""
    last = [line for line in tb.strip().splitlines() if line.strip()]
    return ProbeError(
        f"{label}: the probe failed unexpectedly: {text}"
        + (f"\n  at {show_controls(last[-3].strip())}" if len(last) >= 3 else ""),
        hint="Fix: this is probably a bug in advisor; please report it with the traceback below.\n" + tb)


def _reported(text: str, limit: int) -> str:
    """Text the child sent, as an error shows it: one line, its control characters shown, at most ``limit``
    characters."""
    text = show_controls(one_line(text))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _malformed_error(label: str, phase: str, reason: str) -> ProbeError:
    return ProbeError(
        f"the probe of {label} sent a malformed message ({reason}) while {phase}, and was stopped.",
        hint="Fix: the workload (or a library it imports) writes to a file descriptor it inherited from advisor's "
        "probe (its channel back to advisor); remove that code. If it does not, please report this as a bug in "
        "advisor.")
