"""The HTTP wire format that ``advisor serve`` and ``advisor.Client`` share: request bodies and the error body.

Pydantic only (no FastAPI, no server code), so the client imports it freely. Response bodies are the schemas the
CLI prints with ``--json`` (``Recommendation``, ``Estimate.json_contract()``, ``HistoryDetail``, ...). Request
bodies forbid unknown fields: a client cannot smuggle in an option the server does not offer (a rates file to
read, say), and a typo is an error instead of being ignored. Text holding a NUL character, in a body (its profile's
too) or a query, is refused with the field named (``refuse_nul``, ``no_nul``): PostgreSQL cannot store it. So is
text in a body holding a lone surrogate (``refuse_surrogates``): a JSON escape such as ``"\\ud800"`` that is not
half of a pair decodes to a character that no UTF-8 text (a stored row, an answer, a cache key) can hold.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from advisor.schemas import PRECISIONS, SCHEMA_VERSION, Objective, Profile, Target
from advisor.schemas.base import (
    MAX_JOB_COUNT,
    NUL,
    NUL_ERROR,
    NUL_PROBLEM,
    SURROGATE_ERROR,
    SURROGATE_PROBLEM,
    refuse_nul,
    surrogate_path,
)
from advisor.schemas.devices import MAX_TARGET_GPUS, MAX_TARGET_THREADS
from advisor.units import MAX_ACTUAL_SECONDS, MIN_ACTUAL_SECONDS

API_PREFIX = "/v1"
LIST_LIMIT_MAX = 10_000  # the most rows a history route lists in one answer
TOKEN_HEADER = "Authorization"

ShortText = Annotated[str, Field(min_length=1, max_length=200)]


# Numbers and switches take their JSON type alone. Pydantic's lax mode read true as 1 (a top, a thread count, a
# deadline of 1 s), "no" or 0 as false (a spot ranking, a save), and "12" as 12: a wrong type changed the answer,
# or was taken where the local API refuses it (advisor.workload.job.positive_int, api.check_options). A whole
# number sent as 12.0, and a whole number for a float, stay accepted, as the local API takes them.
def _not_a_bool(value: Any) -> Any:
    """JSON's true is no count (lax validation would read it as 1), as the local API refuses ``epochs=True``."""
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a whole number, not true or false")
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 1e300 is then over the field's bound, not "unable to parse input string"
    return value


def _whole_number(value: Any) -> Any:
    """JSON's true or a text is no count, as the local API refuses ``epochs=True`` or ``top="5"``."""
    if isinstance(value, str):
        raise PydanticCustomError("int_type", "Input should be a whole number, not text (send 12, not \"12\")")
    return _not_a_bool(value)


def _number(value: Any) -> Any:
    """JSON's true is no amount (lax validation would read it as 1.0: a deadline of 1 s)."""
    if isinstance(value, bool):
        raise PydanticCustomError("float_type", "Input should be a number, not true or false")
    return value


def _seconds(value: Any) -> Any:
    """A number of seconds: a duration's text ("1h30") is read by the client (``advisor history record``,
    ``Client.record_outcome``), which sends seconds."""
    if isinstance(value, str):
        raise PydanticCustomError("float_type", "Input should be a number of seconds, not text (send 5400, not "
                                  "\"1h30\" or \"5400\")")
    return _number(value)


def _switch(value: Any) -> Any:
    """Only JSON's true and false: lax validation read "no", "off", 0 and "0" as false and "yes", 1 as true."""
    if not isinstance(value, bool):
        raise PydanticCustomError("bool_type", "Input should be true or false (a JSON boolean)")
    return value


Count = Annotated[int, BeforeValidator(_whole_number)]
Switch = Annotated[bool, BeforeValidator(_switch)]
JobCount = Annotated[Count, Field(ge=1, le=MAX_JOB_COUNT)]  # the flags' bound
Amount = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False), BeforeValidator(_number)]
Names = list[Annotated[str, Field(min_length=1, max_length=64)]]


def _precision_text(value: Any) -> Any:
    """A precision name as the local API reads it: case and surrounding spaces aside."""
    return value.strip().lower() if isinstance(value, str) else value


def _mixed_is_bf16(value: str) -> str:
    """Reads "mixed" as bf16, as ``advisor.workload.job.normalize_precision`` does for the local API and the CLI
    (not imported: the service imports nothing of the workload loader's package)."""
    return "bf16" if value == "mixed" else value


# The API's and CLI's precisions, "mixed" among them: a request means what ``advisor.predict`` /
# ``advisor.recommend`` make of the same value.
RequestPrecision = Annotated[Literal[(*PRECISIONS, "mixed")], AfterValidator(_mixed_is_bf16),
                             BeforeValidator(_precision_text)]


