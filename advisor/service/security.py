"""Who may call the service, and how often: bearer tokens, the web page's session cookie, per-token rates.

A token is never logged or stored: it is known by its id, the first 12 hex digits of its SHA-256. The web
page's cookie is ``ID.EXPIRY.MAC`` with MAC an HMAC-SHA256 keyed by the token itself, so it holds no secret,
works in every worker without shared state, and stops working when the token is removed from the server.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterable

SESSION_COOKIE = "advisor_session"
SESSION_SECONDS = 12 * 3600
# Token tries a client address may make a minute: at the login form, and as requests without a valid token.
GUESSES_PER_MINUTE = 30


def token_id(token: str) -> str:
    """A token's name in logs and cookies (it cannot be turned back into the token)."""
    return "tok-" + hashlib.sha256(token.encode()).hexdigest()[:12]


class Tokens:
    """The configured bearer tokens, checked in constant time."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self._by_id = {token_id(t): t for t in tokens}

    def __bool__(self) -> bool:
        return bool(self._by_id)

    def check(self, presented: str | None) -> str | None:
        """The id of ``presented`` when it is one of the tokens, else None."""
        if not presented:
            return None
        found = None
        for tid, token in self._by_id.items():
            # Compare with every token, whatever matched, so the time taken says nothing about which.
            if hmac.compare_digest(presented.encode(), token.encode()):
                found = tid
        return found

    def from_header(self, value: str | None) -> str | None:
        """The token id from an ``Authorization: Bearer TOKEN`` header, or None."""
        if not value:
            return None
        scheme, _, presented = value.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.check(presented.strip())

    def session_cookie(self, tid: str, *, now: float | None = None) -> str:
        expiry = int((now or time.time()) + SESSION_SECONDS)
        return f"{tid}.{expiry}.{self._mac(tid, expiry)}"

    def from_cookie(self, value: str | None, *, now: float | None = None) -> str | None:
        """The token id a session cookie was made for, if it is genuine, unexpired and its token still valid."""
        if not value or value.count(".") != 2:
            return None
        tid, expiry_text, mac = value.split(".")
        if tid not in self._by_id or not expiry_text.isdigit() or int(expiry_text) < (now or time.time()):
            return None
        return tid if hmac.compare_digest(mac, self._mac(tid, int(expiry_text))) else None

    def _mac(self, tid: str, expiry: int) -> str:
        key = self._by_id[tid].encode()
        return hmac.new(key, f"advisor-web-session:{tid}:{expiry}".encode(), hashlib.sha256).hexdigest()


class RateLimiter:
    """A token bucket per caller: up to ``per_minute`` requests at once, refilled at ``per_minute`` a minute.

    In-process: with several workers each keeps its own buckets, so a caller may get up to N x the rate.
    """

    MAX_KEYS = 10_000

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens left, monotonic time)
        self._lock = threading.Lock()

    def wait_seconds(self, key: str, *, now: float | None = None) -> float:
        """0 when ``key`` may make a request now (and one is counted), else how long until it may."""
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        capacity, per_second = float(self.per_minute), self.per_minute / 60.0
        with self._lock:
            left, then = self._buckets.get(key, (capacity, now))
            left = min(capacity, left + (now - then) * per_second)
            if left >= 1.0:
                self._buckets[key] = (left - 1.0, now)
                self._forget_idle(now, capacity, per_second)
                return 0.0
            self._buckets[key] = (left, now)
            return (1.0 - left) / per_second

    def _forget_idle(self, now: float, capacity: float, per_second: float) -> None:
        """Bound the memory: drop callers whose bucket has refilled (they lose nothing)."""
        if len(self._buckets) <= self.MAX_KEYS:
            return
        self._buckets = {k: (left, then) for k, (left, then) in self._buckets.items()
                         if left + (now - then) * per_second < capacity}
