"""What the probe's child reports of a workload's job defaults (``DATASET_SIZE``, ``EPOCHS``, ``BATCH_SIZE``) and
of how its job steps (``PRECISION``, ``COMPILE``, ``GRAD_ACCUM_STEPS``, ``EVAL_EVERY``, ``EVAL_STEPS``).

The child imports the file, so it sees the module's values where the parent's reader of constant arithmetic
could not (``int(os.environ["B"])``). A count a job takes (an int, or numpy int, of 1 to 10^12) goes to the parent
as a number; anything else the module set (nan, "2000", -5, an int too long for JSON) as a short text, so that
the parent's message names the constant and what it held rather than "no dataset size given", or a frame it
cannot parse (the parent takes nothing else as a number: ``WorkloadFrame``).
"""

from __future__ import annotations

import math
import operator
from typing import Any

from advisor.probe.frames import MAX_SENT_INT, MAX_SENT_THREADS, WorkloadFrame
from advisor.schemas import WorkloadInfo
from advisor.schemas.base import MAX_JOB_COUNT


def _integer(value: Any) -> int | None:
    """``value`` as an int where it is an integer (a numpy or other integer type too, as Python's
    ``operator.index`` reads it: ``np.int64(64)`` is 64), else None."""
    if isinstance(value, (bool, float, str)) or value is None:
        return None
    try:
        return int(operator.index(value))
    except Exception:  # not an integer type, or the user's __index__ raised: shown as text instead
        return None


def _whole(value: Any, low: int = 1, high: int = MAX_JOB_COUNT) -> int | None:
    """A workload default as sent to the parent: an integer of ``low`` to ``high`` (a job's count), else
    nothing."""
    number = _integer(value)
    return number if number is not None and low <= number <= high else None


def _unusable(value: Any) -> str | None:
    """A default ``_whole`` does not send (nan, "2000", True, -5, 10**13, 10**5000), as a message shows it; else
    None."""
    if value is None or _whole(value) is not None:
        return None
    number = _integer(value)
    if number is not None and abs(number) < 10**76:  # the number it is (np.int64(-5): -5), in 80 characters
        return str(number)
    if number is not None:  # str() of it raises past 4,300 digits
        return f"an int of about {int(abs(number).bit_length() * math.log10(2)) + 1:,} digits"
    try:
        text = repr(value)
    except Exception:  # the user's __repr__
        text = f"a {type(value).__name__}"
    return text if len(text) <= 80 else text[:77] + "..."


def _setting(value: Any) -> bool | int | str | None:
    """A job setting as sent to the parent: a bool, an int of at most ``MAX_SENT_INT`` either way or a string of
    at most 80 characters as it is (the parent checks it), else None (``_unusable`` shows it)."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str(value) if len(value) <= 80 else None
    return _whole(value, -MAX_SENT_INT, MAX_SENT_INT)  # an int, a numpy int


def defaults_frame(workload: Any, import_threads: tuple[int, int] | None = None) -> WorkloadFrame:
    """The frame of ``workload``'s three job defaults and the job settings it holds (``precision``...), and
    ``import_threads`` (PyTorch's CPU threads before and after importing it, where that changed them)."""
    keys = ("dataset_size", "epochs", "batch_size")
    unusable = {k: shown for k in keys if (shown := _unusable(getattr(workload, k))) is not None}
    from advisor.workload.job import JOB_SETTINGS

    held = {const: value for const, keyword, *_ in JOB_SETTINGS
            if (value := getattr(workload, keyword, None)) is not None}
    settings = {name: sent for name, value in held.items() if (sent := _setting(value)) is not None}
    shown = {name: _unusable(value) or "a value" for name, value in held.items() if name not in settings}
    sendable = import_threads is not None and all(1 <= n <= MAX_SENT_THREADS for n in import_threads)
    return WorkloadFrame(**{k: _whole(getattr(workload, k)) for k in keys}, unusable=unusable, settings=settings,
                         shown=shown, import_threads=import_threads if sendable else None)


def import_threads_note(frame: WorkloadFrame | None, label: str | None, devices: list[str]) -> list[str]:
    """The note where importing the workload changed PyTorch's CPU threads (``torch.set_num_threads(1)`` at a
    file's top level) and the CPU was probed: the probe ran on those, as the job would, so the prediction for this
    CPU, which said 1 thread where the machine has more, is for them."""
    if frame is None or frame.import_threads is None or "cpu" not in devices:
        return []
    before, after = frame.import_threads
    return [f"cpu: importing {label or 'the workload'} set PyTorch's CPU threads to {after} "
            f"(torch.set_num_threads; {before} here by default): the CPU probe ran on {after}, as the job would, so a "
            f"prediction for this CPU is for {after} thread{'' if after == 1 else 's'}; --threads N probes and "
            "predicts N instead."]


def with_module_settings(info: WorkloadInfo, frame: WorkloadFrame | None, in_memory: bool) -> WorkloadInfo:
    """A workload file's ``info`` (its settings read from the text) with the settings its module held once
    imported (``frame``): the module's are the job's, whatever set them (a star import, an ``exec``, a function
    called at import); one that is not valid is left out, and ``unread`` says what it held
    (``advisor.workload.job.module_settings``). ``info`` as it is for an in-memory workload (``in_memory``),
    whose ``info`` holds its attributes already, or without a frame."""
    from advisor.workload.job import JOB_SETTINGS, module_settings

    if frame is None or in_memory:
        return info

    valid, invalid = module_settings(frame.settings, frame.shown)
    cleared = {keyword: None for const, keyword, *_ in JOB_SETTINGS if const in invalid}
    return info.model_copy(update={**cleared, **valid, "unread": {**info.unread, **invalid}})
