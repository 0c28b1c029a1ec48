"""Pricing one profile's job over the catalog for a recommendation: the catalog (read once per version of its
files by a long-lived caller) and the ``job, precision -> (offer, estimate) pairs`` function the ranking and its
what-ifs share, with one estimate context. Orchestration for ``advisor.api.recommend``; prints nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.schemas import JobSpec, Profile

if TYPE_CHECKING:  # pragma: no cover
    from advisor.predictor.contexts import ContextCache
    from advisor.predictor.estimate import EstimateContext
    from advisor.predictor.targets import Correction, Priced


def catalog_for(files: list[Path], contexts: ContextCache | None):
    """The price catalog of the built-in rates and ``files``; a long-lived caller's is read once per version of
    the files (their sizes and modification times)."""
    from advisor import pricing

    if contexts is None:
        return pricing.load_catalog(files)
    return contexts.remember(("catalog", *pricing.catalog_version(files)), lambda: pricing.load_catalog(files))


def pricer(prof: Profile, offers: Sequence[Any], correction: Correction | None,
           context: EstimateContext | None = None):
    """job, precision -> (offer, estimate) pairs for every offer, sharing one estimate context (``context``:
    a caller's, kept across calls for this profile; else a fresh one)."""
    from advisor.predictor.estimate import EstimateContext
    from advisor.predictor.targets import default_cpu_lookup, estimate_offers

    context, cpu_lookup = context or EstimateContext.load(), default_cpu_lookup()
    gpu_offers = [offer for offer in offers if offer.gpu_count]
    cpu_offers = [offer for offer in offers if not offer.gpu_count]
    # A CPU runs the job at fp32 whatever --precision says (estimate() only adds a note), so the precision
    # what-if reuses the CPU candidates of the same job instead of predicting the same ~100 CPU targets again.
    cpu_priced: dict[JobSpec, Priced] = {}

    def estimated(job: JobSpec, some: Sequence[Any], precision: str | None) -> Priced:
        return estimate_offers(prof, job, some, precision=precision, context=context, cpu_lookup=cpu_lookup,
                               correction=correction)

    def price(job: JobSpec, precision: str | None) -> Priced:
        if job not in cpu_priced:
            cpu_priced[job] = estimated(job, cpu_offers, precision)
        pairs = {id(pair[0]): pair for pair in [*cpu_priced[job], *estimated(job, gpu_offers, precision)]}
        return [pairs[id(offer)] for offer in offers]  # the catalog's order, as the ranking's ties expect

    return price
