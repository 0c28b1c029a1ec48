"""The shared base of every schema: the literal types, the schema version and the pydantic base model."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

SCHEMA_VERSION = 1

Precision = Literal["fp32", "tf32", "bf16", "fp16"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
HALF_PRECISIONS: tuple[str, ...] = ("bf16", "fp16")  # mixed precision (autocast) at 16 bits
# The precision an estimate says it priced: one asked for, or "fp64" for a model that trains in float64 (whatever
# was asked: autocast leaves float64 alone; advisor.predictor.fp64). Not a choice: --precision takes PRECISIONS.
PricedPrecision = Literal["fp32", "tf32", "bf16", "fp16", "fp64"]
Method = Literal["measured", "scaled", "history"]
Tier = Literal["cpu", "single_gpu", "multi_gpu"]
Objective = Literal["cost", "time"]
# What limits a step: the device's compute, the host preparing batches, or the copy of batches to the device.
Bound = Literal["compute", "input", "transfer"]


# Ranges that hold wherever a model is validated (the CLI, the API, a profile file from a stranger). A value out
# of them is a clear validation error at load time, never a ZeroDivisionError or a silently dropped tier later.
# Counts are strict ints: JSON's true is no batch size, "50000" or 2.0 no dataset size (a profile with
# "epochs": true priced a 1-epoch job).
SchemaVersion = Annotated[int, Field(strict=True, ge=1, le=SCHEMA_VERSION)]
# The most a batch size, thread or GPU count may be: what the history's 32-bit integer columns hold (a
# Measurement's batch size among them; PostgreSQL's integer stops at 2**31 - 1). The probe times no batch past it
# (advisor.probe.ladder).
MAX_COUNT = 2**31 - 1
Count = Annotated[int, Field(strict=True, ge=1, le=MAX_COUNT)]  # batch sizes, threads, GPUs
# A model's parameter count: what the history's 64-bit column holds (2**63 - 1; past it a 500 and a traceback).
ParamCount = Annotated[int, Field(strict=True, ge=0, le=2**63 - 1)]
# The most samples, epochs or samples per batch a job may name (the flags, a workload file's constants, the
# service's request bodies): a larger figure is a typo, and would print times of millions of years and costs
# beyond any budget as if real.
MAX_JOB_COUNT = 10**12
JobCount = Annotated[int, Field(strict=True, ge=1, le=MAX_JOB_COUNT)]  # a job's dataset size, epochs, batch size
# The most samples a whole job may process (dataset size x epochs): each figure within MAX_JOB_COUNT made 10^24
# (10^12 epochs of 10^12 samples), micro-steps past a 64-bit integer, stored as if real.
MAX_JOB_SAMPLES = 10**15
# The constants a workload file declares its job with (advisor.workload.constants.JOB_CONSTANTS), and the source
# text of one that was set in a way its reader does not evaluate, as a note quotes it.
JobConstant = Literal["DATASET_SIZE", "EPOCHS", "BATCH_SIZE", "NUM_WORKERS", "PRECISION", "COMPILE",
                      "GRAD_ACCUM_STEPS", "EVAL_EVERY", "EVAL_STEPS"]
ConstantSource = Annotated[str, Field(max_length=200)]


def _one_line(text: str) -> str:
    """``text`` where it is one line without C0 control characters or DEL; a validation error otherwise. A NUL is
    left to the document's ``refuse_nul``, which names the field as it does in every other text."""
    if any((ord(ch) < 0x20 and ch != NUL) or ord(ch) == 0x7F for ch in text):
        raise PydanticCustomError("one_line", "must be one line without control characters (a newline, a tab, "
                                  "an escape), got {text}", {"text": repr(text[:80])})
    return text


# A machine's or device's name as the probe reads it (a hostname, a CPU model, a GPU's name): one line, no control
# characters, at most 256 characters (a hostname has at most 253). It is printed inside sentences (recommend's
# "Here" line, kept in the history): a newline in one added real-looking "note:" lines to the verdict.
DeviceName = Annotated[str, Field(max_length=256, json_schema_extra={"pattern": r"^[^\x00-\x1f\x7f]*$"}),
                       AfterValidator(_one_line)]
