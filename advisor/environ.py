"""Environment variables put back as they were: the one context manager that both setting a workload's switches
for a block (``advisor.predictor.calibration_fit.environment``) and importing scikit-learn
(``advisor.sklearn_env.quiet_environ``) restore ``os.environ`` with."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator


@contextlib.contextmanager
def restored(names: Iterable[str]) -> Iterator[None]:
    """Each of ``names`` as it was before the block, after it: its old value, or unset where it was unset."""
    before = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
