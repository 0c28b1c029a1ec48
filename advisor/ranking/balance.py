"""The host side of a ranking: what the input pipeline and the host-to-device copy cost a candidate, in words.

An estimate says which of compute, input (the CPU preparing batches) and transfer (the host-to-device copy)
bounds a step (``Estimate.bound``, from ``advisor.predictor``). This module owns what the ranking says about it:
the reason clause of an input- or transfer-bound candidate, the fixes worth making with the time and cost each
would save (an instance with more vCPUs per GPU, more loader workers, GPU-side decoding, pinned memory), and the
warning when the choice is bound by its host.

The step is modelled as the predictor builds it (issue 13): with a DataLoader, ``max(compute, input, transfer)``
when the copy overlaps compute (pinned memory, non-blocking copies), ``max(compute + transfer, input)`` when it
does not; with make_batch alone (no workers) one after another, ``compute + input + transfer``. Compute is
``gpu_utilization x step``. A fix's job time scales the estimate's training time by the ratio of the modelled
steps, so what else the estimate holds (the last step, per-epoch work, a history correction) carries over.

Pure: no I/O. Times are totals (start-up + job), costs the ranked costs, as everywhere in the ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from advisor.batch_maker import serial_maker
from advisor.loader_cores import loader_cores
from advisor.pricing.billing import cost_usd
from advisor.ranking.scoring import Scored
from advisor.schemas import Candidate, Estimate
from advisor.units import format_duration, format_rate, format_usd

MIN_GAIN = 0.05  # a fix is worth a line when it saves at least 5% of the total time
_REL_TOL = 1e-3  # the step's parts match a formula within this share of the step


@dataclass(frozen=True)
class StepParts:
    """One step's parts on a target, in seconds: compute, the input for the global batch, one GPU's copy."""

    compute_seconds: float
    input_seconds: float
    transfer_seconds: float
    serial: bool  # make_batch in the training loop: input, copy and compute one after another
    overlapped: bool  # the copy overlaps compute (pinned memory and non-blocking copies)

    def step_seconds(self, *, input_seconds: float | None = None, serial: bool | None = None,
                     overlapped: bool | None = None) -> float:
        """The modelled step, with any part changed (a fix's what-if)."""
        i = self.input_seconds if input_seconds is None else input_seconds
        c, t = self.compute_seconds, self.transfer_seconds
        copy_and_compute = max(c, t) if (self.overlapped if overlapped is None else overlapped) else c + t
        return i + copy_and_compute if (self.serial if serial is None else serial) else max(copy_and_compute, i)


def step_parts(est: Estimate | None) -> StepParts | None:
    """The parts of ``est``'s step, or None where it says nothing of the host side or compute cannot be told
    apart from the rest."""
    if est is None or est.input_seconds is None or est.step_seconds <= 0:
        return None
    i, t = est.input_seconds, est.transfer_seconds or 0.0
    serial = est.input_workers == 0
    if est.gpu_utilization is not None:
        c = est.gpu_utilization * est.step_seconds
    elif serial:
        c = max(0.0, est.step_seconds - i - t)
    elif est.bound == "compute":
        c = est.step_seconds
    else:
        return None
    overlapped = est.transfer_overlapped if est.transfer_overlapped is not None else \
        not serial and _overlapped(est.step_seconds, c, i, t)
    return StepParts(c, i, t, serial, overlapped)


def _overlapped(step: float, c: float, i: float, t: float) -> bool:
    """Whether the step matches the overlapped formula and not the other. Where both match (the input hides
    the copy either way) it says False: the fixes' savings are then the smaller of the two."""
    tol = _REL_TOL * step
    return abs(step - max(c, i, t)) <= tol and abs(step - max(c + t, i)) > tol


# ---------------------------------------------------------------------------------------------- words


def ms_text(seconds: float) -> str:
    """"95 ms", "1,250 ms", "1.3 ms"."""
    ms = seconds * 1000
    return f"{ms:,.0f} ms" if ms >= 9.95 else f"{ms:.2g} ms"


def _gpus(c: Candidate) -> str:
    return "GPUs" if c.gpu_count > 1 else "GPU"


def _busy(c: Candidate) -> str:
    """" (GPUs 11% busy)", or "" where the estimate has no utilisation."""
    return f" ({_gpus(c)} {c.gpu_utilization:.0%} busy)" if c.gpu_utilization is not None and c.gpu else ""


def _producers(c: Candidate, est: Estimate) -> tuple[str, str]:
    """(who prepares the batches, the verb that agrees with it)."""
    vcpus = est.host_vcpus or c.vcpus
    # An offer whose catalog row lists no vCPUs was priced on an assumed host: the figure is a guess, say so.
    assumed = " (assumed: the catalog lists none for this machine)" if c.vcpus is None and vcpus else ""
    if est.input_workers == 0:
        return serial_maker(est, c.gpu_count), "prepares"
    if est.input_workers and vcpus:
        return f"{est.input_workers:,} loader workers on {vcpus:,} vCPUs{assumed}", "prepare"
    if vcpus:
        return f"{vcpus:,} vCPUs{assumed}", "prepare"
    return "the CPU", "prepares"


def bound_clause(c: Candidate, est: Estimate | None) -> str | None:
    """The reason clause of an input- or transfer-bound candidate (None for compute-bound), one clause:
    "input-bound: 12 loader workers on 96 vCPUs prepare 2,430 samples/s, the 8 GPUs could take 22,100 (GPUs
    11% busy)" or "transfer-bound: copying the batch to the GPU takes 95 ms a step, not overlapped with 12 ms of
    compute (GPU 11% busy)"."""
    if est is None or est.bound == "compute":
        return None
    parts = step_parts(est)
    if est.bound == "input":
        if not est.input_seconds or est.input_seconds <= 0:
            return "input-bound: the CPU cannot prepare batches as fast as the step needs"
        who, verb = _producers(c, est)
        text = f"input-bound: {who} {verb} {format_rate(est.batch_size / est.input_seconds)} samples/s"
        if c.gpu and parts is not None and parts.compute_seconds > 0:
            the = f"the {c.gpu_count} GPUs" if c.gpu_count > 1 else "the GPU"
            text += f", {the} could take {format_rate(est.batch_size / parts.compute_seconds)}"
        return text + _busy(c)
    share = "each GPU's share of the batch" if c.gpu_count > 1 else "the batch to the GPU"
    text = f"transfer-bound: copying {share} takes {ms_text(est.transfer_seconds or 0.0)} a step"
    if parts is not None:
        joined = "against" if parts.overlapped else "not overlapped with"
        text += f", {joined} {ms_text(parts.compute_seconds)} of compute"
    return text + _busy(c)


WARN_BELOW_UTILIZATION = 0.85  # the chosen GPUs would wait for data more than 15% of the time


def bound_warning(chosen: Scored | None) -> str | None:
    """"1 x A100-40GB (lambda gpu_1x_a100) is input-bound: its GPU would wait for data 89% of the time"."""
    if chosen is None:
        return None
    c = chosen.cand
    # A GPU busy 90% of the time is a balanced machine, not one to warn about: the reason already says the bound.
    if not c.gpu or c.bound == "compute" or c.gpu_utilization is None or c.gpu_utilization >= WARN_BELOW_UTILIZATION:
        return None
    return (f"{chosen.label} is {c.bound}-bound: its {_gpus(c)} would wait for data "
            f"{1 - c.gpu_utilization:.0%} of the time")


# ---------------------------------------------------------------------------------------------- fixes


def bound_advice(ranked: Sequence[Scored], chosen: Scored | None) -> list[str]:
    """The fixes for the chosen candidate's host side, or, when a CPU is chosen (or nothing is), for the best GPU
    candidate's: each with the total time and cost it would give, against today's. A fix that saves less than
    ``MIN_GAIN`` of the total time is left out."""
    subject = chosen if chosen is not None and chosen.cand.gpu else next((s for s in ranked if s.cand.gpu), None)
    if subject is None or subject.est is None or subject.est.bound == "compute":
        return []
    parts = step_parts(subject.est)
    if subject.est.bound == "input":
        lines = [_balanced(subject, ranked)]
        if parts is not None:
            lines += [_more_workers(subject, parts), _gpu_decoding(subject, parts)]
    else:
        lines = [_pinned(subject, parts)] if parts is not None and not parts.overlapped else []
    return [line for line in lines if line]


def _what_if(s: Scored, parts: StepParts, **change) -> tuple[float, float] | None:
    """(total seconds, ranked cost) of ``s`` with its step changed, or None when that saves too little."""
    now, new = parts.step_seconds(), parts.step_seconds(**change)
    est = s.est
    if est is None or now <= 0:
        return None
    job = est.startup_seconds + (est.seconds - est.startup_seconds) * new / now
    startup = s.cand.startup_seconds or 0.0
    elapsed = startup + job
    if s.elapsed - elapsed < MIN_GAIN * s.elapsed:
        return None
    return elapsed, cost_usd(s.offer, job, spot=s.cand.interruptible, startup_seconds=startup)


def _versus(s: Scored, elapsed: float, cost: float) -> str:
    """"1h10m total, $45.10 instead of 3h05m, $120 (1h55m sooner and $74.90 cheaper)"."""
    saved, extra = format_duration(s.elapsed - elapsed), cost - s.cost
    if abs(extra) <= 0.005 * max(s.cost, 1e-12):
        gain = f"{saved} sooner at about the same cost"
    elif extra < 0:
        gain = f"{saved} sooner and {format_usd(-extra)} cheaper"
    else:
        gain = f"{saved} sooner for {format_usd(extra)} more"
    return (f"{format_duration(elapsed)} total, {format_usd(cost)} instead of {format_duration(s.elapsed)}, "
            f"{format_usd(s.cost)} ({gain})")


def _balanced(s: Scored, ranked: Sequence[Scored]) -> str | None:
    """The best-ranked offer of the same GPU model and count with more vCPUs that is not input-bound (or, where
    none is, less so) and saves at least ``MIN_GAIN`` of the total time."""
    c = s.cand
    if not c.vcpus:
        return None
    util = c.gpu_utilization or 0.0
    pool = [a for a in ranked if a is not s and a.cand.gpu == c.gpu and a.cand.gpu_count == c.gpu_count
            and (a.cand.vcpus or 0) > c.vcpus and a.elapsed <= (1 - MIN_GAIN) * s.elapsed
            and (a.cand.bound == "compute" or (a.cand.gpu_utilization or 0.0) > util)]
    if not pool:
        return None
    # In ranking order, those meeting the constraints first, and of those the compute-bound before the less bound.
    alt = min(pool, key=lambda a: (not a.meets, a.cand.bound != "compute"))
    a = alt.cand
    same = f"the same {c.gpu_count} GPUs" if c.gpu_count > 1 else "the same GPU"
    bound = "compute-bound" if a.bound == "compute" else f"{a.bound}-bound{_busy(a)}"
    return (f"{s.label} is input-bound on {c.vcpus:,} vCPUs: {alt.label}, with {a.vcpus:,} vCPUs for {same}, "
            f"is {bound}: {_versus(s, alt.elapsed, alt.cost)}")


def passed_over(chosen: Scored, ranked: Sequence[Scored]) -> str | None:
    """Why not the same GPUs for less per hour: the cheapest-per-hour offer of the chosen GPU model and count with
    fewer vCPUs that is input-bound, with its total time and cost. "1 x L4 (gcp g2-standard-8) costs less per
    hour but is input-bound on 8 vCPUs (GPU 31% busy): 51m10s total, $0.80"; None when there is none."""
    c = chosen.cand
    if not c.gpu or not c.vcpus:
        return None
    pool = [a for a in ranked if a is not chosen and a.cand.gpu == c.gpu and a.cand.gpu_count == c.gpu_count
            and a.cand.bound == "input" and 0 < (a.cand.vcpus or 0) < c.vcpus
            and a.cand.price_usd_per_hour < c.price_usd_per_hour]
    if not pool:
        return None
    a = min(pool, key=lambda x: x.cand.price_usd_per_hour)
    return (f"{a.label} costs less per hour but is input-bound on {a.cand.vcpus:,} vCPUs{_busy(a.cand)}: "
            f"{format_duration(a.elapsed)} total, {format_usd(a.cost)}")


def _more_workers(s: Scored, parts: StepParts) -> str | None:
    """More loader workers, up to what the host affords (one vCPU per training process kept free)."""
    est, gpus = s.est, max(1, s.cand.gpu_count)
    if est is None:
        return None
    vcpus = est.host_vcpus or s.cand.vcpus
    now = gpus if parts.serial else est.input_workers or 0  # make_batch: one producer per training process
    if not vcpus or now <= 0:
        return None
    per_gpu = max(1, vcpus - gpus) // gpus  # whole workers per training process, within what the host affords
    workers = per_gpu * gpus
    if per_gpu < 1 or workers <= now:
        return None
    # The cores' worth the workers get, as the predictor prices them (SMT siblings at part of a core), not their
    # count: the count alone promised 1h09m where predict of the same workers gives 1h17m.
    cores_now = now if parts.serial else loader_cores(now, vcpus, gpus)
    figures = _what_if(s, parts, input_seconds=parts.input_seconds * cores_now / loader_cores(workers, vcpus, gpus),
                       serial=False)
    if figures is None:
        return None
    if parts.serial:
        how = (f"preparing batches in DataLoader workers (num_workers={per_gpu} per GPU, {workers:,} on {vcpus:,} "
               f"vCPUs) instead of in the training loop")
    else:
        how = (f"more loader workers, num_workers={per_gpu} per GPU ({workers:,} on {vcpus:,} vCPUs against the "
               f"{now:,} this estimate has),")
    return f"{s.label} is input-bound: {how} would take at best {_versus(s, *figures)}"


def _gpu_decoding(s: Scored, parts: StepParts) -> str | None:
    """The input off the CPU altogether: the job at its compute (and copy) bound."""
    figures = _what_if(s, parts, input_seconds=0.0)
    if figures is None:
        return None
    return (f"{s.label} is input-bound: decoding and augmenting on the GPU (for images or video, e.g. NVIDIA "
            f"DALI) takes the input off the CPU, at best {_versus(s, *figures)}")


def _pinned(s: Scored, parts: StepParts) -> str | None:
    """A copy from pageable memory does not overlap compute; from pinned memory with non_blocking it can."""
    figures = _what_if(s, parts, overlapped=True)
    if figures is None:
        return None
    return (f"{s.label} is transfer-bound: pinned memory (DataLoader pin_memory=True) and .to(device, "
            f"non_blocking=True) would overlap the copy with compute, at best {_versus(s, *figures)}")
