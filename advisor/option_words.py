"""How an error names an option: the CLI's flag (``--dataset-size``) or the Python API's parameter
(``dataset_size=``).

Messages are written once, in the CLI's words. ``advisor.errors.AdvisorError`` keeps them as written
(``cli_message``, ``cli_hint``: what crosses to another process and what data keeps) and shows them in the words of
the surface that raised them: the Python API's while one of its calls runs (``python_surface``: ``advisor.profile``,
``predict``, ``recommend``, ``History``'s queries, ``track``...), unless the CLI runs it (``flag_words()``:
``advisor.cli.errors.handle_errors`` runs every command in it); as written otherwise. In the Python API's words each
flag with a parameter of the same meaning becomes that parameter, its value a Python value (``--batch-size 512`` ->
``batch_size=512``, ``--precision bf16`` -> ``precision="bf16"``, ``--no-save`` -> ``save=False``). A flag with no
one parameter (``--gpu``, ``--device``, ``--profile``) is left as it is, and so is a command line quoted whole
(``advisor predict --device cpu``, or any text in backticks). Imports nothing of advisor's.
"""

from __future__ import annotations

import contextlib
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
    "--since": "since", "--limit": "limit", "--offset": "offset",
}
# Switches: the parameter and the value the flag stands for.
FLAG_SWITCHES = {
    "--spot": "spot=True", "--no-save": "save=False", "--compile": "compile=True", "--no-compile": "compile=False",
    "--force": "force=True", "--p2p": "peer_to_peer=True", "--no-p2p": "peer_to_peer=False",
}

# A flag, and the value after it where one is (a placeholder, numbers, a duration, a precision, a comma list).
_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)(?![\w-])(?: (?P<value>[A-Z]+\b|\d+(?:,\d+)+|"
                   r"-?\d+(?:\.\d+)?(?![\w:])|\d[\w:.]*\w|(?:bf16|fp16|fp32|tf32|mixed|cost|time)\b|"
                   r"[a-z][\w-]*(?:,[\w-]+)+))?")
# Text quoted as typed, left as it is: a command line ("advisor predict --device cpu --threads 8", to the end of
# its clause) or anything in backticks.
_QUOTED = re.compile(r"`[^`\n]*`|\badvisor (?:predict|recommend|profile|history|pricing|hardware|serve|db|diff)\b"
                     r"(?:[^,;()`\n.]|\.(?=\S))*")
# Counters, for the whole process (a probe's threads raise errors too), not per thread: > 0 while the CLI runs a
# command, and while a call of the Python API runs.
_flag_words = 0
_python_calls = 0


@contextlib.contextmanager
def flag_words() -> Iterator[None]:
    """Within it, errors name the CLI's flags, whatever they are raised in (the CLI calls the Python API)."""
    global _flag_words
    _flag_words += 1
    try:
        yield
    finally:
        _flag_words -= 1


def python_surface(func: F) -> F:
    """``func`` (a function of the Python API) with the errors raised while it runs in the API's words, unless
    the CLI called it."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _python_calls
        _python_calls += 1
        try:
            return func(*args, **kwargs)
        finally:
            _python_calls -= 1

    return wrapper  # type: ignore[return-value]


def for_surface(text: str | None) -> str | None:
    """``text`` (written in the CLI's words) as the surface raising it names options: ``python_words(text)``
    within a call of the Python API that the CLI did not make, else as it is."""
    if not text or not isinstance(text, str) or _flag_words or not _python_calls:
        return text
    return python_words(text)


def python_words(text: str) -> str:
    """``text`` with each flag that has a Python parameter named as that parameter, outside quoted command lines."""
    out, start = [], 0
    for quoted in _QUOTED.finditer(text):
        out += [_FLAG.sub(_parameter, text[start:quoted.start()]), quoted.group()]
        start = quoted.end()
    return "".join(out) + _FLAG.sub(_parameter, text[start:])


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
    literal = value if value.isupper() or re.fullmatch(r"-?\d+(?:\.\d+)?", value) else f'"{value}"'
    return f"{name}={literal}"