def no_nul(value: str | None) -> str | None:
    """``value``, unless it holds a NUL character: PostgreSQL cannot store one, so it is a 422, never a 500."""
    if value is not None and NUL in value:
        raise PydanticCustomError(NUL_ERROR, NUL_PROBLEM)
    return value


def refuse_surrogates(model: BaseModel) -> None:
    """A validation error naming the first text in ``model`` (deep: its profile's too) that holds a lone surrogate.

    Valid UTF-8 cannot carry one, but a JSON escape can, and the parsed string then fails wherever it is encoded:
    the profile's cache key, a stored row, the answer (a 500 after the work was done). Refused here, as a NUL is,
    before any work."""
    path = surrogate_path(model)
    if path is not None:
        raise PydanticCustomError(SURROGATE_ERROR, "{field} " + SURROGATE_PROBLEM,
                                  {"field": ".".join(_printable(part) for part in path)})


def _printable(part: Any) -> str:
    # A dict key can be the text at fault: named with the surrogate escaped, or the error could not be sent either.
    return str(part).encode("utf-8", "backslashreplace").decode("utf-8")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _no_nul(self) -> Body:
        refuse_nul(self, deep=False)  # its own text; a profile in it checks all of its own, a TargetSpec its own
        refuse_surrogates(self)  # all of its text: Profile checks only NULs itself
        return self


# A model's own check of one of its fields: reported at that field (``ctx["field"]``), as a NUL found in it is.
PLACED_ERROR = "field_conflict"
_OTHER_KIND = "; drop it, or send \"kind\": \"gpu\" for GPUs"
_CPU_REFUSES = {
    "gpu": "names a GPU model: a target of \"kind\": \"cpu\" takes none (the CPU would be predicted)" + _OTHER_KIND,
    "count": "counts GPUs: a target of \"kind\": \"cpu\" takes no count but 1 (its size is threads)" + _OTHER_KIND,
    "peer_to_peer": "is how GPUs reach each other: a target of \"kind\": \"cpu\" takes none" + _OTHER_KIND,
    "nvlink_gbs": "is the NVLink joining GPUs: a target of \"kind\": \"cpu\" takes none" + _OTHER_KIND,
}


class TargetSpec(Body):
    """A target in the JSON contract's shape: ``{"kind": "cpu", "threads": T}`` or
    ``{"kind": "gpu", "gpu": NAME, "count": K}``, with ``"peer_to_peer": false`` for GPUs over PCIe without it and
    ``"nvlink_gbs"`` where an instance family bridges its GPUs with NVLink (``Target.json_contract`` sends it for
    a target made from such an offer, ``advisor.predictor.targets.offer_target``)."""

    kind: Literal["cpu", "gpu"]
    threads: Annotated[Count, Field(ge=1, le=MAX_TARGET_THREADS)] | None = None
    gpu: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    count: Annotated[Count, Field(ge=1, le=MAX_TARGET_GPUS)] = 1
    peer_to_peer: Switch | None = None
    # GB/s one way per GPU, as Target's: positive and finite, GPUs only (refused on a CPU target below).
    nvlink_gbs: Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_number)] | None = None

    @staticmethod
    def of(target: Target | str | None) -> dict | str:
        """``target`` as a request's ``target`` value (validated with the request: a value out of range is one of
        its field errors)."""
        if target is None:
            return "cpu"
        if isinstance(target, str):
            return target
        return target.json_contract()

    @model_validator(mode="after")
    def _one_kind(self) -> TargetSpec:
        """A field of the other kind is refused, naming it: a CPU target with a ``gpu`` would be answered (and saved)
        for the CPU, a GPU target's ``threads`` dropped; ``predict`` refuses ``--gpus`` / ``--threads`` out of place."""
        # null is not given; nor is a count of 1 (a client's body of a CPU target carries the default)
        given = {name for name in self.model_fields_set if getattr(self, name) is not None} - (
            {"count"} if self.count == 1 else set())
        if self.kind == "cpu":
            wrong = next((name for name in ("gpu", "count", "peer_to_peer", "nvlink_gbs") if name in given), None)
            if wrong is not None:
                raise PydanticCustomError(PLACED_ERROR, _CPU_REFUSES[wrong], {"field": wrong})
        elif "threads" in given:
            raise PydanticCustomError(PLACED_ERROR, "is a CPU's thread count: a target of \"kind\": \"gpu\" takes "
                                      "none (its host's size is the request's vcpus); drop it, or send \"kind\": "
                                      "\"cpu\" for a CPU", {"field": "threads"})
        elif self.gpu is None:
            raise PydanticCustomError(PLACED_ERROR, "is needed with \"kind\": \"gpu\": the GPU model's name, e.g. "
                                      "\"A100-80GB\"", {"field": "gpu"})
        return self

    def target(self) -> Target:
        if self.kind == "gpu":
            target = Target.gpu(self.gpu or "", self.count, self.peer_to_peer)
            # Target.gpu takes no link (a user names a card, not an instance family): set as offer_target sets it
            return target if self.nvlink_gbs is None else target.model_copy(update={"nvlink_gbs": self.nvlink_gbs})
        return Target.cpu(self.threads)


