"""The probe's child process: the only place where the user's code runs.

Started by ``advisor.probe.runner`` in one of two ways:

- ``main(fd)`` in a fresh interpreter (``python -c``), for a workload file or an in-memory workload that
  pickles: the job (and the pickled workload) comes over the socket ``fd``;
- ``run_forked(conn, job, workload)`` in a forked copy of the caller, for an in-memory workload that does not
  pickle (lambdas, closures, functions defined in ``__main__``).

It loads the workload, forks the CPU probe's twin (``advisor.probe.twin``: the user's batch size timed in a
process that ran nothing else; Linux), checks one training step (``advisor.workload.check_workload``),
analyses it (``advisor.probe.analysis.analyze``, optional: a failure leaves ``analysis`` None) and probes
each device, streaming tuples back over the connection:

    ("progress", device, fraction, message)   device "setup" before probing starts
    ("note", text)                            something the caller should know (a warning)
    ("single_thread",)                        forked: PyTorch's CPU thread pool is unusable, 1 thread
    ("host", dict | None)                     this machine (advisor.hardware.detect_host)
    ("workload", {...})                       name and the file's defaults
    ("check", {...})                          param_count, optimizer
    ("analysis", dict | None)
    ("device", DeviceProfile dict)
    ("error", class name, message, hint, traceback text)
    ("unpicklable", text)                     the pickled workload did not load here: fork instead
    ("done",)

Everything sent is plain data (dicts, strings, floats), so the parent never unpickles user objects. A crash
or a hang is the parent's to report: faulthandler writes the Python stack to ``job["fault_file"]`` on a
fatal signal, and on SIGUSR1 (which the parent sends before killing a child that ran past its timeout).
"""

from __future__ import annotations

import contextlib
import faulthandler
import functools
import os
import pickle
import signal
import sys
import time
import traceback
from typing import Any

from advisor.probe.lifetime import die_with_parent

SETUP = "setup"


class _Channel:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.fault_file: Any = None  # where faulthandler writes this process's stack (SIGUSR1, crashes)

    def send(self, *message: Any) -> None:
        self.conn.send(message)

    def progress(self, device: str, fraction: float, message: str) -> None:
        self.send("progress", device, float(fraction), message)


def main(fd: int) -> None:
    """Entry point of a fresh interpreter: the job arrives on the socket ``fd``."""
    from multiprocessing.connection import Connection

    conn = Connection(fd)
    job = conn.recv()
    sys.path[:] = job.get("sys_path") or sys.path
    _serve(conn, job, None)


def run_forked(conn: Any, job: dict, workload: Any) -> None:
    """Entry point of a forked child: the workload object is already here."""
    _serve(conn, job, workload)


def _serve(conn: Any, job: dict, workload: Any) -> None:
    channel = _Channel(conn)
    code = 0
    fault_file = None
    try:
        die_with_parent(job.get("parent_pid"))
        with _suppress_os_errors():
            os.setsid()  # its own process group, so that the parent can end it with everything it started
        # User code prints go to stderr: the parent's stdout may be --json output.
        with _suppress_os_errors():
            sys.stdout.flush()
            os.dup2(2, 1)
        if job.get("fault_file"):
            fault_file = open(job["fault_file"], "w")  # noqa: SIM115 - open for the process's lifetime
            faulthandler.enable(file=fault_file, all_threads=True)
            faulthandler.register(signal.SIGUSR1, file=fault_file, all_threads=True)
            channel.fault_file = fault_file
        _run(channel, job, workload)
    except BrokenPipeError:
        code = 3  # the parent is gone: nobody to tell
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent as a message
        code = 1
        with _suppress_os_errors():
            channel.send(*_error_message(exc))
    finally:
        with _suppress_os_errors():
            sys.stdout.flush()
            sys.stderr.flush()
        with _suppress_os_errors():
            conn.close()
        # Skip interpreter shutdown: a user's non-daemon thread or atexit hook must not keep the probe alive.
        os._exit(code)


