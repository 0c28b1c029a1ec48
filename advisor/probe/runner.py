"""``run_profile``: probe a workload in a child process and assemble the ``Profile``.

The parent never imports the workload file: all user code (loading, the one-step check, the analysis, the
probes) runs in ONE child process, so that a model that crashes (segfault, abort), hangs (an endless loop,
a deadlock) or exhausts the host's memory ends in a ``ProbeError`` that says what happened and where,
never in a hung or dead advisor. The parent enforces the timeout, kills the child's whole process group
when it is done or overdue, and turns a ``WorkloadError`` (or any ``AdvisorError``) raised in the child
into the same error here.

How the child starts:

- a workload file: a fresh interpreter (``python -c``, like multiprocessing's "spawn"), which loads the file
  itself. Not multiprocessing's "spawn" proper: that re-imports the caller's ``__main__`` in the child, which
  breaks (or reruns) a user's script that calls ``advisor.profile`` without an ``if __name__ == "__main__"``
  guard;
- an in-memory ``Workload`` that pickles (module-level functions, an ``nn.Module`` object): the same, with
  the pickle sent over the socket;
- one that does not (lambdas, closures, functions defined in ``__main__``): ``fork``. A forked child cannot
  use CUDA if the parent already initialised it (refused with a clear message), nor PyTorch's CPU thread
  pool if the parent already ran a parallel operation (the child then probes the CPU on one thread, and
  says so with a warning).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import advisor
from advisor import errors
from advisor.errors import ConfigError, HardwareError, ProbeError, WorkloadError, did_you_mean
from advisor.schemas import Analysis, DeviceProfile, HostInfo, Precision, Profile, WorkloadInfo

Progress = Callable[[str, float, str], None]

_ADVISOR_ROOT = str(Path(advisor.__file__).resolve().parent.parent)
# What a forked child found about this process: once PyTorch's CPU thread pool has run here, it stays, and
# every later forked child has to run on one thread (see advisor.probe.child._openmp_usable_after_fork).
_FORK_STATE = {"pool_broken": False}
_KILL_GRACE_SECONDS = 5.0  # after "done", for the child to exit on its own
_DUMP_WAIT_SECONDS = 2.0  # at most, after SIGUSR1, for faulthandler to write the hung child's stack


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
) -> Profile:
    """Probe ``source`` (a workload file path, or an ``advisor.Workload``) and return its ``Profile``.

    Args:
        devices: "cpu", "cuda:N" (default ``["cpu"]``); an empty list only checks and analyses the workload.
        batch_size: the training batch size: the top of the automatic ladder (B/8, B/4, B/2, B).
        batch_sizes: an explicit ladder instead.
        probe_seconds: time budget for probing, shared by the devices (set-up and analysis come on top).
        precision: fp32 | tf32 | bf16 | fp16.
        threads: CPU threads for the CPU probe (default: PyTorch's, the number of physical cores).
        timeout_seconds: the child is killed after this long (default ``probe_seconds * 3 + 60``).
        progress: ``progress(device, fraction 0..1, message)``; device is "setup" before probing starts.
        analyze: also run the shape-level analysis (FLOPs per sample, bytes) used to scale to other GPUs.
        thread_scaling: on a multi-core CPU, also time the user's step at 1 thread vs all threads.
        fresh_target: on the CPU (Linux), time the user's batch size in a twin of the probe process forked
            before any step ran, in the state a real training job is in (``advisor.probe.twin``); False
            times it in the probe process itself, after the workload check.

    Raises:
        WorkloadError: the workload is broken (the same message the child found).
        ProbeError: the child crashed, hung past the timeout, or nothing fitted in memory on any device.
    """
    devices = ["cpu"] if devices is None else list(devices)
    job = _job(devices, batch_size, batch_sizes, probe_seconds, precision, threads, analyze, thread_scaling)
    job["fresh_target"] = bool(fresh_target)
    timeout = float(timeout_seconds) if timeout_seconds is not None else probe_seconds * 3 + 60
    if timeout <= 0:
        raise ConfigError(f"the probe timeout must be positive, got {timeout_seconds!r}.", hint="Fix: e.g. 240.")

    from advisor.workload import Workload, file_sha256

    started = time.perf_counter()
    notify: Progress = progress or (lambda device, fraction, message: None)
    notify("setup", 0.0, "starting the probe process")
    if isinstance(source, Workload):
        label = source.label
        info = WorkloadInfo(name=source.name, path=str(source.path) if source.path else None,
                            file_sha256=source.file_sha256, dataset_size=source.dataset_size,
                            epochs=source.epochs, batch_size=source.batch_size)
        pickled = _pickle(source)
        result = None
        if pickled is not None:  # a fresh interpreter, as for a file
            result = _run_child(_start_fresh, {**job, "pickled": pickled}, timeout, notify, label)
        if result is None:  # does not pickle, or the fresh interpreter could not load the pickle: fork
            _check_fork_is_safe(job["devices"])
            result = _run_child(_fork_starter(source),
                                {**job, "forked": True, "single_thread": _FORK_STATE["pool_broken"]},
                                timeout, notify, label)
            assert result is not None
            if result.get("single_thread"):
                _FORK_STATE["pool_broken"] = True
    else:
        path = Path(source)
        label = str(path)
        sha = None
        with contextlib.suppress(OSError):
            sha = file_sha256(path)
        info = WorkloadInfo(name=path.stem, path=str(path), file_sha256=sha)
        result = _run_child(_start_fresh, {**job, "path": str(path)}, timeout, notify, label)  # same cwd
        assert result is not None

    device_profiles = [DeviceProfile.model_validate(d) for d in result["devices"]]
    notes = result["notes"] + _noise_notes(device_profiles)
    for note in notes:  # also in Profile.notes, and from there in predictions and recommendations
        warnings.warn(note, RuntimeWarning, stacklevel=2)
    details = result.get("workload") or {}
    check = result.get("check") or {}
    analysis = Analysis.model_validate(result["analysis"]) if result.get("analysis") else None
    info = info.model_copy(update={
        **{k: details[k] for k in ("dataset_size", "epochs", "batch_size") if details.get(k) is not None},
        "param_count": check.get("param_count"),
        "optimizer": check.get("optimizer"),
        "flops_per_sample": analysis.flops_per_sample if analysis else None,
    })
    if device_profiles and not any(d.largest_batch_size for d in device_profiles):
        raise ProbeError(
            f"{label}: the model ran out of memory on "
            + ", ".join(f"{d.device} (even at batch size {d.oom_batch_size})" for d in device_profiles) + ".",
            hint="Fix: probe a smaller model, or a device with more memory (bf16/fp16 precision also halves "
            "activation memory).")
    host = HostInfo.model_validate(result["host"]) if result.get("host") else None
    return Profile(workload=info, host=host, devices=device_profiles, analysis=analysis,
                   probe_wall_seconds=time.perf_counter() - started, notes=notes)


# ---------------------------------------------------------------------------------------- arguments


def _job(devices: list[str], batch_size: int, batch_sizes: list[int] | None, probe_seconds: float,
         precision: str, threads: int | None, analyze: bool, thread_scaling: bool) -> dict:
    def positive_int(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value > 0

    if not positive_int(batch_size):
        raise WorkloadError(f"batch size must be a positive whole number, got {batch_size!r}.",
                            hint="Fix: pass --batch-size with a value of 1 or more.")
    if batch_sizes is not None:
        batch_sizes = list(batch_sizes)
        bad = [b for b in batch_sizes if not positive_int(b)]
        if not batch_sizes or bad:
            raise ConfigError(f"--batch-sizes must be positive whole numbers, got {batch_sizes!r}.",
                              hint="Fix: e.g. --batch-sizes 8,16,32.")
    if not isinstance(probe_seconds, (int, float)) or isinstance(probe_seconds, bool) or probe_seconds <= 0:
        raise ConfigError(f"--probe-seconds must be a positive number, got {probe_seconds!r}.",
                          hint="Fix: e.g. --probe-seconds 60.")
    precisions = get_args(Precision)
    if precision not in precisions:
        raise ConfigError(f"unknown precision {precision!r}.{did_you_mean(str(precision), precisions)}",
                          hint="Fix: use one of " + ", ".join(precisions) + ".")
    if threads is not None and not positive_int(threads):
        raise ConfigError(f"--threads must be a positive whole number, got {threads!r}.", hint="Fix: e.g. 4.")
    normalized = []
    for device in devices:
        name = str(device).strip().lower()
        name = "cuda:0" if name == "cuda" else name
        if name != "cpu" and not re.fullmatch(r"cuda:\d+", name):
            raise HardwareError(f"unknown device {device!r}.{did_you_mean(name, ['cpu', 'cuda:0'])}",
                                hint="Fix: use cpu or cuda:N.")
        if name not in normalized:
            normalized.append(name)
    return {"devices": normalized, "batch_size": batch_size, "batch_sizes": batch_sizes,
            "probe_seconds": float(probe_seconds), "precision": precision, "threads": threads,
            "analyze": bool(analyze), "thread_scaling": bool(thread_scaling), "sys_path": list(sys.path)}


NOISY_SPREAD = 0.5  # (p90 - p10) / median of the steps at the user's batch size; ~0.05-0.3 on an idle machine
OVERSUBSCRIBED = 1.5  # all threads slower than this x one thread: the cores are busy with something else


def _noise_notes(devices: list[DeviceProfile]) -> list[str]:
    """A warning for each device whose steps varied so much that its timings are not to be trusted."""
    notes = []
    for d in devices:
        fits = [m for m in d.measurements if not m.oom and m.spread is not None]
        top = max(fits, key=lambda m: m.batch_size, default=None)
        if top is not None and top.spread > NOISY_SPREAD:
            notes.append(f"{d.device}: the step time at batch size {top.batch_size} varied widely (p10-p90 spread "
                         f"{top.spread:.0%} of the median): something else was probably using the "
                         f"{'CPU' if d.kind == 'cpu' else 'GPU'} during the probe, so its timings and the "
                         "predictions made from them are unreliable. Fix: probe again on an idle machine.")
        points = {p.threads: p.compute_seconds for p in d.thread_scaling}
        full = max(points, default=1)
        if full > 1 and points[full] > OVERSUBSCRIBED * points[1]:
            notes.append(f"{d.device}: a step on all {full} threads took {points[full] / points[1]:.1f}x as long as "
                         "on 1 thread: other programs are using these cores, and PyTorch's threads wait for each "
                         "other, so the CPU timings are far slower than on an idle machine. Fix: probe again on "
                         f"an idle machine, or with fewer threads (--threads {max(1, full // 2)}).")
    return notes


def _pickle(workload: Any) -> bytes | None:
    """The workload pickled for a fresh interpreter, or None if it does not pickle (or needs ``__main__``)."""
    try:
        data = pickle.dumps(workload, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return None
    return None if b"__main__" in data else data


def _check_fork_is_safe(devices: list[str]) -> None:
    torch = sys.modules.get("torch")
    if torch is None or not any(d.startswith("cuda") for d in devices):
        return
    try:
        initialised = torch.cuda.is_initialized()
    except Exception:
        initialised = False
    if initialised:
        raise ProbeError(
            "cannot probe this in-memory workload on a GPU: it does not pickle (a lambda, a closure or a "
            "function defined in __main__), so the probe would have to fork this process, and CUDA is already "
            "initialised here, which a forked process cannot use.",
            hint="Fix: pass the workload as a file path (advisor.profile('model.py')), define its functions in "
            "an importable module, or profile before this process first uses the GPU.")


# ------------------------------------------------------------------------------------------ the child


class _Child:
    """A started child: a ``subprocess.Popen`` or a ``multiprocessing.Process``, behind one interface."""

    def __init__(self, handle: Any, conn: Any) -> None:
        self.handle = handle
        self.conn = conn

    @property
    def pid(self) -> int:
        return self.handle.pid

    def exitcode(self) -> int | None:
        if isinstance(self.handle, subprocess.Popen):
            return self.handle.poll()
        return self.handle.exitcode

    def wait(self, timeout: float) -> int | None:
        if isinstance(self.handle, subprocess.Popen):
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.handle.wait(timeout)
        else:
            self.handle.join(timeout)
        return self.exitcode()

    def dump_stacks(self) -> None:
        """SIGUSR1 to the child's process group (the child, or its twin while that measures; see
        advisor.probe.twin): faulthandler there writes where it is stuck."""
        with contextlib.suppress(OSError):
            if os.getpgid(self.pid) == self.pid:
                os.killpg(self.pid, signal.SIGUSR1)
            else:
                os.kill(self.pid, signal.SIGUSR1)

    def kill(self) -> None:
        """SIGKILL the child's process group (it and whatever it started), then the child itself."""
        with contextlib.suppress(OSError):
            if os.getpgid(self.pid) == self.pid:
                os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.handle.kill()
        self.wait(5.0)


