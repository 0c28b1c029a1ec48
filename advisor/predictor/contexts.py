"""Estimate contexts kept across calls, one per profile: what a long-lived caller (``advisor serve``'s worker)
reuses between requests for the same model.

An ``EstimateContext`` holds the specs, the calibration and, per profile, each probed device's fitted step
time (a robust Huber fit: 20-100 ms on a 2-core machine, more under load) and each GPU target's compute model.
A one-shot ``advisor recommend`` builds one and drops it; a server that is asked about the same profile again
(another dataset size, epochs or deadline) would refit the same probe for every request. ``ContextCache``
keeps the contexts of the last ``entries`` profiles, keyed by the profile's content, so a request for a job of
a profile the worker has seen starts from its fits. A cached value is a pure function of the profile and the
read-only data files, so reuse changes no figure (tests compare both ways).

The cache belongs to its caller (one per worker), never to the module.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from advisor.predictor.estimate import EstimateContext
from advisor.schemas import Profile

DEFAULT_ENTRIES = 32  # profiles kept; a context holds a few hundred small entries
# Per-job entries a context may collect (GPU compute models by target, precision and job) before they are
# dropped: a server asked about many jobs of one profile must not grow without bound.
MAX_JOB_ENTRIES = 4096
# How stale ``ContextCache.recent`` values may be: a price file edited on a running server is priced within it.
RECENT_SECONDS = 1.0


def profile_key(profile: Profile) -> str:
    """The profile's content, as a digest: equal profiles share a context, any difference does not."""
    return hashlib.sha256(profile.model_dump_json().encode()).hexdigest()


class ContextCache:
    """The ``EstimateContext`` of each of the last ``entries`` profiles (least recently used dropped first).

    Thread-safe: a worker's request threads share it. Two threads may use one context at once; its caches
    are dictionaries filled with values that are equal whichever thread computes them.
    """

    def __init__(self, entries: int = DEFAULT_ENTRIES) -> None:
        self.entries = max(1, int(entries))
        self._contexts: OrderedDict[str, EstimateContext] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self._remembered: OrderedDict[tuple, object] = OrderedDict()
        self._last_key: tuple[Profile, str] | None = None
        self._recent: OrderedDict[tuple, tuple[float, object]] = OrderedDict()

    def key_of(self, profile: Profile) -> str:
        """``profile_key(profile)``, worked out once for the last profile object asked about: a server's request
        asks for its profile's context and then stores the profile by the same key (dumping a 40 kB profile
        to hash it took ~0.3 ms, twice a request)."""
        last = self._last_key
        if last is not None and last[0] is profile:
            return last[1]
        key = profile_key(profile)
        self._last_key = (profile, key)
        return key

    def for_profile(self, profile: Profile) -> EstimateContext:
        """The context for ``profile``: the cached one, else a fresh one (cached)."""
        ctx, hit = self._get(self._contexts, self.key_of(profile), EstimateContext.load)
        with self._lock:
            if hit:
                self.hits += 1
                jobs = (ctx.gpu_compute, ctx.gpu_hosts, ctx.cpu_models, ctx.offer_shapes)
                if max(len(ctx.gpu_compute), len(ctx.gpu_hosts), len(ctx.cpu_models),
                       sum(len(d) for d in ctx.offer_shapes.values())) > MAX_JOB_ENTRIES:
                    for d in jobs:
                        d.clear()
            else:
                self.misses += 1
        return ctx

    def remember(self, key: tuple, compute: Callable[[], object]) -> object:
        """The caller's own value for ``key`` (e.g. the price catalog keyed by its files' sizes and times),
        computed once; the last ``entries`` keys are kept."""
        return self._get(self._remembered, key, compute)[0]

    def recent(self, key: tuple, compute: Callable[[], object], seconds: float = RECENT_SECONDS) -> object:
        """The caller's value for ``key``, computed at most ``seconds`` ago (e.g. the price files' version: their
        sizes and times, a glob and a stat per file, ~0.6 ms, twice a request otherwise)."""
        now = time.monotonic()
        with self._lock:
            seen = self._recent.get(key)
        if seen is not None and now - seen[0] < seconds:
            return seen[1]
        value = compute()
        with self._lock:
            self._recent[key] = (now, value)
            self._recent.move_to_end(key)
            while len(self._recent) > self.entries:
                self._recent.popitem(last=False)
        return value

    def _get(self, store: OrderedDict, key: object, make: Callable[[], object]) -> tuple[object, bool]:
        """(the value of ``key`` in ``store``, True) when there, else (``make()``, False), kept as the most
        recent of the last ``entries``. ``make`` runs outside the lock; when two threads make the same key,
        the first one stored is the one both keep."""
        with self._lock:
            if key in store:
                store.move_to_end(key)
                return store[key], True
        value = make()
        with self._lock:
            value = store.setdefault(key, value)
            while len(store) > self.entries:
                store.popitem(last=False)
        return value, False
