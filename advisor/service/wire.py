"""The HTTP wire format that ``advisor serve`` and ``advisor.Client`` share: request bodies and the error body.

Pydantic only (no FastAPI, no server code), so the client imports it freely. Response bodies are the schemas the
CLI prints with ``--json`` (``Recommendation``, ``Estimate.json_contract()``, ``HistoryDetail``, ...). Request
bodies forbid unknown fields: a client cannot smuggle in an option the server does not offer (a rates file to
read, say), and a typo is an error instead of being ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from advisor.schemas import Objective, Precision, Profile, Target

API_PREFIX = "/v1"
TOKEN_HEADER = "Authorization"

ShortText = Annotated[str, Field(min_length=1, max_length=200)]
JobCount = Annotated[int, Field(ge=1, le=10**12)]
Amount = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
Names = list[Annotated[str, Field(min_length=1, max_length=64)]]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetSpec(Body):
    """A target in the JSON contract's shape: ``{"kind": "cpu", "threads": T}`` or
    ``{"kind": "gpu", "gpu": NAME, "count": K}``."""

    kind: Literal["cpu", "gpu"]
    threads: Annotated[int, Field(ge=1, le=4096)] | None = None
    gpu: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    count: Annotated[int, Field(ge=1, le=65536)] = 1

    @classmethod
    def of(cls, target: Target | str | None) -> TargetSpec | str:
        if target is None:
            return "cpu"
        if isinstance(target, str):
            return target
        return cls.model_validate(target.json_contract())

    def target(self) -> Target:
        if self.kind == "gpu":
            return Target.gpu(self.gpu or "", self.count)
        return Target.cpu(self.threads)


class PredictionRequest(Body):
    """``POST /v1/predictions``: a profile, the job and one target."""

    profile: Profile
    dataset_size: JobCount | None = None
    epochs: JobCount | None = None
    batch_size: JobCount | None = None
    target: TargetSpec | Annotated[str, Field(min_length=1, max_length=100)] = "cpu"
    precision: Precision | None = None
    use_history: bool = True
    save: bool = True


class RecommendationRequest(Body):
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
    spot: bool = False
    top: Annotated[int, Field(ge=1, le=1000)] = 10
    precision: Precision | None = None
    startup_seconds_cpu: Annotated[str, Field(max_length=64)] | Amount | None = None  # default: the server's
    startup_seconds_gpu: Annotated[str, Field(max_length=64)] | Amount | None = None
    save: bool = True


class OutcomeRequest(Body):
    """``POST /v1/recommendations/{id}/outcome``: what the job really took (``advisor history record``)."""

    actual_seconds: Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]
    instance_type: ShortText | None = None
    force: bool = False  # record even when it is far from the prediction (likely a mistake otherwise)


class FieldProblem(BaseModel):
    field: str
    problem: str


class ErrorDetail(BaseModel):
    """The what / fix of an error, as the CLI prints them, and the advisor error class it stands for."""

    type: str
    message: str
    hint: str | None = None
    fields: list[FieldProblem] = Field(default_factory=list)
    request_id: str | None = None


class ErrorBody(BaseModel):
    """Every error response: ``{"error": {...}}``; a 409 (no candidate meets the constraints) also carries
    the nearest misses as ``recommendation``."""

    error: ErrorDetail
    recommendation: dict | None = None
