"""How an error names an option: the CLI's flag (``--dataset-size``) or the Python API's parameter
(``dataset_size=``).

Messages are written once, in the CLI's words. ``advisor.errors.AdvisorError`` keeps them as written
(``cli_message``, ``cli_hint``: what crosses to another process and what data keeps). An error that leaves a
function of the Python API (``python_surface``: every public function of ``advisor.api`` and each name
``advisor`` exports: ``load_workload``, ``Workload``'s, ``Target.cpu`` / ``gpu``, ``History``'s, ``track``,
``Client``'s...) is reworded in the API's words there, unless the CLI called it (``flag_words()``:
``advisor.cli.errors.handle_errors`` runs every command in it). The words are those of the function the caller
called (the outermost such function: ``predict`` calls ``api.resolve_target``, whose ``threads=`` it does not
take). Each flag becomes the parameter of the same meaning that this function takes, its value a Python value
(``--batch-size 512`` -> ``batch_size=512``, ``--precision bf16`` -> ``precision="bf16"``, ``--no-save`` ->
``save=False``, ``--device cuda:0`` -> ``device="cuda:0"``); in a function that takes ``target=`` but not the flag's
parameter, a target's flag becomes the target (``--threads 8`` -> ``target=advisor.Target.cpu(8)``, ``--gpu NAME``
-> ``target="NAME"``). A flag the function has no parameter for is left as it is, and so is a command line quoted
whole (``advisor predict --device cpu``, or any text in backticks). Imports nothing of advisor's.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import re
from collections.abc import Callable, Collection, Iterator
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
    "--actual-seconds": "actual_seconds", "--instance": "instance_type", "--provider": "provider",
    "--workload": "workload",
    "--since": "since", "--limit": "limit", "--offset": "offset", "--server": "url", "--format": "fmt",
}
# Flags whose parameter only some functions take (predict's device=, advisor.profile's devices=,
# api.resolve_target's gpu=): mapped only where the function called takes one, the first it takes.
FUNCTION_PARAMETERS = {"--device": ("device", "devices"), "--gpu": ("gpu",), "--gpus": ("gpus",)}
# A target's flags, for a function that takes ``target=`` but not the flag's own parameter (predict): the target
# that means the same ("{}": the flag's value, else the placeholder).
TARGET_SPELLINGS = {"--threads": ("target=advisor.Target.cpu({})", "N"), "--gpu": ("target={}", "NAME"),
                    "--gpus": ("target=advisor.Target.gpu(NAME, {})", "N")}
# Switches: the parameter and the value the flag stands for.
FLAG_SWITCHES = {
    "--spot": "spot=True", "--no-save": "save=False", "--compile": "compile=True", "--no-compile": "compile=False",
    "--force": "force=True", "--failed": "failed=True", "--p2p": "peer_to_peer=True", "--no-p2p": "peer_to_peer=False",
}

# A flag, and the value after it where one is (a placeholder, a value as Python's repr quotes it, a date, numbers,
# a duration, a precision or an export format, a device, a built-in provider, a GPU model, a comma list, a URL
# without the sentence's full stop).
_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)(?![\w-])(?: (?P<value>[A-Z]+\b|https?://\S+?(?=[.,;)]?(?:\s|$))|"
                   r"'[^'\n]*'|\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d)?)?|\d+(?:,\d+)+|"
                   r"-?\d+(?:\.\d+)?(?![\w:])|\d[\w:.]*\w|(?:bf16|fp16|fp32|tf32|mixed|cost|time|csv|json)\b|"
                   r"(?:cpu|cuda(?::(?:\d+|N)\b)?|all)\b|(?:aws|gcp|azure|lambda|runpod|vast|e2e)\b(?!,\w|-)|[A-Z][A-Za-z]*\d(?:[\w-]*\w)?|[a-z][\w-]*(?:,[\w-]+)+))?")
# A parameter, then the same parameter again in brackets: a hint written "limit=50 (--limit 50)" for both readers.
_TWICE = re.compile(r"\b(\w+)=([^\s()]*) \(\1=[^()]*\)")
# Text quoted as typed, left as it is: a command line ("advisor predict --device cpu --threads 8", to the end of
# its clause) or anything in backticks.
_QUOTED = re.compile(r"`[^`\n]*`|\badvisor (?:predict|recommend|profile|history|pricing|hardware|serve|db|diff)\b"
                     r"(?:[^,;()`\n.]|\.(?=\S))*")
# Whether the CLI runs the code: its ``handle_errors`` runs every command within ``flag_words``. A context variable,
# not a module global: each thread (a server's workers) and each asyncio task sees its own.
_CLI_WORDS: contextvars.ContextVar[bool] = contextvars.ContextVar("advisor_cli_words", default=False)
# Whether a function of the Python API is running in this context: one it calls (predict's api.resolve_target)
# leaves the rewording to the one the caller called.
_IN_SURFACE: contextvars.ContextVar[bool] = contextvars.ContextVar("advisor_in_surface", default=False)


@contextlib.contextmanager
def flag_words() -> Iterator[None]:
    """Within it, errors keep the CLI's flags, whatever function of the Python API the CLI calls."""
    token = _CLI_WORDS.set(True)
    try:
        yield
    finally:
        _CLI_WORDS.reset(token)


