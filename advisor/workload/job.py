"""The job to predict (dataset size, epochs, batch size): explicit values over a workload's defaults.

The one place these values are validated and the one wording of their errors, shared by
``Workload.job()``, the api (which knows a profiled workload's defaults only from its ``Profile``) and the CLI.
Torch-free.
"""

from __future__ import annotations

import operator
from typing import Any

from advisor.errors import WorkloadError
from advisor.schemas import JobSpec

# (what the error messages call it, the CLI flag); the file's constant is the flag in upper case.
JOB_FLAGS = (("dataset size", "--dataset-size"), ("epochs", "--epochs"), ("batch size", "--batch-size"))


def positive_int(value: Any) -> int | None:
    """``value`` as an int when it is a positive whole number (int, integral float, numpy int), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value > 0 else None
    try:
        number = operator.index(value)
    except TypeError:
        return None
    return number if number > 0 else None


def check_job_values(dataset_size: Any, epochs: Any, batch_size: Any) -> None:
    """Reject explicit non-positive job values (None: not given, checked against the file's defaults later)."""
    for (what, flag), value in zip(JOB_FLAGS, (dataset_size, epochs, batch_size), strict=True):
        if value is not None and positive_int(value) is None:
            raise _bad_job_value(what, value, flag)


def resolve_job(*, dataset_size: Any, epochs: Any, batch_size: Any, default_dataset_size: Any = None,
                default_epochs: Any = None, default_batch_size: Any = None, label: str | None = None) -> JobSpec:
    """The job from the explicit values, else the defaults (a workload file's constants); all positive integers.

    Args:
        dataset_size, epochs, batch_size: explicit values (CLI flags, API arguments); None when not given.
        default_dataset_size, default_epochs, default_batch_size: the workload's ``DATASET_SIZE``, ``EPOCHS``,
            ``BATCH_SIZE``; None when it has none.
        label: how error messages name the workload (``Workload.label``); None leaves the name out.

    Raises:
        WorkloadError: a value is missing from both, or is not a positive whole number.
    """
    given = (dataset_size, epochs, batch_size)
    defaults = (default_dataset_size, default_epochs, default_batch_size)
    where = f"{label}: " if label else ""
    numbers: list[int] = []
    for (what, flag), explicit, default in zip(JOB_FLAGS, given, defaults, strict=True):
        const = flag[2:].upper().replace("-", "_")
        from_file = explicit is None
        value = default if from_file else explicit
        if value is None:
            raise WorkloadError(
                f"{where}no {what} given.",
                hint=f"Fix: pass {flag} N, or set {const} = N in the workload file.",
            )
        number = positive_int(value)
        if number is None:
            if from_file:
                raise WorkloadError(
                    f"{where}{const} = {value!r}: the {what} must be a positive whole number.",
                    hint=f"Fix: set {const} to 1 or more in the workload file, or pass {flag} N.",
                )
            raise _bad_job_value(what, value, flag, label)
        numbers.append(number)
    return JobSpec(*numbers)


def _bad_job_value(what: str, value: Any, flag: str, label: str | None = None) -> WorkloadError:
    where = f"{label}: " if label else ""
    return WorkloadError(f"{where}{what} must be a positive whole number, got {value!r} ({flag}).",
                         hint=f"Fix: pass {flag} with a value of 1 or more.")
