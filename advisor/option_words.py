"""How an error names an option: the CLI's flag (``--dataset-size``) or the Python API's parameter
(``dataset_size=``).

Messages are written once, in the CLI's words. ``advisor.errors.AdvisorError`` keeps them as written
(``cli_message``, ``cli_hint``: what crosses to another process and what data keeps). An error that leaves a
function of the Python API (``python_surface``: every public function of ``advisor.api`` and each name
``advisor`` exports: ``load_workload``, ``Workload``'s, ``Target.cpu`` / ``gpu``, ``History``'s, ``track``,
``Client``'s...) is reworded in the API's words there, unless the CLI called it (``flag_words()``:
``advisor.cli.errors.handle_errors`` runs every command in it). In the Python API's words each
flag with a parameter of the same meaning becomes that parameter, its value a Python value (``--batch-size 512`` ->
``batch_size=512``, ``--precision bf16`` -> ``precision="bf16"``, ``--no-save`` -> ``save=False``). A flag with no
one parameter (``--gpu``, ``--gpus``, ``--device``, ``--profile``) is left as it is, and so is a command line quoted
whole (``advisor predict --device cpu``, or any text in backticks). Imports nothing of advisor's.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# Flag -> the parameter of advisor.profile / predict / recommend / api.record_outcome / History (or the Target's)
# that means the same.
FLAG_PARAMETERS = {
    "--dataset-size": "dataset_size", "--epochs": "epochs", "--batch-size": "batch_size",
    "--batch-sizes": "batch_sizes", "--precision": "precision", "--probe-seconds": "probe_seconds",
    "--threads": "threads", "--vcpus": "vcpus", "--deadline": "deadline", "--budget": "budget",
    "--objective": "objective", "--providers": "providers", "--region": "regions", "--top": "top",
    "--pricing": "pricing_files", "--startup-cpu": "startup_seconds_cpu", "--startup-gpu": "startup_seconds_gpu",
    "--grad-accum-steps": "grad_accum_steps", "--eval-every": "eval_every", "--eval-steps": "eval_steps",
    "--actual-seconds": "actual_seconds", "--instance": "instance_type", "--workload": "workload",
    "--since": "since", "--limit": "limit", "--offset": "offset", "--server": "url", "--format": "fmt",
}
# Switches: the parameter and the value the flag stands for.
FLAG_SWITCHES = {
    "--spot": "spot=True", "--no-save": "save=False", "--compile": "compile=True", "--no-compile": "compile=False",
    "--force": "force=True", "--p2p": "peer_to_peer=True", "--no-p2p": "peer_to_peer=False",
}

# A flag, and the value after it where one is (a placeholder, a value as Python's repr quotes it, a date, numbers,
# a duration, a precision or an export format, a comma list, a URL without the sentence's full stop).
_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)(?![\w-])(?: (?P<value>[A-Z]+\b|https?://\S+?(?=[.,;)]?(?:\s|$))|"
                   r"'[^'\n]*'|\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d)?)?|\d+(?:,\d+)+|"
                   r"-?\d+(?:\.\d+)?(?![\w:])|\d[\w:.]*\w|(?:bf16|fp16|fp32|tf32|mixed|cost|time|csv|json)\b|"
                   r"[a-z][\w-]*(?:,[\w-]+)+))?")
# A parameter, then the same parameter again in brackets: a hint written "limit=50 (--limit 50)" for both readers.
_TWICE = re.compile(r"\b(\w+)=([^\s()]*) \(\1=[^()]*\)")
# Text quoted as typed, left as it is: a command line ("advisor predict --device cpu --threads 8", to the end of
# its clause) or anything in backticks.
_QUOTED = re.compile(r"`[^`\n]*`|\badvisor (?:predict|recommend|profile|history|pricing|hardware|serve|db|diff)\b"
                     r"(?:[^,;()`\n.]|\.(?=\S))*")
# Whether the CLI runs the code: its ``handle_errors`` runs every command within ``flag_words``. A context variable,
# not a module global: each thread (a server's workers) and each asyncio task sees its own.
_CLI_WORDS: contextvars.ContextVar[bool] = contextvars.ContextVar("advisor_cli_words", default=False)


@contextlib.contextmanager
def flag_words() -> Iterator[None]:
    """Within it, errors keep the CLI's flags, whatever function of the Python API the CLI calls."""
    token = _CLI_WORDS.set(True)
    try:
        yield
    finally:
        _CLI_WORDS.reset(token)


def python_surface(func: F) -> F:
    """``func`` (a function of the Python API), whose errors leave it in the API's words (``reword``), unless the
    CLI called it. The words change at this boundary, in the caller's thread, not where the error was raised: an
    error a probe's thread raised, or one the API keeps as data (a skipped offer's reason), stays as written."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if not _CLI_WORDS.get():
                reword(exc)
            raise

    return wrapper  # type: ignore[return-value]


def reword(exc: BaseException) -> None:
    """An advisor error's ``message`` and ``hint`` (and ``str``) in the Python API's words (``python_words``), once;
    its ``cli_message`` / ``cli_hint`` keep the CLI's. Any other exception is left as it is."""
    message, hint = getattr(exc, "cli_message", None), getattr(exc, "cli_hint", None)
    if not isinstance(message, str) or getattr(exc, "python_words", False):
        return
    exc.message, exc.hint = python_words(message), python_words(hint) if hint else hint
    exc.args = (f"{exc.message}\n{exc.hint}" if exc.hint else exc.message,)
    exc.python_words = True


def python_words(text: str) -> str:
    """``text`` with each flag that has a Python parameter named as that parameter, outside quoted command lines."""
    out, start = [], 0
    for quoted in _QUOTED.finditer(text):
        out += [_FLAG.sub(_parameter, text[start:quoted.start()]), quoted.group()]
        start = quoted.end()
    return _TWICE.sub(r"\1=\2", "".join(out) + _FLAG.sub(_parameter, text[start:]))


def _parameter(match: re.Match) -> str:
    flag, value = match.group(1), match.group("value")
    if flag in FLAG_SWITCHES:
        return FLAG_SWITCHES[flag] + (f" {value}" if value else "")
    name = FLAG_PARAMETERS.get(flag)
    if name is None:
        return match.group()
    if value is None:
        return f"{name}="
    if re.fullmatch(r"\d+(?:,\d+)+", value):  # a list of numbers: 8,16,32 -> [8, 16, 32]
        return f"{name}=[{value.replace(',', ', ')}]"
    as_is = value.isupper() or value.startswith("'") or re.fullmatch(r"-?\d+(?:\.\d+)?", value)
    literal = value if as_is else f'"{value}"'
    return f"{name}={literal}"