def python_surface(func: F | None = None, *, parameters: Collection[str] | None = None) -> Any:
    """``func`` (a function of the Python API), whose errors leave it in the API's words (``reword``, with the
    parameters ``func`` takes), unless the CLI called it. The words change at this boundary, in the caller's
    thread, not where the error was raised: an error a probe's thread raised, or one the API keeps as data (a
    skipped offer's reason), stays as written. Called from within another such function, it leaves the words to
    that one: its caller reads them.

    ``@python_surface(parameters=...)`` words the errors with those parameters instead: a context manager's
    ``__enter__`` / ``__exit__``, which take none, raise for what its constructor was given (``advisor.track``'s
    ``instance_type=``)."""
    if func is None:
        return functools.partial(_surface, parameters=frozenset(parameters or ()))
    return _surface(func, frozenset(inspect.signature(func).parameters))


def _surface(func: F, parameters: frozenset[str]) -> F:
    """``func`` wrapped as ``python_surface`` says, its errors worded with ``parameters``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _IN_SURFACE.get():
            return func(*args, **kwargs)
        token = _IN_SURFACE.set(True)
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if not _CLI_WORDS.get():
                reword(exc, parameters)
            raise
        finally:
            _IN_SURFACE.reset(token)

    return wrapper  # type: ignore[return-value]


def reword(exc: BaseException, parameters: Collection[str] | None = None) -> None:
    """An advisor error's ``message`` and ``hint`` (and ``str``) in the Python API's words (``python_words``), once;
    its ``cli_message`` / ``cli_hint`` keep the CLI's. Any other exception is left as it is.

    Args:
        exc: the exception leaving the API.
        parameters: the parameters of the function it leaves (None: any function's).
    """
    message, hint = getattr(exc, "cli_message", None), getattr(exc, "cli_hint", None)
    if not isinstance(message, str) or getattr(exc, "python_words", False):
        return
    exc.message = python_words(message, parameters)
    exc.hint = python_words(hint, parameters) if hint else hint
    exc.args = (f"{exc.message}\n{exc.hint}" if exc.hint else exc.message,)
    exc.python_words = True


def python_words(text: str, parameters: Collection[str] | None = None) -> str:
    """``text`` with each flag that has a Python parameter named as that parameter, outside quoted command lines.

    Args:
        text: a message in the CLI's words.
        parameters: the parameters of the function the words are for: a flag becomes only a parameter it takes,
            or its ``target=``. None: any function's (``FLAG_PARAMETERS``; ``--device``, ``--gpu``, ``--gpus``
            left as they are).
    """
    def sub(part: str) -> str:
        return _FLAG.sub(lambda match: _parameter(match, parameters), part)

    out, start = [], 0
    for quoted in _QUOTED.finditer(text):
        out += [sub(text[start:quoted.start()]), quoted.group()]
        start = quoted.end()
    return _TWICE.sub(r"\1=\2", "".join(out) + sub(text[start:]))


def _parameter(match: re.Match, parameters: Collection[str] | None) -> str:
    flag, value = match.group(1), match.group("value")
    if flag in FLAG_SWITCHES:
        switch = FLAG_SWITCHES[flag]
        if parameters is not None and switch.split("=")[0] not in parameters:
            return match.group()
        return switch + (f" {value}" if value else "")
    name = _parameter_name(flag, parameters)
    if name is None:
        if parameters is not None and "target" in parameters and flag in TARGET_SPELLINGS:
            return _target(flag, value)
        return match.group()
    if value is None:
        return f"{name}="
    return f"{name}={_literal(value)}"


def _parameter_name(flag: str, parameters: Collection[str] | None) -> str | None:
    """The parameter ``flag`` is, among ``parameters`` (None: ``FLAG_PARAMETERS``'s, whatever the function)."""
    if parameters is None:
        return FLAG_PARAMETERS.get(flag)
    names = (FLAG_PARAMETERS[flag],) if flag in FLAG_PARAMETERS else FUNCTION_PARAMETERS.get(flag, ())
    return next((name for name in names if name in parameters), None)


def _target(flag: str, value: str | None) -> str:
    """The ``target=`` that a target's flag and its value mean (a placeholder where none is given)."""
    spelling, placeholder = TARGET_SPELLINGS[flag]
    value = value or placeholder
    return spelling.format(f'"{value}"' if flag == "--gpu" else _literal(value))  # a GPU's name is a string


def _placeholder(value: str) -> bool:
    """A placeholder written in capitals (N, NAME, S), passed as it is."""
    return value.isalpha() and value.isupper()


def _literal(value: str) -> str:
    """The Python value a flag's value is: a list of numbers as a list, a placeholder, number or quoted value as it
    is, anything else a string."""
    if re.fullmatch(r"\d+(?:,\d+)+", value):  # a list of numbers: 8,16,32 -> [8, 16, 32]
        return f"[{value.replace(',', ', ')}]"
    if _placeholder(value) or value.startswith("'") or re.fullmatch(r"-?\d+(?:\.\d+)?", value):
        return value
    return f'"{value}"'