def _suppress_os_errors() -> contextlib.suppress:
    return contextlib.suppress(OSError, ValueError, AttributeError)


def _error_message(exc: BaseException) -> tuple:
    from advisor.errors import AdvisorError

    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if isinstance(exc, AdvisorError):
        return ("error", type(exc).__name__, exc.message, exc.hint, tb)
    if isinstance(exc, SystemExit):  # sys.exit() in the user's code: a user error, not a crash
        return ("error", "WorkloadError", f"the workload called sys.exit({exc.code!r}) while it was probed.",
                "Fix: remove sys.exit() from code that runs when the model is built or trained (e.g. move a "
                "script's training run under `if __name__ == \"__main__\":`).", tb)
    return ("error", None, f"{type(exc).__name__}: {exc}", None, tb)


def _run(channel: _Channel, job: dict, workload: Any) -> None:
    channel.send("host", _host())
    channel.progress(SETUP, 0.05, "loading the workload")
    if workload is None:
        workload = _load(channel, job)
        if workload is None:
            return
    if job.get("forked") and (job.get("single_thread") or not _openmp_usable_after_fork(channel)):
        import torch

        torch.set_num_threads(1)
        job = {**job, "threads": 1, "thread_scaling": False}
        channel.send("single_thread")
        channel.send("note", _ONE_THREAD_NOTE)

    devices = list(job.get("devices") or [])
    # Forked first, before this process runs any step: see advisor.probe.twin.
    twin = _fork_twin(channel, job, workload, devices)
    try:
        _check_and_probe(channel, job, workload, devices, twin)
    finally:
        if twin is not None:
            twin.close()


def _check_and_probe(channel: _Channel, job: dict, workload: Any, devices: list[str], twin: Any) -> None:
    channel.send("workload", {"name": workload.name, "dataset_size": workload.dataset_size,
                              "epochs": workload.epochs, "batch_size": workload.batch_size,
                              "path": str(workload.path) if workload.path else None,
                              "file_sha256": workload.file_sha256})
    analysis = None
    if job.get("analyze", True) and not devices:
        # Only the analysis is wanted (predicting a GPU that is not here). Tracing forward, loss, backward and
        # the optimizer on fake tensors already checks the workload's structure and shapes, in seconds, where
        # one real step of a large model on this CPU can take a minute. A real step still runs when the
        # analysis fails, so a broken workload gets check_workload's clear message.
        channel.progress(SETUP, 0.3, "analysing the training step (FLOPs, bytes, memory)")
        analysis = _analysis(job, workload, channel)
    cold_start_seconds = 0.0
    if analysis is not None:
        channel.send("check", {"param_count": analysis["param_count"], "optimizer": analysis["optimizer"]})
    else:
        channel.progress(SETUP, 0.15, "checking one training step")
        from advisor.workload import check_workload

        check = check_workload(workload, batch_size=2)
        cold_start_seconds = check.seconds
        channel.send("check", {"param_count": check.param_count, "optimizer": check.optimizer_name})
        if job.get("analyze", True) and devices:
            channel.progress(SETUP, 0.3, "analysing the training step (FLOPs, bytes, memory)")
            analysis = _analysis(job, workload, channel)
    if job.get("analyze", True):
        channel.send("analysis", analysis)
    channel.progress(SETUP, 1.0, "set-up done")

    if devices:
        _probe_devices(channel, job, workload, devices, cold_start_seconds=cold_start_seconds, twin=twin)
    channel.send("done")


def _host() -> dict | None:
    """This machine (``advisor.hardware.detect_host``), detected here, where torch is imported anyway."""
    try:
        from advisor.hardware import detect_host

        return detect_host().model_dump(mode="json")
    except Exception:  # noqa: BLE001 - the profile stands without it
        return None