def _start_fresh(job: dict) -> _Child:
    parent_sock, child_sock = socket.socketpair()
    code = (f"import sys; sys.path.insert(0, {_ADVISOR_ROOT!r}); "
            f"from advisor.probe.child import main; main({child_sock.fileno()})")
    try:
        proc = subprocess.Popen([sys.executable, "-c", code], pass_fds=(child_sock.fileno(),),
                                stdin=subprocess.DEVNULL, start_new_session=True)
    finally:
        child_sock.close()
    from multiprocessing.connection import Connection

    conn = Connection(parent_sock.detach())
    child = _Child(proc, conn)
    try:
        conn.send(job)
    except OSError:
        pass  # it died already: the message loop reports how
    return child


def _fork_starter(workload: Any) -> Callable[[dict], _Child]:
    def start(job: dict) -> _Child:
        from advisor.probe.child import run_forked

        ctx = multiprocessing.get_context("fork")
        parent_conn, child_conn = ctx.Pipe(duplex=True)
        with warnings.catch_warnings():  # Python 3.12+ warns about forking a multi-threaded process
            warnings.simplefilter("ignore", DeprecationWarning)
            proc = ctx.Process(target=run_forked, args=(child_conn, job, workload), name="advisor-probe",
                               daemon=False)
            proc.start()
        child_conn.close()
        return _Child(proc, parent_conn)

    return start


