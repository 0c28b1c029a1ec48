"""Where a warning advisor issues points: at the user's line that called into advisor, not at advisor's own code.

A probe's notes reach a Python user as warnings (``advisor.ProbeNote``) from deep in the package (``advisor.profile`` ->
``run_profile``; ``advisor.recommend`` goes through more frames), so a fixed ``stacklevel`` named
``advisor/api.py:148`` for one entry point and some other advisor line for the next. Python 3.12's
``warnings.warn(skip_file_prefixes=...)`` does this; the project supports 3.10.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_PACKAGE = str(Path(__file__).resolve().parent)


def outside_stacklevel() -> int:
    """The ``stacklevel`` for a ``warnings.warn`` in the function that calls this one that names the first frame
    outside the advisor package (the user's); 2 (that function's caller) where every frame is advisor's (a
    thread advisor started)."""
    frame = sys._getframe(1)  # the function that will warn: stacklevel 1
    level = 1
    while frame is not None:
        if not str(Path(frame.f_code.co_filename).resolve()).startswith(_PACKAGE + os.sep):
            return level
        frame, level = frame.f_back, level + 1
    return 2
