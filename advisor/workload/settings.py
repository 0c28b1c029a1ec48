"""How a job steps, for whatever the user predicts from: a workload file, an ``advisor.Workload``, a ``Profile``.

``job_settings`` resolves ``PRECISION``, ``COMPILE``, ``GRAD_ACCUM_STEPS``, ``EVAL_EVERY`` and ``EVAL_STEPS``
(``advisor.workload.job.resolve_settings``) from the explicit values (CLI flags, API keywords) over the
workload's own: a file's constants read without running it (``advisor.workload.constants``), an in-memory
workload's attributes, or, for a profile, the settings its workload declared when it was probed (the probe
records them in ``WorkloadInfo``), so that a saved profile predicts the job its file declares without the file
being read again. Torch-free; never imports user code.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from advisor.schemas import Profile
from advisor.workload.constants import FileConstants, read_file_constants, snapshot_of
from advisor.workload.job import JobSettings, module_held, resolve_settings
from advisor.workload.loader import Workload, read_defaults


def _is_file(source: Any) -> bool:
    return isinstance(source, (str, Path)) and Path(source).suffix != ".json"


def _profile_of(source: Any) -> Profile | None:
    """``source`` as a Profile (a profile object, or a profile .json path read as data); None otherwise."""
    if isinstance(source, Profile):
        return source
    try:
        return Profile.model_validate_json(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError, ValidationError):
        return None  # the caller's own load says what is wrong with it


def file_constants(source: Any) -> tuple[FileConstants | None, dict[str, Any] | None, str | None]:
    """(the workload file's constants read without running it, an in-memory Workload's values, the label)."""
    if isinstance(source, Workload):
        return None, source.job_constants(), source.label
    if _is_file(source):
        return read_file_constants(source), None, str(source)
    prof = _profile_of(source)
    if prof is None:
        return None, None, None
    # What the workload declared, as the probe recorded it: a profile's file is never read again (it may be
    # gone, edited, or on a machine a server must not touch). Its unread constants and near-miss names get the
    # notes they would have.
    info = prof.workload
    return (FileConstants(unread=dict(info.unread), near_misses=dict(info.near_misses)), info.job_constants(),
            info.path or info.name)


def job_settings(source: Any, explicit: dict[str, Any], prof: Profile | None = None,
                 probed_batch_size: int | None = None, takes: Collection[str] | None = None) -> JobSettings:
    """How the job steps: ``explicit`` (keyword -> value, None = not given) over the workload's constants over
    the defaults, with a note for each constant the file's text did not give. ``prof``: the profile probed
    (or loaded) from ``source``, once there is one: the data constants its probe child reported. ``takes``: the
    settings the caller has flags for, which a bad constant's fix may offer (None: all, as predict's).

    Called before any probe too: a file's constant of the wrong type or range is a ``WorkloadError`` then, the
    data constants (``DATASET_SIZE``, ``EPOCHS``, ``BATCH_SIZE``) included unless ``explicit`` gives their
    keyword (``dataset_size``, ``epochs``, ``batch_size``), whose value replaces the file's
    (``advisor.workload.job.check_declared_data``)."""
    if isinstance(source, Workload) and prof is None:
        source.check_defaults(explicit)
    constants, module_values, label = file_constants(prof if prof is not None and not _is_file(source)
                                                     and not isinstance(source, Workload) else source)
    reported = None
    if prof is not None:
        info = prof.workload
        # What the probe child reported of the imported module: the data constants, and the settings (a file's
        # profile records the module's: ``advisor.probe.defaults.with_module_settings``).
        reported = {"DATASET_SIZE": info.dataset_size, "EPOCHS": info.epochs, "BATCH_SIZE": info.batch_size,
                    "NUM_WORKERS": prof.input_pipeline.default_workers if prof.input_pipeline else None,
                    **info.job_constants()}
        if _is_file(source) and constants is not None:  # a setting the module held that is not valid: noted
            held = {c: s for c, s in info.unread.items() if module_held(s) and c not in constants.values}
            constants = replace(constants, unread={**constants.unread, **held})
    return resolve_settings(explicit, constants, module_values=module_values, label=label,
                            probed_batch_size=probed_batch_size, reported=reported,
                            in_memory=isinstance(source, Workload), takes=takes)


def declared_precision(source: Any) -> str:
    """The precision the workload's job trains at: its ``PRECISION`` (checked as ``job_settings`` checks it),
    else fp32. Its data constants are not asked for here (a flag may still replace a bad one). What ``advisor
    profile`` probes with: a bad setting's fix offers the one flag of them it takes, ``--precision``."""
    replaced = dict.fromkeys(("dataset_size", "epochs", "batch_size"), 1)
    return job_settings(source, replaced, takes=("precision",)).precision or "fp32"


def probe_batch_size(source: Any, batch_size: int | None, default: int) -> int | None:
    """The batch size a probe of ``source`` runs at (``advisor.api.profile``'s choice), for the note on an
    unread ``BATCH_SIZE``; None for a profile (not probed now) or an in-memory workload."""
    if batch_size:
        return batch_size
    if _is_file(source):
        return read_defaults(source).get("batch_size") or default
    return None


def read_once(source: Any) -> Any:
    """``source`` with a workload file's text read once for the whole command (``WorkloadFile``):
    a ``WorkloadFile`` where it names a readable ``.py`` file, else ``source`` as it was (whatever is wrong with
    it is named where it is checked, as before)."""
    from advisor.errors import WorkloadError
    from advisor.workload.loader import check_path

    if not isinstance(source, (str, Path)) or "\x00" in str(source) or Path(source).suffix != ".py":
        return source
    try:
        path = check_path(source)
    except WorkloadError:
        return source
    return snapshot_of(path)  # a file over constants.MAX_WORKLOAD_BYTES: a WorkloadError saying so


def probe_threads(threads: int | None) -> int | None:
    """The CPU threads a probe for a CPU target of ``threads`` runs at (None: PyTorch's default): at most this
    machine's logical CPUs. A larger target is a what-if (``advisor predict --device cpu --threads 64`` on a
    laptop): probed on all of this machine's, and scaled to the target's by the predictor, where asking the
    probe for more would be refused (``advisor.probe.request``)."""
    from advisor.hardware.cpu import usable_logical_cpus

    return None if threads is None else min(threads, usable_logical_cpus())
