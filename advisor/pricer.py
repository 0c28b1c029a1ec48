"""Pricing one profile's job over the catalog for a recommendation: the catalog (read once per version of its
files by a long-lived caller) and the ``Pricer`` the ranking and its what-ifs share, with one estimate context.
Orchestration for ``advisor.api.recommend``; prints nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.schemas import HALF_PRECISIONS, JobSpec, Profile

if TYPE_CHECKING:  # pragma: no cover
    from advisor.predictor.contexts import ContextCache
    from advisor.predictor.estimate import EstimateContext
    from advisor.predictor.targets import Correction, LazyEstimates, Priced

# The mixed-precision what-if, labelled with the flag that reproduces it (bf16 on a GPU without it: fp16, noted).
MIXED_WHAT_IF = "--precision bf16"


def offers_for(files: list[Path], contexts: ContextCache | None, providers: Any, regions: Any):
    """(the price catalog of the built-in rates and ``files``, its offers for the providers and regions, each
    offer's estimate key or None). A long-lived caller reads the catalog and works the keys out once per version
    of the files (their sizes and modification times) and filter (the CPU family each CPU instance is predicted
    on is a lookup per offer); a one-shot caller reads the catalog and leaves the keys to the ``Pricer``."""
    from advisor import pricing
    from advisor.predictor.targets import default_cpu_lookup, offer_keys

    if contexts is None:
        catalog = pricing.load_catalog(files)
        return catalog, _some(catalog, catalog.filter(providers=providers, regions=regions), providers, regions), None
    version = price_files_version(files, contexts)
    catalog = contexts.remember(("catalog", *version), lambda: pricing.load_catalog(files))
    offers = _some(catalog, catalog.filter(providers=providers, regions=regions), providers, regions)
    keys = contexts.remember(("offer keys", *version, repr(providers), repr(regions)),
                             lambda: [key for _, key in offer_keys(offers, default_cpu_lookup())])
    return catalog, offers, list(zip(offers, keys, strict=True))


def _some(catalog: Any, offers: list, providers: Any, regions: Any) -> list:
    """``offers``, or a ConfigError (exit 1, before any probe) where the filters leave none: a user's filter, not
    an infeasible job (which exits 3)."""
    if offers:
        return offers
    from advisor.errors import ConfigError

    asked = " and ".join(f"{flag} {','.join(names)}" for flag, names in (("--providers", providers),
                                                                          ("--region", regions)) if names)
    known = sorted({o.region for o in catalog.offers if not providers or o.provider in providers})
    raise ConfigError(f"No offer in the catalog matches {asked or 'the filters'}: nothing to rank.",
                      hint="Fix: drop or widen --providers/--region; their regions: " + ", ".join(known[:12])
                      + (f" and {len(known) - 12} more" if len(known) > 12 else "") + " (`advisor pricing list`).")


def price_files_version(files: Sequence[Path | str], contexts: ContextCache | None) -> tuple:
    """``pricing.catalog_version(files)``, read at most once a second by a long-lived caller (``contexts``; None:
    read now): the version a server keys its rankings and its loaded catalog by, for each request."""
    from advisor import pricing

    paths = [Path(p) for p in files]
    if contexts is None:
        return pricing.catalog_version(paths)
    return contexts.recent(("price files", *map(str, paths)), lambda: pricing.catalog_version(paths))


class Pricer:
    """job, precision -> (offer, estimate) pairs for every offer (``__call__``), or the same pairs made on demand
    (``lazy``: a what-if needs only its best candidate), sharing one estimate context: a caller's, kept across
    calls for this profile, else a fresh one.

    A CPU runs the job at fp32 whatever --precision says (``estimate`` only adds a note), so a precision what-if
    reuses the CPU candidates of the same job instead of predicting the same ~100 CPU targets again.
    ``correction_floor``: the smallest factor ``correction`` applies to a time (what bounds a corrected time)."""

    def __init__(self, prof: Profile, offers: Sequence[Any], correction: Correction | None,
                 context: EstimateContext | None = None, correction_floor: float | None = None,
                 keyed: Sequence[tuple[Any, tuple]] | None = None) -> None:
        from advisor.predictor.estimate import EstimateContext
        from advisor.predictor.targets import default_cpu_lookup, offer_keys

        self.prof, self.offers, self.correction, self.correction_floor = prof, offers, correction, correction_floor
        self.context = context or EstimateContext.load()
        # Each offer's target, worked out once for the job and its what-ifs (or given: ``offers_for``), and the
        # distinct ones in catalog order.
        self.keyed = list(keyed) if keyed is not None else offer_keys(offers, default_cpu_lookup())
        self.gpu_keys = list(dict.fromkeys(key for offer, key in self.keyed if offer.gpu_count))
        self.cpu_keys = list(dict.fromkeys(key for offer, key in self.keyed if not offer.gpu_count))
        self._cpu_found: dict[JobSpec, dict[tuple, Any]] = {}

    @classmethod
    def corrected(cls, prof: Profile, offers: Sequence[Any], fitted: Any, context: EstimateContext | None,
                  keyed: Sequence[tuple[Any, tuple]] | None = None) -> Pricer:
        """A pricer whose estimates go through ``fitted`` (the learned history correction; None: none)."""
        if fitted is None:
            return cls(prof, offers, None, context, keyed=keyed)
        return cls(prof, offers, fitted.bind(prof), context, correction_floor=fitted.smallest_factor, keyed=keyed)

    def _estimated(self, job: JobSpec, keys: Sequence[tuple], precision: str | None) -> dict[tuple, Any]:
        from advisor.predictor.targets import estimate_keys

        return estimate_keys(self.prof, job, keys, precision=precision, context=self.context,
                             correction=self.correction)

    def __call__(self, job: JobSpec, precision: str | None) -> Priced:
        cpu = self._cpu_found.get(job)
        if cpu is None:
            cpu = self._cpu_found[job] = self._estimated(job, self.cpu_keys, precision)
        gpu = self._estimated(job, self.gpu_keys, precision)
        # the catalog's order, as the ranking's ties expect
        return [(offer, (gpu if offer.gpu_count else cpu)[key]) for offer, key in self.keyed]

    def here(self, job: JobSpec, precision: str | None) -> list[tuple[str, str, Any, bool]]:
        """The job on each device the profile probed, as ``predict --device DEVICE`` gives it (the probed thread
        count, the probed machine's memory; the same correction): (device, what it is, estimate or error, whether
        other processes used the CPU during most of its timed windows). A GPU advisor has no spec sheet for gets
        its own measured steps, with a note that nothing can be scaled from them."""
        from advisor.predictor.busy_here import busy_when_probed
        from advisor.predictor.measured import THIS_MACHINE
        from advisor.schemas import Target

        out: list[tuple[str, str, Any, bool]] = []
        for dev in self.prof.devices:  # a CPU too big to time a step of is estimated from the analysis, as predict's
            busy = busy_when_probed(dev)  # the Here line says "when idle": its estimate's note is not shown there
            if dev.kind == "cpu":
                name = f"{dev.name}, {dev.threads} threads" if dev.threads else dev.name
                target = Target.cpu()
            else:  # a GPU without a spec row is its own probe (``predictor.unspecced``)
                name, target = dev.name, Target.gpu(dev.spec_name or dev.name, 1)
            # The probed machine's own memory (None would leave it unchecked) and its vCPUs, as predict's.
            key = (target, THIS_MACHINE if target.kind == "cpu" else None, None)
            out.append((dev.device, name, self._estimated(job, [key], precision)[key], busy))
        return out

    def lazy(self, job: JobSpec, precision: str | None) -> LazyEstimates:
        from advisor.predictor.targets import LazyEstimates

        return LazyEstimates(self.prof, job, self.offers, precision=precision, context=self.context,
                             correction=self.correction, correction_floor=self.correction_floor,
                             known=self._cpu_found.get(job), keyed=self.keyed)


def what_ifs(prof: Profile, job: JobSpec, precision: str | None, price: Pricer, fitted: Any,
             contexts: ContextCache | None) -> dict[str, LazyEstimates]:
    """The changes a user can make with one flag, by label, each priced on demand: mixed precision, from the
    profile's bf16 analysis where it has one (the analysis that flag's own run is priced from, so that the advice
    shows what the flag gives), and twice the batch size. ``price`` prices the job itself; ``fitted``: the learned
    correction it applies (None: none)."""
    out: dict[str, LazyEstimates] = {}
    if precision not in HALF_PRECISIONS:
        mixed = prof.analysed_for("bf16")
        alt = price if mixed is price.prof else Pricer.corrected(
            mixed, price.offers, fitted, None if contexts is None else contexts.for_profile(mixed), price.keyed)
        out[MIXED_WHAT_IF] = alt.lazy(job, "bf16")
    label, doubled = batch_what_if(job)
    out[label] = price.lazy(doubled, precision)
    return out


def batch_what_if(job: JobSpec) -> tuple[str, JobSpec]:
    """(the flags, the job) of the batch-size what-if: twice the batch size. Where the job accumulates an even
    number of micro-steps, half as many too ("--batch-size 16 --grad-accum-steps 4" for 8 x 8), so that an
    optimizer update takes the same samples, as the exit-3 fix keeps them: the what-if changes the speed, not the
    optimisation. Otherwise (no accumulation, or an odd count) it doubles the samples per update, which
    ``batch_caution`` says beside its advice."""
    batch, accum = job.batch_size * 2, job.grad_accum_steps
    if accum % 2 == 0:
        return f"--batch-size {batch} --grad-accum-steps {accum // 2}", replace(job, batch_size=batch,
                                                                                grad_accum_steps=accum // 2)
    return f"--batch-size {batch}", replace(job, batch_size=batch)


def batch_caution(job: JobSpec) -> str | None:
    """What the batch-size what-if's advice adds where it doubles the samples per optimizer update (an odd
    accumulation count cannot be halved): that it changes the optimisation, not only the speed; None where it
    keeps them."""
    if job.grad_accum_steps % 2 == 0:
        return None
    per_update = job.batch_size * job.grad_accum_steps
    return (f"; that doubles the samples per optimizer update ({per_update:,} -> {2 * per_update:,}), which changes "
            f"the optimisation: the learning rate may need retuning")
