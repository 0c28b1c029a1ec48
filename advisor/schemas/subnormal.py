"""What the CPU probe measured of optimizer state turning subnormal (``advisor.probe.subnormal``): a slowdown that
starts after the probe has ended, which ``advisor.predictor.subnormal`` adds to the job and names."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt

from advisor.schemas.base import Count, Fraction, Model, Seconds, StepSeconds

MAX_STATES = 64  # optimizer states in a profile's drift (an optimizer keeps a few per parameter)
StateName = Annotated[str, Field(max_length=100)]  # the optimizer's state name: "exp_avg", "momentum_buffer" ...
# Why a probe found no stage: under 1% of the gradients stayed zero; none of their optimizer state decays (plain
# SGD keeps none; Adam's never moved where a unit was dead from the first step); the timing of state that does
# decay did not fit the budget (a busy machine), so the slowdown was not measured; or nothing was checked: the
# check's own 5 training steps would not fit its budget ("steps_over_budget": a model too slow here to look at),
# the optimizer's step() needs a closure ("needs_closure": L-BFGS), or the check raised ("check_failed").
NoStage = Literal["no_zero_gradient", "no_decaying_state", "out_of_time", "steps_over_budget", "needs_closure",
                  "check_failed"]


class SubnormalStage(Model):
    """One optimizer state of zero-gradient parameters turning subnormal (``advisor.probe.subnormal``)."""

    state: StateName
    onset_steps: Annotated[StrictInt, Field(ge=0)]  # optimizer steps from the first until their median is subnormal
    decay_per_step: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)]  # their ratio from one step to the next
    extra_step_seconds: Seconds  # one optimizer step with them subnormal, less with them normal (this CPU)


class SubnormalDrift(Model):
    """CPU only: what the probe measured of a slowdown that starts after it (``advisor.probe.subnormal``). The
    extra seconds were timed beside ``step_seconds``, a compute step at ``batch_size`` on the same threads and
    clock (the ladder's on an idle machine; on a busy one, one thread's by its CPU time), which the predictor
    scales them with to the target's threads and CPU."""

    # Of the parameters' elements, their gradient zero in each of the last steps; None: not looked at (no_stage
    # "steps_over_budget", "needs_closure" or "check_failed").
    zero_grad_share: Fraction | None = None
    batch_size: Count
    step_seconds: StepSeconds  # the compute step at batch_size the extra was timed beside
    threads: Count | None = None
    clock: Literal["wall", "thread_cpu"] = "wall"
    stages: list[SubnormalStage] = Field(default_factory=list, max_length=MAX_STATES)
    no_stage: NoStage | None = None  # why ``stages`` is empty (None: it is not, or a profile from before this)
    # States that decay into subnormal floats from ``untimed_onset_steps`` on (the earliest of theirs) whose extra
    # time did not fit the budget: the job may slow down from there by an amount the probe did not measure.
    untimed_states: list[StateName] = Field(default_factory=list, max_length=MAX_STATES)
    untimed_onset_steps: Annotated[StrictInt, Field(ge=0)] | None = None
