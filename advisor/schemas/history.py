"""What the history database returns: outcomes, list rows, comparisons, the correction's training rows."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, computed_field, model_validator

from advisor.schemas.base import SCHEMA_VERSION, Method, Model, Objective, SchemaVersion, Tier, utc_now
from advisor.schemas.results import Recommendation

# -------------------------------------------------------------------------------------------- history
# (owned by advisor/history; extend here)


class Outcome(Model):
    id: int | None = None
    recommendation_id: int | None = None
    actual_seconds: float
    instance_type: str | None = None
    status: Literal["completed", "failed"] = "completed"
    recorded_at: datetime = Field(default_factory=utc_now)
    notes: str | None = None
    # The prediction of the machine it ran on (the job alone, as ``history list`` shows it) and its 80% interval:
    # what ``history record`` says the run beside, so a mistyped duration (39m for 3m09s) shows at once. None where
    # unknown (no stored prediction, a server older than these fields).
    predicted_seconds: float | None = None
    low: float | None = None
    high: float | None = None


class HistoryEntry(Model):
    """One row of ``advisor history list``: a stored recommendation, its chosen candidate, its latest outcome."""

    id: int
    created_at: datetime
    workload: str
    dataset_size: int
    epochs: int
    batch_size: int
    objective: Objective | None = None
    provider: str | None = None  # of the chosen candidate (None: nothing was feasible)
    instance_type: str | None = None
    tier: Tier | None = None
    gpu: str | None = None
    gpu_count: int | None = None
    predicted_seconds: float | None = None  # the job alone, as an outcome times it (``actual_seconds``)
    low: float | None = None  # the 80% interval around predicted_seconds (the job alone, as it)
    high: float | None = None
    # The chosen instance's paid start-up (boot, set-up), which the costs pay for beside the job: ``total_seconds``
    # is the whole run, start-up + job. None where it is not known (a server too old to send it).
    startup_seconds: float | None = None
    cost_usd: float | None = None  # on demand, whatever it was ranked on (``ranked_cost_usd``); the whole run
    spot_cost_usd: float | None = None  # at the spot price, where its offer has one
    interruptible: bool = False  # ranked and chosen on its spot cost (--spot): an instance that can be taken back
    method: Method | None = None
    # Every candidate the answer ranked (its "N candidates"; the ones that do not fit not counted), not only the
    # top ones stored as rows. A recommendation stored by an advisor before this counted only those.
    n_candidates: int = 0
    n_outcomes: int = 0
    actual_seconds: float | None = None  # of the latest outcome
    status: Literal["completed", "failed"] | None = None
    # The machine the latest outcome ran on ("here:cpu", another candidate): not always the chosen one above.
    outcome_instance_type: str | None = None
    # ... and that machine's predicted time (the job alone), which is predicted_seconds only where it is the chosen
    # one. None where there is no outcome, or from a server too old to send it.
    outcome_predicted_seconds: float | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ranked_cost_usd(self) -> float | None:
        """The cost the chosen candidate was ranked on (``Candidate.ranked_cost_usd``): the spot cost under --spot,
        which the answer and its page show, else the on-demand one."""
        return self.spot_cost_usd if self.interruptible and self.spot_cost_usd is not None else self.cost_usd

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_seconds(self) -> float | None:
        """The whole run the costs pay for: the start-up + the predicted job (None where either is unknown)."""
        if self.predicted_seconds is None or self.startup_seconds is None:
            return None
        return self.startup_seconds + self.predicted_seconds


class PredictionEntry(Model):
    """One prediction saved by ``advisor predict`` (listed by ``advisor history list`` beside recommendations)."""

    id: int
    created_at: datetime
    workload: str
    dataset_size: int
    epochs: int
    batch_size: int
    target: str  # a label, "4 x A100-80GB", "cpu (8 threads)"; not predict --json's target object
    seconds: float  # the job alone, as ``predict`` printed it
    low: float
    high: float
    method: Method
    precision: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ref(self) -> str:
        """The id as ``advisor history show`` takes it, "p42": a bare number names a recommendation, and the two
        kinds' ids overlap."""
        return f"p{self.id}"


