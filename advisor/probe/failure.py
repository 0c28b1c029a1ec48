"""How an exception in the probe child crosses to advisor as an ``ErrorFrame``: one of advisor's own errors by
its class; ``sys.exit`` or a ``BaseException`` the workload raised as the workload's error (``WorkloadError``);
anything else as unexpected, with its traceback. Every text is made sendable (``frames.error_frame``).
"""

from __future__ import annotations

import argparse
import os
import re
import traceback

from advisor.errors import AdvisorError
from advisor.probe.frames import ErrorFrame, error_class_of, error_frame


def exception_frame(exc: BaseException, label: str | None = None, path: str | None = None) -> ErrorFrame:
    """``exc`` as the frame that reports it; ``label``: how messages name the workload file (its path as the user
    wrote it); ``path``: that file's absolute path, found in the traceback whatever the working folder is now
    (default: ``label``)."""
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    name = error_class_of(exc)
    if isinstance(exc, AdvisorError) and name is not None:
        # As written (the CLI's words): the parent raises it again in its own caller's (advisor.option_words).
        hint = exc.cli_hint if isinstance(exc.cli_hint, str) else None
        return error_frame(name, str(exc.cli_message), hint, tb)
    if isinstance(exc, SystemExit):  # sys.exit() in the user's code: a user error, not a crash
        return _exit_frame(exc, label, path, tb)
    if not isinstance(exc, Exception):
        # A BaseException that is not an Exception (KeyboardInterrupt from make_batch, a user's own subclass): advisor
        # raises none, and Ctrl-C never reaches this process (a group of its own), so it is the workload's.
        return error_frame(
            "WorkloadError",
            f"{label or 'the workload'}: the workload raised {type(exc).__name__}{_user_frame(exc, path or label)}: "
            f"{text_of(exc)}",
            "Fix: the error is in the workload's code (it derives from BaseException, not Exception, which most "
            "code does not catch); run the file on its own to see it.", traceback=tb)
    if isinstance(exc, RuntimeError) and _WORKER_DIED.search(text_of(exc)):
        # torch's SIGCHLD handler raises this wherever the main thread is when a loader worker dies, at times
        # inside advisor's own handling of the loader's first error: still the workload's loader, not a bug here.
        return error_frame(
            "WorkloadError", f"{label or 'the workload'}: a DataLoader worker process died while the input pipeline "
            f"was probed: {text_of(exc)[:300]}",
            "Fix: run the loader on its own (`next(iter(make_dataloader(8, 2)))` in plain Python); a worker that "
            "calls os._exit, crashes or runs out of memory ends it.", traceback=tb)
    return error_frame(None, f"{type(exc).__name__}: {text_of(exc)}", traceback=tb)


def _exit_frame(exc: SystemExit, label: str | None, path: str | None, tb: str) -> ErrorFrame:
    """The frame for a ``SystemExit`` the workload raised, naming its line; one from argparse's ``parse_args()``
    (a training script's top level, the most common) says why it exited here, where the script never did."""
    where = _user_frame(exc, path or label)
    if _through_argparse(exc):
        return error_frame(
            "WorkloadError",
            f"{label or 'the workload'}: argparse's parse_args() exited (code {exc.code!r}){where} while the file "
            "was probed: the probe imports the file with no command-line arguments, which this parser refused "
            "(argparse printed why above).",
            "Fix: move the argument parsing and what uses it under `if __name__ == \"__main__\":` (the probe "
            "imports the file under another name, so that block does not run there), or give every argument a "
            "default (no required=True), so that parse_args() with no arguments succeeds.", traceback=tb)
    return error_frame(
        "WorkloadError",
        f"{label or 'the workload'}: the workload called sys.exit({exc.code!r}){where} while it was probed.",
        "Fix: remove sys.exit() from code that runs when the model is built or trained (e.g. move a "
        "script's training run under `if __name__ == \"__main__\":`).", traceback=tb)


def _through_argparse(exc: BaseException) -> bool:
    """Whether ``exc`` was raised inside the standard library's argparse (``parser.error`` -> ``sys.exit(2)``)."""
    mine = os.path.abspath(argparse.__file__)
    return any(os.path.abspath(f.filename) == mine for f in traceback.extract_tb(exc.__traceback__))


# What torch.utils.data says when one of its worker processes ends without a Python error.
_WORKER_DIED = re.compile(r"DataLoader worker \(pid(?:\(s\))? [^)]*\) (?:exited unexpectedly|is killed by signal)")


def _user_frame(exc: BaseException, path: str | None) -> str:
    """" (in make_batch, model.py:12)": the innermost frame of the workload file ``path`` in ``exc``'s traceback."""
    mine = os.path.abspath(path) if path else None  # a relative path as given, an absolute one in the frames
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if mine and os.path.abspath(f.filename) == mine]
    return f" (in {frames[-1].name}, {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""


def text_of(exc: BaseException) -> str:
    """``str(exc)``, or its bare repr when the user's ``__str__`` raises."""
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - user code: the exception's own __str__
        return object.__repr__(exc)
