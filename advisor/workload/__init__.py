"""Workloads: the user's model, batches, loss and optimizer, loaded, checked and stepped.

``loader`` (the ``Workload`` object, loading a file, the path check), ``file_import`` (running the file as a
module, and the fix for each way that fails), ``constants`` (the file's job constants
read without running it: constant arithmetic only), ``dataloader`` (the calls into a workload's
``make_dataloader``), ``job`` (the job and how it steps, from explicit values over a workload's defaults) and
``describe`` (the wording of its error messages) are torch-free and imported here. ``step`` (one training
step) and ``check`` (``check_workload``) import torch, so their names load on first use: ``import
advisor.workload`` never imports torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from advisor.schemas import JobSpec
from advisor.workload.constants import JOB_CONSTANTS, FileConstants, read_constants, read_file_constants
from advisor.workload.dataloader import LoaderRun, sample_count, user_line
from advisor.workload.describe import input_summary
from advisor.workload.job import (
    JOB_FLAGS,
    JOB_SETTINGS,
    JobSettings,
    check_job_values,
    normalize_precision,
    positive_int,
    resolve_job,
    resolve_settings,
)
from advisor.workload.loader import Workload, check_path, file_sha256, load_workload, read_defaults

if TYPE_CHECKING:  # pragma: no cover
    from advisor.workload.check import CheckResult, check_workload
    from advisor.workload.step import call_model, compute_loss, move_to, split_batch, train_step

# Names from the torch-importing modules, imported on first access (PEP 562).
_LAZY = {
    "CheckResult": "advisor.workload.check",
    "check_workload": "advisor.workload.check",
    "call_model": "advisor.workload.step",
    "compute_loss": "advisor.workload.step",
    "move_to": "advisor.workload.step",
    "split_batch": "advisor.workload.step",
    "train_step": "advisor.workload.step",
}

__all__ = [
    "JOB_CONSTANTS",
    "JOB_FLAGS",
    "JOB_SETTINGS",
    "CheckResult",
    "FileConstants",
    "JobSettings",
    "JobSpec",
    "LoaderRun",
    "Workload",
    "call_model",
    "check_job_values",
    "check_path",
    "check_workload",
    "compute_loss",
    "file_sha256",
    "input_summary",
    "load_workload",
    "move_to",
    "normalize_precision",
    "positive_int",
    "read_constants",
    "read_defaults",
    "read_file_constants",
    "resolve_job",
    "resolve_settings",
    "sample_count",
    "split_batch",
    "train_step",
    "user_line",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
