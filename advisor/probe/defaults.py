"""What the probe's child reports of a workload's job defaults (``DATASET_SIZE``, ``EPOCHS``, ``BATCH_SIZE``).

The child imports the file, so it sees the module's values where the parent's reader of constant arithmetic
could not (``int(os.environ["B"])``). An int (or numpy int) goes to the parent as a number; anything else the
module set (nan, "2000", an int too long for JSON) as a short text, so that the parent's message names the
constant and what it held rather than "no dataset size given", or a frame it cannot parse.
"""

from __future__ import annotations

import math
import operator
from typing import Any

from advisor.probe.frames import WorkloadFrame

# The largest default sent as a number: far past any job's bound (10^12), far short of what JSON parsers refuse.
_MAX_SENT = 10**18


def _whole(value: Any) -> int | None:
    """A workload default as sent to the parent: an integer (a numpy or other integer type too, as Python's
    ``operator.index`` reads it: ``np.int64(64)`` is 64), else nothing."""
    if isinstance(value, (bool, float, str)) or value is None:
        return None
    try:
        number = int(operator.index(value))
    except Exception:  # not an integer type, or the user's __index__ raised: shown as text instead
        return None
    return number if abs(number) <= _MAX_SENT else None


def _unusable(value: Any) -> str | None:
    """A default ``_whole`` does not send (nan, "2000", True, 10**5000), as a message shows it; else None."""
    if value is None or _whole(value) is not None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):  # str() of it raises past 4,300 digits
        return f"an int of about {int(abs(value).bit_length() * math.log10(2)) + 1:,} digits"
    try:
        text = repr(value)
    except Exception:  # the user's __repr__
        text = f"a {type(value).__name__}"
    return text if len(text) <= 80 else text[:77] + "..."


def defaults_frame(workload: Any) -> WorkloadFrame:
    """The frame of ``workload``'s three job defaults."""
    keys = ("dataset_size", "epochs", "batch_size")
    unusable = {k: shown for k in keys if (shown := _unusable(getattr(workload, k))) is not None}
    return WorkloadFrame(**{k: _whole(getattr(workload, k)) for k in keys}, unusable=unusable)
