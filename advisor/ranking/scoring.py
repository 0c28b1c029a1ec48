"""Pricing each (offer, estimate) pair into a candidate, checking it against the constraints, and ordering.

Pure: no I/O. ``Scored`` carries what the ranking compares: the total time (start-up + job) and the cost it
ranks on (spot where ranked on spot, else on-demand).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from advisor.errors import AdvisorError
from advisor.memory_words import ddp_memory_text
from advisor.pricing.billing import billed_cost_usd, billed_seconds, cost_usd
from advisor.schemas import Candidate, Constraints, Estimate, Offer, Skipped, updated
from advisor.schemas.base import MAY_RUN_OUT_OF_MEMORY, USABLE_MEMORY_FRACTION, within_capacity
from advisor.units import format_gib_pair, format_oom_cap

# (offer, its estimate, or the error that says why its target cannot be predicted; None: no reason known),
# from predictor.targets.estimate_offers
Priced = Sequence[tuple[Offer, "Estimate | AdvisorError | None"]]


class Bounded(Protocol):
    """A what-if's (offer, estimate) pairs, each estimate made only when it is asked for: what a caller that has
    priced jobs of the same shape before (a server) knows of each offer's time beforehand.

    ``offers``: the offers; ``low_seconds[i]``: a lower bound on the seconds of ``offers[i]``'s estimate (None:
    none known); ``resolve(i)``: that estimate (or the error that says why there is none, or None)."""

    offers: Sequence[Offer]
    low_seconds: Sequence[float | None]

    def resolve(self, i: int) -> Estimate | AdvisorError | None: ...


# With --objective time, candidates within 2% of the fastest total time are a tie, and the cheaper one wins:
# a 2% difference is well inside any estimate's interval, a 30x price difference is not.
TIME_TIE = 0.02
# With --objective cost, candidates within 2% of the cheapest cost are a tie, and the faster one wins: the same
# band as the time objective's, so a near-tie means the same under either objective. It does not absorb every
# run-to-run spread of a probe (3-9% measured on a loaded machine): no band can, as a gap near its edge still
# flips; it settles the pairs that cost the same to within any estimate's precision (a CPU at 12m24s and a GPU at
# 5m17s, 1.6% apart in cost, went to whichever the last probe made cheaper) while costing the user at most 2%.
COST_TIE = 0.02
MARKETPLACE_NOTE = "marketplace"  # how the catalog's notes start for a marketplace listing (pricing/README.md)


@dataclass
class Scored:
    cand: Candidate
    offer: Offer
    elapsed: float  # start-up + job (point estimate): what the user waits for
    elapsed_high: float
    cost: float  # what the ranking uses: spot where ranked on spot, else on-demand
    cost_high: float
    miss: float = 0.0  # how far it misses the constraints, relative (0 = meets them)
    deadline_miss: float = 0.0  # seconds
    budget_miss: float = 0.0  # dollars
    notes: list[str] = field(default_factory=list)
    est: Estimate | None = None  # what the candidate was priced from: its step's parts (``balance``)

    @property
    def label(self) -> str:
        return describe(self.cand)

    @property
    def meets(self) -> bool:
        return self.miss <= 0

    @property
    def names(self) -> tuple[str, str, str]:
        return self.cand.provider, self.cand.instance_type, self.cand.region


def describe(c: Candidate) -> str:
    """"1 x A100-80GB (lambda gpu_1x_a100)" or "16 vCPU (aws c7i.4xlarge)"."""
    return f"{c.hardware_label} ({c.provider} {c.instance_type})"


def memory_needs(peak: float | None, capacity: float | None, what: str) -> str:
    """"needs 94 GiB per GPU, has 80" (with decimals where whole GiB would read as equal: "24.01, has 24.00")."""
    if peak is None or capacity is None:
        return f"does not fit in {what} memory" if what else "does not fit in memory"
    per = f" per {what}" if what else " of memory"
    need, has = format_gib_pair(peak, capacity)
    if peak <= capacity:  # a job measured there keeps headroom: "needs 92 GiB, has 96" read as a contradiction
        return f"needs {need} GiB{per}, more than the {USABLE_MEMORY_FRACTION:.0%} of its {has} a measured job may use"
    return f"needs {need} GiB{per}, has {has}"


def _memory_problem(offer: Offer, est: Estimate) -> str | None:
    """Why the job does not fit on the offer, or None. The estimate's verdict first (it knows the model's
    peak and the spec's capacity), then the catalog's memory for the instance (GPU memory per GPU, or the
    CPU instance's RAM). A GPU offer's is no more than the estimate's capacity, which is what a driver gives a
    process where profiles/gpu_usable_memory.csv has it (the predictor applies it: an L4 offer's 24 GB is 22.49 GiB
    to a job), not the catalog's datasheet figure."""
    peak = est.peak_memory_gib
    capacity = offer.gpu_memory_gib if offer.gpu else offer.memory_gib
    if offer.gpu and est.memory_capacity_gib is not None:
        capacity = est.memory_capacity_gib if capacity is None else min(capacity, est.memory_capacity_gib)
    datasheet = (est.memory_datasheet_gib or offer.gpu_memory_gib) if offer.gpu else None
    what = "GPU" if offer.gpu else ""
    if not est.fits_memory:
        judged = est.memory_capacity_gib or capacity
        limit, batch = est.max_batch_size_per_device, est.per_device_batch_size
        if (peak is not None and judged is not None and peak <= judged * USABLE_MEMORY_FRACTION
                and limit is not None and batch is not None and batch > limit):
            # Within every headroom rule: what bounds it is a batch that ran out of memory in the probe.
            return format_oom_cap(batch, limit, peak, judged, " per GPU" if offer.gpu else "")
        return memory_needs(peak, judged, what) + _usable_of(peak, judged, datasheet)
    if peak is not None and capacity is not None and not within_capacity(peak, capacity):
        return memory_needs(peak, capacity, what) + _usable_of(peak, capacity, datasheet)
    return None


def _usable_of(peak: float | None, judged: float | None, datasheet: float | None) -> str:
    """" usable (24 GB on the datasheet)" where a GPU was judged against less than its datasheet's memory (what a
    driver gives a process: an L4's 22.49 GiB), so that "has 22" does not read as a wrong figure; else ""."""
    if peak is None or judged is None or datasheet is None or peak <= judged or judged >= datasheet:
        return ""
    return f" usable ({datasheet:g} GB on the datasheet)"


def _candidate(offer: Offer, est: Estimate, startup: float, use_spot: bool,
               like: Candidate | None = None) -> Candidate:
    """The candidate of ``offer`` with ``est``. ``like``: a candidate validated before, which this one copies with
    every field replaced: a ranking builds one per catalog offer, and validating each again was two thirds of
    that cost (6.5 us against 2.7). The values are the validated offer's and estimate's, of the types the fields
    have (tests/predictor/test_contexts.py compares the two ways over the catalog)."""
    billed = billed_seconds(offer, startup + est.seconds)  # once, for both rates
    cost = billed_cost_usd(billed, offer.price_usd_per_hour)
    spot_cost = (billed_cost_usd(billed, offer.spot_price_usd_per_hour)
                 if offer.spot_price_usd_per_hour is not None else None)
    fields = dict(
        provider=offer.provider, instance_type=offer.instance_type, region=offer.region, tier=offer.tier,
        gpu=offer.gpu, gpu_count=offer.gpu_count, vcpus=offer.vcpus, seconds=est.seconds, low=est.low,
        high=est.high, cost_usd=cost, spot_cost_usd=spot_cost, fits_memory=True, method=est.method, reason="",
        price_usd_per_hour=offer.price_usd_per_hour, spot_price_usd_per_hour=offer.spot_price_usd_per_hour,
        billed_seconds=billed, startup_seconds=float(startup), precision=est.precision,
        scaling_efficiency=est.scaling_efficiency, sharded=est.sharded, pareto=False, meets_constraints=True,
        interruptible=use_spot and spot_cost is not None, spot_zone_min=offer.spot_zone_min,
        base_seconds=est.base_seconds,
        base_method=est.base_method,
        marketplace=(offer.notes or "").lower().startswith(MARKETPLACE_NOTE),
        # The real step (est.seconds above is already the input- or transfer-bound time, not compute alone).
        bound=est.bound, input_seconds=est.input_seconds, transfer_seconds=est.transfer_seconds,
        gpu_utilization=est.gpu_utilization, mfu=est.mfu, mfu_peak=est.mfu_peak, gpu_busy=est.gpu_busy,
        job_startup_seconds=est.startup_seconds,
        # The machine recommend names carries the memory predict of it gives, and whether its fit is tight (a
        # "may run out of memory" note: ``verdict.status`` marks such a choice at risk).
        peak_memory_gib=est.peak_memory_gib, memory_capacity_gib=est.memory_capacity_gib,
        memory_tight=any(MAY_RUN_OUT_OF_MEMORY in note for note in est.notes),
    )
    return updated(like, fields) if like is not None else Candidate(**fields)


Excluded = list[tuple[Candidate, Estimate]]  # the candidates dropped for memory, with their estimates


def score(priced: Priced, constraints: Constraints, startup_cpu: float,
          startup_gpu: float) -> tuple[list[Scored], Excluded, list[Skipped]]:
    """(the candidates that fit, scored against the constraints; those that do not fit, the nearest GPU miss
    first (``memory_miss_order``), with their estimates; the offers skipped)."""
    scored: list[Scored] = []
    excluded: Excluded = []
    skipped: Counter = Counter()
    like: Candidate | None = None
    for offer, est in priced:
        if not isinstance(est, Estimate):
            skipped[_skip_key(offer, est)] += 1
            continue
        startup = startup_gpu if offer.gpu else startup_cpu
        cand = _candidate(offer, est, startup, constraints.spot, like)
        if like is None:
            like = cand.model_copy()  # a clean copy: the reasons and flags below are set on ``cand``
        problem = _memory_problem(offer, est)
        if problem is not None:
            # the layout the verdict assumes, and what sharding would need, where several GPUs are or would be
            if offer.gpu and (offer.gpu_count > 1 or (est.sharded_min_gpus or 0) > 1):
                problem += "; " + ddp_memory_text(est.sharded_memory_gib, offer.gpu_count, est.sharded_min_gpus,
                                                  est.batch_size * est.grad_accum_steps, est.memory_capacity_gib)
            cand.reason, cand.fits_memory, cand.meets_constraints = problem, False, False
            excluded.append((cand, est))
            continue
        rate = offer.spot_price_usd_per_hour if cand.interruptible else offer.price_usd_per_hour
        s = Scored(cand=cand, offer=offer, elapsed=cand.total_seconds, elapsed_high=cand.total_high,
                   cost=cand.ranked_cost_usd, cost_high=billed_cost_usd(billed_seconds(offer, cand.total_high), rate),
                   est=est)
        _check_constraints(s, constraints)
        if not s.meets:  # made True: a pydantic attribute set is a microsecond, for each of ~270 candidates
            cand.meets_constraints = False
        scored.append(s)
    excluded.sort(key=memory_miss_order)
    return scored, excluded, _skipped_list(skipped)


def memory_miss_order(pair: tuple[Candidate, Estimate]) -> tuple:
    """Nearest memory miss first: GPU offers before CPU boxes (a model too big for every GPU is rarely run on a
    CPU, and the smallest CPU box named as the example said nothing), then by need over capacity, then by name."""
    c, est = pair
    peak, capacity = est.peak_memory_gib, est.memory_capacity_gib
    ratio = peak / capacity if peak is not None and capacity else math.inf
    return (c.gpu is None, ratio, c.provider, c.instance_type, c.region)


@dataclass
class _Figures:
    """What the order compares of one (offer, estimate), without its ``Candidate``: a what-if only needs its
    best candidate, so the others are never built (``best_meeting``)."""

    offer: Offer
    est: Estimate
    elapsed: float
    cost: float
    miss: float = 0.0
    deadline_miss: float = 0.0
    budget_miss: float = 0.0

    @property
    def names(self) -> tuple[str, str, str]:
        return self.offer.provider, self.offer.instance_type, self.offer.region

    @property
    def meets(self) -> bool:
        return self.miss <= 0


def best_meeting(priced: Priced | Bounded, constraints: Constraints, startup_cpu: float,
                 startup_gpu: float, *, safe: bool = False) -> Scored | None:
    """The first candidate of ``ranked(score(priced, ...)[0], ...)`` that meets the constraints, or None; the
    same answer, built as one ``Scored`` instead of one per offer. From a ``Bounded``, only the estimates that
    could still win are made (``_meeting_bounded``). ``safe``: the first that meets them even at the slow end of
    its estimate, with room in memory (as the verdict's safe choice), the others counted as misses."""
    if hasattr(priced, "resolve"):
        figures = _meeting_bounded(priced, constraints, startup_cpu, startup_gpu, safe)
    else:
        found = (_figures(offer, est, constraints, startup_cpu, startup_gpu, safe) for offer, est in priced)
        figures = [f for f in found if f is not None]
    best = next(iter(ranked(figures, constraints.objective)), None)
    if best is None or not best.meets:
        return None
    return score([(best.offer, best.est)], constraints, startup_cpu, startup_gpu)[0][0]


def _figures(offer: Offer, est: Estimate | AdvisorError | None, constraints: Constraints, startup_cpu: float,
             startup_gpu: float, safe: bool = False) -> _Figures | None:
    """The figures of a candidate that fits (meeting the constraints or not: a miss may still set a near-tie band of
    the objective, ``ranked``); None for any other. ``safe``: one at risk (``best_meeting``) counts as a
    miss, by how far its slow end misses."""
    if not isinstance(est, Estimate) or _memory_problem(offer, est) is not None:
        return None
    startup = startup_gpu if offer.gpu else startup_cpu
    spot = constraints.spot and offer.spot_price_usd_per_hour is not None
    f = _Figures(offer, est, startup + est.seconds, cost_usd(offer, est.seconds, spot=spot, startup_seconds=startup))
    _check_constraints(f, constraints)
    if safe and f.meets:
        high = startup + est.high
        d, b = constraints.deadline_seconds, constraints.budget_usd
        risks = [high / d - 1 if d else 0.0,
                 cost_usd(offer, est.high, spot=spot, startup_seconds=startup) / b - 1 if b else 0.0,
                 1e-9 if any(MAY_RUN_OUT_OF_MEMORY in note for note in est.notes) else 0.0]
        f.miss = max(0.0, *risks)
    return f


def _meeting_bounded(priced: Bounded, constraints: Constraints, startup_cpu: float,
                     startup_gpu: float, safe: bool = False) -> list[_Figures]:
    """The candidates among those that could be the best, or set the near-tie band it is in: branch and bound on the
    offers' lower bounds, in the order of the objective's first key, so ``ranked(...)``'s first that meets the
    constraints is the full answer.

    A bound on an offer's seconds bounds its total time and (billing only rounds up) its cost. An offer whose
    bound already misses the deadline or the budget cannot meet them; with the time objective one over the budget
    is still estimated, as it may anchor a band (one past the deadline is slower than any that meets it), and with
    the cost objective one past the deadline (one over the budget is dearer than any that meets it). The others
    are estimated from the lowest bound up; the search stops at a bound above the best found plus its tie band: its
    cost plus ``COST_TIE`` with the cost objective, its time plus ``TIME_TIE`` with the time objective, since every
    offer within the tie window of the band's anchor competes on the other figure there (``ranked``)."""
    time_first = constraints.objective == "time"
    queue: list[tuple[float, int]] = []
    for i, (offer, low) in enumerate(zip(priced.offers, priced.low_seconds, strict=True)):
        if low is None:
            queue.append((-math.inf, i))
            continue
        startup = startup_gpu if offer.gpu else startup_cpu
        elapsed = startup + low
        cost = cost_usd(offer, low, spot=constraints.spot and offer.spot_price_usd_per_hour is not None,
                        startup_seconds=startup)
        # the test ``_check_constraints`` makes, so that float rounding agrees with it
        if (time_first and constraints.deadline_seconds and elapsed / constraints.deadline_seconds - 1 > 0) or (
                not time_first and constraints.budget_usd and cost / constraints.budget_usd - 1 > 0):
            continue
        queue.append((elapsed if time_first else cost, i))
    queue.sort()
    found: list[_Figures] = []
    limit = math.inf
    for low_key, i in queue:
        if low_key > limit:
            break
        f = _figures(priced.offers[i], priced.resolve(i), constraints, startup_cpu, startup_gpu, safe)
        if f is not None:
            found.append(f)
            if f.meets:
                limit = min(limit, f.elapsed * (1 + TIME_TIE) if time_first else f.cost * (1 + COST_TIE))
    return found


def _check_constraints(s: Scored | _Figures, constraints: Constraints) -> None:
    misses = []
    if constraints.deadline_seconds:
        s.deadline_miss = max(0.0, s.elapsed - constraints.deadline_seconds)
        misses.append(s.elapsed / constraints.deadline_seconds - 1)
    if constraints.budget_usd:
        s.budget_miss = max(0.0, s.cost - constraints.budget_usd)
        misses.append(s.cost / constraints.budget_usd - 1)
    s.miss = max([0.0, *misses])


def _skip_key(offer: Offer, error: AdvisorError | None) -> tuple[str, int, str, str | None]:
    model = offer.gpu or "CPU instances"
    if error is None:
        return model, offer.gpu_count, "no estimate for this target", None
    return model, offer.gpu_count, error.cli_message, error.cli_hint  # data: in the CLI's words, as stored


def _skipped_list(skipped: Counter) -> list[Skipped]:
    """One entry per reason: the targets it applies to ("1/2/8 x T4", "8 x A10G, 8 x T4"), how many offers,
    why, and the fix. A reason that names its GPU stays one entry per GPU model."""
    merged: dict[tuple[str, str | None], dict[str, set[int]]] = {}
    totals: Counter = Counter()
    for (model, count, reason, fix), n in skipped.items():
        merged.setdefault((reason, fix), {}).setdefault(model, set()).add(count)
        totals[(reason, fix)] += n
    out = []
    for (reason, fix), models in merged.items():
        target = ", ".join(model if not counts - {0} else "/".join(str(k) for k in sorted(counts)) + f" x {model}"
                           for model, counts in sorted(models.items()))
        out.append(Skipped(target=target, count=totals[(reason, fix)], reason=reason, fix=fix))
    return sorted(out, key=lambda s: (-s.count, s.target, s.reason))


def names(s: Scored | _Figures) -> tuple[str, str, str]:
    return s.names


def order(objective: str) -> Callable[[Scored], tuple]:
    if objective == "time":
        return lambda s: (s.elapsed, s.cost, *names(s))
    return lambda s: (s.cost, s.elapsed, *names(s))


def tie_bands(scored: Sequence[Scored | _Figures], objective: str) -> dict[int, int]:
    """The near-tie band of each candidate by ``id``, 0 the best on the objective: the fastest of all (time) or the
    cheapest (cost) opens a band of those within ``TIME_TIE`` (``COST_TIE``) of it, the next past it the next, and
    so on. Over every candidate that fits, met the constraints or not, so that the other limit cannot move a band's
    edge: anchored on the fastest that met it, the band took in a machine 0.28 s past the edge of the unconstrained
    one, and a $1.72 budget that the unconstrained choice ($1.71) met changed the choice."""
    def figure(s: Scored | _Figures) -> float:
        return s.elapsed if objective == "time" else s.cost

    tie = TIME_TIE if objective == "time" else COST_TIE
    bands: dict[int, int] = {}
    band, edge = -1, -math.inf
    for s in sorted(scored, key=order(objective)):
        if figure(s) > edge:
            band, edge = band + 1, figure(s) * (1 + tie)
        bands[id(s)] = band
    return bands


def ranked(scored: list, objective: str) -> list:
    """Those meeting the constraints first, best first; then the misses, nearest first. Those meeting the
    constraints in the best band of the objective (``tie_bands``) come first, the cheapest first with the time
    objective and the fastest first with the cost objective; then those in the next band, and so on. Without the
    bands, a tier's best (and the verdict's CPU-vs-GPU ratios) went to whichever GPU was microseconds sooner on a
    job every GPU runs in the same time: a $3.37 one over a $0.17 one; and with the cost objective a 12m24s CPU run
    and a 5m17s GPU run 1.6% apart in cost swapped places between two probes of the same script."""
    key = order(objective)
    feasible = sorted((s for s in scored if s.meets), key=key)
    missing = sorted((s for s in scored if not s.meets), key=lambda s: (s.miss, *key(s)))
    bands = tie_bands(scored, objective)
    other = order("cost" if objective == "time" else "time")
    feasible.sort(key=lambda s: (bands[id(s)], *other(s)))
    return feasible + missing


def mark_pareto(scored: list[Scored]) -> None:
    """Flag the time/cost Pareto front (total time, ranked cost) over every candidate that fits."""
    best = math.inf
    for s in sorted(scored, key=lambda s: (s.elapsed, s.cost, *names(s))):
        if s.cost < best:
            s.cand.pareto = True
            best = s.cost
