"""scikit-learn imported without changing the process's environment or its random numbers.

Importing scikit-learn sets ``KMP_DUPLICATE_LIB_OK=True`` and ``KMP_INIT_AT_FORK=FALSE`` in ``os.environ`` (for
Intel's OpenMP runtime, which reads them as it loads). advisor imports it only to fit (the learned correction, its
cross-validation); left there, the two reached every process started afterwards: the probe children of a
service or a pipeline, and whatever the API user's own program ran next. ``quiet_environ`` puts the environment
back as it was once the import is done.

The import also draws a number from Python's shared ``random`` generator (scikit-learn loads ``rich``, whose
``rich.style`` starts a counter at ``random.getrandbits(24)``): a notebook that had called ``random.seed(0)`` got
another stream after advisor's first fit. Within ``quiet_environ`` the ``random`` module's functions draw from a
generator of their own instead. Saving ``random.getstate()`` and setting it back would rewind the shared generator
over whatever the caller's other threads drew meanwhile, and they would draw the same numbers twice.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

from advisor.environ import restored

SET_ON_IMPORT = ("KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK")


@contextlib.contextmanager
def quiet_environ() -> Iterator[None]:
    """Import scikit-learn inside: the variables it sets on import are as they were before, afterwards (a value
    the user had set stays), and the shared ``random`` generator has drawn nothing for it."""
    with restored(SET_ON_IMPORT), own_random():
        yield


@contextlib.contextmanager
def own_random() -> Iterator[None]:
    """Within it, the ``random`` module's functions (``random.getrandbits``, ``random.random``...) are those of a
    private generator, so the shared one (``random.seed``'s) draws nothing; afterwards they are the shared one's
    again. Only a function that is the shared generator's is swapped and put back: two such blocks in two threads
    leave them as they were whatever their order, and a function the caller replaced (a test's mock) is untouched.
    """
    shared = random._inst  # the generator behind random.random and the rest (CPython and PyPy alike)
    own = random.Random()
    names = [name for name, value in vars(random).items() if getattr(value, "__self__", None) is shared]
    for name in names:
        setattr(random, name, getattr(own, name))
    try:
        yield
    finally:
        for name in names:
            if getattr(getattr(random, name), "__self__", None) is own:
                setattr(random, name, getattr(shared, name))
