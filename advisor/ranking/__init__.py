"""Pure ranking: offers x estimates x constraints -> a ``Recommendation``. No I/O, no database, no torch.

How the figures are defined (the same everywhere: table, JSON, plot, history):

* ``Candidate.seconds``/``low``/``high`` are the predicted wall time of the job itself (the ``Estimate``), without
  the instance's start-up; ``startup_seconds`` is the paid overhead before training (boot, environment, data
  staging: ``Settings.startup_seconds_cpu`` / ``_gpu``, or ``--startup-cpu`` / ``--startup-gpu``).
  ``total_seconds``/``total_low``/``total_high`` = start-up + job: what the user waits for and pays for. Every
  time that is shown, compared or ranked on is a total; "job" labels the job alone where it stands beside it.
* ``cost_usd`` = the provider's billed time for start-up + job (per-second with a minimum, per minute or per
  hour, ``advisor.pricing.billing.billed_seconds``) x the on-demand rate; ``spot_cost_usd`` the same at the spot
  rate (None where the catalog has no spot price).
* With ``constraints.spot`` candidates are ranked, and budgets checked, on the spot cost where there is one
  (``interruptible`` is then True), else on the on-demand cost.
* A deadline is compared with the total (point estimate). A candidate that meets it on the point estimate but
  not at the slow end of its 80% interval is kept, its reason says it is at risk and ``status`` is "at_risk";
  likewise for a budget at the slow end's cost.
* Objective "cost": the cheapest candidate that meets the deadline and budget, where costs within 2% of the
  cheapest are a tie won by the faster; "time": the fastest that meets them, where totals within 2% of the
  fastest are a tie won by the cheaper (and likewise in each band of 2% further down: ``scoring.ranked``,
  ``scoring.tie_bands``). Remaining ties
  by provider, instance type and region, so the order is deterministic.
* The Pareto front (total time vs cost) is over every candidate that fits in memory, constraints aside.
* Which target each offer is predicted as is the predictor's business (``advisor.predictor.targets``): the
  ranker receives (offer, estimate) pairs, or (offer, the error that says why there is none), and only combines
  them with prices.

* An input- or transfer-bound candidate (``Candidate.bound``: the CPU cannot prepare, or the link cannot copy,
  batches as fast as its GPUs take them) is ranked on its real time, the estimate's, never on compute alone.

Modules: ``scoring`` (candidates, constraints, order), ``reasons`` (texts, violations), ``balance`` (input- and
transfer-bound candidates: reason clause, fixes, warning), ``groups`` (by hardware, per tier, per provider),
``verdict`` (the answer on top), ``here`` (the job on the probed machine itself), ``diff`` (two recommendations
compared).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from advisor.ranking import balance as _balance
from advisor.ranking import groups as _groups
from advisor.ranking import here as _here
from advisor.ranking import reasons as _reasons
from advisor.ranking import verdict as _verdict
from advisor.ranking.precision import what_if_precision
from advisor.ranking.scoring import Priced, Scored, best_meeting, describe, mark_pareto, ranked, score
from advisor.schemas import CandidateGroup, Constraints, Recommendation, WorkloadSummary

__all__ = ["Priced", "describe", "rank"]


def rank(
    priced: Priced,
    constraints: Constraints,
    *,
    workload: WorkloadSummary,
    dataset_size: int,
    epochs: int,
    batch_size: int,
    grad_accum_steps: int = 1,  # micro-steps per optimizer step
    startup_seconds_cpu: float,
    startup_seconds_gpu: float,
    what_ifs: Mapping[str, Priced] | None = None,
    pricing_snapshot: dict | None = None,
    notes: Sequence[str] = (),
    measured_devices: Sequence[str] = (),
    here: Sequence[_here.Found] = (),
    host: str | None = None,
    process_start_seconds: float | None = None,
    today: date | None = None,
) -> Recommendation:
    """Price every offer that has an estimate, drop those that do not fit in memory, rank the rest, and put the
    answer on top (``verdict``, ``best_value``, ``groups``, ``status``).

    Args:
        priced: (offer, estimate) for the (already filtered) catalog offers; where the estimate is an
            ``AdvisorError`` (or None) the offer is skipped, and listed in ``skipped`` with the error's reason.
        what_ifs: the same pairs under a change the user can act on, keyed by its label ("--precision bf16",
            "--batch-size 512"); when the best candidate under one beats the choice by more than 10% on the
            objective, ``advice`` says so with the figures. An input- or transfer-bound choice (or best GPU,
            where a CPU is chosen) adds the fixes for its host side (``balance``) after them.
        notes: the caller's notes (the probe's, the predictor's), kept after the ranking's own.
        measured_devices: the devices the profile probed here.
        here: the job on those devices (``Pricer.here``), for the verdict's "Here" line and
            ``Recommendation.here``; ``host``: the probed machine's hostname, for that line;
            ``process_start_seconds``: starting Python and importing torch there (``HostInfo``).
        today: the caller's date, to warn of a chosen price older than ``stale_price.STALE_PRICE_DAYS``; None: none.

    Returns:
        The ``Recommendation``; ``candidates`` holds the first ``constraints.top`` of the ranking,
        ``all_candidates`` all of it (not serialised; for the plot); ``groups``, ``excluded``, ``skipped``,
        ``best_per_tier`` and ``best_per_provider`` are complete.

    Raises:
        NoFeasibleCandidateError: nothing fits, or nothing meets the deadline/budget. ``.nearest`` holds the
            nearest misses, ``.recommendation`` the whole ranking with ``chosen=None``, ``status`` "infeasible"
            and the ``violations`` with the deadline or budget that would pass.
    """
    scored, dropped, skipped = score(priced, constraints, startup_seconds_cpu, startup_seconds_gpu)
    order = ranked(scored, constraints.objective)
    mark_pareto(scored)
    feasible = [s for s in order if s.meets]
    chosen = feasible[0] if feasible else None
    cands = [s.cand for s in order]
    kinds = _groups.group_keys(cands)  # once for the groups and the count of kinds that meet the constraints
    groups = _groups.group_candidates(cands, kinds)
    _reasons.give_reasons(order, chosen, constraints, len(feasible),
                          len({k for k, s in zip(kinds, order, strict=True) if s.meets}), dropped)
    advice = _what_if_advice(what_ifs or {}, chosen, constraints, startup_seconds_cpu, startup_seconds_gpu)
    advice += _balance.bound_advice(order, chosen)
    violations = _reasons.violations(order, constraints)
    best = _verdict.best_value(order, chosen, constraints)
    tiers = _verdict.cpu_vs_gpu(order, constraints.objective, epochs)
    all_notes, row_notes = _all_notes(order, groups, constraints, scored, notes)
    here_runs = _here.here_runs(here, constraints, process_start_seconds)
    verdict = _verdict.build_verdict(chosen, order, best, tiers, advice, violations, constraints, startup_seconds_cpu,
                                     startup_seconds_gpu, all_notes, today)
    verdict.here = _here.here_text(here_runs, chosen, constraints, host)
    rec = Recommendation(
        workload=workload, dataset_size=dataset_size, epochs=epochs, batch_size=batch_size,
        chosen=chosen.cand if chosen else None, candidates=[s.cand for s in order[: constraints.top]],
        best_per_tier=_groups.best_per_tier(cands), excluded=[c for c, _ in dropped], constraints=constraints,
        pricing_snapshot=dict(pricing_snapshot or {}), advice=advice, measured_devices=list(measured_devices),
        here=here_runs, notes=all_notes, row_notes=row_notes, all_candidates=cands, verdict=verdict,
        status=_verdict.status(chosen, constraints), best_value=best, groups=groups, skipped=skipped,
        safe_choice=getattr(_verdict.safe_choice(order, chosen, constraints), "cand", None),
        best_per_provider=_groups.best_per_provider(cands), violations=violations, grad_accum_steps=grad_accum_steps,
        startup_seconds_cpu=startup_seconds_cpu, startup_seconds_gpu=startup_seconds_gpu)
    if chosen is None:
        raise _reasons.no_feasible(rec, order, dropped, skipped, len(priced), constraints)
    return rec


def _what_if_advice(what_ifs: Mapping[str, Priced], chosen: Scored | None, constraints: Constraints,
                    startup_cpu: float, startup_gpu: float) -> list[str]:
    """A line for each what-if whose best beats the choice (``reasons.advice``). Where that best is at risk at
    the slow end of its estimate (a deadline or budget), the best that is safe there under the same flag is named
    instead where it beats the choice too; else the line carries the risk, as the Best value line does."""
    lines: list[str] = []
    for label in sorted(what_ifs):
        asked = what_if_precision(label, constraints.precision)
        # the same order as the main ranking, near-ties included
        alt = best_meeting(what_ifs[label], constraints, startup_cpu, startup_gpu)
        if alt is None:
            continue
        risks = [p for p in _reasons.constraint_texts(alt, constraints) if p.startswith("at risk")]
        safe = best_meeting(what_ifs[label], constraints, startup_cpu, startup_gpu, safe=True) if risks else None
        line = _reasons.advice(label, safe, chosen, constraints.objective, asked) if safe is not None else None
        if line:
            lines.append(f"{line}; safe even at its slow end (at most {_reasons.slow_end(safe, constraints)})")
            continue
        line = _reasons.advice(label, alt, chosen, constraints.objective, asked)
        if line:
            lines.append("; ".join([line, *risks]))
    return lines


def _all_notes(order: Sequence[Scored], groups: Sequence[CandidateGroup], constraints: Constraints,
               scored: list[Scored], notes: Sequence[str]) -> tuple[list[str], dict[str, list[str]]]:
    """The answer's notes (the default table's, then the caller's ``notes``) and each table's notes on its rows
    (``Recommendation.row_notes``)."""
    row_notes = {view: _row_notes(rows, constraints)
                 for view, rows in _view_rows(order, groups, constraints.top).items()}
    general = _notes(constraints, scored)
    # The default table's notes on its rows come second, where ``Recommendation.notes_for`` puts another table's.
    return [general[0], *row_notes["hardware"], *general[1:], *notes], row_notes


def _view_rows(order: Sequence[Scored], groups: Sequence[CandidateGroup], top: int) -> dict[str, list[Scored]]:
    """The rows each table lists, which its notes (suspect price, cheapest-zone spot price, billing) describe:
    ``hardware`` (the default) the best of each of the first ``top`` groups, ``provider`` (``--by provider``) the
    best of each of the first ``top`` providers, ``all`` (``--all``) every candidate. One set of notes for all three
    named, under ``--by provider`` or ``--all``, rows the table did not show and counts that did not match it."""
    scored_of = {id(s.cand): s for s in order}
    per_provider: dict[str, Scored] = {}
    for s in order:  # as ``groups.best_per_provider``: the first of each provider in the ranking
        per_provider.setdefault(s.cand.provider, s)
    return {"hardware": [scored_of[id(g.best)] for g in groups[:top]],
            "provider": list(per_provider.values())[:top], "all": list(order)}


def _notes(constraints: Constraints, scored: list[Scored]) -> list[str]:
    """The notes that hold whichever rows a table lists: what the times are, and what the spot prices are."""
    notes = ["times are totals: start-up + the job (what you wait for and pay for), billed by each provider's "
             "rule; 'job' is the training alone"]
    if not constraints.spot:
        notes += _spot_column_note(scored)
    else:
        with_spot = sum(1 for s in scored if s.cand.interruptible)
        notes.append(f"ranked on spot prices where offered (the table's 'spot (ranked)' column; {with_spot} of "
                     f"{len(scored)} candidates, interruptible); the others (spot '-') on their on-demand prices")
    return notes


def _row_notes(listed: list[Scored], constraints: Constraints) -> list[str]:
    """The notes on the rows one table lists (``listed``): their cheapest-zone spot prices, billing, suspect
    prices."""
    notes = []
    zone_min = [s for s in listed if s.cand.interruptible and s.offer.spot_zone_min] if constraints.spot else []
    if zone_min:
        where = ", ".join(dict.fromkeys(f"{s.cand.provider} {s.cand.region}" for s in zone_min))
        notes.append(f"the spot prices of {len(zone_min)} listed row{'s' if len(zone_min) != 1 else ''} "
                     f"({where}) are the lowest across the region's availability zones: in the zone an "
                     f"instance is given the spot price may be higher")
    notes += _verdict.billed_notes(listed)
    for s in listed:
        if s.offer.suspect_price:
            notes.append(f"{s.cand.provider} {s.cand.instance_type}: its price is flagged as suspect in the "
                         f"catalog (pricing/README.md)")
    return notes


SPOT_COLUMN_NOTE = "spot column:"  # how the note on the spot column begins (a table without the column drops it)


def _spot_column_note(scored: list[Scored]) -> list[str]:
    """Without ``--spot``, what the spot column is: an interruptible instance's cost, not ranked on, and for the
    providers whose catalog rows say so (``Candidate.spot_zone_min``) the cheapest availability zone's."""
    if not any(s.cand.spot_cost_usd is not None for s in scored):
        return []
    zone_min = list(dict.fromkeys(s.cand.provider for s in scored if s.cand.spot_zone_min))
    text = f"{SPOT_COLUMN_NOTE} interruptible (can be taken back at any time), not ranked on (--spot ranks on it)"
    if zone_min:
        text += (f"; {' and '.join(zone_min)} spot prices are the cheapest availability zone's (the zone you are "
                 f"given may charge more)")
    return [text]
