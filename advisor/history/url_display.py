"""A history database URL as a message may show it: never any part of its password.

A password pasted into a URL without percent-encoding splits where the URL grammar does not expect it: SQLAlchemy
takes the user-info to end at the first ``@``, so with ``aud:p@ss/word@host`` the "host" is ``ss`` (a piece of
the password, which the driver's "could not translate host name" message repeats), and a ``/`` or ``:`` in it
makes the URL unreadable. So a URL is masked from its text, not from what SQLAlchemy made of it: everything
between ``scheme://`` and the last ``@`` is user-info, and all of it but the user name is hidden. Where that
reading and SQLAlchemy's differ, the URL is ambiguous, and ``refuse_unencoded`` stops it before any connection
(one made would send a piece of the password to the DNS as a host name).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError

from advisor.errors import HistoryError
from advisor.history.url_parse import parse_url

# The characters a user name or password must have percent-encoded in a URL, with their codes.
ENCODE_HINT = ("a user name or password in the URL must have its @ : / % # ? percent-encoded "
               "(%40 %3A %2F %25 %23 %3F)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
# A password given as a query argument (``?password=``) or in a libpq key/value string a driver echoes
# (``password='a b'``): quoted values up to their closing quote, bare ones up to the next & or space.
_PASSWORD_ARGUMENT = re.compile(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'?|\"(?:[^\"\\]|\\.)*\"?|[^&\s]*)")
# Shorter passwords are left in a driver's message: one or two characters occur in any text by chance, and
# hiding them would garble the message without protecting anything.
_SCRUB_MIN_CHARS = 3


def masked(text: str) -> str:
    """``text`` (a URL that did not parse, or a driver's message that may quote one) with every password hidden:
    each URL's user-info, from ``scheme://`` to the last ``@`` after it, as ``user:***`` (or ``***`` where even
    the user name is in doubt), and every ``password=`` argument's value as ``***``."""
    text = _PASSWORD_ARGUMENT.sub(r"\1***", text)
    out, pos = [], 0
    for match in _SCHEME.finditer(text):
        if match.start() < pos:  # inside the user-info masked already
            continue
        start = match.end()
        at = text.rfind("@", start)
        if at < 0 or text.startswith("/", start):  # no user-info ("sqlite:////path", "postgresql:///db?host=")
            continue
        out.append(text[pos:start] + _masked_userinfo(text[start:at]))
        pos = at
    return "".join(out) + text[pos:]


def _masked_userinfo(userinfo: str) -> str:
    user, colon, _ = userinfo.partition(":")
    odd = any(c in user for c in "/?#@ ")
    if colon:
        return "***" if odd or not user else f"{user}:***"
    return "***" if odd else userinfo


def ambiguous(url: URL) -> bool:
    """Whether SQLAlchemy's reading of a server URL holds an ``@`` past its user-info (in the host, the database
    or a query argument): a sign of a password (or user name) with an ``@`` or ``/`` not percent-encoded, whose
    pieces then stand in those places. A SQLite path may hold an ``@``."""
    if url.get_backend_name() == "sqlite":
        return False
    values = [url.host or "", url.database or ""]
    for key, value in url.query.items():
        values += [key, *(value if isinstance(value, tuple) else (value,))]
    return any("@" in v for v in values)


def display_url(url: URL) -> str:
    """``url`` as it may be shown to the database's own user: the password hidden, in the user part and in a
    ``?password=`` query argument (which psycopg2 also takes); a SQLite URL as it was written (a "file:" URI
    filename not turned into "file%3A"). An ``ambiguous`` one shows nothing past its scheme. Never for a
    caller of ``advisor serve``, who gets no address at all (``DatabaseUnavailableError.public``)."""
    if ambiguous(url):
        return f"{url.drivername}://***"
    if url.get_backend_name() == "sqlite" and not (url.username or url.password or url.host or url.port):
        query = "&".join(f"{k}={v}" for k, vs in url.query.items() for v in (vs if isinstance(vs, tuple) else (vs,)))
        return f"{url.drivername}://" + (f"/{url.database}" if url.database else "") + (f"?{query}" if query else "")
    if "password" in url.query:
        url = url.update_query_dict({"password": "***"})
    return url.render_as_string(hide_password=True)


def shown(raw: str) -> str:
    """The URL text ``raw`` as ``display_url`` shows it, or ``masked`` where it does not parse or is
    ``ambiguous``: for messages about a URL no engine was made for."""
    try:
        url = parse_url(raw)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return masked(raw)
    return masked(raw) if ambiguous(url) or _extra_at(raw) else display_url(url)


def scrubbed(text: str, url: URL) -> str:
    """A driver's message ``text`` about a connection to ``url`` with its password hidden: as written, as
    percent-encoded, and in any URL or ``password=`` argument the message quotes."""
    text = masked(text)
    secrets = [url.password, url.query.get("password")]
    for secret in secrets:
        if isinstance(secret, str) and len(secret) >= _SCRUB_MIN_CHARS:
            for form in {secret, quote(secret, safe=""), quote(secret)}:
                text = text.replace(form, "***")
    return text


def _extra_at(raw: str) -> bool:
    """Whether a URL's text holds more than one ``@`` after ``scheme://``: SQLAlchemy's reading of it cannot be
    trusted then, even without a password (``postgresql://me@host/db?application_name=a@b`` reads as the user
    ``me@host`` with the password ``db?application_name=a`` on the host ``b``)."""
    scheme = _SCHEME.match(raw)
    return scheme is not None and raw.count("@", scheme.end()) > 1


def refuse_unencoded(raw: str, url: URL) -> None:
    """HistoryError for a server URL whose user-info SQLAlchemy cannot be trusted to have read (``raw``: as given,
    ``url``: parsed): more than one ``@`` after ``scheme://``, an ``@`` past the user-info as SQLAlchemy read it
    (``ambiguous``), or one it did not take as the end of the user-info (a ``/`` in the user name). Nothing of the
    URL's user-info is shown, and no connection made."""
    if url.get_backend_name() == "sqlite":
        return
    scheme = _SCHEME.match(raw)
    has_at = scheme is not None and "@" in raw[scheme.end():]
    if not (_extra_at(raw) or ambiguous(url) or (has_at and url.username is None)):
        return
    raise HistoryError(f"The history database URL {masked(raw)!r} cannot be read safely: it holds an '@' (or a "
                       "'/') that does not end its user name and password, so it would be split in the wrong place "
                       "(a password pasted without percent-encoding, most often).",
                       hint=f"Fix: {ENCODE_HINT}; an @ in a query argument is written %40 too.",
                       public=f"The history database URL cannot be read: {ENCODE_HINT}.")