def _run_child(start: Callable[[dict], _Child], job: dict, timeout: float, notify: Progress,
               label: str) -> dict | None:
    """Start the child, stream its messages until "done", and return what it sent (None: "unpicklable")."""
    with tempfile.NamedTemporaryFile(prefix="advisor-probe-", suffix=".stack", delete=False) as f:
        fault_file = f.name
    job = {**job, "fault_file": fault_file, "parent_pid": os.getpid()}
    child = start(job)
    result: dict[str, Any] = {"devices": [], "notes": [], "analysis": None}
    phase = "starting"
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _timeout_error(child, label, phase, timeout, fault_file, job)
            try:
                ready = child.conn.poll(min(left, 0.25))
                message = child.conn.recv() if ready else None
            except (EOFError, OSError):
                raise _died_error(child, label, phase, fault_file, job) from None
            if message is None:
                if child.exitcode() is not None and not _has_data(child.conn):
                    raise _died_error(child, label, phase, fault_file, job)
                continue
            kind = message[0]
            if kind == "progress":
                _, device, fraction, text = message
                phase = text if device == "setup" else f"probing {text}"
                notify(device, fraction, text)
            elif kind == "note":
                result["notes"].append(message[1])
            elif kind == "single_thread":
                result["single_thread"] = True
            elif kind in ("host", "workload", "check", "analysis"):
                result[kind] = message[1]
            elif kind == "device":
                result["devices"].append(message[1])
            elif kind == "unpicklable":
                return None
            elif kind == "error":
                raise _child_error(message, label)
            elif kind == "done":
                if child.wait(_KILL_GRACE_SECONDS) is None:
                    child.kill()
                return result
    finally:
        if child.exitcode() is None:
            child.kill()
        with contextlib.suppress(OSError):
            child.conn.close()
        with contextlib.suppress(OSError):
            os.unlink(fault_file)


