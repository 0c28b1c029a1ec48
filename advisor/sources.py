"""What ``predict`` and ``recommend`` are given to answer from (a saved profile, or a workload to probe): whether it
is a saved profile, the probe budget it takes, and the job's sizes read from the profile it gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from advisor.errors import ConfigError
from advisor.schemas import JobSpec, Profile
from advisor.schemas.small_batch import last_batch_raises_note, raised_at, step_raises_note
from advisor.workload.constants import read_file_constants
from advisor.workload.fitted import fitted_job
from advisor.workload.job import JobSettings, resolve_job

DEFAULT_PROBE_SECONDS = 60.0  # predict's and recommend's probe budget where none is given


def is_saved_profile(source: Any) -> bool:
    """A profile already made (an object, or a profile .json path): nothing is probed for it."""
    return isinstance(source, Profile) or (isinstance(source, (str, Path)) and Path(source).suffix == ".json")


def probe_budget(source: Any, probe_seconds: float | None) -> float:
    """The probe's budget in seconds for ``source`` (60 where not given); a ConfigError where one is given with a
    saved profile, which was probed already (the budget would be taken and change nothing)."""
    if probe_seconds is not None and is_saved_profile(source):
        raise ConfigError("--probe-seconds is the probe's budget, and a saved profile was probed already: it is not "
                          "taken with one.",
                          hint="Fix: drop --probe-seconds, or profile again with a longer budget: `advisor profile "
                               "WORKLOAD --probe-seconds S -o FILE`.")
    return DEFAULT_PROBE_SECONDS if probe_seconds is None else probe_seconds


def job_for(prof: Profile, dataset_size: int | None, epochs: int | None, batch_size: int | None,
            settings: JobSettings | None = None, *, source: Any = None, notes: list[str] | None = None) -> JobSpec:
    """The job from explicit values, else the workload file's defaults (positive integers); how it steps.
    ``source``: what the profile came from; where it is a saved profile, a missing size is named as that
    profile's (its workload path is a label, never read). ``notes``: where given, the notes on what the job
    changed of the figures given (``advisor.workload.fitted``) are added to it."""
    info = prof.workload
    saved = is_saved_profile(source)
    if saved:
        label = f"the profile {source}" if isinstance(source, (str, Path)) else f"the profile of {info.name!r}"
    else:
        label = str(info.path) if info.path else f"workload {info.name!r}"
    # The file is read again only where it is what was probed now (a saved profile's path is a label).
    near = read_file_constants(source).near_misses if isinstance(source, (str, Path)) and not saved else None
    job = resolve_job(dataset_size=dataset_size, epochs=epochs, batch_size=batch_size,
                      default_dataset_size=info.dataset_size, default_epochs=info.epochs,
                      default_batch_size=info.batch_size, unusable=info.unusable_defaults, label=label, saved=saved,
                      near_misses=near)
    job = settings.apply(job) if settings is not None else job
    asked = batch_size if batch_size is not None else info.batch_size
    said = f"--batch-size {batch_size}" if batch_size is not None else f"the workload's batch size {asked}"
    job, fitted = fitted_job(job, asked_batch_size=asked, batch_said=said,
                             said=dict(settings.said) if settings is not None else None)
    if notes is not None:
        raised = raised_at(prof)
        # every step of one sample (--batch-size 1: one device on any target), else a last batch that raises
        raises = (step_raises_note(raised.get(1), job.batch_size, 1)
                  or last_batch_raises_note(raised, job.dataset_size, job.batch_size))
        notes.extend([*([raises] if raises else []), *fitted])
    return job
