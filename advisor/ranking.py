"""Pure ranking: offers x estimates x constraints -> a ``Recommendation``. No I/O, no database, no torch.

How the figures are defined (the same everywhere: table, JSON, plot, history):

* ``Candidate.seconds``/``low``/``high`` are the predicted wall time of the job itself (the ``Estimate``), without
  the instance's start-up. ``startup_seconds`` is the paid overhead before training (boot, environment, data
  staging: ``Settings.startup_seconds_cpu`` / ``_gpu``).
* ``cost_usd`` = the provider's billed time for start-up + job (per-second with a minimum, per minute or per
  hour, ``advisor.pricing.billing.billed_seconds``) x the on-demand rate; ``spot_cost_usd`` the same at the spot rate
  (None where the catalog has no spot price).
* With ``constraints.spot`` candidates are ranked, and budgets checked, on the spot cost where there is one
  (``interruptible`` is then True), else on the on-demand cost.
* A deadline is compared with start-up + the point estimate (``seconds``): the ranking uses point estimates.
  A candidate that meets it on the point estimate but not at the slow end of its 80% interval (start-up +
  ``high``) is kept, and its reason says it is at risk; likewise for a budget at the slow end's cost.
* Objective "cost": the cheapest candidate that meets the deadline and budget (ties: the faster);
  "time": the fastest (start-up included) that meets them (ties: the cheaper). Remaining ties by provider,
  instance type and region, so the order is deterministic.
* The Pareto front (time vs cost) is over every candidate that fits in memory, constraints aside. Time here
  and in the reasons' "2.1x faster than ..." is start-up + job: what the user waits for.
* Which target each offer is predicted as is the predictor's business (``advisor.predictor.targets``): the
  ranker receives (offer, estimate) pairs and only combines them with prices.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from advisor.errors import NoFeasibleCandidateError
from advisor.pricing.billing import billed_seconds, cost_usd
from advisor.schemas import Candidate, Constraints, Estimate, Offer, Recommendation, WorkloadSummary
from advisor.units import format_duration, format_usd

ADVICE_MIN_GAIN = 0.10  # an alternative is worth a line when it beats the choice by more than 10%
NEAREST_MISSES = 3

# (offer, its estimate or None where its target could not be predicted), from predictor.targets.estimate_offers
Priced = Sequence[tuple[Offer, "Estimate | None"]]


# ---------------------------------------------------------------------------------------- candidates


@dataclass
class _Scored:
    cand: Candidate
    offer: Offer
    elapsed: float  # start-up + job (point estimate)
    elapsed_high: float
    cost: float  # what the ranking uses: spot where ranked on spot, else on-demand
    cost_high: float
    miss: float = 0.0  # how far it misses the constraints, relative (0 = meets them)
    deadline_miss: float = 0.0  # seconds
    budget_miss: float = 0.0  # dollars

    @property
    def label(self) -> str:
        return describe(self.cand)


def describe(c: Candidate) -> str:
    """"1 x A100-80GB (lambda gpu_1x_a100)" or "16 vCPU (aws c7i.4xlarge)"."""
    return f"{c.hardware_label} ({c.provider} {c.instance_type})"


def _needs(peak: float | None, capacity: float | None, what: str) -> str:
    """"needs 94 GiB per GPU, has 80" (one decimal where whole GiB would read as equal)."""
    if peak is None or capacity is None:
        return f"does not fit in {what} memory" if what else "does not fit in memory"
    digits = 0 if round(peak) != round(capacity) else 1
    per = f" per {what}" if what else " of memory"
    return f"needs {peak:.{digits}f} GiB{per}, has {capacity:.{digits}f}"


def _memory_problem(offer: Offer, est: Estimate) -> str | None:
    """Why the job does not fit on the offer, or None. The estimate's verdict first (it knows the model's
    peak and the spec's capacity), then the catalog's memory for the instance (GPU memory per GPU, or the
    CPU instance's RAM)."""
    peak = est.peak_memory_gib
    capacity = offer.gpu_memory_gib if offer.gpu else offer.memory_gib
    if not est.fits_memory:
        return _needs(peak, est.memory_capacity_gib or capacity, "GPU" if offer.gpu else "")
    if peak is not None and capacity is not None and peak > capacity:
        return _needs(peak, capacity, "GPU" if offer.gpu else "")
    return None


def _score(priced: Priced, constraints: Constraints, startup_cpu: float,
           startup_gpu: float) -> tuple[list[_Scored], list[Candidate], Counter]:
    scored: list[_Scored] = []
    excluded: list[Candidate] = []
    skipped: Counter = Counter()
    for offer, est in priced:
        if est is None:
            skipped[f"{offer.gpu_count} x {offer.gpu}" if offer.gpu else "CPU instances"] += 1
            continue
        startup = startup_gpu if offer.gpu else startup_cpu
        cost = cost_usd(offer, est.seconds, startup_seconds=startup)
        spot_cost = (cost_usd(offer, est.seconds, spot=True, startup_seconds=startup)
                     if offer.spot_price_usd_per_hour is not None else None)
        use_spot = constraints.spot and spot_cost is not None
        problem = _memory_problem(offer, est)
        cand = Candidate(
            provider=offer.provider, instance_type=offer.instance_type, region=offer.region, tier=offer.tier,
            gpu=offer.gpu, gpu_count=offer.gpu_count, vcpus=offer.vcpus, seconds=est.seconds, low=est.low,
            high=est.high, cost_usd=cost, spot_cost_usd=spot_cost, fits_memory=problem is None,
            method=est.method, price_usd_per_hour=offer.price_usd_per_hour,
            spot_price_usd_per_hour=offer.spot_price_usd_per_hour,
            billed_seconds=billed_seconds(offer, startup + est.seconds), startup_seconds=startup,
            precision=est.precision, scaling_efficiency=est.scaling_efficiency, interruptible=use_spot,
            base_seconds=est.base_seconds, base_method=est.base_method,
        )
        if problem is not None:
            cand.reason = problem
            cand.meets_constraints = False
            excluded.append(cand)
            continue
        rate = offer.spot_price_usd_per_hour if use_spot else offer.price_usd_per_hour
        s = _Scored(cand=cand, offer=offer, elapsed=startup + est.seconds, elapsed_high=startup + est.high,
                    cost=spot_cost if use_spot else cost,
                    cost_high=billed_seconds(offer, startup + est.high) / 3600.0 * rate)
        misses = []
        if constraints.deadline_seconds:
            s.deadline_miss = max(0.0, s.elapsed - constraints.deadline_seconds)
            misses.append(s.elapsed / constraints.deadline_seconds - 1)
        if constraints.budget_usd:
            s.budget_miss = max(0.0, s.cost - constraints.budget_usd)
            misses.append(s.cost / constraints.budget_usd - 1)
        s.miss = max([0.0, *misses])
        s.cand.meets_constraints = s.miss <= 0
        scored.append(s)
    excluded.sort(key=lambda c: (c.provider, c.instance_type, c.region))
    return scored, excluded, skipped


def _names(s: _Scored) -> tuple[str, str, str]:
    return s.cand.provider, s.cand.instance_type, s.cand.region


def _order(objective: str) -> Callable[[_Scored], tuple]:
    if objective == "time":
        return lambda s: (s.elapsed, s.cost, *_names(s))
    return lambda s: (s.cost, s.elapsed, *_names(s))


def _ranked(scored: list[_Scored], objective: str) -> list[_Scored]:
    key = _order(objective)
    feasible = sorted((s for s in scored if s.miss <= 0), key=key)
    missing = sorted((s for s in scored if s.miss > 0), key=lambda s: (s.miss, *key(s)))
    return feasible + missing


def _mark_pareto(scored: list[_Scored]) -> None:
    best = math.inf
    for s in sorted(scored, key=lambda s: (s.elapsed, s.cost, *_names(s))):
        if s.cost < best:
            s.cand.pareto = True
            best = s.cost


# ------------------------------------------------------------------------------------------- reasons


def _speed_text(elapsed: float, ref: float) -> str:
    """"2.1x faster", "8% slower", "as fast as" (within 2%)."""
    r = ref / elapsed if elapsed > 0 else math.inf
    if r >= 1.1:
        return f"{r:.1f}x faster than"
    if r >= 1.02:
        return f"{(r - 1) * 100:.0f}% faster than"
    if r <= 1 / 1.1:
        return f"{1 / r:.1f}x slower than"
    if r <= 1 / 1.02:
        return f"{(1 / r - 1) * 100:.0f}% slower than"
    return "as fast as"


def _cost_text(cost: float, ref: float) -> str:
    """"for 1.3x the cost", "for 0.42x the cost", "for about the same cost" (within 2%)."""
    r = cost / ref if ref > 0 else math.inf
    if 1 / 1.02 < r < 1.02:
        return "for about the same cost"
    return f"for {r:.1f}x the cost" if r >= 1.1 else f"for {r:.2f}x the cost"


def _constraint_text(s: _Scored, constraints: Constraints) -> list[str]:
    parts = []
    d, b = constraints.deadline_seconds, constraints.budget_usd
    if d:
        if s.deadline_miss > 0:
            parts.append(f"misses the {format_duration(d)} deadline by {format_duration(s.deadline_miss)}")
        elif s.elapsed_high > d:
            parts.append(f"at risk: at the slow end of its estimate it misses the {format_duration(d)} deadline "
                         f"by {format_duration(s.elapsed_high - d)}")
    if b:
        if s.budget_miss > 0:
            parts.append(f"over the {format_usd(b)} budget by {format_usd(s.budget_miss)}")
        elif s.cost_high > b:
            parts.append(f"at risk: at the slow end of its estimate it costs {format_usd(s.cost_high)}, over the "
                         f"{format_usd(b)} budget")
    return parts


def _chosen_reason(s: _Scored, constraints: Constraints, n_feasible: int) -> str:
    what = "cheapest" if constraints.objective == "cost" else "fastest"
    limited = constraints.deadline_seconds or constraints.budget_usd
    head = (f"{what} of {n_feasible} candidates meeting the constraints" if limited
            else f"{what} of {n_feasible} candidates")
    parts = [head]
    d, b = constraints.deadline_seconds, constraints.budget_usd
    if d:
        parts.append(f"meets the {format_duration(d)} deadline with {format_duration(d - s.elapsed)} to spare")
    if b:
        parts.append(f"within the {format_usd(b)} budget ({format_usd(b - s.cost)} to spare)")
    parts += [p for p in _constraint_text(s, constraints) if p.startswith("at risk")]
    if s.cand.interruptible:
        parts.append("spot price: interruptible, so checkpoint")
    return "; ".join(parts)


def _relative_reason(s: _Scored, ref: _Scored, constraints: Constraints) -> str:
    parts = [f"{_speed_text(s.elapsed, ref.elapsed)} {ref.label} {_cost_text(s.cost, ref.cost)}"]
    parts += _constraint_text(s, constraints)
    if s.cand.interruptible:
        parts.append("spot")
    return "; ".join(parts)


def _miss_reason(s: _Scored, constraints: Constraints) -> str:
    parts = _constraint_text(s, constraints)
    return "; ".join(parts) or "does not meet the constraints"


# ------------------------------------------------------------------------------------------- advice


def _best(scored: list[_Scored], objective: str) -> _Scored | None:
    feasible = [s for s in scored if s.miss <= 0]
    return min(feasible, key=_order(objective)) if feasible else None


def _advice(label: str, alt: _Scored, chosen: _Scored | None, objective: str) -> str | None:
    figures = f"{alt.label}, {format_duration(alt.cand.seconds)}, {format_usd(alt.cost)}"
    if chosen is None:
        return f"with {label}: {figures} meets the constraints"
    metric = (lambda s: s.cost) if objective == "cost" else (lambda s: s.elapsed)
    if metric(alt) >= (1 - ADVICE_MIN_GAIN) * metric(chosen):
        return None
    return (f"with {label}: {figures} instead of {format_duration(chosen.cand.seconds)}, "
            f"{format_usd(chosen.cost)}")


# ---------------------------------------------------------------------------------------------- rank


def rank(
    priced: Priced,
    constraints: Constraints,
    *,
    workload: WorkloadSummary,
    dataset_size: int,
    epochs: int,
    batch_size: int,
    startup_seconds_cpu: float,
    startup_seconds_gpu: float,
    what_ifs: Mapping[str, Priced] | None = None,
    pricing_snapshot: dict | None = None,
    notes: Sequence[str] = (),
    measured_devices: Sequence[str] = (),
) -> Recommendation:
    """Price every offer that has an estimate, drop those that do not fit in memory, rank the rest.

    Args:
        priced: (offer, estimate) for the (already filtered) catalog offers; an offer whose estimate is None is
            skipped (counted in ``notes``).
        what_ifs: the same pairs under a change the user can act on, keyed by its label ("--precision bf16",
            "--batch-size 512"); when the best candidate under one beats the choice by more than 10% on the
            objective, ``advice`` says so with the figures.
        notes: the caller's notes (the probe's, the predictor's), kept after the ranking's own.
        measured_devices: the devices the profile probed here.

    Returns:
        The ``Recommendation``; ``candidates`` holds the first ``constraints.top`` of the ranking,
        ``all_candidates`` all of it (not serialised; for the plot); ``excluded`` and ``best_per_tier`` are
        complete.

    Raises:
        NoFeasibleCandidateError: nothing fits, or nothing meets the deadline/budget. ``.nearest`` holds the
            nearest misses, ``.recommendation`` the whole ranking with ``chosen=None``.
    """
    scored, excluded, skipped = _score(priced, constraints, startup_seconds_cpu, startup_seconds_gpu)
    ranked = _ranked(scored, constraints.objective)
    _mark_pareto(scored)
    feasible = [s for s in ranked if s.miss <= 0]
    chosen = feasible[0] if feasible else None
    _give_reasons(ranked, chosen, constraints, len(feasible))
    advice = _what_if_advice(what_ifs or {}, chosen, constraints, startup_seconds_cpu, startup_seconds_gpu)
    rec = Recommendation(
        workload=workload, dataset_size=dataset_size, epochs=epochs, batch_size=batch_size,
        chosen=chosen.cand if chosen else None, candidates=[s.cand for s in ranked[: constraints.top]],
        best_per_tier=_best_per_tier(ranked), excluded=excluded, constraints=constraints,
        pricing_snapshot=dict(pricing_snapshot or {}), advice=advice,
        measured_devices=list(measured_devices),
        notes=[*_notes(ranked[: constraints.top], skipped, constraints, startup_seconds_cpu, startup_seconds_gpu,
                       scored), *notes],
        all_candidates=[s.cand for s in ranked],
    )
    if chosen is None:
        raise _no_feasible(rec, ranked, excluded, skipped, len(priced), constraints, advice)
    return rec


def _give_reasons(ranked: list[_Scored], chosen: _Scored | None, constraints: Constraints,
                  n_feasible: int) -> None:
    for s in ranked:
        if s is chosen:
            s.cand.reason = _chosen_reason(s, constraints, n_feasible)
        elif chosen is not None:
            s.cand.reason = _relative_reason(s, chosen, constraints)
        else:
            s.cand.reason = _miss_reason(s, constraints)


def _best_per_tier(ranked: list[_Scored]) -> dict[str, Candidate]:
    best: dict[str, Candidate] = {}
    for s in ranked:
        best.setdefault(s.cand.tier, s.cand)
    return {t: best[t] for t in ("cpu", "single_gpu", "multi_gpu") if t in best}


def _what_if_advice(what_ifs: Mapping[str, Priced], chosen: _Scored | None, constraints: Constraints,
                    startup_cpu: float, startup_gpu: float) -> list[str]:
    advice: list[str] = []
    for label in sorted(what_ifs):
        alt_scored, _, _ = _score(what_ifs[label], constraints, startup_cpu, startup_gpu)
        alt = _best(alt_scored, constraints.objective)
        line = _advice(label, alt, chosen, constraints.objective) if alt is not None else None
        if line:
            advice.append(line)
    return advice


def _notes(listed: list[_Scored], skipped: Counter, constraints: Constraints, startup_cpu: float,
           startup_gpu: float, scored: list[_Scored]) -> list[str]:
    notes = [f"times are the job alone; costs add start-up ({format_duration(startup_gpu)} on GPU instances, "
             f"{format_duration(startup_cpu)} on CPU: boot, environment, data staging), billed by each "
             f"provider's rule"]
    if skipped:
        n = sum(skipped.values())
        ordered = sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0]))
        parts = ", ".join(f"{label} ({k})" for label, k in ordered[:6])
        more = f" and {len(ordered) - 6} more targets" if len(ordered) > 6 else ""
        notes.append(f"{n} offers skipped, no estimate for: {parts}{more}")
    if constraints.spot:
        with_spot = sum(1 for s in scored if s.cand.interruptible)
        notes.append(f"ranked on spot prices where offered ({with_spot} of {len(scored)} candidates, "
                     f"interruptible); the others on on-demand prices")
    for s in listed:
        if s.offer.suspect_price:
            notes.append(f"{s.cand.provider} {s.cand.instance_type}: its price is flagged as suspect in the "
                         f"catalog (pricing/README.md)")
    return notes


