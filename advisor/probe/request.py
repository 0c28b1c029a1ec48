"""``ProbeRequest``: what one probe is asked to do, validated once in the parent and sent to the child as JSON.

``ProbeRequest.build(...)`` is the only place the probe's settings are checked: a bad value (a batch size of 0,
probe seconds that are not a positive finite number, an unknown precision or device) is one ``AdvisorError``
that says what is wrong and how to fix it, raised before any process starts, never a pydantic traceback. The
model is frozen, so the runner and the child read the same values the check passed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, ValidationError, field_validator

from advisor.errors import AdvisorError, ConfigError, HardwareError, WorkloadError, did_you_mean
from advisor.precision_words import unknown_precision
from advisor.schemas import Precision
from advisor.schemas.base import MAX_JOB_COUNT
from advisor.workload.job import over_bound_error, over_job_bound

# Strict: True, 8.0 and "8" are mistakes here, not 1 and 8.
PositiveWhole = Annotated[int, Strict(), Field(gt=0)]
# A batch size: bounded as the job's is (--batch-size), so that no size the job refuses is probed. The probe
# times none past a Measurement's bound (advisor.probe.ladder.MAX_TIMED_BATCH_SIZE): those are skipped, noted.
BatchSize = Annotated[int, Strict(), Field(gt=0, le=MAX_JOB_COUNT)]
PositiveSeconds = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]
_DEVICE = re.compile(r"cuda:\d+")


def normalize_device(value: Any) -> str:
    """'cpu' or 'cuda:N' ('CUDA' -> 'cuda:0'); ValueError for anything else."""
    name = str(value).strip().lower()
    name = "cuda:0" if name == "cuda" else name
    if name != "cpu" and not _DEVICE.fullmatch(name):
        raise ValueError(f"unknown device {value!r}")
    return name


class ProbeRequest(BaseModel):
    """The settings of one probe: the user's choices, checked. The parent's own launch details (the fault file,
    its pid, fork or not) travel beside it in ``advisor.probe.frames.ChildStart``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The workload file, absolute (a file that changes the working folder as it runs, os.chdir, is still found);
    # None for an in-memory advisor.Workload.
    workload_path: str | None = None
    workload_label: str | None = None  # how messages name that file: its path as the user wrote it (None: the path)
    devices: list[Annotated[str, BeforeValidator(normalize_device)]] = Field(default_factory=lambda: ["cpu"])
    batch_size: BatchSize  # the top of the automatic ladder (B/8, B/4, B/2, B)
    batch_sizes: Annotated[list[BatchSize], Field(min_length=1)] | None = None  # an explicit ladder instead
    probe_seconds: PositiveSeconds = 60.0  # shared by the devices; set-up and analysis come on top
    precision: Precision = "fp32"
    # The precision the analysis accounts bytes at (the GPUs' precision), when it is not ``precision``: a CPU
    # probed in fp32 for a job that runs in bf16 on GPUs. None: ``precision``.
    analysis_precision: Precision | None = None
    # Also analyse at bf16 (``Profile.bf16_analysis``), after everything is timed; the parent asks for it only
    # where the analysis is not 16-bit.
    bf16_analysis: bool = False
    threads: PositiveWhole | None = None  # CPU threads for the CPU probe; None: PyTorch's default
    analyze: bool = True
    thread_scaling: bool = True
    fresh_target: bool = True  # time the user's batch size on the CPU in a twin (advisor.probe.twin)
    # On a busy CPU, time each window at raised scheduling priority where allowed (advisor.probe.priority).
    raise_priority: bool = True
    timeout_seconds: PositiveSeconds | None = None  # the parent's; None: probe_seconds * 3 + 60
    # How long to wait for another advisor probe on this machine to finish timing (advisor.probe.turns); 0: no turns.
    probe_wait_seconds: Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False)] = 0.0
    # The GPUs came from "auto" (NVML's list): one torch cannot use is left out, with a note, not an error.
    optional_gpus: bool = False

    @field_validator("devices")
    @classmethod
    def _once_each(cls, devices: list[str]) -> list[str]:
        return list(dict.fromkeys(devices))

    @classmethod
    def build(cls, **values: Any) -> ProbeRequest:
        """The request from keyword values (the fields above); ``AdvisorError`` for the first bad one, or for
        more CPU threads than this machine has (a field validator would refuse a request the child re-reads)."""
        try:
            request = cls(**values)
        except ValidationError as exc:
            raise _advisor_error(exc, values) from None
        _check_threads(request.threads)
        return request

    @property
    def analysed_at(self) -> str:
        """The precision the analysis is made at."""
        return self.analysis_precision or self.precision

    @property
    def timeout(self) -> float:
        """Seconds after which the parent stops the child."""
        return self.timeout_seconds if self.timeout_seconds is not None else self.probe_seconds * 3 + 60


def _check_threads(threads: int | None) -> None:
    """ConfigError for more threads than the logical CPUs this process may run on: the probe measures on this
    machine, and PyTorch cannot start more (libgomp fails, and the profile would record threads never used)."""
    from advisor.hardware.cpu import usable_logical_cpus

    cpus = usable_logical_cpus()
    if threads is not None and threads > cpus:
        raise ConfigError(f"--threads {threads} is more than this machine's {cpus} logical CPUs: the probe times "
                          "the model here.",
                          hint=f"Fix: pass --threads {cpus} or fewer; to predict a CPU with more threads, use "
                               f"advisor predict --device cpu --threads {threads}, which scales the probe to them.")


def _advisor_error(exc: ValidationError, values: dict[str, Any]) -> AdvisorError:
    """The first problem pydantic found, said the way the CLI's flags are named."""
    first = exc.errors(include_url=False)[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    value = values.get(field)
    if field == "batch_size" and over_job_bound(value):
        return over_bound_error(f"batch size {value!r} (--batch-size)", "pass --batch-size with")
    if field == "batch_size":
        return WorkloadError(f"batch size must be a positive whole number, got {value!r}.",
                             hint="Fix: pass --batch-size with a whole number of 1 or more.")
    big = [b for b in value if over_job_bound(b)] if field == "batch_sizes" and isinstance(value, (list, tuple)) else []
    if big:
        return over_bound_error(f"batch size {big[0]!r} (--batch-sizes)", "pass --batch-sizes with")
    if field == "batch_sizes":
        return ConfigError(f"--batch-sizes must be positive whole numbers, got {value!r}.",
                           hint="Fix: e.g. --batch-sizes 8,16,32.")
    if field == "probe_seconds":
        return ConfigError(f"--probe-seconds must be a positive number, got {value!r}.",
                           hint="Fix: e.g. --probe-seconds 60.")
    if field == "timeout_seconds":
        return ConfigError(f"the probe timeout must be a positive number of seconds, got {value!r}.",
                           hint="Fix: e.g. 240.")
    if field in ("precision", "analysis_precision"):
        return unknown_precision(value)
    if field == "threads":
        return ConfigError(f"--threads must be a positive whole number, got {value!r}.", hint="Fix: e.g. 4.")
    if field == "devices":
        device = first.get("input")
        name = str(device).strip().lower()
        return HardwareError(f"unknown device {device!r}.{did_you_mean(name, ['cpu', 'cuda:0'])}",
                             hint="Fix: use cpu or cuda:N.")
    return ConfigError(f"invalid probe setting {field or '(request)'}: {first['msg']}.",
                       hint="Fix: see advisor.profile's arguments.")