def _has_data(conn: Any) -> bool:
    try:
        return bool(conn.poll(0))
    except (EOFError, OSError):
        return False


def _child_error(message: tuple, label: str) -> Exception:
    _, name, text, hint, tb = message
    known = errors.rebuild(name, text, hint)
    if known is not None:
        return known
    last = [line for line in (tb or "").strip().splitlines() if line.strip()]
    return ProbeError(
        f"{label}: the probe failed unexpectedly: {text}" + (f"\n  at {last[-3].strip()}" if len(last) >= 3 else ""),
        hint="Fix: this is probably a bug in advisor; please report it with the traceback below.\n" + (tb or ""))


# ------------------------------------------------------------------------------------- crash, timeout


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(code).name
    except ValueError:
        return f"signal {code}"


_SIGNAL_CAUSE = {
    "SIGSEGV": "a segmentation fault: native code (a C/C++/CUDA extension, or torch itself on bad input) "
               "touched memory it does not own",
    "SIGBUS": "a bus error in native code",
    "SIGABRT": "an abort in native code (a failed assertion, or a fatal CUDA/driver error)",
    "SIGILL": "an illegal instruction: a binary built for a newer CPU than this one",
    "SIGFPE": "a floating-point exception in native code",
    "SIGKILL": "killed from outside, usually by the operating system's out-of-memory killer: the host ran out "
               "of RAM",
}


