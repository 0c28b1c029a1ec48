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

SciPy (which scikit-learn imports, and advisor's Huber fit and paired test import themselves) adds warning filters
as it loads: ``("always", SpecialFunctionWarning)`` and an ``"ignore"`` of NumPy's matrix-subclass warning, which
changed how the caller's own warnings show after advisor's first fit. Within ``quiet_environ`` the filters the
block adds are taken out again afterwards; only those, rather than the old list put back, so a filter another
thread removes meanwhile stays removed (one it adds during the import, a fraction of a second, goes too).
"""

from __future__ import annotations

import contextlib
import random
import warnings
from collections.abc import Iterator

from advisor.environ import restored

SET_ON_IMPORT = ("KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK")


@contextlib.contextmanager
def quiet_environ() -> Iterator[None]:
    """Import scikit-learn inside: the variables it sets on import are as they were before, afterwards (a value
    the user had set stays), the shared ``random`` generator has drawn nothing for it, and the warning filters it
    added (SciPy's) are gone. For SciPy's own imports too."""
    with restored(SET_ON_IMPORT), own_random(), kept_warning_filters():
        yield


@contextlib.contextmanager
def kept_warning_filters() -> Iterator[None]:
    """Afterwards, ``warnings.filters`` without the entries added within it (told apart by identity: the snapshot
    holds the old entries, so no new one can have an old one's id). An added entry equal to one that left the list
    meanwhile is kept: ``warnings.simplefilter`` moves a filter already present to the front as a new tuple, and
    the caller's filter must stay."""
    before = {id(entry): entry for entry in warnings.filters}
    try:
        yield
    finally:
        filters = warnings.filters  # a catch_warnings block within may have put another list in place
        now = {id(entry) for entry in filters}
        gone = [entry for key, entry in before.items() if key not in now]
        added = {id(entry) for entry in filters if id(entry) not in before and entry not in gone}
        if added:
            for i in reversed(range(len(filters))):
                if id(filters[i]) in added:
                    del filters[i]
            # Warnings' caches (each module's __warningregistry__) hold for one version of the filters: bump it.
            getattr(warnings, "_filters_mutated", lambda: None)()


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