# A name a workload file binds that looks like a misspelling of one advisor reads (advisor.workload.names): the name
# advisor reads (a constant, or an optional function; or the part of a step it does not model, names.UNMODELLED)
# and the line of the file's name, as a profile keeps it.
NearMiss = tuple[Literal["DATASET_SIZE", "EPOCHS", "BATCH_SIZE", "NUM_WORKERS", "PRECISION", "COMPILE",
                         "GRAD_ACCUM_STEPS", "EVAL_EVERY", "EVAL_STEPS", "loss_fn", "configure_optimizer",
                         "make_dataloader", "lr_scheduler", "gradient_clipping"],
                 Annotated[int, Field(strict=True, ge=1, le=2**31)]]
# One step: at least 1 ns (no timer the probe reads resolves less, and no step is that short) and at most 11 days.
# The floor keeps a profile's ratios of step times finite: 1e-200 s passed, and a squared ratio overflowed.
StepSeconds = Annotated[float, Field(ge=1e-9, le=1e6, allow_inf_nan=False)]
Seconds = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]  # a whole job, a probe: up to 31 years
Gib = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]  # may be negative: RSS growth on a CPU
MemorySize = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]  # a device's or machine's memory
MemoryLimit = Literal["cgroup", "address_space"]  # a limit under the machine's RAM (advisor.hardware.process_memory)
Amount = Annotated[float, Field(ge=0, le=1e30, allow_inf_nan=False)]  # FLOPs, bytes
Fraction = Annotated[float, Field(ge=0, le=1e3, allow_inf_nan=False)]  # spreads, ratios
# Share of a probed CPU's memory (or a GPU's whose probe recorded none) a job measured there may use before it
# counts as not fitting (allocator caches, fragmentation, the rest of the process): advisor.predictor.measured's
# rule. A GPU probe's memory is judged by advisor.predictor.memory (workspace and the CUDA context added).
USABLE_MEMORY_FRACTION = 0.9


def within_capacity(peak_gib: float, capacity_gib: float) -> bool:
    """The one test of a memory fit (advisor.predictor.memory's largest batch and verdict, the ranking's check): up
    to a billionth over counts, as float rounding put an exact fit, 0.3 + 1.1 x (4 + 30 x 0.1) GiB, at
    8.000000000000002 against 8 GiB ("Needs 8.000 GiB at batch 30 per device, 8.000 GiB available")."""
    return peak_gib <= capacity_gib * (1.0 + 1e-9)


# The phrase of an estimate's note that its memory fits with only its margin left (advisor.predictor.memory's
# tight notes, a caveat in advisor.predictor.caveats): here, so that the ranking (which imports no predictor) can
# tell a tight fit from an estimate's notes (``Candidate.memory_tight``).
MAY_RUN_OUT_OF_MEMORY = "may run out of memory"


NUL = "\x00"
# What a NUL in text is, the pydantic error type that reports it, and the fix.
NUL_ERROR = "nul_character"
NUL_PROBLEM = "contains a NUL character (\\x00); remove it (no name, path or note has one)"
# Per model class: (its fields that can hold text, its fields that can hold models), found once from annotations.
_PARTS: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _holds(annotation: Any, kind: str) -> bool:
    """Whether a field of this type can hold text of its own (``kind`` "text": str, or a union, list, tuple or
    dict with one in it; not a Literal, whose values are the code's) or a model ("model")."""
    if kind == "text" and (annotation is str or annotation is Any):
        return True
    if kind == "model" and isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    origin = get_origin(annotation)
    if origin is None or origin is Literal:
        return False
    return any(_holds(arg, kind) for arg in get_args(annotation) if arg is not Ellipsis)