def _died_error(child: _Child, label: str, phase: str, fault_file: str, job: dict) -> ProbeError:
    code = child.wait(5.0)
    where = _where(fault_file, job)
    if code is not None and code < 0:
        name = _signal_name(-code)
        cause = _SIGNAL_CAUSE.get(name, "a fatal signal")
        if name == "SIGKILL":
            hint = ("Fix: probe a smaller --batch-size (or --batch-sizes), or free memory on this machine; "
                    "run the workload's step on its own to see its memory use.")
        else:
            hint = ("Fix: reproduce it outside advisor (build the model and run one training step in plain "
                    "Python) to find the failing call; a native crash is a bug in that extension or torch "
                    "build, or a sign of invalid input to it.")
        return ProbeError(f"{label}: the probe process died with {name} ({cause}) while {phase}{where}.",
                          hint=hint)
    if code is None:
        return ProbeError(f"{label}: the probe process stopped talking (its connection closed) while {phase}{where}.",
                          hint="Fix: the workload may close inherited file descriptors or fork; rerun, and "
                          "report it if it persists.")
    return ProbeError(f"{label}: the probe process exited with code {code} while {phase}{where}, without a result.",
                      hint="Fix: the workload called sys.exit() or os._exit() (or a native library ended the "
                      "process); remove that from code that runs when the model trains.")


def _timeout_error(child: _Child, label: str, phase: str, timeout: float, fault_file: str, job: dict) -> ProbeError:
    with contextlib.suppress(OSError):
        child.dump_stacks()
        _wait_for_dump(fault_file)
    child.kill()
    where = _where(fault_file, job)
    return ProbeError(
        f"{label}: the probe did not finish within {timeout:.0f} s and was stopped, while {phase}{where}.",
        hint="Fix: make sure build_model(), make_batch() and the model's forward return (an endless loop or a "
        "wait on something that never comes hangs the probe); for a model that is just slow, give more time "
        "with a larger --probe-seconds (the timeout is 3 x probe seconds + 60 s) or a smaller batch size.")


def _wait_for_dump(fault_file: str) -> None:
    """Until the child's stack dump is written (its size stops growing), at most _DUMP_WAIT_SECONDS."""
    deadline = time.monotonic() + _DUMP_WAIT_SECONDS
    size = -1
    while time.monotonic() < deadline:
        time.sleep(0.02)
        new = os.path.getsize(fault_file)
        if new and new == size:
            return
        size = new


_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<func>\S+)')


def _where(fault_file: str, job: dict) -> str:
    """' (in make_batch, model.py:12)' from the child's faulthandler dump: the innermost frame of the user's
    code (the workload file, else the innermost frame outside advisor, torch and the standard library)."""
    try:
        text = Path(fault_file).read_text(errors="replace")
    except OSError:
        return ""
    frames = [m.groupdict() for m in _FRAME.finditer(text)]  # innermost first, per thread
    if not frames:
        return ""
    user_file = job.get("path")
    chosen = None
    if user_file:
        chosen = next((f for f in frames if _same_file(f["file"], user_file)), None)
    if chosen is None:
        library = (_ADVISOR_ROOT + os.sep + "advisor", os.sep + "torch" + os.sep, sys.base_prefix, sys.prefix)
        chosen = next((f for f in frames if not any(s in f["file"] for s in library)
                       and not f["file"].startswith("<")), None)
    if chosen is None:
        return ""
    return f" (in {chosen['func']}, {Path(chosen['file']).name}:{chosen['line']})"


def _same_file(a: str, b: str) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False