class HistoryDetail(Model):
    """``advisor history show ID``: the stored recommendation as it was returned, and what really happened."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    recommendation: Recommendation
    outcomes: list[Outcome] = Field(default_factory=list)
    profile_id: int | None = None


class ComparisonRow(Model):
    """One run with both a prediction and a recorded outcome."""

    recommendation_id: int
    outcome_id: int
    recorded_at: datetime
    workload: str
    provider: str | None = None
    instance_type: str
    device: str  # "cpu", "A100-80GB", "4 x A100-80GB"
    tier: Tier
    method: Method
    predicted_seconds: float
    low: float
    high: float
    actual_seconds: float
    error_pct: float  # (predicted - actual) / actual x 100: positive = predicted too slow
    abs_error_pct: float
    within_interval: bool
    # Over 20x from its uncorrected prediction (``advisor.predictor.outliers``, the rule calibration uses): shown,
    # left out of the aggregates; ``outlier_ratio`` says how many times off it is (None when not an outlier).
    outlier: bool = False
    outlier_ratio: float | None = None


class ComparisonGroup(Model):
    """Errors aggregated over the runs of one device, one method or one workload."""

    key: str
    n: int  # every run of the group, outliers included
    # Of them, runs over 20x from their uncorrected prediction: the figures below leave them out (None: all are).
    n_outliers: int = 0
    median_abs_error_pct: float | None = None
    mean_error_pct: float | None = None  # signed: positive = the predictor overestimates
    within_interval_pct: float | None = None


class Comparison(Model):
    """``advisor history compare``: predicted vs actual per run, and aggregated over every run."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    # Every run compared, which the aggregates are over; ``rows`` may hold only the latest (the CLI's --limit).
    # Not given (a server older than this field): the number of rows.
    n_runs: int = 0
    rows: list[ComparisonRow] = Field(default_factory=list)
    by_device: list[ComparisonGroup] = Field(default_factory=list)
    # the uncorrected predictions per method over the same n_runs (``advisor.predictor.learned_groups``)
    by_method: list[ComparisonGroup] = Field(default_factory=list)
    # one workload far off is not hidden by the pooled figure (empty from a server older than this field)
    by_workload: list[ComparisonGroup] = Field(default_factory=list)
    overall: ComparisonGroup | None = None

    @model_validator(mode="after")
    def _all_rows_by_default(self) -> Comparison:
        if "n_runs" not in self.model_fields_set:
            self.n_runs = len(self.rows)
        return self


# The learned correction's held-out folds need the runs of at least this many recommendations.
MIN_RECOMMENDATIONS = 3
# The newest completed runs it reads from the history: its memory and fit time stay bounded.
TRAINING_ROWS_LIMIT = 20_000


class TrainingRows(list):
    """``History.training_rows``' answer: the rows, with ``capped`` True where the history holds more completed
    runs than the newest ``limit`` it read (the correction then says "at least")."""

    capped: bool = False


class TrainingRow(Model):
    """A stored run the history-trained correction learns from: what was predicted, what happened."""

    recommendation_id: int
    outcome_id: int
    workload: str
    param_count: int | None = None
    flops_per_sample: float | None = None
    dataset_size: int
    epochs: int
    batch_size: int
    tier: Tier
    gpu: str | None = None
    gpu_count: int = 0
    vcpus: int | None = None
    method: Method  # of the base (uncorrected) prediction
    predicted_seconds: float  # base (uncorrected) prediction
    actual_seconds: float
    measured_seconds_per_sample: float | None = None  # fastest probed compute time per sample, if profiled
    # The base prediction's 80% interval, where the run stored it (None where the candidate stored a corrected one)
    low_seconds: float | None = None
    high_seconds: float | None = None


class CalibrationReport(Model):
    """``advisor history calibration``: the base predictor's held-out error, and the learned correction's."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    n_runs: int  # completed outcomes with a usable prediction
    min_runs: int
    folds: int = 0
    cv_error_before_pct: float | None = None  # median |error| % of the base predictions on held-out folds
    cv_error_after_pct: float | None = None  # ... of the corrected ones
    mean_error_before_pct: float | None = None  # signed
    mean_error_after_pct: float | None = None
    # Where nothing was held out (folds 0; the four above null): the uncorrected predictions' median |error| % and
    # signed mean error % over every run, in-sample; null where there are folds.
    in_sample_error_pct: float | None = None
    in_sample_mean_error_pct: float | None = None
    used: bool = False  # whether predictions are corrected (method "history")
    reason: str = ""
    model: str | None = None
    # the uncorrected predictions per method over the same n_runs (``advisor.predictor.learned_groups``)
    by_method: list[ComparisonGroup] = Field(default_factory=list)