def _no_feasible(rec: Recommendation, ranked: list[_Scored], excluded: list[Candidate], skipped: Counter,
                 n_offers: int, constraints: Constraints, advice: list[str]) -> NoFeasibleCandidateError:
    nearest = [s.cand for s in ranked[:NEAREST_MISSES]]
    if not n_offers:
        return NoFeasibleCandidateError(
            "No offers to rank: the provider/region filters leave none.",
            hint="Fix: drop or widen --providers/--region (see `advisor pricing list`).", recommendation=rec)
    if not ranked and excluded:
        worst = excluded[0]
        return NoFeasibleCandidateError(
            f"The job does not fit in memory on any of the {len(excluded)} candidates "
            f"(e.g. {describe(worst)}: {worst.reason}).",
            hint="Fix: a smaller --batch-size, a GPU with more memory (--providers), or mixed precision.",
            nearest=[], recommendation=rec)
    if not ranked:
        return NoFeasibleCandidateError(
            f"No prediction for any of the {sum(skipped.values())} offers.",
            hint="Fix: profile the workload with its analysis (advisor profile), or pick providers whose "
                 "GPUs have a spec in profiles/gpus.csv.", recommendation=rec)
    limits = []
    if constraints.deadline_seconds:
        limits.append(f"the {format_duration(constraints.deadline_seconds)} deadline")
    if constraints.budget_usd:
        limits.append(f"the {format_usd(constraints.budget_usd)} budget")
    lines = [f"  {describe(s.cand)}: {format_duration(s.elapsed)} with start-up, {format_usd(s.cost)} "
             f"({_miss_reason(s, constraints)})" for s in ranked[:NEAREST_MISSES]]
    fixes = []
    if constraints.deadline_seconds:
        within_budget = [s for s in ranked if not constraints.budget_usd or s.cost <= constraints.budget_usd]
        if within_budget:
            fastest = min(within_budget, key=lambda s: s.elapsed)
            fixes.append(f"--deadline {format_duration(math.ceil(fastest.elapsed / 60) * 60)}")
    if constraints.budget_usd:
        in_time = [s for s in ranked if not constraints.deadline_seconds
                   or s.elapsed <= constraints.deadline_seconds]
        if in_time:
            cheapest = min(in_time, key=lambda s: s.cost)
            fixes.append(f"--budget {math.ceil(cheapest.cost * 100) / 100:.2f}")
    hint = "Fix: relax the constraints"
    if fixes:
        hint += " (" + " or ".join(fixes) + " would do)"
    if advice:
        hint += "; or: " + "; ".join(advice)
    return NoFeasibleCandidateError(
        f"No candidate meets {' and '.join(limits)}. Nearest misses:\n" + "\n".join(lines),
        hint=hint + ".", nearest=nearest, recommendation=rec)

