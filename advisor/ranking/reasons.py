"""The words of a ranking: each candidate's reason, the constraint texts, the what-if advice, and the
``NoFeasibleCandidateError`` with the violations that say what would pass.

Every time in these texts is the total (start-up + job), what the user waits for; every cost the billed cost
the ranking used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from advisor.errors import NoFeasibleCandidateError
from advisor.memory_words import checkpointing_way, samples_kept_batch, tight_advice
from advisor.ranking.balance import bound_clause, passed_over
from advisor.ranking.precision import fp16_clause
from advisor.ranking.scoring import TIME_TIE, Excluded, Scored, describe, tie_bands
from advisor.schemas import Candidate, Constraints, Recommendation, Skipped, Violation
from advisor.schemas.base import HALF_PRECISIONS, MAY_RUN_OUT_OF_MEMORY
from advisor.units import (
    durations_apart,
    format_duration,
    format_duration_exact,
    format_duration_flag,
    format_gib_pair,
    format_ratio,
    format_usd,
    format_usd_exact,
)

NEAREST_MISSES = 3
ADVICE_MIN_GAIN = 0.10  # an alternative is worth a line when it beats the choice by more than 10%


def speed_text(elapsed: float, ref: float, *, fine: bool = False) -> str:
    """"2.1x faster", "8% slower", "as fast" (within 2%). ``fine`` (the time objective): under 2% a decimal,
    "1.6% slower", and "as fast" only within 0.05%: the tie band is 2% of the fastest, so a machine 1.6% slower
    than the choice, ranked below it, must not read "as fast" (and with a lower cost, a better deal)."""
    r = ref / elapsed if elapsed > 0 else math.inf
    if r >= 1.1:
        return f"{r:.1f}x faster"
    if r >= 1.02:
        return f"{(r - 1) * 100:.0f}% faster"
    if r <= 1 / 1.1:
        return f"{1 / r:.1f}x slower"
    if r <= 1 / 1.02:
        return f"{(1 / r - 1) * 100:.0f}% slower"
    if not fine:
        return "as fast"
    if round((r - 1) * 100, 1) > 0:
        return f"{(r - 1) * 100:.1f}% faster"
    if round((1 / r - 1) * 100, 1) > 0:
        return f"{(1 / r - 1) * 100:.1f}% slower"
    return "as fast"


def cost_text(cost: float, ref: float, *, near_tie: bool = False) -> str:
    """"1.3x the cost", "0.42x the cost", "4% dearer", "about the same cost" (up to 2% dearer), and for one
    cheaper by under 2% the amount: "$0.00027 cheaper (within 2%)", or with ``near_tie`` (the cost objective, where
    that band is a near-tie the faster wins) "$0.00027 cheaper, a near-tie (within 2%)": a row cheaper than the
    choice must not read as if it were not (it is the runner-up the choice's Why names)."""
    r = cost / ref if ref > 0 else math.inf
    if 1 / 1.02 < r < 1 and ref - cost > ref * 1e-9:  # not float fuzz on one cost
        return f"{format_usd(ref - cost)} cheaper" + (", a near-tie (within 2%)" if near_tie else " (within 2%)")
    if 1 / 1.02 < r < 1.02:
        return "about the same cost"
    if 1 < r < 1.1:
        return f"{(r - 1) * 100:.0f}% dearer"
    if 0.9 < r < 1:
        return f"{(1 - r) * 100:.0f}% cheaper"
    return f"{format_ratio(r)} the cost"


def usd_apart(a: float, b: float, *, exact: bool = False) -> tuple[str, str]:
    """``a`` and ``b`` as ``format_usd`` writes them, or, where that prints two different amounts alike ("$0.0043"
    and "$0.0043", a $50 budget and its $49.996 to spare), with as many decimals as tell them apart. ``exact``:
    ``a`` is the user's budget, written at least as given ("$0.1753", not "$0.18", beside a cost of $0.19)."""
    fa, fb = format_usd(a), format_usd(b)
    if fa == fb and a != b:
        for decimals in range(2, 13):
            fa, fb = f"${a:,.{decimals}f}", f"${b:,.{decimals}f}"
            if fa != fb:
                break
    if exact and len(format_usd_exact(a)) > len(fa):  # rounded (to two significant digits, or to the dollar)
        fa = format_usd_exact(a)
    return fa, fb


def budget_that_passes(cost: float) -> tuple[float, str]:
    """The budget a cost passes, rounded up as ``format_usd`` writes the cost (cents from $1, two significant
    digits below: $0.004281 -> 0.0043, not 0.01, 2.3x the cost), and as a flag's value ("0.0043", "3.54")."""
    if cost >= 1 or cost <= 0:
        decimals = 2
    else:
        decimals = max(2, 1 - math.floor(math.log10(cost)))
    step = 10.0 ** -decimals
    would = round(math.ceil(round(cost / step, 6)) * step, decimals)
    if would > 0 and cost / would - 1 > 0:  # rounded down onto the cost's float fuzz: scoring's test would fail it
        would = round(would + step, decimals)
    return would, f"{would:.{decimals}f}"


def over_budget(cost: float, budget: float) -> str:
    """"over the $0.1753 budget by $0.000033", the budget as the user gave it; where the cost as the table writes
    it ("$0.17", "$0.18") would not read above that budget ("$0.1747", "$0.18"), with the cost first, written apart
    from it: "costs $0.1748, over the $0.1747 budget by $0.000056", never "$0.18 (over the $0.18 budget ...)"."""
    given, by = format_usd_exact(budget), format_usd(cost - budget)
    if float(format_usd(cost).lstrip("$").replace(",", "")) > float(given.lstrip("$").replace(",", "")):
        return f"over the {given} budget by {by}"
    budget_text, cost_text = usd_apart(budget, cost, exact=True)
    return f"costs {cost_text}, over the {budget_text} budget by {by}"


def constraint_texts(s: Scored, constraints: Constraints) -> list[str]:
    parts = []
    d, b = constraints.deadline_seconds, constraints.budget_usd
    if d:
        if s.deadline_miss > 0:
            deadline, takes = durations_apart(d, s.elapsed, exact=True)  # never "takes 1h06m: misses 1h06m"
            parts.append(f"takes {takes} with start-up: misses the {deadline} deadline by "
                         f"{format_duration(s.deadline_miss)}")
        elif s.elapsed_high > d:
            parts.append(f"at risk: at the slow end of its estimate it misses the {format_duration_exact(d)} deadline "
                         f"by {format_duration(s.elapsed_high - d)}")
    if b:
        if s.budget_miss > 0:
            parts.append(over_budget(s.cost, b))
        elif s.cost_high > b:
            budget, high = usd_apart(b, s.cost_high, exact=True)
            parts.append(f"at risk: at the slow end of its estimate it costs {high}, over the {budget} budget")
    memory = memory_risk(s.cand, s.est.notes if s.est is not None else ())
    return parts + ([memory] if memory else [])


def slow_end(s: Scored, constraints: Constraints) -> str:
    """"56m20s" (the slow end of ``s``'s estimate), with its cost where there is a budget: "56m20s, $3.80"."""
    return format_duration(s.elapsed_high) + (f", {format_usd(s.cost_high)}" if constraints.budget_usd else "")


def memory_risk(c: Candidate, notes: Sequence[str] = ()) -> str | None:
    """"at risk: its memory is tight (175.1 of 180.0 GiB per GPU), so a real step may run out of memory" where the
    estimate's fit leaves only its margin (``Candidate.memory_tight``), with the advice of the estimate's tight
    note among ``notes`` (``tight_advice``: the smaller batch that leaves a tenth free, and for a sharded fit the
    flags that keep the samples per update); None otherwise. A job that stops at its first step misses any
    deadline, so a tight fit is a risk as a slow end past the deadline is (``verdict``)."""
    if not c.memory_tight:
        return None
    figures = ""
    if c.peak_memory_gib is not None and c.memory_capacity_gib is not None:
        need, has = format_gib_pair(c.peak_memory_gib, c.memory_capacity_gib, min_digits=1)
        figures = f" ({need} of {has} GiB{' per GPU' if c.gpu else ''})"
    # ", and": the reason's parts are joined by "; ", and the warnings are read back from it split there.
    advice = tight_advice(notes)
    return (f"at risk: its memory is tight{figures}, so a real step {MAY_RUN_OUT_OF_MEMORY}"
            + (f", and {advice}" if advice else ""))


def lost_to_limit(s: Scored, ranked: Sequence[Scored], constraints: Constraints) -> str:
    """The machine that wins ``s``'s near-tie band (``scoring.tie_bands``) but for one limit, as a clause: with the
    cost objective the faster one over the budget, with the time objective the cheaper one past the deadline; ""
    where none. Without it, a budget that gave the tie to the slower machine read as if that had won it alone."""
    bands = tie_bands(ranked, constraints.objective)
    cost_first = constraints.objective == "cost"

    def lost(r: Scored) -> bool:
        if r.meets or bands[id(r)] != bands[id(s)]:
            return False
        if cost_first:
            return r.budget_miss > 0 and r.deadline_miss <= 0 and r.elapsed < s.elapsed
        return r.deadline_miss > 0 and r.budget_miss <= 0 and r.cost < s.cost

    rivals = [r for r in ranked if lost(r)]
    if not rivals:
        return ""
    if cost_first and constraints.budget_usd:
        r = min(rivals, key=lambda r: (r.elapsed, r.cost, *r.names))
        budget, costs = usd_apart(constraints.budget_usd, r.cost, exact=True)
        return (f"{r.label}, {format_duration(s.elapsed - r.elapsed)} faster for {costs}, would win this near-tie "
                f"(within 2%) but is over the {budget} budget")
    r = min(rivals, key=lambda r: (r.cost, r.elapsed, *r.names))
    deadline, takes = durations_apart(constraints.deadline_seconds or 0.0, r.elapsed, exact=True)
    return (f"{r.label}, {format_usd(s.cost - r.cost)} cheaper at {takes}, would win this near-tie (within 2%) but "
            f"misses the {deadline} deadline")


def chosen_reason(s: Scored, constraints: Constraints, n_feasible: int, n_groups: int, best: Scored,
                  lost: str = "") -> str:
    """Why ``s`` was chosen; ``best``: the fastest (time) or cheapest (cost) that meets the constraints, named as
    the near-tie the choice won where it is not ``s`` (``scoring.tie_bands``); ``lost``: the near-tie's winner
    that a limit ruled out (``lost_to_limit``), after the limits met."""
    what = "cheapest" if constraints.objective == "cost" else "fastest"
    limited = constraints.deadline_seconds or constraints.budget_usd
    kinds = f" ({n_groups} kinds of machine)" if n_groups > 1 else ""
    parts = [(f"the {what} of {n_feasible} candidates{kinds}" if n_feasible > 1 else "the only candidate")
             + (" meeting the constraints" if limited else "")]
    if best is not s and constraints.objective == "time":
        parts[0] += (f"; {best.label} is {format_duration(s.elapsed - best.elapsed)} faster, a near-tie "
                     f"(within 2%), for {format_usd(best.cost)}")
    elif best is not s:
        parts[0] += (f"; {best.label} is {format_usd(s.cost - best.cost)} cheaper, a near-tie (within 2%), but "
                     f"{format_duration(best.elapsed - s.elapsed)} slower")
    d, b = constraints.deadline_seconds, constraints.budget_usd
    if d and s.elapsed <= d:
        deadline, spare = durations_apart(d, d - s.elapsed, exact=True)
        parts.append(f"meets the {deadline} deadline with {spare} to spare")
    if b and s.cost <= b:
        budget, spare = usd_apart(b, b - s.cost, exact=True)
        parts.append(f"within the {budget} budget (" + (f"{spare} to spare)" if b - s.cost > b * 1e-6 else
                                                         "nothing to spare: it costs the whole budget)"))
    parts += [lost] if lost else []
    parts += [p for p in constraint_texts(s, constraints) if p.startswith("at risk")]
    if s.cand.sharded:  # the answer holds only for a script that shards: said where the choice is read
        parts.append("priced sharded (FSDP FULL_SHARD / ZeRO-3): a full copy of the model per GPU (DDP) does not fit "
                     "its memory, so the training script must shard it")
    if s.cand.interruptible:
        parts.append("spot price: interruptible, so checkpoint")
    return "; ".join(parts)


def sharded_clause(c: Candidate, chosen: Candidate | None = None) -> str:
    """"priced sharded ..." for a candidate priced sharded where the choice is not (the choice's "Why" says it for
    itself): a user who takes that row, what-if or alternative instead runs out of memory with plain DDP; else ""."""
    if not c.sharded or (chosen is not None and chosen.sharded):
        return ""
    return "priced sharded (FSDP/ZeRO-3): the script must shard, plain DDP runs out of memory"


def gpus_dropped(chosen: Scored, ranked: list[Scored], excluded: Excluded) -> str:
    """Where a CPU is chosen because every GPU offer was dropped for memory: that, with the nearest GPU miss (its
    reason has the DDP assumption and what sharding would need), so that a CPU is never "the only candidate" for
    a model too big for the GPUs without a word; else ""."""
    if chosen.cand.gpu or any(s.cand.gpu for s in ranked):
        return ""
    miss = next((c for c, _ in excluded if c.gpu), None)  # excluded is nearest GPU miss first
    if miss is None:
        return ""
    return (f"; every GPU offer was dropped because the model does not fit in GPU memory under DDP (nearest: "
            f"{describe(miss)}, {miss.reason})")


def relative_reason(s: Scored, ref: Scored, constraints: Constraints) -> str:
    # Relative to the choice, whole runs (start-up + job) against whole runs: "1.1x faster, 1.5x the cost".
    fine = constraints.objective == "time"
    parts = [f"{speed_text(s.elapsed, ref.elapsed, fine=fine)}, "
             f"{cost_text(s.cost, ref.cost, near_tie=constraints.objective == 'cost')}"]
    parts += constraint_texts(s, constraints)
    if s.cand.interruptible:
        parts.append("spot")
    sharded = sharded_clause(s.cand, ref.cand)  # "" where the choice is sharded too: no empty part, no "; " end
    parts += [sharded] if sharded else []
    return "; ".join(parts)


def miss_reason(s: Scored, constraints: Constraints) -> str:
    return "; ".join(constraint_texts(s, constraints)) or "does not meet the constraints"


def give_reasons(ranked: list[Scored], chosen: Scored | None, constraints: Constraints, n_feasible: int,
                 n_groups: int, excluded: Excluded = ()) -> None:
    # The near-tie the choice names is with the fastest (time) or cheapest (cost) machine that meets the
    # constraints: the fastest of all may break the budget (and be far more than 2% faster), the cheapest of all
    # the deadline.
    feasible = [s for s in ranked if s.meets]
    figure = (lambda s: s.elapsed) if constraints.objective == "time" else (lambda s: s.cost)
    best = min(feasible or ranked, key=figure) if ranked else None
    for s in ranked:
        if s is chosen:
            s.cand.reason = chosen_reason(s, constraints, n_feasible, n_groups, best,
                                          lost_to_limit(s, ranked, constraints))
            s.cand.reason += gpus_dropped(s, ranked, excluded)
        elif chosen is not None:
            s.cand.reason = relative_reason(s, chosen, constraints)
        else:
            s.cand.reason = miss_reason(s, constraints)
        clause = bound_clause(s.cand, s.est)
        if clause:  # what the time above already includes: the host, not the GPU, sets the pace
            s.cand.reason += "; " + clause
        fp16 = fp16_clause(s.cand, constraints.precision)
        if fp16:  # a bf16 script does not get this time there
            s.cand.reason += "; " + fp16
        if s is chosen and (cheaper := passed_over(s, ranked)):  # the better-balanced instance was chosen
            s.cand.reason += "; " + cheaper


def advice(label: str, alt: Scored, chosen: Scored | None, objective: str, asked: str | None = None) -> str | None:
    """One what-if line: "with --precision bf16: 1 x T4 (gcp ...), 1h20m total, $0.97 instead of ...". ``asked``:
    the precision the what-if prices; where ``alt`` ran it as fp16 (a GPU without bfloat16), the line says so."""
    figures = f"{alt.label}, {format_duration(alt.elapsed)} total, {format_usd(alt.cost)}"
    fp16 = fp16_clause(alt.cand, asked)
    sharded = sharded_clause(alt.cand, chosen.cand if chosen is not None else None)
    tail = "".join(f"; {clause}" for clause in (fp16, sharded) if clause)
    if chosen is None:
        return f"with {label}: {figures} meets the constraints{tail}"
    metric = (lambda s: s.cost) if objective == "cost" else (lambda s: s.elapsed)
    if metric(alt) >= (1 - ADVICE_MIN_GAIN) * metric(chosen):
        return None
    return f"with {label}: {figures} instead of {format_duration(chosen.elapsed)}, {format_usd(chosen.cost)}{tail}"


# ------------------------------------------------------------------------------------------ violations


def violations(ranked: list[Scored], constraints: Constraints) -> list[Violation]:
    """For each constraint that blocks: the best any candidate reaches and the value that would pass. A
    constraint blocks when every candidate within the other one misses it (or, when none is within the other,
    when every candidate misses it). When every candidate misses both, neither value passes alone: both come
    from the nearest miss, and each is marked ``alone=False`` (the two flags pass together)."""
    out: list[Violation] = []
    d, b = constraints.deadline_seconds, constraints.budget_usd
    if not ranked or any(s.meets for s in ranked):
        return out
    in_budget = [s for s in ranked if not b or s.cost <= b]
    in_time = [s for s in ranked if not d or s.elapsed <= d]
    joint = ranked[0] if d and b and not in_budget and not in_time else None
    if d and all(s.elapsed > d for s in in_budget or ranked):
        quickest = min(in_budget or ranked, key=lambda s: s.elapsed)
        # a near-tie (within 2%, as --objective time counts one) goes to the cheaper: not a 39% dearer machine
        # named "the fastest" for 0.14 s
        fastest = min((s for s in in_budget or ranked if s.elapsed <= quickest.elapsed * (1 + TIME_TIE)),
                      key=lambda s: (s.cost, s.elapsed))
        would = math.ceil((joint or fastest).elapsed / 60) * 60
        within = " within the budget" if b and in_budget else ""
        deadline, nearest = durations_apart(d, fastest.elapsed, exact=True)
        message = f"no candidate{within} finishes within {deadline} with start-up; "
        if fastest is quickest:
            message += f"the fastest{within} is {fastest.label} at {nearest}"
        else:  # not "the fastest", with a faster one named in the same breath
            message += (f"the nearest{within} is {fastest.label} at {nearest}, the cheaper of a near-tie within 2%: "
                        f"{quickest.label} is {format_duration(fastest.elapsed - quickest.elapsed)} sooner, for "
                        f"{format_usd(quickest.cost)} against {format_usd(fastest.cost)}")
        if joint:
            message += (f"; none is within the budget either: the nearest miss, {joint.label}, needs "
                        f"{format_duration_flag(would)} and {format_usd(budget_that_passes(joint.cost)[0])} "
                        f"together")
        out.append(Violation(constraint="deadline", limit=d, nearest=quickest.elapsed, would_pass=would,
                             flag=f"--deadline {format_duration_flag(would)}", alone=joint is None, message=message))
    if b and all(s.cost > b for s in in_time or ranked):
        cheapest = min(in_time or ranked, key=lambda s: s.cost)
        would, flag = budget_that_passes((joint or cheapest).cost)
        within = " within the deadline" if d and in_time else ""
        budget, nearest = usd_apart(b, cheapest.cost, exact=True)
        out.append(Violation(
            constraint="budget", limit=b, nearest=cheapest.cost, would_pass=would, flag=f"--budget {flag}",
            alone=joint is None, message=f"no candidate{within} costs {budget} or less; the cheapest{within} "
                                         f"is {cheapest.label} at {nearest}"))
    return out


def fix_flags(found: list[Violation]) -> str | None:
    """The flags that would pass, as one phrase: "--deadline 55m or --budget 3.54" when either passes alone,
    "--deadline 3m00s and --budget 0.01 together" when only both do; None without any."""
    flags = [v.flag for v in found if v.flag]
    if not flags:
        return None
    if all(v.alone for v in found if v.flag):
        return " or ".join(flags)
    return " and ".join(flags) + " together"


def _fit_hint(batch_size: int, grad_accum_steps: int, excluded: Excluded, constraints: Constraints) -> str:
    """The fix for a job that fits no candidate's memory. Where even one sample per GPU fits no GPU offer (the
    weights, gradients and optimizer state every GPU holds under DDP), no batch size helps: sharding over more GPUs
    than any offer has (FSDP/ZeRO-3; an offer whose GPUs hold the sharded step is priced sharded, not excluded) or a
    smaller optimizer state does. Otherwise the largest batch that fits an offer, with the
    accumulation that keeps the samples per optimizer update (batch x accumulation, so the same training)."""
    gpus = [(c, e) for c, e in excluded if c.gpu and e.max_batch_size_per_device is not None]
    half = (constraints.precision or next((c.precision for c, _ in excluded if c.gpu), None)) in HALF_PRECISIONS
    mixed = [] if half or not any(c.gpu for c, _ in excluded) else ["mixed precision (--precision bf16)"]
    if gpus and all(e.max_batch_size_per_device == 0 for _, e in gpus):
        return _no_batch_fits(gpus, mixed)
    samples = batch_size * grad_accum_steps
    # the largest global batch that fits an offer first; among equals the nearest miss (excluded's order)
    fitting = [((e.max_batch_size_per_device or 0) * c.gpu_count, c.gpu_count, c) for c, e in gpus]
    ranked = sorted(fitting, key=lambda f: (-f[0], -f[1]))
    for fits_batch, count, c in ranked:
        # as a tight fit's advice picks them (``samples_kept_batch``): the same whole batch on every GPU, at least
        # half the largest that fits ("--batch-size 1 --grad-accum-steps 4099" for a prime 4,099 was steps of one)
        if per_gpu := samples_kept_batch(min(fits_batch, batch_size - 1) // count, count, samples):
            parts = [f"--batch-size {per_gpu * count} --grad-accum-steps {samples // (per_gpu * count)}, the same "
                     f"{samples:,} samples per optimizer update ({fits_batch:,} is the largest batch that fits, on "
                     f"{describe(c)})", *mixed]
            return "Fix: " + " or ".join(parts) + "."
    if ranked and ranked[0][0] > 0:  # no such flags: the batch alone, which changes the samples per update
        fits_batch, _, c = ranked[0]
        parts = [f"--batch-size {fits_batch}, the largest batch that fits (on {describe(c)}): no batch down to half "
                 f"of it keeps the {samples:,} samples per optimizer update, so an update takes "
                 f"{fits_batch * grad_accum_steps:,} and the learning rate may need retuning", *mixed]
        return "Fix: " + " or ".join(parts) + "."
    # No GPU figure to size it by: the smallest factor of the batch, the batch over it, times it in accumulation.
    factor = next((f for f in range(2, math.isqrt(batch_size) + 1) if batch_size % f == 0), batch_size)
    parts = []
    if batch_size > 1:
        parts.append(f"a smaller --batch-size with more --grad-accum-steps to keep the {samples:,} samples per "
                     f"optimizer update (--batch-size {batch_size // factor} --grad-accum-steps "
                     f"{grad_accum_steps * factor})")
    parts += ["a GPU with more memory (--providers)", *mixed]
    return "Fix: " + ", ".join(parts[:-1]) + (", or " if len(parts) > 2 else " or ") + parts[-1] + "."


def _no_batch_fits(gpus: Excluded, mixed: list[str]) -> str:
    """The fix where not one sample per GPU fits any GPU offer: the need that no batch size reduces, against the
    largest GPU, and the ways out advisor does not price (sharding over more GPUs than an offer has, a smaller
    optimizer state; where the frozen weights alone exceed that GPU, as a LoRA of a 70B fp32 base does, 16-bit or
    quantised frozen weights instead, as fewer trainable weights or less optimizer state would not help)."""
    roomiest, est = max(gpus, key=lambda p: (p[1].memory_capacity_gib or 0.0, -(p[1].memory_static_gib or 0.0)))
    has = est.memory_capacity_gib or roomiest.gpu_memory_gib or 0.0
    statics = [e.memory_static_gib for _, e in gpus if e.memory_static_gib is not None]
    need = min(statics) if statics else None
    need_text, has_text = format_gib_pair(need if need is not None else 0.0, has)
    if need is not None and need > has:
        mixed = []  # autocast adds 16-bit weight copies; it shrinks activations, and there is no room for any
        what = (f"the weights, gradients and optimizer state that data parallelism (DDP) keeps whole on every GPU "
                f"need {need_text} GiB per GPU before any activation")
    else:
        what = "not even one sample per GPU fits under data parallelism (DDP), which keeps the whole model on each"
    text = (f"Fix: no --batch-size fits: {what}, and the most any GPU offer has is {has_text} GiB "
            f"({roomiest.hardware_label}). Shard them instead (FSDP or ZeRO-3)")
    # where one sample's activations are most of the need, checkpointing them is the lever: fewer GPUs, or any
    checkpointing = checkpointing_way(est.memory_activation_gib_per_sample, est.activations_checkpointed, has,
                                      roomiest.gpu)
    if est.sharded_min_gpus:
        text += (f", over at least {est.sharded_min_gpus:,} x {roomiest.gpu}: no offer has that many (advisor prices "
                 "an offer sharded where its GPUs hold the sharded step)")
        text += f", or over fewer with {checkpointing}" if checkpointing else ""
    elif checkpointing:
        text += f" with {checkpointing}"
    frozen = est.memory_frozen_weights_gib
    if frozen is not None and frozen > has:
        return text + (f"; or, as the frozen weights alone need {format_gib_pair(frozen, has)[0]} GiB, 16-bit or "
                       "quantised frozen weights (loaded in bf16, or in 8 or 4 bits as QLoRA does).")
    ways = ["a smaller optimizer state (8-bit Adam, Adafactor)", "fewer trainable weights (LoRA/adapters)", *mixed]
    return text + "; or " + ", ".join(ways[:-1]) + " or " + ways[-1] + "."


def near_ties_cheaper_first(misses: list[Scored]) -> list[Scored]:
    """The misses, nearest first, where those within 2% of each nearest one (``TIME_TIE``, on 1 + the relative
    miss) are a tie, cheapest first: a machine that misses by 0.14 s less is not the nearer miss at 39% more."""
    out: list[Scored] = []
    rest = list(misses)
    while rest:
        limit = (1 + rest[0].miss) * (1 + TIME_TIE)
        band = [s for s in rest if 1 + s.miss <= limit]
        out += sorted(band, key=lambda s: (s.cost, s.miss))
        rest = [s for s in rest if 1 + s.miss > limit]
    return out


def _explained(rec: Recommendation, why: str, hint: str, headline: str | None = None) -> str:
    """``hint``, after writing ``why`` and it into ``rec``: the JSON answer (exit 3) is the document, so the reason
    and its fix are in it, not on stderr alone."""
    rec.advice = [hint.removeprefix("Fix: ")]
    if rec.verdict is not None:
        rec.verdict.why, rec.verdict.could_be_better = why, list(rec.advice)
        if headline is not None:  # "Nothing meets the constraints" would blame constraints that were not the cause
            rec.verdict.recommendation = headline
    return hint


def no_feasible(rec: Recommendation, ranked: list[Scored], excluded: Excluded, skipped: list[Skipped],
                n_offers: int, constraints: Constraints) -> NoFeasibleCandidateError:
    ranked = near_ties_cheaper_first(ranked)
    nearest = [s.cand for s in ranked[:NEAREST_MISSES]]
    if not n_offers:
        return NoFeasibleCandidateError(
            "No offers to rank: the provider/region filters leave none.",
            hint=_explained(rec, "the provider/region filters leave no offer to rank",
                            "Fix: drop or widen --providers/--region (see `advisor pricing list`).",
                            "No offer to rank."), recommendation=rec)
    if not ranked and excluded:
        nearest_miss = excluded[0][0]  # the nearest GPU miss (scoring.memory_miss_order), not the smallest CPU box
        why = (f"the job does not fit in memory on any of the {len(excluded)} candidates "
               f"(e.g. {describe(nearest_miss)}: {nearest_miss.reason})")
        hint = _explained(rec, why, _fit_hint(rec.batch_size, rec.grad_accum_steps, excluded, constraints))
        return NoFeasibleCandidateError(why[0].upper() + why[1:] + ".", hint=hint, nearest=[], recommendation=rec)
    if not ranked:
        first = skipped[0] if skipped else None
        example = f" (e.g. {first.target}: {first.reason})" if first else ""
        why = f"no prediction for any of the {sum(s.count for s in skipped)} offers{example}"
        hint = _explained(rec, why, first.fix if first and first.fix else (
            "Fix: profile the workload with its analysis (advisor profile), or pick providers whose GPUs have a "
            "spec in profiles/gpus.csv."), "No offer could be priced from this profile.")
        return NoFeasibleCandidateError(why[0].upper() + why[1:] + ".", hint=hint, recommendation=rec)
    limits = []
    if constraints.deadline_seconds:
        limits.append(f"the {format_duration_exact(constraints.deadline_seconds)} deadline")
    if constraints.budget_usd:
        limits.append(f"the {format_usd_exact(constraints.budget_usd)} budget")
    lines = [f"  {describe(s.cand)}: {format_duration(s.elapsed)} with start-up, {format_usd(s.cost)} "
             f"({miss_reason(s, constraints)})" for s in ranked[:NEAREST_MISSES]]
    fixes = fix_flags(rec.violations)
    hint = "Fix: relax the constraints"
    if fixes:
        hint += f" ({fixes} would do)"
    if rec.advice:
        hint += "; or: " + "; ".join(rec.advice)
    return NoFeasibleCandidateError(
        f"No candidate meets {' and '.join(limits)}. Nearest misses:\n" + "\n".join(lines),
        hint=hint + ".", nearest=nearest, recommendation=rec)
