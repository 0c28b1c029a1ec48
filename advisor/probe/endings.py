"""How a probe that ended without its result is told: the child died (a signal, an exit code, its channel
closed), ran past its timeout, or said it was done before it had sent what was asked for. Each is a
``ProbeError`` naming the workload, the phase it was in, and a fix for that phase.
"""

from __future__ import annotations

import contextlib
import signal

from advisor.errors import ProbeError
from advisor.probe.fault_dump import wait_for_dump, where_in_dump
from advisor.probe.frames import CHANNEL_LOST_EXIT
from advisor.probe.lifetime import ChildProcess
from advisor.probe.request import ProbeRequest

# The setup phase in which the child imports the workload file (``advisor.probe.child``'s progress message).
LOADING = "loading the workload"


def early_done_error(label: str, phase: str, missing: list[str]) -> ProbeError:
    """The child said "done" without what the probe asked for (``missing``: "cpu's profile", "the workload
    check"...): only a forged frame does that. It was accepted, and the message then blamed the settings ("no
    dataset size given") or the profile ("no cpu measurements") instead."""
    return ProbeError(f"{label}: the probe ended without results (no {', no '.join(missing)}) while {phase}.",
                      hint="Fix: the workload (or a library it imports) writes to the probe's channel, a file "
                           "descriptor it inherited from advisor; remove that code. If it does not, please report "
                           "this as a bug in advisor.")


def signal_name(code: int) -> str:
    try:
        return signal.Signals(code).name
    except ValueError:
        return f"signal {code}"


SIGNAL_CAUSE = {
    "SIGSEGV": "a segmentation fault: native code (a C/C++/CUDA extension, or torch itself on bad input) "
               "touched memory it does not own",
    "SIGBUS": "a bus error in native code",
    "SIGABRT": "an abort in native code (a failed assertion, or a fatal CUDA/driver error)",
    "SIGILL": "an illegal instruction: a binary built for a newer CPU than this one",
    "SIGFPE": "a floating-point exception in native code",
    "SIGKILL": "killed from outside, usually by the operating system's out-of-memory killer: the host ran out "
               "of RAM",
}


def died_error(child: ChildProcess, label: str, phase: str, request: ProbeRequest, fault_file: str) -> ProbeError:
    code = child.wait_status(5.0)
    where = where_in_dump(fault_file, request.workload_path)
    if code is not None and code < 0:
        name = signal_name(-code)
        cause = SIGNAL_CAUSE.get(name, "a fatal signal")
        if name == "SIGKILL" and phase == LOADING:  # no batch exists yet: the file's top-level code was running
            hint = ("Fix: look at what the file's top-level code does when it is imported (data loaded or "
                    "tensors made at module level); move it into build_model() or make_batch(), or free memory on "
                    "this machine.")
        elif name == "SIGKILL":
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
    if code == CHANNEL_LOST_EXIT:
        return ProbeError(f"{label}: the workload closed the file descriptors it inherited, advisor's channel to "
                          f"the probe among them, while {phase}{where}.",
                          hint="Fix: do not close inherited descriptors in code that runs when the model is "
                               "loaded or trained (os.closerange, a daemonising library); close only your own.")
    return ProbeError(f"{label}: the probe process exited with code {code} while {phase}{where}, without a result.",
                      hint="Fix: the workload called sys.exit() or os._exit() (or a native library ended the "
                      "process); remove that from code that runs when the model trains.")


def timeout_error(child: ChildProcess, label: str, phase: str, request: ProbeRequest, fault_file: str, *,
                  turn_seconds: float = 0.0, turn_taken: bool = False) -> ProbeError:
    """The probe stopped at its deadline: ``request.timeout`` and ``turn_seconds``, the wait for another advisor
    probe's turn on this machine that the deadline allows on top (``turn_taken``: the seconds the child said it
    waited; else the most it may wait, ``ADVISOR_PROBE_WAIT``). Said whole: "within 63 s" was told of a probe
    stopped after 123 s (63 s and the 60 s a turn may take)."""
    # SIGUSR1 to the group: faulthandler in the child (or its twin, while that measures) writes where it is.
    child.signal_group(signal.SIGUSR1)
    with contextlib.suppress(OSError):
        wait_for_dump(fault_file)
    child.end()
    where = where_in_dump(fault_file, request.workload_path)
    timeout = request.timeout
    turn = "" if turn_seconds <= 0 else (
        f" ({timeout:.0f} s, and the {turn_seconds:.0f} s it waited for another advisor probe on this machine to "
        f"finish timing)" if turn_taken else
        f" ({timeout:.0f} s, and {turn_seconds:.0f} s more that a wait for another advisor probe on this machine "
        f"may take, ADVISOR_PROBE_WAIT)")
    return ProbeError(
        f"{label}: the probe did not finish within {timeout + max(0.0, turn_seconds):.0f} s{turn} and was stopped, "
        f"while {phase}{where}.",
        hint="Fix: make sure build_model(), make_batch() and the model's forward return (an endless loop or a "
        "wait on something that never comes hangs the probe); for a model that is just slow, give more time "
        "with a larger --probe-seconds (the timeout is 3 x probe seconds + 60 s, and the wait for another advisor "
        "probe's turn on top where there was one) or a smaller batch size.")