class JobSteps(Body):
    """How the job steps, as the flags of the same names set it over what the profile's workload declared
    (``WorkloadInfo``: its ``COMPILE``, ``GRAD_ACCUM_STEPS``, ``EVAL_EVERY``, ``EVAL_STEPS``); None: the declared
    value. Bounded as the local API bounds them (``advisor.workload.job``)."""

    compile: Switch | None = None  # the flag's name (it shadows a builtin in the API too); true/false only
    grad_accum_steps: JobCount | None = None
    eval_every: JobCount | None = None
    eval_steps: Annotated[Count, Field(ge=0, le=MAX_JOB_COUNT)] | None = None

    def job_steps(self) -> dict[str, Any]:
        """The four as ``advisor.api`` keywords, the ones given only."""
        return {k: v for k in JOB_STEP_KEYS if (v := getattr(self, k)) is not None}


JOB_STEP_KEYS = ("compile", "grad_accum_steps", "eval_every", "eval_steps")


class PredictionRequest(JobSteps):
    """``POST /v1/predictions``: a profile, the job and one target."""

    profile: Profile
    dataset_size: JobCount | None = None
    epochs: JobCount | None = None
    batch_size: JobCount | None = None
    target: TargetSpec | Annotated[str, Field(min_length=1, max_length=100)] = "cpu"
    precision: RequestPrecision | None = None
    use_history: Switch = True
    save: Switch = True
    # A GPU target's host vCPUs (the input pipeline's), bounded as ``--vcpus`` (``input_bound.VCPUS_MAX``); its
    # text too ("96"), as the local API's vcpus= takes it (``check_vcpus``).
    vcpus: Annotated[int, Field(ge=1, le=100_000), BeforeValidator(_not_a_bool)] | None = None
    # A GPU model's paid instance start-up ("5m", 90), in the answer's total_seconds; default: the server's.
    startup_seconds_gpu: Annotated[str, Field(max_length=64)] | Amount | None = None

    @model_validator(mode="after")
    def _startup_of_a_gpu(self) -> PredictionRequest:
        """``startup_seconds_gpu`` for a CPU target is refused, as ``predict --startup-gpu`` without ``--gpu`` is:
        it was dropped without a word (no instance of a GPU is started)."""
        cpu = self.target.kind == "cpu" if isinstance(self.target, TargetSpec) else self.target.strip().lower() == "cpu"
        if cpu and self.startup_seconds_gpu is not None:
            raise PydanticCustomError(PLACED_ERROR, "is the paid start-up of a GPU instance you would rent: a CPU "
                                      "target starts none; drop it, or ask for a GPU target",
                                      {"field": "startup_seconds_gpu"})
        return self


class RecommendationRequest(JobSteps):
    """``POST /v1/recommendations``: a profile, the job and the constraints (the flags of ``advisor
    recommend``, less the ones that name local files)."""

    profile: Profile
    dataset_size: JobCount | None = None
    epochs: JobCount | None = None
    batch_size: JobCount | None = None
    deadline: Annotated[str, Field(max_length=64)] | Amount | None = None
    budget: Annotated[str, Field(max_length=64)] | Amount | None = None
    objective: Objective = "cost"
    providers: Annotated[Names, Field(max_length=64)] | Annotated[str, Field(max_length=1000)] | None = None
    regions: Annotated[Names, Field(max_length=256)] | Annotated[str, Field(max_length=4000)] | None = None
    spot: Switch = False
    top: Annotated[Count, Field(ge=1, le=1000)] = 10
    precision: RequestPrecision | None = None
    startup_seconds_cpu: Annotated[str, Field(max_length=64)] | Amount | None = None  # default: the server's
    startup_seconds_gpu: Annotated[str, Field(max_length=64)] | Amount | None = None
    save: Switch = True


class OutcomeRequest(Body):
    """``POST /v1/recommendations/{id}/outcome``: what the job really took (``advisor history record``)."""

    # 0 s and up: a run that failed at once took none (``_a_completed_run_took_time`` refuses it for the others)
    actual_seconds: Annotated[float, Field(ge=0, le=MAX_ACTUAL_SECONDS, allow_inf_nan=False),
                              BeforeValidator(_seconds)]
    instance_type: ShortText | None = None
    # record even when it is far from the prediction, or already recorded (likely a mistake otherwise)
    force: Switch = False
    # the run crashed or was stopped: stored with status "failed", never learned from (``history record --failed``)
    failed: Switch = False

    @model_validator(mode="after")
    def _a_completed_run_took_time(self) -> OutcomeRequest:
        """Under a millisecond is refused for a completed run, as ``history record`` refuses it; a failed one may
        have failed at once (the history takes 0 s for it, and the CLI and Python API send it)."""
        if not self.failed and self.actual_seconds < MIN_ACTUAL_SECONDS:
            raise PydanticCustomError(PLACED_ERROR, "is less than a millisecond, shorter than any real job (0 s "
                                      "only for a run that failed: \"failed\": true)", {"field": "actual_seconds"})
        return self


