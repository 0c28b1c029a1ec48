"""The fixes ``advisor.Client`` gives where a call got no answer: after a timeout, how to look for what the server
may have done anyway; after a probe made here, how not to probe again to send it again; and the server's own fixes,
with the history commands they quote sent to that server; and where an older server refused a newer field, that
the server's advisor is older."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

# Where nothing answers at the URL
REACH_HINT = "Fix: check the URL and that `advisor serve` is running there (GET URL/healthz answers)."


# A history command quoted in a hint: `advisor history list`, `advisor history record 7 --actual-seconds S`, ...
_HISTORY_COMMAND = re.compile(r"`(advisor history [^`]*)`")


def server_flag(url: str | None) -> str:
    """The ``--server URL`` (the URL quoted for a shell, after a space) to add to a command that must go to the
    server at ``url``; "" without one."""
    return f" --server {shlex.quote(url)}" if url else ""


def on_server(hint: str | None, url: str) -> str | None:
    """``hint`` with each `advisor history ...` command it quotes sent to the server at ``url``: the server's own
    fixes name its history as the local CLI would, and followed as written they would read or change this
    machine's history instead (where the id is another run, or none)."""
    if not hint:
        return hint
    return _HISTORY_COMMAND.sub(
        lambda m: m.group() if "--server" in m.group(1) else f"`{m.group(1)}{server_flag(url)}`", hint)


def timeout_hint(url: str, method: str, path: str) -> str:
    """The fix for ``method path`` that timed out at ``url``. A server goes on with a request its client gave up
    on: a POST or DELETE may well have been done, and sent again it is done twice (a second stored
    recommendation, whose id the first caller never learned), so the hint says how to look first."""
    busy = "if it goes on, the server is overloaded or stuck"
    if method == "GET":
        return f"Fix: try again; {busy}."
    parts = path.split("/")  # "", "v1", "recommendations", ID, "outcome(s)"
    look = (f"`advisor history show {parts[3]}{server_flag(url)}`" if len(parts) > 4
            else f"`advisor history list{server_flag(url)}`")
    return (f"Fix: the server may have done it anyway (it goes on after a client stops waiting): check with "
            f"{look} before sending it again, or it is done twice; {busy}.")


def reprobe_hint(source: Any) -> str:
    """What to add to the fix of a call that got no answer after ``source`` was probed here ("" where it was a
    saved profile): the probe is thrown away, and sending it again would probe again."""
    from advisor.sources import is_saved_profile  # the workload modules: only once a call has failed

    if is_saved_profile(source):
        return ""
    workload = shlex.quote(str(source)) if isinstance(source, (str, Path)) else "WORKLOAD"
    return (f" The probe made here is not kept: to send it again without probing again, probe once to a file, "
            f"`advisor profile {workload} -o profile.json`, and pass `--profile profile.json` (in Python, the "
            f"profile .json path or a Profile).")


def too_new_field(exc: Any, field: str, url: str, words: str) -> Any:
    """``exc``, or where it is a server's refusal of ``field`` as unknown (HTTP 422, "Extra inputs are not
    permitted": the server's advisor is older than the field), the same kind of error saying so. Its own words,
    "correct the field named", sent the user after a field they cannot leave out without recording something else.

    Args:
        exc: the error a call raised (a ``ServiceError``).
        field: the request's field that an older server lacks.
        url: the server's URL.
        words: what the field is, in the CLI's words ("--failed (a crashed run)").
    """
    if getattr(exc, "status", None) != 422 or not str(getattr(exc, "cli_message", "")).startswith(
            f"Invalid request: {field}: Extra inputs are not permitted"):
        return exc
    return type(exc)(f"The server at {url} runs an advisor older than {words}: it refused the request, so nothing "
                     "was recorded.", hint="Fix: upgrade the server's advisor, then record it again.",
                     status=exc.status)
