"""Pydantic models: the data that flows between the parts and out to users (JSON, Python API, history).

Everything the CLI prints with ``--json`` is one of these models dumped with ``model_dump(mode="json")``; the
Python API returns the same objects. ``schema_version`` is bumped only on a breaking change of a field.
Units are in the field names (``_seconds``, ``_gib``, ``_usd``, ``_usd_per_hour``).

One module per part of the flow (``base``, ``devices``, ``profile``, ``results``, ``history``); every model is
imported from here.
"""

from advisor.schemas.base import PRECISIONS, SCHEMA_VERSION, Method, Model, Objective, Precision, Tier, utc_now
from advisor.schemas.devices import CpuInfo, CpuSpec, GpuInfo, GpuSpec, HostInfo, Target
from advisor.schemas.history import (
    CalibrationReport,
    Comparison,
    ComparisonGroup,
    ComparisonRow,
    HistoryDetail,
    HistoryEntry,
    Outcome,
    PredictionEntry,
    TrainingRow,
)
from advisor.schemas.profile import (
    Analysis,
    DeviceProfile,
    JobSpec,
    Measurement,
    OpRecord,
    Profile,
    ThreadPoint,
    WorkloadInfo,
    at_batch,
)
from advisor.schemas.results import (
    BestValue,
    Candidate,
    CandidateGroup,
    Constraints,
    CpuVsGpu,
    DiffRow,
    Estimate,
    Offer,
    Recommendation,
    RecommendationDiff,
    ScalingGrid,
    ScalingRow,
    Skipped,
    Verdict,
    Violation,
    WorkloadSummary,
    hardware_label,
)

__all__ = [
    "Analysis",
    "BestValue",
    "CandidateGroup",
    "CpuVsGpu",
    "DiffRow",
    "RecommendationDiff",
    "ScalingGrid",
    "ScalingRow",
    "Skipped",
    "Verdict",
    "Violation",
    "CalibrationReport",
    "Candidate",
    "Comparison",
    "ComparisonGroup",
    "ComparisonRow",
    "Constraints",
    "CpuInfo",
    "CpuSpec",
    "DeviceProfile",
    "Estimate",
    "GpuInfo",
    "GpuSpec",
    "HistoryDetail",
    "HistoryEntry",
    "HostInfo",
    "JobSpec",
    "Measurement",
    "Method",
    "Model",
    "Objective",
    "Offer",
    "OpRecord",
    "Outcome",
    "PRECISIONS",
    "PredictionEntry",
    "Precision",
    "Profile",
    "Recommendation",
    "SCHEMA_VERSION",
    "Target",
    "ThreadPoint",
    "Tier",
    "TrainingRow",
    "WorkloadInfo",
    "WorkloadSummary",
    "at_batch",
    "hardware_label",
    "utc_now",
]
