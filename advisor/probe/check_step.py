"""The probe's one-step workload check, or the analysis standing in for it, and the budget that bounds the check.

The check (``advisor.workload.check_workload``: build, one batch, one training step at batch size 2) vouches for
the workload and prices the ladder. A model too big or too slow for this CPU is a result, not a broken workload:
where the analysis (fake tensors) shows that the step cannot fit the memory this process can get
(``advisor.hardware.process_memory``: a container's or ``ulimit -v``'s limit included), or prices it past
anything the probe could time (``advisor.probe.unprobed_cpu.too_slow_to_check``), the check is not run. That
price is a floor (a step's FLOPs at the measured matmul rate), so a step can still run far longer than it: a
350M-parameter GPT's check outlasted the probe's whole timeout (3 x the budget + 60 s) on a busy 2-core VM. So,
where an analysis stands ready to take over, the check is also bounded by the probe's budget: a check still
running after the whole budget is stopped (``CheckStopped``, raised by a timer signal between two operators),
and the CPU is priced from the analysis with a note, as for a model priced too slow (issue 8: "never a timeout
for a model that runs"). A check that took the whole budget leaves nothing the ladder could time: batch size
1's warm-up and two timed steps, at half the check's step each, would take twice the budget, where the ladder
gives its last-resort point half of it (``advisor.probe.ladder.LAST_RESORT_FRACTION``).
"""

from __future__ import annotations

import functools
import signal
import time
from collections.abc import Callable
from typing import Any

from advisor.hardware.process_memory import process_memory
from advisor.probe import unprobed_cpu as unprobed
from advisor.probe.cpu_peak import measure_cpu_peak
from advisor.probe.ladder import CHECK_BATCH_SIZE
from advisor.schemas import Analysis


class CheckStopped(BaseException):
    """The check ran past its bound. A BaseException: the check wraps the user's ``Exception``s as its own errors,
    and a user's ``except Exception`` must not swallow the stop either."""


def bounded(fn: Callable[[], Any], seconds: float | None) -> tuple[Any, bool]:
    """(``fn()``, False), or (None, True) where it ran past ``seconds`` and was stopped. Unbounded where
    ``seconds`` is None or no timer signal can be set here (not the main thread, no ``setitimer``). The stop
    comes between two Python-level operations: a single long operator finishes first."""
    if seconds is None or not hasattr(signal, "setitimer"):
        return fn(), False

    def stop(_signum: int, _frame: Any) -> None:
        raise CheckStopped

    try:
        previous = signal.signal(signal.SIGALRM, stop)
    except ValueError:  # not the main thread: signals cannot be handled here
        return fn(), False
    try:
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
        try:
            return fn(), False
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except CheckStopped:
        return None, True
    finally:
        signal.signal(signal.SIGALRM, previous)


def check_step(request: Any, workload: Any, devices: list[str], turn: Any, analyse: Callable[[], Analysis | None],
               progress: Callable[[float, str], None]) -> tuple[Any, Analysis | None, Any, float | None]:
    """(the one-step check's result, the analysis or None, None, None), or (None, the analysis, the CPU's profile
    from it, seconds the check ran before it was stopped or None) when the analysis stands in for the check: a step
    that does not fit this machine's memory, one priced past anything the probe could time, or a check that ran
    past the budget (see the module doc). Where the analysis is wanted it comes first, so that a step that
    obviously cannot fit is never tried (the kernel's out-of-memory killer would end the probe); a step that fails
    to allocate is caught as well."""
    import gc

    import torch

    from advisor.errors import WorkloadError
    from advisor.probe.memory_meter import is_oom
    from advisor.workload import check_workload

    threads = int(request.threads) if request.threads else torch.get_num_threads()
    out_of_memory = functools.partial(unprobed.cpu_out_of_memory, request, threads, torch)
    analysis = None
    if request.analyze and devices:
        progress(0.15, "analysing the training step (FLOPs, bytes, memory)")
        analysis = analyse()
        if analysis is not None and unprobed.step_bytes(analysis) > process_memory().available.bytes:
            return None, analysis, out_of_memory, None
        if analysis is not None and (
                peak := unprobed.too_slow_to_check(analysis, request.probe_seconds, threads, torch)) is not None:
            return None, analysis, functools.partial(unprobed.cpu_too_slow, request, peak=peak, threads=threads), None
        progress(0.3, "checking one training step")
    turn.take(0.3)  # the check's step is timed (the job's start-up), and loads the cores
    started = time.perf_counter()
    try:
        check, stopped = bounded(functools.partial(check_workload, workload, batch_size=CHECK_BATCH_SIZE),
                                 request.probe_seconds if analysis is not None else None)
    except WorkloadError as exc:
        cause = exc.__cause__
        if not request.analyze or cause is None or not is_oom(cause):
            raise
        error = exc
    else:
        if not stopped:
            return check, analysis, None, None
        gc.collect()  # the stopped step's tensors, before the op rates are timed
        seconds = time.perf_counter() - started
        peak = measure_cpu_peak(torch)
        return None, analysis, functools.partial(unprobed.cpu_too_slow, request, peak=peak, threads=threads), seconds
    # The failed step's frames hold its tensors: let them go before anything else is allocated.
    error.__traceback__ = cause.__traceback__ = None
    gc.collect()
    analysis = analysis or analyse()
    if analysis is None:
        raise error
    return None, analysis, out_of_memory, None
