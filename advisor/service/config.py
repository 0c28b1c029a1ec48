"""The service's settings: where it listens, its bearer tokens, its limits; read from the environment.

``advisor serve`` puts its options into the environment (``ADVISOR_API_*``) before uvicorn starts, so that
every worker process builds the same ``ServiceConfig`` with ``ServiceConfig.from_env()``. Tokens come from
``ADVISOR_API_TOKENS``: comma-separated, or the path of a file that holds them (one per line or comma-separated,
``#`` starts a comment).
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from advisor.errors import ConfigError
from advisor.settings import Settings

DEFAULT_MAX_BODY_MB = 5.0
DEFAULT_RATE_PER_MINUTE = 600
MIN_TOKEN_CHARS = 16
MAX_TOKEN_FILE_BYTES = 1 << 20
TOKENS_ENV = "ADVISOR_API_TOKENS"
_TOKEN_HINT = ("Fix: set ADVISOR_API_TOKENS to comma-separated tokens of 16 or more characters (e.g. from "
               "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`), or to a file that holds them.")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.0/8, ::1 or "localhost")."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_tokens(value: str | None) -> tuple[str, ...]:
    """The bearer tokens from ``ADVISOR_API_TOKENS``: a comma list, or a file holding them; () when unset or empty.

    Raises:
        ConfigError: a file that cannot be read, a value or file that holds no token, or a token shorter than
            ``MIN_TOKEN_CHARS`` characters.
    """
    if not value:
        return ()
    text = value
    path = Path(value.strip()).expanduser()
    looks_like_path = os.sep in value or value.strip().startswith(("~", "."))
    if looks_like_path and not path.is_file():
        raise ConfigError(f"{TOKENS_ENV} names the file {str(path)!r}, which does not exist or is not a file.",
                          hint=_TOKEN_HINT)
    if path.is_file():
        if path.stat().st_size > MAX_TOKEN_FILE_BYTES:
            raise ConfigError(f"{TOKENS_ENV}: the token file {str(path)!r} is over 1 MiB.", hint=_TOKEN_HINT)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{TOKENS_ENV}: cannot read the token file {str(path)!r} ({exc}).",
                              hint=_TOKEN_HINT) from None
        text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    tokens = [t.strip() for chunk in text.splitlines() for t in chunk.split(",") if t.strip()]
    if not tokens:  # set, but to "," or blanks, or a file with none: not the unset variable it would read as
        what = (f"{TOKENS_ENV} names the token file {str(path)!r}, which holds" if path.is_file()
                else f"{TOKENS_ENV}={value!r} is set but holds")
        raise ConfigError(f"{what} no token (only commas, blanks or comments).",
                          hint=_TOKEN_HINT[:-1] + "; or unset it to serve without authentication, on 127.0.0.1 "
                                                  "only.")
    short = [t for t in tokens if len(t) < MIN_TOKEN_CHARS or any(c.isspace() for c in t)]
    if short:
        raise ConfigError(f"{TOKENS_ENV}: {len(short)} token(s) are shorter than {MIN_TOKEN_CHARS} characters "
                          "or contain spaces; such a token is too easy to guess.", hint=_TOKEN_HINT)
    return tuple(dict.fromkeys(tokens))


FORWARDED_ENV = "ADVISOR_FORWARDED_ALLOW_IPS"


def forwarded_allow_ips(value: str | None) -> str:
    """``ADVISOR_FORWARDED_ALLOW_IPS``: the proxies whose ``X-Forwarded-*`` headers uvicorn trusts, checked (a
    comma list of IP addresses and networks, or "*" alone); "127.0.0.1" when unset or empty. uvicorn takes any
    other word as a name no client address ever equals, so a typo silently trusted no proxy (nor a "*" in a list).

    Raises:
        ConfigError: an item that is not an IP address or network, or a value with none.
    """
    if not value:
        return "127.0.0.1"
    items = [item.strip() for item in value.split(",") if item.strip()]
    if items == ["*"]:
        return "*"
    bad = next((item for item in items if not _is_ip(item)), None) if items else None
    if bad is not None or not items:
        what = (f"{bad!r} is not an IP address or network{' (* stands alone: any proxy)' if bad == '*' else ''}"
                if bad is not None else "it holds no address")
        raise ConfigError(f"{FORWARDED_ENV}={value!r}: {what}.",
                          hint=f"Fix: set {FORWARDED_ENV} to the reverse proxies' addresses, comma-separated: IP "
                               "addresses (10.0.0.5) or networks (10.0.0.0/24, host bits zero), or * alone to "
                               "trust any; or unset it for 127.0.0.1.")
    return ",".join(items)


def _is_ip(item: str) -> bool:
    """Whether ``item`` is an IP address, or a network where it has a "/" (as uvicorn reads them)."""
    try:
        ipaddress.ip_network(item) if "/" in item else ipaddress.ip_address(item)  # noqa: B018
    except ValueError:
        return False
    return True


def _number(env: Mapping[str, str], name: str, default: float, *, low: float, high: float,
            whole: bool = False) -> float:
    """``name``'s value from ``env`` (``default`` unset), a number from ``low`` to ``high``; ``whole``: a count,
    where 2.5 was cut to 2 without a word."""
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low <= value <= high and (not whole or value == int(value))):
        raise ConfigError(f"{name}={text!r} is not a {'whole ' if whole else ''}number from {low:g} to {high:g}.",
                          hint=f"Fix: set {name} to e.g. {default:g}, or unset it.")
    return value


@dataclass(frozen=True)
class ServiceConfig:
    """What one server process needs. ``tokens`` empty: no authentication, and loopback only."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    tokens: tuple[str, ...] = field(default=(), repr=False)
    max_body_bytes: int = int(DEFAULT_MAX_BODY_MB * 1024 * 1024)
    rate_per_minute: int = DEFAULT_RATE_PER_MINUTE  # per token (per client address without tokens); 0 = off
    cache_entries: int = 256  # recommendations kept for identical requests (see backend.RecommendationCache)
    cache_seconds: float = 600.0
    # Recommendations/predictions computed at once in one worker. One: they are CPU-bound Python, so a second
    # only takes turns with the first on the GIL (two gave 4-7% fewer requests/s at 50 clients, paired).
    compute_slots: int = 1
    # Recommendation/prediction requests worked on at once in one worker; the rest wait in arrival order. Two: one
    # computes while the other stores its row or waits on the database. More threads only share the GIL and
    # serve some requests late (at 50 clients, 4 gave a p99 1.2-1.6x the median, 1-2 gave 1.1-1.2x: paired).
    request_slots: int = 2
    graceful_seconds: float = 30.0  # how long in-flight requests may take to finish on shutdown
    forwarded_allow_ips: str = "127.0.0.1"  # ADVISOR_FORWARDED_ALLOW_IPS, checked (forwarded_allow_ips)
    settings: Settings = field(default_factory=Settings)

    @property
    def auth_required(self) -> bool:
        return bool(self.tokens)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> ServiceConfig:
        """The config from ``ADVISOR_API_TOKENS``, ``ADVISOR_FORWARDED_ALLOW_IPS``,
        ``ADVISOR_API_MAX_BODY_MB``, ``ADVISOR_API_RATE_LIMIT``
        (requests per minute per token), ``ADVISOR_API_CACHE_ENTRIES`` and the advisor ``Settings``."""
        env = os.environ if env is None else env
        values = dict(
            tokens=parse_tokens(env.get(TOKENS_ENV)),
            forwarded_allow_ips=forwarded_allow_ips(env.get(FORWARDED_ENV)),
            max_body_bytes=int(_number(env, "ADVISOR_API_MAX_BODY_MB", DEFAULT_MAX_BODY_MB, low=0.01,
                                       high=1024) * 1024 * 1024),
            rate_per_minute=int(_number(env, "ADVISOR_API_RATE_LIMIT", DEFAULT_RATE_PER_MINUTE, low=0,
                                        high=1e9, whole=True)),
            cache_entries=int(_number(env, "ADVISOR_API_CACHE_ENTRIES", 256, low=0, high=1e6, whole=True)),
            settings=Settings.from_env(env),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The environment that makes ``from_env`` in a worker process give these limits back."""
        return {"ADVISOR_API_MAX_BODY_MB": repr(self.max_body_bytes / (1024 * 1024)),
                "ADVISOR_API_RATE_LIMIT": str(self.rate_per_minute),
                "ADVISOR_API_CACHE_ENTRIES": str(self.cache_entries)}