def _load(channel: _Channel, job: dict) -> Any:
    if job.get("path"):
        from advisor.workload import load_workload

        return load_workload(job["path"])
    try:
        return pickle.loads(job["pickled"])
    except Exception as exc:  # a module the parent had that this interpreter cannot import, ...
        channel.send("unpicklable", f"{type(exc).__name__}: {exc}")
        return None


def _analysis(job: dict, workload: Any, channel: _Channel) -> dict | None:
    try:
        from advisor.probe.analysis import analyze

        return analyze(workload, batch_sizes=(2, 8), precision=job.get("precision", "fp32")).model_dump(mode="json")
    except Exception as exc:  # noqa: BLE001 - optional: the probes stand without it
        text = str(getattr(exc, "message", exc)).splitlines()[0] if str(exc) else type(exc).__name__
        channel.progress(SETUP, 0.9, f"analysis skipped: {text}")
        return None


def _fork_twin(channel: _Channel, job: dict, workload: Any, devices: list[str]) -> Any:
    """The twin that will time the user's batch size on the CPU in a fresh state, or None (not wanted,
    an explicit ladder, not Linux, or a thread pool that would not survive the fork)."""
    if "cpu" not in devices or job.get("batch_sizes") or not job.get("fresh_target", True):
        return None
    from advisor.probe.twin import Twin

    if not job.get("forked") and not _openmp_usable_after_fork(channel):
        return None  # the workload file ran parallel work when it was imported
    return Twin.fork(workload, close_fds=(channel.conn.fileno(),), fault_file=channel.fault_file)


def _probe_devices(channel: _Channel, job: dict, workload: Any, devices: list[str],
                   cold_start_seconds: float, twin: Any = None) -> None:
    from advisor.probe.measure import DeviceProbe, ProbeOptions, nvml_index

    budget = float(job["probe_seconds"])
    started = time.perf_counter()
    nvml = None
    if any(d.startswith("cuda") for d in devices):
        try:
            from advisor.hardware.nvml import Nvml

            nvml = Nvml()
            nvml.open()
            if not nvml.available:
                nvml = None
        except Exception:
            nvml = None
    try:
        for i, device in enumerate(devices):
            left = budget - (time.perf_counter() - started)
            options = ProbeOptions(
                batch_size=int(job["batch_size"]), batch_sizes=job.get("batch_sizes"),
                budget_seconds=max(left / (len(devices) - i), 0.1 * budget / len(devices)),
                precision=job.get("precision", "fp32"), threads=job.get("threads"),
                thread_scaling=job.get("thread_scaling", True), cold_start_seconds=cold_start_seconds)
            index = None
            if nvml is not None and device.startswith("cuda"):
                index = nvml_index(int(device.partition(":")[2] or 0), nvml)

            def report(fraction: float, message: str, device: str = device) -> None:
                channel.progress(device, fraction, message)

            if device == "cpu" and twin is not None:
                options.target_measurer = functools.partial(_measure_in_twin, channel, twin, options)

            probe = DeviceProbe(workload, device, options, report=report, nvml=nvml, nvml_index=index)
            channel.send("device", probe.run().model_dump(mode="json"))
    finally:
        if nvml is not None:
            nvml.close()


def _measure_in_twin(channel: _Channel, twin: Any, options: Any, share_seconds: float, report: Any) -> Any:
    """The CPU probe's user batch size, timed by the twin (``ProbeOptions.target_measurer``)."""
    with _quiet_while_twin_works(channel):
        return twin.measure(options.batch_size, share_seconds, precision=options.precision,
                            threads=options.threads, report=report)


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


def _openmp_usable_after_fork(channel: _Channel) -> bool:
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
        except BaseException:  # noqa: BLE001
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


_ONE_THREAD_NOTE = (
    "cpu: this process had already used PyTorch's CPU thread pool, which a forked probe cannot reuse, so the CPU "
    "probe ran on 1 thread (DeviceProfile.threads = 1). For a probe on all threads, pass the workload as a file "
    "path, or build it from functions defined in an importable module (so that it pickles).")
