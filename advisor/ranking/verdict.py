"""The answer on top of a ranking: the verdict (what to rent, why, the next-best trade, CPU vs GPU, warnings),
the best-value alternative (the knee of the Pareto front) and the status for CI.

Pure: no I/O. Times are totals (start-up + job) unless a name says "job"; costs are the ranked costs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from advisor.pricing.billing import billed_seconds, billing_text
from advisor.ranking.balance import bound_warning
from advisor.ranking.precision import fp16_short
from advisor.ranking.reasons import constraint_texts, cost_text, fix_flags, sharded_clause, usd_apart
from advisor.ranking.safe_alternative import is_safe, safe_figures, safe_text
from advisor.ranking.scoring import Scored
from advisor.ranking.stale_price import stale_price_warning
from advisor.schemas import BestValue, Candidate, Constraints, CpuVsGpu, Verdict, Violation
from advisor.schemas.small_batch import LAST_BATCH_RAISES, STEP_RAISES
from advisor.units import (
    durations_apart,
    format_duration,
    format_duration_exact,
    format_ratio,
    format_usd,
    format_usd_delta,
)

MIN_GAIN = 0.05  # a best-value alternative saves at least 5% of the total time (or, for time, of the cost)
# ... and buys it at no worse than this rate, in log terms: each doubling of the cost makes the time at least 1.07x
# shorter (2 ** 0.1; 6.7% saved; for time, each doubling of the time, the cost). Without it the knee of a flat front
# (a short job that start-up dominates) was offered: "+$0.12 (53x the cost) finishes 6.5s sooner".
MIN_RETURN = 0.1


# ------------------------------------------------------------------------------------------ best value


def _front(scored: Sequence[Scored]) -> list[Scored]:
    """The Pareto front (total time vs cost) of ``scored``, fastest first."""
    front, best = [], math.inf
    for s in sorted(scored, key=lambda s: (s.elapsed, s.cost)):
        if s.cost < best:
            front.append(s)
            best = s.cost
    return front


def best_value(ranked: Sequence[Scored], chosen: Scored | None, constraints: Constraints) -> BestValue | None:
    """The knee of the front of candidates meeting the constraints, on the far side of the choice: for cost,
    faster and dearer; for time, cheaper and slower (``_knee``). None when no such candidate gains at least 5%, at
    ``MIN_RETURN`` or better. Where the knee meets the constraints on its point estimate but not at the slow end of
    its interval, it is marked at risk as the choice would be (``at_risk``, and the text says by how much), and the
    knee of the candidates that are safe even there is named beside it (``safe_alternative``), or the text says
    that none is."""
    if chosen is None:
        return None
    objective = constraints.objective
    knee = _knee([s for s in ranked if s.meets], chosen, objective)
    if knee is None:
        return None
    extra = knee.cost - chosen.cost
    pct = extra / chosen.cost * 100 if chosen.cost > 0 else math.inf
    saved = chosen.elapsed - knee.elapsed
    share = f"{abs(pct):.0f}%" if abs(pct) < 100 else f"{format_ratio(knee.cost / chosen.cost)} the cost"
    sharded = sharded_clause(knee.cand, chosen.cand)
    figures = f"{knee.label}: {format_duration(knee.elapsed)} total, {format_usd(knee.cost)}{_spot(knee)}"
    if objective == "cost":
        text = f"{format_usd_delta(extra)} ({share}) finishes {format_duration(saved)} sooner on {figures}"
    else:
        text = f"{format_usd_delta(extra)} ({share}) if {format_duration(-saved)} later is fine, on {figures}"
    # A user who switches to it needs the warning the choice would get: its slow end past the deadline or budget,
    # and what to take instead where that matters (a hard deadline).
    risks = [p for p in constraint_texts(knee, constraints) if p.startswith("at risk")]
    safe = _knee([s for s in ranked if s.meets and is_safe(s, constraints)], chosen, objective) if risks else None
    if safe is not None:
        risks.append(f"safe even at its slow end: {safe_figures(safe, constraints, chosen.cand)}")
    elif risks:
        risks.append(f"no {'faster' if objective == 'cost' else 'cheaper'} alternative worth the extra "
                     f"{'cost' if objective == 'cost' else 'time'} is safe at the slow end of its estimate")
    return BestValue(candidate=knee.cand, extra_cost_usd=extra, extra_cost_pct=pct, seconds_saved=saved,
                     text="; ".join([text, *filter(None, [sharded]), *risks]), at_risk=bool(risks),
                     safe_alternative=safe.cand if safe is not None else None)


def _knee(meeting: Sequence[Scored], chosen: Scored, objective: str) -> Scored | None:
    """The knee of the Pareto front of ``meeting`` on the far side of ``chosen``: in log time and log cost, each
    scaled by the choice-to-extreme span, the point that gains the most relative to what it gives up (the point
    farthest above the chord from the choice to the extreme); only points that gain at least ``MIN_GAIN`` at
    ``MIN_RETURN`` or better. None where there is none."""
    front = _front(meeting)
    if objective == "cost":
        alts = [s for s in front if s is not chosen and s.elapsed <= chosen.elapsed * (1 - MIN_GAIN)]

        def gain(s: Scored) -> float:
            return math.log(chosen.elapsed / s.elapsed)

        def loss(s: Scored) -> float:
            return max(0.0, math.log(max(s.cost, 1e-12) / max(chosen.cost, 1e-12)))
    else:
        alts = [s for s in front if s is not chosen and s.cost <= chosen.cost * (1 - MIN_GAIN)]

        def gain(s: Scored) -> float:
            return math.log(max(chosen.cost, 1e-12) / max(s.cost, 1e-12))

        def loss(s: Scored) -> float:
            return max(0.0, math.log(s.elapsed / chosen.elapsed))
    alts = [s for s in alts if gain(s) >= MIN_RETURN * loss(s)]
    if not alts:
        return None
    top_gain = max(gain(s) for s in alts) or 1.0
    top_loss = max(loss(s) for s in alts) or 1.0
    return max(alts, key=lambda s: (gain(s) / top_gain - loss(s) / top_loss, -loss(s)))


def _spot(s: Scored) -> str:
    """" at its spot price" where the cost quoted is a spot one (``--spot``), else ""."""
    return " at its spot price" if s.cand.interruptible else ""


# ------------------------------------------------------------------------------------------ CPU vs GPU


def cpu_vs_gpu(ranked: Sequence[Scored], objective: str, epochs: int) -> CpuVsGpu | None:
    """The best CPU candidate against the best GPU candidate (the ranking's first of each), in the seeds'
    terms: price ratio, speed-up, the job-alone cost ratio, the whole-run ratio, and the job length at which
    the verdict flips (start-up is a fixed cost; the job scales)."""
    cpu = next((s for s in ranked if s.cand.tier == "cpu"), None)
    gpu = next((s for s in ranked if s.cand.tier != "cpu"), None)
    if cpu is None or gpu is None or gpu.cand.seconds <= 0 or cpu.cand.seconds <= 0:
        return None
    c, g = cpu.cand, gpu.cand
    rate_c, rate_g = c.ranked_price_usd_per_hour / 3600, g.ranked_price_usd_per_hour / 3600
    start_c, start_g = c.startup_seconds or 0.0, g.startup_seconds or 0.0
    speedup = c.seconds / g.seconds
    price_ratio = rate_g / rate_c if rate_c > 0 else math.inf
    # Each job is a fixed part (its process, CUDA, model build, compile) and a part that grows with the epochs;
    # the GPU's speed-up on the growing part is what a longer job gets (the whole jobs' ratio, fixed parts in,
    # put the break-even 3x too far out on a short job: 8 s of CUDA start against the CPU's 1 s).
    own_c, own_g = min(c.job_startup_seconds or 0.0, c.seconds), min(g.job_startup_seconds or 0.0, g.seconds)
    grows_c, grows_g = c.seconds - own_c, g.seconds - own_g
    per_second_g = grows_g / grows_c if grows_c > 0 else 1 / speedup  # GPU seconds per growing CPU second
    # The GPU's minus the CPU's figure as (fixed part) + (part per growing second of CPU job): $ or s.
    if objective == "cost":
        fixed = rate_g * (start_g + own_g) - rate_c * (start_c + own_c)
        per = rate_g * per_second_g - rate_c
        per_epoch_ratio = rate_g * per_second_g / rate_c if rate_c > 0 else None
        gpu_wins = gpu.cost < cpu.cost
    else:
        fixed, per = (start_g + own_g) - (start_c + own_c), per_second_g - 1
        per_epoch_ratio = per_second_g
        gpu_wins = gpu.elapsed < cpu.elapsed
    job_alone_gpu_wins = per < 0
    grown = -fixed / per if per != 0 and -fixed / per > 0 else None
    if objective == "cost":  # the providers bill a minimum and round up: the linear flip may not be where it is
        grown = _billed_flip(_billed_gap(cpu, gpu, own_c, own_g, per_second_g), grown, job_alone_gpu_wins)
    flip = own_c + grown if grown is not None else None
    result = CpuVsGpu(
        cpu=c, gpu=g, price_ratio=price_ratio, speedup=speedup,
        compute_cost_ratio=price_ratio / speedup, total_cost_ratio=gpu.cost / cpu.cost if cpu.cost else math.inf,
        total_time_ratio=gpu.elapsed / cpu.elapsed, winner="gpu" if gpu_wins else "cpu",
        decided_by_startup=gpu_wins != job_alone_gpu_wins, break_even_job_seconds=flip,
        per_epoch_ratio=per_epoch_ratio if grows_c > 0 and grows_g > 0 else None,
        break_even_epochs=grown / (grows_c / epochs) if grown and epochs and grows_c > 0 else None, text="")
    billing = _billing_note(cpu, gpu) if objective == "cost" else ""
    result.text = _cpu_vs_gpu_text(result, cpu, gpu, objective, billing) + _host_bound_text(g)
    return result


def _billed_gap(cpu: Scored, gpu: Scored, own_c: float, own_g: float, per_second_g: float):
    """GPU minus CPU billed cost (start-up + the job's own start + its growing part), as a function of the CPU's
    growing seconds: each side rounded up and floored as its provider bills it."""
    c, g = cpu.cand, gpu.cand
    fixed_c, fixed_g = (c.startup_seconds or 0.0) + own_c, (g.startup_seconds or 0.0) + own_g

    def gap(x: float) -> float:
        return (billed_seconds(gpu.offer, fixed_g + per_second_g * x) * g.ranked_price_usd_per_hour
                - billed_seconds(cpu.offer, fixed_c + x) * c.ranked_price_usd_per_hour) / 3600

    return gap


def _billed_flip(gap, grown: float | None, gpu_far: bool) -> float | None:
    """The CPU's growing seconds where the billed winner changes: ``grown`` (the unrounded costs' flip) where the
    billed costs flip there too (within 10% either side), else found on the billed costs; None where one tier
    wins at every length once billed (a minimum that covers the CPU's short job: the GPU wins even there)."""
    def gpu_side(x: float) -> bool:
        return gap(x) < 0

    if grown is not None and gpu_side(grown * 0.9) != gpu_far and gpu_side(grown * 1.1) == gpu_far:
        return grown
    if gpu_side(0.0) == gpu_far:
        return None
    hi = max(grown or 0.0, 1.0)
    for _ in range(80):  # far enough out, the rounding is small beside the rates: the growing part's winner wins
        if gpu_side(hi) == gpu_far:
            break
        hi *= 2
    else:
        return None
    lo = 0.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if gpu_side(mid) == gpu_far else (mid, hi)
    return hi


def billed_over(c: Candidate) -> bool:
    """True where the billed time exceeds the run (start-up + job) by more than 2% and a second: a minimum or
    an hourly or per-minute rounding that a cost cannot be checked without."""
    return c.billed_seconds > ((c.startup_seconds or 0.0) + c.seconds) * 1.02 + 1


def billed_notes(listed: Sequence[Scored]) -> list[str]:
    """One note per provider whose listed rows are billed for more than they run: "e2e bills whole hours: the
    listed A100-80GB-x1's 5m18s run is billed as 1h00m (and 3 more of its listed rows are rounded up)"."""
    notes = []
    for provider in dict.fromkeys(s.cand.provider for s in listed if billed_over(s.cand)):
        mine = [s for s in listed if s.cand.provider == provider and billed_over(s.cand)]
        first = mine[0]
        n = len(mine) - 1
        more = f" (and {n} more of its listed rows {'is' if n == 1 else 'are'} rounded up)" if n else ""
        notes.append(f"{provider} {billing_text(first.offer)}: the listed {first.cand.instance_type}'s "
                     f"{format_duration(first.elapsed)} run is billed as {format_duration(first.cand.billed_seconds)}"
                     f"{more}; the cost is the billed time x the hourly rate")
    return notes


def _billing_note(cpu: Scored, gpu: Scored) -> str:
    """" Billing decides it: gcp bills per second, at least 60 s, so the CPU's 2.4s run is billed as 1m00s (the
    GPU's as run)." where rounding or a minimum picks the other tier than the unrounded costs would; a shorter
    note where it only moves a cost by more than 2%; "" where neither."""
    sides = [(t, s) for t, s in (("CPU", cpu), ("GPU", gpu)) if billed_over(s.cand)]
    if not sides:
        return ""
    parts = [f"{s.cand.provider} {billing_text(s.offer)}, so the {t}'s "
             f"{format_duration((s.cand.startup_seconds or 0.0) + s.cand.seconds)} run is billed as "
             f"{format_duration(s.cand.billed_seconds)}" for t, s in sides]

    def unbilled(s: Scored) -> float:
        return ((s.cand.startup_seconds or 0.0) + s.cand.seconds) * s.cand.ranked_price_usd_per_hour

    decides = (unbilled(gpu) < unbilled(cpu)) != (gpu.cost < cpu.cost)
    return (" Billing decides it: " if decides else " Billed: ") + "; ".join(parts) + "."


def _host_bound_text(g: Candidate) -> str:
    """" The GPU run is transfer-bound: its GPU computes 25% of the time." (or "" when compute-bound): why a GPU
    can lose to a CPU that it outpaces on compute."""
    if g.bound == "compute" or g.gpu_utilization is None:
        return ""
    gpus = "its GPUs compute" if g.gpu_count > 1 else "its GPU computes"
    return f" The GPU run is {g.bound}-bound: {gpus} {g.gpu_utilization:.0%} of the time."



def _best(tier: str, s: Scored, *, lead: bool = True) -> str:
    """"the best GPU (1 x RTX3090, vast 1x-RTX_3090)", or, where no candidate of the tier meets the constraints,
    what it is instead: the nearest miss (the ranking orders misses by how far they miss), not the tier's best in
    general (a cheaper, slower GPU may exist). One bracket holds the machine and the miss."""
    if s.miss <= 0:
        return f"the best {tier} ({_named(s)})"
    missed = " and the ".join(w for w, m in (("deadline", s.deadline_miss), ("budget", s.budget_miss)) if m > 0)
    return (f"{'N' if lead else 'n'}o {tier} meets the {missed or 'constraints'}: the nearest ({_named(s)})" if lead
            else f"the nearest {tier} ({_named(s)}; none meets the {missed or 'constraints'})")


def _cheaper(ratio: float) -> str:
    """"4.1x cheaper" for 0.24, "2.7x dearer" for 2.7, and in the rows' bands (``reasons.cost_text``) "4% dearer"
    within 10% and "about the same cost" within 2%: "about the same" reached 5%, so one answer called a cost 4%
    apart the same in this sentence and "4% dearer" in a row."""
    if not 0 < ratio < math.inf:  # a free or unpriceable side; the loader's price bounds keep this from happening
        return "far cheaper" if ratio <= 0 else "far dearer"
    if 1 / 1.02 < ratio < 1.02:
        return "about the same cost"
    if 0.9 < ratio < 1.1:  # cost_text's bands
        return f"{(1 - ratio) * 100:.0f}% cheaper" if ratio < 1 else f"{(ratio - 1) * 100:.0f}% dearer"
    return f"{format_ratio(1 / ratio)} cheaper" if ratio < 1 else f"{format_ratio(ratio)} dearer"


def _pace(ratio: float) -> str:
    """The GPU's time over the CPU's in words: "2.4x faster" for 0.41, "1.3x slower", and "about as fast" within 5%,
    where a ratio reads "1.0x" ("10m45s on the GPU against 10m43s on the CPU (1.0x slower)" said slower and the
    same at once)."""
    if 1 / 1.05 < ratio < 1.05:
        return "about as fast"
    return f"{format_ratio(1 / ratio)} faster" if ratio < 1 else f"{format_ratio(ratio)} slower"


def _named(s: Scored) -> str:
    """"1 x RTX3090, vast 1x-RTX_3090" (no nested brackets inside a sentence's own)."""
    return f"{s.cand.hardware_label}, {s.cand.provider} {s.cand.instance_type}"


def _cpu_vs_gpu_text(v: CpuVsGpu, cpu: Scored, gpu: Scored, objective: str, billing: str = "") -> str:
    c, g = v.cpu, v.gpu
    # "0.029x per hour what the CPU costs" read as a typo: below 1, the inverse, "34x less per hour than".
    per_hour = (f"costs {format_ratio(v.price_ratio)} per hour what {_best('CPU', cpu, lead=False)} costs"
                if v.price_ratio >= 0.995 else f"costs {format_ratio(1 / v.price_ratio)} less per hour than "
                                                f"{_best('CPU', cpu, lead=False)}")
    head = (f"{_best('GPU', gpu)} {per_hour} and runs the job "
            + _pace(1 / v.speedup)
            + f": on the job alone it is {_cheaper(v.compute_cost_ratio)}.")
    if objective == "cost":
        with_what = "With start-up" if not billing else "With start-up, as billed,"
        # near a tie, the rows' words (``cost_text``: "about the same cost" only within 2%, the near-tie band), and
        # the costs with the decimals that tell them apart: "$0.014 against $0.014" read as equal at 1.9% apart
        near = 1 / 1.1 < v.total_cost_ratio < 1.1
        gpu_usd, cpu_usd = usd_apart(gpu.cost, cpu.cost)
        whole = (f" {with_what} the whole run is "
                 f"{cost_text(gpu.cost, cpu.cost) if near else _cheaper(v.total_cost_ratio)} on the GPU "
                 f"({gpu_usd}{_spot(gpu)}, {format_duration(gpu.elapsed)}, against "
                 f"{cpu_usd}{_spot(cpu)}, {format_duration(cpu.elapsed)}).{billing}")
    else:
        whole = (f" With start-up the whole run takes {format_duration(gpu.elapsed)} on the GPU against "
                 f"{format_duration(cpu.elapsed)} on the CPU ({_pace(v.total_time_ratio)}).")
    if v.break_even_job_seconds is None:
        return head + whole
    other = "CPU" if v.winner == "gpu" else "GPU"
    at = format_duration(v.break_even_job_seconds) + " on the CPU machine"
    if v.break_even_epochs is not None:
        at += f" (about {epochs_words(v.break_even_epochs)} of this job)"
    starts = f"{format_duration(g.startup_seconds)} on GPU, {format_duration(c.startup_seconds)} on CPU"
    if (v.break_even_job_seconds < c.seconds) == v.decided_by_startup:  # billing steps: not where it stands
        return head + whole
    if v.decided_by_startup:
        return head + whole + f" Start-up decides the tier ({starts}{_own_starts(c, g)})" + _per_epoch(v, objective) \
            + f"a {other} wins for jobs over {at}."
    if not 0.1 <= v.break_even_job_seconds / c.seconds <= 10:  # far from this job: not worth a sentence
        return head + whole
    return head + whole + f" For jobs under {at} the {other} would win (start-up: {starts})."


def _own_starts(c: Candidate, g: Candidate) -> str:
    """"; the job's own start, its process and model build: 8.1s on the GPU, 0.9s on the CPU" where either has
    one: a fixed cost the head's "job alone" includes, and one reason a GPU can lose it yet win a longer job."""
    own_c, own_g = min(c.job_startup_seconds or 0.0, c.seconds), min(g.job_startup_seconds or 0.0, g.seconds)
    if own_c <= 0 and own_g <= 0:
        return ""
    return (f"; the job's own start, its process and model build: {format_duration(own_g)} on the GPU, "
            f"{format_duration(own_c)} on the CPU")


def _per_epoch(v: CpuVsGpu, objective: str) -> str:
    """": beyond them an epoch is 2.4x cheaper on the GPU, so " (or ": " where a job is all fixed part)."""
    r = v.per_epoch_ratio
    if r is None or r <= 0:
        return ": "
    if objective == "cost":
        return f": beyond them an epoch is {_cheaper(r)} on the GPU, so "
    return f": beyond them an epoch is {_pace(r)} on the GPU, so "


# --------------------------------------------------------------------------------------- status, verdict


def status(chosen: Scored | None, constraints: Constraints) -> str:
    if chosen is None:
        return "infeasible"
    d, b = constraints.deadline_seconds, constraints.budget_usd
    # A tight memory fit too: a job that may stop at its first step is a risk to any plan, not only to a deadline.
    # It marks the choice rather than re-ranking: the peak is an estimate (its margin counted), the order stays the
    # user's objective, and the warning names the first candidate with room (``safe_choice``) to weigh it against.
    if (d and chosen.elapsed_high > d) or (b and chosen.cost_high > b) or chosen.cand.memory_tight:
        return "at_risk"
    return "ok"


def safe_choice(ranked: Sequence[Scored], chosen: Scored | None, constraints: Constraints) -> Scored | None:
    """Where the choice is at risk: the first in the ranking (the cheapest, or the fastest) that meets the
    constraints even at the slow end of its estimate (``elapsed_high`` within the deadline, ``cost_high`` within the
    budget): what a hard deadline needs. None where the choice is not at risk, or no candidate is safe."""
    if status(chosen, constraints) != "at_risk":
        return None
    return next((s for s in ranked if s.meets and is_safe(s, constraints)), None)


def _warnings(chosen: Scored | None, ranked: Sequence[Scored], constraints: Constraints, startup_cpu: float,
              startup_gpu: float, notes: Sequence[str], today: date | None = None) -> list[str]:
    out: list[str] = []
    d = constraints.deadline_seconds
    if d and d <= max(startup_cpu, startup_gpu):
        out.append(f"the {format_duration_exact(d)} deadline leaves little or no time after start-up "
                   f"({format_duration(startup_cpu)} on CPU, {format_duration(startup_gpu)} on GPU): if your "
                   f"machines start faster, say so with --startup-cpu / --startup-gpu")
    if chosen is not None:
        c = chosen.cand
        risks = [p for p in chosen.cand.reason.split("; ") if p.startswith("at risk")]
        out += risks
        if risks:
            out.append(safe_text(safe_choice(ranked, chosen, constraints), constraints, c))
        bound = bound_warning(chosen)
        if bound:
            out.append(bound)
        if c.marketplace:
            out.append(f"{c.provider} {c.instance_type} is a marketplace listing: the host and region vary, and the "
                       f"price is the cheapest listing when the catalog was made" + _cloud_alternative(ranked))
        if c.interruptible:
            out.append(_spot_warning(chosen, constraints))
        if c.interruptible and chosen.offer.spot_zone_min:
            out.append(f"the spot price of {c.provider} {c.instance_type} is the lowest across {c.region}'s "
                       f"availability zones in the catalog: the zone the instance is given may charge more, so "
                       f"check that zone's spot price before renting")
        if chosen.offer.suspect_price:
            out.append(f"{c.provider} {c.instance_type}: its price is flagged as suspect in the catalog "
                       f"(pricing/README.md)")
    stale = stale_price_warning(chosen, today) if today is not None else None
    out += [stale] if stale else []
    out += [n for n in notes if n.startswith("probe:")]
    # a job that would crash, whichever is rented
    out += [n for n in notes if n.startswith(LAST_BATCH_RAISES) or STEP_RAISES in n]
    return out


def _spot_warning(chosen: Scored, constraints: Constraints) -> str:
    """The spot choice's risk: it can be taken back, its price's date, and under a deadline what one reclaim costs
    (another start-up plus the work since the last checkpoint) against the time it has to spare."""
    c, dated = chosen.cand, chosen.offer.spot_snapshot_date
    text = (f"the price is a spot price ({'as of ' + str(dated) if dated else 'undated in the catalog'}; spot prices "
            f"move daily): the instance can be taken back at any time, so checkpoint")
    d = constraints.deadline_seconds
    if not d:
        return text
    slack, restart = max(d - chosen.elapsed, 0.0), c.startup_seconds or 0.0
    deadline, spare = durations_apart(d, slack, exact=True)
    text += (f"; against the {deadline} deadline it has {spare} to spare, and each "
             f"reclaim costs another {format_duration(restart)} start-up plus the work since the last checkpoint")
    if slack <= restart:
        return text + ": one reclaim would miss the deadline (on demand it cannot be taken back)"
    return text + f": for one reclaim to fit, checkpoint at least every {format_duration(slack - restart)}"


def _cloud_alternative(ranked: Sequence[Scored]) -> str:
    """"; the best offer that is not a marketplace listing: ..." (or "" when there is none)."""
    alt = next((s for s in ranked if s.meets and not s.cand.marketplace), None)
    if alt is None:
        return ""
    return (f"; the best offer that is not a marketplace listing: {alt.label}, {format_duration(alt.elapsed)} "
            f"total, {format_usd(alt.cost)}{' at its spot price' if alt.cand.interruptible else ''}")


def build_verdict(chosen: Scored | None, ranked: Sequence[Scored], best: BestValue | None, tiers: CpuVsGpu | None,
                  advice: list[str], violations: list[Violation], constraints: Constraints, startup_cpu: float,
                  startup_gpu: float, notes: Sequence[str], today: date | None = None) -> Verdict:
    assumptions = (f"start-up {format_duration(startup_cpu)} on CPU instances, {format_duration(startup_gpu)} on GPU "
                   f"instances (boot, environment, data staging: waited for and paid for); change with --startup-cpu "
                   f"/ --startup-gpu")
    warnings = _warnings(chosen, ranked, constraints, startup_cpu, startup_gpu, notes, today)
    if chosen is None:
        flags = fix_flags(violations)
        return Verdict(
            recommendation="Nothing meets the constraints.",
            why="; ".join(v.message for v in violations) + (f": {flags} would pass" if flags else ""),
            cpu_vs_gpu=tiers, could_be_better=list(advice), warnings=warnings, assumptions=assumptions)
    c = chosen.cand
    where = f"{c.hardware_label}, {c.region}" + (", marketplace listing" if c.marketplace else "")
    price = " at the spot price" if c.interruptible else ""
    if billed_over(c):  # e2e's whole hours: $2.80 for 5m18s cannot be checked against the rate without it
        price += f" (billed as {format_duration(c.billed_seconds)}: {c.provider} {billing_text(chosen.offer)})"
    return Verdict(
        recommendation=(f"Rent {c.provider} {c.instance_type} ({where}): {format_duration(chosen.elapsed)} total "
                        f"({format_duration(c.seconds)} job + {format_duration(c.startup_seconds)} start-up), "
                        f"{format_usd(chosen.cost)}{price}{fp16_short(c, constraints.precision)}"),
        # The at-risk parts of the reason are warnings (below), not reasons to rent it.
        why="; ".join(p for p in c.reason.split("; ") if not p.startswith("at risk")),
        best_value=best.text if best else None, cpu_vs_gpu=tiers, could_be_better=list(advice),
        warnings=warnings, assumptions=assumptions)


def epochs_words(epochs: float) -> str:
    """A break-even's epochs as the verdict writes them: "2,051 epochs" (not "2.05e+03"), "0.41 epochs", and
    "1 epoch" where it rounds to one (it read "about 1 epochs")."""
    shown = f"{epochs:,.0f}" if epochs >= 100 else f"{epochs:.3g}"
    return f"{shown} epoch" + ("" if shown == "1" else "s")