def _parts(cls: type[BaseModel]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    parts = _PARTS.get(cls)
    if parts is None:
        fields = cls.model_fields.items()
        parts = _PARTS[cls] = (tuple(name for name, info in fields if _holds(info.annotation, "text")),
                               tuple(name for name, info in fields if _holds(info.annotation, "model")))
    return parts


def _has_nul(value: Any) -> bool:
    kind = type(value)
    if kind is str:
        return NUL in value
    if kind is list or kind is tuple:
        return any(type(item) is str and NUL in item for item in value)
    return kind is dict and any(type(item) is str and NUL in item for pair in value.items() for item in pair)


def nul_path(model: BaseModel, *, deep: bool = True) -> str | None:
    """The dotted path ("workload.name", "devices.0.name") of the first text in ``model`` that holds a NUL
    character, else None; ``deep`` False: the model's own fields only, not the models nested in it."""
    text, nested = _parts(type(model))
    values = model.__dict__
    for name in text:
        if _has_nul(values.get(name)):
            return name
    for name in nested if deep else ():
        value = values.get(name)
        items = value.items() if type(value) is dict else enumerate(value) if type(value) in (list, tuple) else (
            [(None, value)])
        for key, item in items:
            found = nul_path(item) if isinstance(item, BaseModel) else None
            if found is not None:
                return ".".join(str(part) for part in (name, key, found) if part is not None)
    return None


def refuse_nul(model: BaseModel, *, deep: bool = True) -> None:
    """A validation error when a text in ``model`` holds a NUL character; ``ctx["field"]`` is its path.

    No name, path or note the advisor handles has one, and PostgreSQL cannot store one (psycopg2 refuses the
    whole statement), so it is refused where text comes in, once per document: a ``Profile`` (a file, a request's,
    a probe's) and a service request check all of their text in an after-validator that calls this. Not every
    model does: results and history rows are made from checked input, hundreds a request, and history rows stored
    before the check must still be read."""
    path = nul_path(model, deep=deep)
    if path is not None:
        raise PydanticCustomError(NUL_ERROR, "{field} " + NUL_PROBLEM, {"field": path})


# A lone surrogate: what a JSON escape ("\\ud800") can put in text and UTF-8 cannot encode (a profile file's, a
# service request's), refused where the text comes in.
SURROGATE_ERROR = "lone_surrogate"
SURROGATE_WHAT = "contains a lone surrogate (a \\ud800-\\udfff escape that is not half of a pair), which is not text"
SURROGATE_PROBLEM = f"{SURROGATE_WHAT}; remove it, or send the character itself as UTF-8"


def surrogate_path(value: Any) -> list | None:
    """The path (keys and indexes) to the first text in ``value`` (a model, a list, a dict, text) that holds a lone
    surrogate, else None; [] for ``value`` itself."""
    if isinstance(value, str):
        if value.isascii():
            return None
        try:
            value.encode("utf-8")  # in C: the only text UTF-8 cannot encode is a lone surrogate
            return None
        except UnicodeEncodeError:
            return []
    if isinstance(value, BaseModel):
        items: Any = value.__dict__.items()
    elif isinstance(value, dict):
        items = [(k, k) for k in value if surrogate_path(k) is not None] + list(value.items())
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = surrogate_path(item)
        if found is not None:
            return [key, *found]
    return None


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Model(BaseModel):
    # Profiles are files users keep; a newer advisor may add fields, so unknown keys are ignored on load.
    model_config = ConfigDict(extra="ignore", protected_namespaces=())


class DerivedCache:
    """A model's private slot for values derived from its fields (the predictor's priced op tables): not data.

    Pydantic compares, deep-copies and pickles a model's private attributes with its fields, so a cache kept there
    made a profile that predict had used unequal to its own file (and ``==`` raise on the tables' numpy arrays)
    and pickle 12 times larger. This one compares equal to any other cache, and deep-copies and pickles empty:
    a model holding one compares, copies and pickles by its fields alone. Kept on the object rather than in a
    module-level table keyed by it (no module-level singletons; models are unhashable), so it dies with the object.
    Whoever fills ``entries`` keys them by name and checks an entry against the objects it was derived from
    before using it (a shallow ``model_copy`` shares the cache).
    """

    __slots__ = ("entries",)
    __hash__ = None  # type: ignore[assignment]  # equal to every other cache: no hash that agrees with that

    def __init__(self) -> None:
        self.entries: dict[str, Any] = {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DerivedCache)

    def __reduce__(self) -> tuple:
        return DerivedCache, ()

    def __deepcopy__(self, memo: dict) -> DerivedCache:
        return DerivedCache()


M = TypeVar("M", bound=BaseModel)
_set = object.__setattr__


def updated(model: M, fields: Mapping[str, Any]) -> M:
    """``model.model_copy(update=fields)``: a shallow copy with ``fields`` replaced, not validated (the caller's
    values must be of the fields' types, as with ``model_copy``). For a caller that copies one model hundreds of
    times a request (a ranking's candidates, a kept model's estimates): it skips ``model_copy``'s generic path
    (the copy module, extras and private attributes, which these schemas do not have), 2.1 -> 1.5 us a copy."""
    if model.__pydantic_extra__ or model.__pydantic_private__:
        return model.model_copy(update=fields)
    cls = type(model)
    new = cls.__new__(cls)
    values = model.__dict__.copy()
    values.update(fields)
    _set(new, "__dict__", values)
    _set(new, "__pydantic_fields_set__", model.__pydantic_fields_set__.union(fields))
    _set(new, "__pydantic_extra__", None)
    _set(new, "__pydantic_private__", None)
    return new