class FieldProblem(BaseModel):
    field: str
    problem: str


# The tags pydantic puts in a location for a union's members ("str", "constrained-str", "list[...]", "TargetSpec").
_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict", "none", "json-or-python"}


def _field(loc: tuple) -> str:
    """The dotted path of a field, without "body" and the union-member tags."""
    parts = [str(p) for p in loc if not (isinstance(p, str) and (
        p == "body" or p in _TYPE_TAGS or "[" in p or "-" in p or p[:1].isupper()))]
    return ".".join(parts) or "body"


def _problem(err: dict) -> tuple[str, str]:
    """(the field, what is wrong with it) of one pydantic error. A model's own check is reported at the model;
    a NUL it found is placed at its field."""
    loc, path = tuple(err.get("loc", ())), (err.get("ctx") or {}).get("field")
    if err.get("type") in (NUL_ERROR, SURROGATE_ERROR, PLACED_ERROR):
        problem = {NUL_ERROR: NUL_PROBLEM, SURROGATE_ERROR: SURROGATE_PROBLEM}.get(err.get("type"), err.get("msg"))
        return _field((*loc, *str(path).split(".")) if path else loc), str(problem)
    if err.get("type") == "string_unicode":  # pydantic's word for a lone surrogate in a constrained string field
        return _field(loc), SURROGATE_PROBLEM
    return _field(loc), str(err.get("msg", "is invalid")).removeprefix("Value error, ")


def profile_version(errors: list[dict]) -> int | None:
    """The ``schema_version`` a request's profile carries where it is a whole number out of the range this
    advisor reads (a newer advisor's, or 0), else None: the server's advisor is older than the client's, or the
    profile was not written by advisor, and "less than or equal to 1" said neither."""
    for err in errors:
        value = err.get("input")
        if (tuple(err.get("loc", ()))[-2:] == ("profile", "schema_version") and isinstance(value, int)
                and not isinstance(value, bool) and not 1 <= value <= SCHEMA_VERSION):
            return value
    return None


def _version_problem(version: int) -> str:
    """What is wrong with a profile's out-of-range ``version``, as ``advisor.probe.storage.load_profile`` words a
    newer one (the CLI checks it before sending; a program calling the API does not)."""
    if version > SCHEMA_VERSION:
        return (f"profile schema version {version} is newer than this server's advisor understands "
                f"({SCHEMA_VERSION}): the profile was written by a newer advisor than the server runs")
    return (f"profile schema version {version} is not one advisor writes (versions start at 1; this server's "
            f"advisor understands up to {SCHEMA_VERSION})")


def field_problems(errors: list[dict]) -> list[FieldProblem]:
    """One problem per field of a pydantic ``ValidationError.errors()``: for a union, the member's complaint
    about the value rather than its type. A profile's schema version out of range comes first, in advisor's
    words: a newer advisor's profile may fail other checks only because this one is older."""
    version = profile_version(errors)
    by_field: dict[str, list[str]] = {} if version is None else {
        "profile.schema_version": [_version_problem(version)]}
    for err in errors:
        if err.get("type") == "json_invalid":
            by_field.setdefault("body", []).append("is not valid JSON")
            continue
        name, problem = _problem(err)
        by_field.setdefault(name, []).append(problem)
    out = []
    for name, msgs in by_field.items():
        specific = [m for m in msgs if not m.startswith("Input should be a valid")]
        out.append(FieldProblem(field=name, problem=(specific or msgs)[0]))
    return out


class ErrorDetail(BaseModel):
    """The what / fix of an error, as the CLI prints them, and the advisor error class it stands for."""

    type: str
    message: str
    hint: str | None = None
    fields: list[FieldProblem] = Field(default_factory=list)
    request_id: str | None = None


class ErrorBody(BaseModel):
    """Every error response: ``{"error": {...}}``; a 409 (no candidate meets the constraints) also carries
    the whole ranking as ``recommendation`` and its nearest misses, nearest first, as ``nearest`` (the
    ``Candidate`` objects ``NoFeasibleCandidateError.nearest`` holds)."""

    error: ErrorDetail
    recommendation: dict | None = None
    nearest: list[dict] | None = None
