"""scikit-learn imported without changing the process's environment.

Importing scikit-learn sets ``KMP_DUPLICATE_LIB_OK=True`` and ``KMP_INIT_AT_FORK=FALSE`` in ``os.environ`` (for
Intel's OpenMP runtime, which reads them as it loads). advisor imports it only to fit (the step-time line, the
learned correction); left there, the two reached every process started afterwards: the probe children of a
service or a pipeline, and whatever the API user's own program ran next. ``quiet_environ`` puts the environment
back as it was once the import is done.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from advisor.environ import restored

SET_ON_IMPORT = ("KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK")


@contextlib.contextmanager
def quiet_environ() -> Iterator[None]:
    """Import scikit-learn inside: the variables it sets on import are as they were before, afterwards (a value
    the user had set stays)."""
    with restored(SET_ON_IMPORT):
        yield
