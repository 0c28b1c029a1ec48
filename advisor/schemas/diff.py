"""What ``advisor diff`` answers: the chosen machines and the probed machine's runs of two recommendations, side by
side."""

from __future__ import annotations

from pydantic import Field

from advisor.schemas.base import SCHEMA_VERSION, Model
from advisor.schemas.results import Candidate, HereRun


class DiffRow(Model):
    """One line of ``advisor diff``: the chosen (or the best of a tier) in the old and the new recommendation."""

    label: str  # "chosen", "best CPU", "best 1 GPU", "best multi-GPU"
    old: Candidate | None = None
    new: Candidate | None = None
    total_seconds_delta: float | None = None  # new minus old, start-up included
    # new minus old of the sides' ``cost_usd`` (on-demand), and that as a percentage of the old
    cost_usd_delta: float | None = None
    cost_pct_delta: float | None = None
    # the same of the costs that were ranked (and that the text and markdown show): the spot cost for a side ranked
    # on spot (``--spot``: ``Candidate.spot_cost_usd`` where ``interruptible``), else ``cost_usd``
    ranked_cost_usd_delta: float | None = None
    ranked_cost_pct_delta: float | None = None
    changed: bool = False  # another machine (provider, instance type or region)
    # What the text and markdown show beside each side, as recommend's rows say it: "misses the deadline",
    # "over the budget" (against that recommendation's constraints), "spot" (ranked on its spot price).
    old_caveats: list[str] = Field(default_factory=list)
    new_caveats: list[str] = Field(default_factory=list)


class HereDiffRow(Model):
    """One device of the probed machine in ``advisor diff``: its "Here" run in the old and the new recommendation."""

    device: str  # "cpu", "cuda:0"
    old: HereRun | None = None
    new: HereRun | None = None
    # new minus old, each with its process start where measured (the Here line's "in all"); None where either
    # side has no time that fits its memory
    total_seconds_delta: float | None = None


class RecommendationDiff(Model):
    """``advisor diff OLD.json NEW.json``: what changed between two recommendations (Infracost's ``diff``)."""

    schema_version: int = SCHEMA_VERSION
    old_id: int | None = None
    new_id: int | None = None
    workload: str
    old_status: str
    new_status: str
    rows: list[DiffRow] = Field(default_factory=list)
    here: list[HereDiffRow] = Field(default_factory=list)  # the probed machine's devices, in either
    summary: str
    notes: list[str] = Field(default_factory=list)
