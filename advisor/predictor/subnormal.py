"""A CPU job slowed part-way by its optimizer's state turning subnormal: the seconds it adds and the note that
says so, from what the probe measured (``advisor.probe.subnormal``, ``DeviceProfile.subnormal``).

Each measured stage (an optimizer state, such as Adam's ``exp_avg``) adds its extra seconds to every optimizer
step from its onset on: ``sum over stages of max(0, optimizer steps - onset) x extra``, the extra scaled from the
step it was timed beside to the target's step at that batch size (a busy probe's one thread to the idle
machine's threads, this CPU to another family). The zero-gradient share is the probe's, at its end; a job in
which more parameters stop receiving gradients slows down more than this, so the note says the figure is a floor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from advisor.predictor.caveats import NOT_MEASURED_IN_TIME, SLOWS_DOWN_PART_WAY
from advisor.schemas import DeviceProfile, JobSpec
from advisor.units import format_duration

NOTE_SHARE = 0.02  # the note from this share of the job on


@dataclass(frozen=True)
class SubnormalSlowdown:
    """The probe's ``schemas.SubnormalDrift`` on one target: its stages as (state name, onset in optimizer steps,
    extra seconds per optimizer step on the target), and the states it found decaying but had no time to time
    (their names, the earliest onset)."""

    zero_grad_share: float
    stages: tuple[tuple[str, int, float], ...]
    untimed: tuple[tuple[str, ...], int] | None = None

    @classmethod
    def of(cls, dev: DeviceProfile, compute_at: Callable[[int], float]) -> SubnormalSlowdown | None:
        """The probed device's drift on a target whose compute step at a batch size is ``compute_at``: its extra
        seconds x the target's step over the step they were timed beside (this machine's idle threads, or
        another CPU family's); None where nothing was measured or nothing slows down (or may: ``untimed``)."""
        drift = dev.subnormal
        if drift is None or drift.step_seconds <= 0:
            return None
        factor = compute_at(drift.batch_size) / drift.step_seconds
        stages = tuple((s.state, s.onset_steps, s.extra_step_seconds * factor) for s in drift.stages
                       if s.extra_step_seconds > 0)
        untimed = (tuple(drift.untimed_states), drift.untimed_onset_steps) \
            if drift.untimed_states and drift.untimed_onset_steps is not None else None
        return cls(drift.zero_grad_share, stages, untimed) if stages or untimed else None

    def seconds(self, job: JobSpec) -> float:
        """What the job's optimizer steps past each onset take beyond their probed time."""
        return sum(max(0, job.optimizer_steps - onset) * extra for _, onset, extra in self.stages)

    def note(self, job: JobSpec, late: float, job_seconds: float, device: str) -> str | None:
        """The note for a job this slows down by ``late`` seconds (``seconds(job)``), when that is ``NOTE_SHARE``
        of its ``job_seconds`` or more (None otherwise)."""
        if job_seconds <= 0 or late < NOTE_SHARE * job_seconds:
            return None
        hit = [(state, onset, extra) for state, onset, extra in self.stages if onset < job.optimizer_steps]
        states = " and ".join(state for state, _, _ in hit)
        first = min(onset for _, onset, _ in hit)
        extra_ms = 1e3 * sum(extra for _, _, extra in hit)
        return (f"{device}: {SLOWS_DOWN_PART_WAY}. {self.zero_grad_share:.0%} of the parameters' gradients "
                f"were exactly zero in the probe's last steps (ReLU units no input activates, embedding rows no batch "
                f"uses); the optimizer's {states} of those decays a little every step and from about optimizer step "
                f"{first:,} on stays in subnormal floats, which this CPU computes slowly: {extra_ms:.3g} ms more per "
                f"optimizer step (measured), {format_duration(late)} of this job ({late / job_seconds:.0%}), included; "
                "more if more gradients go to zero as training goes on. Fix: torch.set_flush_denormal(True) before "
                "training avoids it.")

    def untimed_note(self, job: JobSpec, device: str) -> str | None:
        """The note for a job that runs past the onset of state the probe found decaying into subnormal floats but
        whose extra time its budget had no room for (None: none, or the job ends before that onset)."""
        if self.untimed is None or job.optimizer_steps <= self.untimed[1]:
            return None
        states, onset = self.untimed
        return (f"{device}: how much this job slows down part-way {NOT_MEASURED_IN_TIME} (the probe's budget for it "
                f"ran out, as on a busy machine), so none is included. {self.zero_grad_share:.0%} of the parameters' "
                f"gradients were exactly zero in the probe's last steps; the optimizer's {' and '.join(states)} of "
                f"those decays a little every step and from about optimizer step {onset:,} on stays in subnormal "
                "floats, which a CPU computes slowly (tabular_mlp: 1.1 ms more per 5-ms step). Fix: "
                "torch.set_flush_denormal(True) before training avoids it; or probe again on a machine nothing "
                "else is using.")
