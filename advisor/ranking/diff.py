"""Two recommendations compared (``advisor diff OLD.json NEW.json``, as Infracost's ``diff`` for costs): the
chosen candidate and the best of each tier, with the change in total time (start-up + job) and in cost, and the
job on each device of the probed machine (the "Here" line), with the change in its time.

Pure: it takes two ``Recommendation`` objects (read from ``recommend --json`` files by the CLI).
"""

from __future__ import annotations

from advisor.ranking.here import here_total_seconds
from advisor.schemas import Candidate, DiffRow, HereDiffRow, Recommendation, RecommendationDiff
from advisor.units import (
    format_duration,
    format_duration_delta,
    format_duration_exact,
    format_usd_delta,
    format_usd_exact,
)

_TIER_LABEL = {"cpu": "best CPU", "single_gpu": "best 1 GPU", "multi_gpu": "best multi-GPU"}


def _same(a: Candidate | None, b: Candidate | None) -> bool:
    return a is not None and b is not None and (a.provider, a.instance_type, a.region) == (
        b.provider, b.instance_type, b.region)


def _caveats(c: Candidate | None, rec: Recommendation, chosen: bool = False) -> list[str]:
    """The short caveats of a candidate in ``rec``: a best-of-tier row need not meet the constraints, and one
    that meets them on its estimate may still miss them at the slow end of its interval (an "at_risk" choice)."""
    if c is None:
        return []
    deadline, budget = rec.constraints.deadline_seconds, rec.constraints.budget_usd
    out = [text for text, missed in (("misses the deadline", bool(deadline) and c.total_seconds > deadline),
                                     ("over the budget", bool(budget) and c.ranked_cost_usd > budget)) if missed]
    if not out and not c.meets_constraints:
        out.append("misses the constraints")
    if not out:
        if deadline and c.total_high > deadline:
            out.append("may miss the deadline at the slow end")
        if c.memory_tight:
            out.append("tight memory fit")
        # The rest of what makes a choice at risk (ranking.verdict.status): its cost at the slow end, which the
        # document does not carry, over the budget.
        if chosen and not out and rec.status == "at_risk" and budget:
            out.append("may go over the budget at the slow end")
    if c.interruptible:
        out.append("spot")
    return out


def _row(label: str, old: Candidate | None, new: Candidate | None, recs: tuple[Recommendation, Recommendation]
         ) -> DiffRow:
    chosen = label == "chosen"
    row = DiffRow(label=label, old=old, new=new, changed=not _same(old, new),
                  old_caveats=_caveats(old, recs[0], chosen), new_caveats=_caveats(new, recs[1], chosen))
    if old is not None and new is not None:
        row.total_seconds_delta = new.total_seconds - old.total_seconds
        # Both: a script reads cost_usd_delta against the sides' cost_usd, and the ranking's costs under --spot differ
        row.cost_usd_delta = new.cost_usd - old.cost_usd
        row.ranked_cost_usd_delta = new.ranked_cost_usd - old.ranked_cost_usd
        if old.cost_usd > 0:
            row.cost_pct_delta = row.cost_usd_delta / old.cost_usd * 100
        if old.ranked_cost_usd > 0:
            row.ranked_cost_pct_delta = row.ranked_cost_usd_delta / old.ranked_cost_usd * 100
    return row


def _here_rows(old: Recommendation, new: Recommendation) -> list[HereDiffRow]:
    before = {r.device: r for r in old.here}
    after = {r.device: r for r in new.here}
    rows = []
    for device in [*before, *(d for d in after if d not in before)]:
        a, b = here_total_seconds(before.get(device)), here_total_seconds(after.get(device))
        rows.append(HereDiffRow(device=device, old=before.get(device), new=after.get(device),
                                total_seconds_delta=None if a is None or b is None else b - a))
    return rows


def _constraint_changes(old: Recommendation, new: Recommendation) -> list[str]:
    """"deadline 1h00m -> 2h00m" for each constraint that changed; ``top`` only sets how many rows are shown."""
    def shown(name: str, value: object) -> str:
        if value is None:
            return "none"
        if name == "deadline_seconds":
            return format_duration_exact(value)
        if name == "budget_usd":
            return format_usd_exact(value)
        if isinstance(value, list):
            return ",".join(map(str, value))
        return str(value)

    before, after = old.constraints.model_dump(exclude={"top"}), new.constraints.model_dump(exclude={"top"})
    out = [f"{name.removesuffix('_seconds').removesuffix('_usd')} {shown(name, before[name])} -> "
           f"{shown(name, after[name])}" for name in before if before[name] != after.get(name) and name != "precision"]
    if before.get("precision") != after.get("precision"):
        out.append(f"precision {_precision_run(old)} -> {_precision_run(new)}")
    return out


def _precision_run(rec: Recommendation) -> str:
    """``--precision`` as the job ran: the flag's value, or where it was not given (the workload's PRECISION, else
    fp32), the one precision every candidate was priced at, as the document records it ("fp32 (not set)")."""
    if rec.constraints.precision is not None:
        return rec.constraints.precision
    priced = {c.precision for c in (rec.chosen, *rec.candidates) if c is not None}
    return f"{priced.pop()} (not set)" if len(priced) == 1 and None not in priced else "none"


# How a job steps, each as its flag names it.
_STEPPING = (("compiled", "compile"), ("grad_accum_steps", "grad-accum-steps"), ("eval_every", "eval-every"),
             ("eval_steps", "eval-steps"))


def _job_notes(old: Recommendation, new: Recommendation) -> list[str]:
    notes = []
    if old.workload.name != new.workload.name:
        notes.append(f"different workloads: {old.workload.name!r} then {new.workload.name!r}")
    job_old = (old.dataset_size, old.epochs, old.batch_size)
    job_new = (new.dataset_size, new.epochs, new.batch_size)
    if job_old != job_new:
        notes.append(f"the job changed (samples, epochs, batch): {job_old} -> {job_new}")
    stepping = [f"{flag} {getattr(old, name)} -> {getattr(new, name)}" for name, flag in _STEPPING
                if getattr(old, name) != getattr(new, name)]
    if stepping:
        notes.append(f"how the job steps changed: {'; '.join(stepping)}")
    changed = _constraint_changes(old, new)
    if changed:
        notes.append(f"the constraints changed: {'; '.join(changed)}")
    for what, tier in (("startup_seconds_cpu", "CPU"), ("startup_seconds_gpu", "GPU")):
        before, after = getattr(old, what), getattr(new, what)
        if before != after:
            notes.append(f"the start-up assumed on {tier} instances changed: {format_duration(before)} -> "
                         f"{format_duration(after)}")
    return notes


def diff(old: Recommendation, new: Recommendation) -> RecommendationDiff:
    """The chosen and the best per tier, old -> new, and a one-line summary."""
    rows = [_row("chosen", old.chosen, new.chosen, (old, new))]
    for tier, label in _TIER_LABEL.items():
        if tier in old.best_per_tier or tier in new.best_per_tier:
            rows.append(_row(label, old.best_per_tier.get(tier), new.best_per_tier.get(tier), (old, new)))
    chosen = rows[0]
    moved = (f"{format_duration_delta(chosen.total_seconds_delta)}, "
             f"{format_usd_delta(chosen.ranked_cost_usd_delta)}")  # the costs the sides show
    if old.chosen is None or new.chosen is None:
        summary = f"status {old.status} -> {new.status}"
    elif chosen.changed:
        summary = (f"the choice moved from {old.chosen.provider} {old.chosen.instance_type} to "
                   f"{new.chosen.provider} {new.chosen.instance_type}: {moved}")
    else:
        summary = f"the choice stays {new.chosen.provider} {new.chosen.instance_type}: {moved}"
    if old.chosen is not None and new.chosen is not None and old.status != new.status:
        summary += f"; status {old.status} -> {new.status}"  # "stays ..., +0.0s" would read as nothing changed
    return RecommendationDiff(old_id=old.id, new_id=new.id, workload=new.workload.name, old_status=old.status,
                              new_status=new.status, rows=rows, here=_here_rows(old, new), summary=summary,
                              notes=_job_notes(old, new))
