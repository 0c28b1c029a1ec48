"""The catalog: the loaded offers and the queries on them (filter by provider, region, GPU, price).

``load_catalog`` reads the built-in rate files and the user's (``rows.py`` parses them, ``merge.py``
merges them) and adds the provenance a recommendation records: each provider's snapshot dates and sources.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from advisor.errors import CatalogError, did_you_mean
from advisor.hardware.specs import normalize_name, other_variants
from advisor.pricing.merge import load_offers
from advisor.pricing.rows import GpuNames, region_matches
from advisor.schemas import Offer

# What people call a cloud, against the catalog's provider names: the spelling match alone read "amazon" as
# 'lambda' and "google" as nothing. Keys have runs of spaces, "-" and "_" as one space.
PROVIDER_SYNONYMS = {
    "amazon": "aws", "ec2": "aws", "amazon web services": "aws", "aws ec2": "aws", "amazon ec2": "aws",
    "google": "gcp", "gce": "gcp", "google cloud": "gcp", "google cloud platform": "gcp",
    "google compute engine": "gcp", "microsoft": "azure", "microsoft azure": "azure",
}


def provider_suggestion(name: str, known: Iterable[str]) -> str:
    """A ' Did you mean X?' suffix for an unknown provider name: the provider a vendor's or product's name means
    ("amazon" -> 'aws') where the catalog has it, else the closest spelling (``did_you_mean``); '' when neither."""
    known = list(known)
    meant = PROVIDER_SYNONYMS.get(re.sub(r"[\s_-]+", " ", name.strip().lower()))
    return f" Did you mean {meant!r}?" if meant in known else did_you_mean(name, known)


@dataclass
class Catalog:
    """The offers from the built-in catalog and the user's files, after overrides and discounts.

    ``dates``: provider -> snapshot date of its prices ("undated" where the source gave none);
    ``sources``: provider -> distinct sources; ``flags``: one line per row whose price was flagged or
    changed on load (spot dropped, suspect price, discount); ``excluded``: rows not loaded, with why.
    """

    offers: list[Offer]
    dates: dict[str, str] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)

    @property
    def providers(self) -> list[str]:
        """Provider names in the catalog, sorted."""
        return sorted({o.provider for o in self.offers})

    @property
    def gpus(self) -> list[str]:
        """Canonical GPU model names offered, sorted."""
        return sorted({o.gpu for o in self.offers if o.gpu})

    @property
    def regions(self) -> list[str]:
        """Regions as listed in the rows, sorted."""
        return sorted({o.region for o in self.offers})

    def snapshot(self, offers: Sequence[Offer] | None = None) -> dict:
        """What a recommendation records about the prices it used: with ``offers`` (those a ranking was given,
        after --providers and --region), the dates and sources of their providers and rows only."""
        dates, sources = (self.dates, self.sources) if offers is None else _provenance(offers)
        return {"dates": dict(dates), "sources": {k: list(v) for k, v in sources.items()},
                "files": list(self.files), "flags": list(self.flags), "excluded": list(self.excluded)}

    def filter(self, providers: Iterable[str] | None = None, regions: Iterable[str] | None = None,
               gpu: str | None = None, max_price_usd_per_hour: float | None = None, cpu_only: bool = False,
               gpu_only: bool = False) -> list[Offer]:
        """The offers matching every given filter, in catalog order.

        ``providers``: names (case-insensitive). ``regions``: a region as listed ("us-east-1"), or one of the
        comma-separated parts of a marketplace region ("US" matches "Florida, US, NA"). Parts that together
        spell one listed region (["florida", "us", "na"], a pasted "Florida, US, NA" split on its commas) are
        that region alone, not three filters ("na" alone matches every North American listing). ``gpu``: a GPU model
        (``match_gpu``): exact ("A100-80GB"), an alias, or a family ("A100" = every A100). Unknown names, and known
        models that no offer has ("L40"), raise ``CatalogError`` with a "did you mean".
        """
        offers = self.offers
        if providers:
            wanted = {p.strip().lower() for p in providers if p and p.strip()}
            known = set(self.providers)
            for p in sorted(wanted - known):
                raise CatalogError(f"Unknown provider {p!r}.{provider_suggestion(p, known)}",
                                   hint=f"Fix: use one of {', '.join(sorted(known))}.")
            offers = [o for o in offers if o.provider in wanted]
        if regions:
            wanted_regions = _whole_region([r.strip().lower() for r in regions if r and r.strip()], self.offers)
            for r in wanted_regions:
                if not any(region_matches(o.region, r) for o in self.offers):
                    raise CatalogError(f"Unknown region {r!r}.{did_you_mean(r, self.regions)}",
                                       hint="Fix: run `advisor pricing list` to see the regions in the catalog.")
            offers = [o for o in offers if any(region_matches(o.region, r) for r in wanted_regions)]
        if gpu:
            names = self.match_gpu(gpu)
            offers = [o for o in offers if o.gpu in names]
        if max_price_usd_per_hour is not None:
            offers = [o for o in offers if o.price_usd_per_hour <= max_price_usd_per_hour]
        if cpu_only:
            offers = [o for o in offers if not o.gpu]
        if gpu_only:
            offers = [o for o in offers if o.gpu]
        return list(offers)

    def match_gpu(self, name: str) -> set[str]:
        """Catalog GPU names that ``name`` means: the exact model (case and punctuation aside: "a100 80gb"), else
        the model it is an alias of ("Quadro RTX 6000") and, for a family name, every variant of it the catalog
        offers ("H100" = H100-SXM, H100-PCIe and H100-NVL: ``other_variants``). A name is never read as another
        model that merely starts with it ("L40" is not L40S, "H20" not H200): a known model that no offer has,
        or an unknown name, raises ``CatalogError`` with a "did you mean"."""
        key = normalize_name(name)
        exact = {g for g in self.gpus if normalize_name(g) == key}
        if exact:
            return exact
        resolved, _ = GpuNames()(name)
        family = {resolved, *other_variants(name)} & set(self.gpus) if resolved else set()
        if family:
            return family
        raise CatalogError(f"No GPU {name!r} in the catalog.{did_you_mean(name, self.gpus)}",
                           hint="Fix: run `advisor pricing list` to see the GPU models offered.")


def _whole_region(wanted: list[str], offers: Sequence[Offer]) -> list[str]:
    """``wanted`` as one region where its parts, in order, are exactly a listed region's ("Florida, US, NA"),
    else as it is: a region copied from the output names that region only."""
    if len(wanted) < 2:
        return wanted
    for o in offers:
        if [part.strip() for part in o.region.lower().split(",")] == wanted:
            return [o.region.lower()]
    return wanted


def _provenance(offers: Sequence[Offer]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Per provider: the snapshot date (or range, or "undated") and the distinct sources of its rows."""
    dates: dict[str, str] = {}
    sources: dict[str, list[str]] = {}
    for provider in sorted({o.provider for o in offers}):
        mine = [o for o in offers if o.provider == provider]
        known = sorted({o.snapshot_date for o in mine if o.snapshot_date})
        if not known:
            dates[provider] = "undated"
        else:
            text = known[0] if len(known) == 1 else f"{known[0]}..{known[-1]}"
            undated = sum(1 for o in mine if not o.snapshot_date)
            undated_spot = sum(1 for o in mine if o.spot_undated)
            caveats = [f"{undated} {'row' if undated == 1 else 'rows'} undated"] if undated else []
            caveats += ([f"{undated_spot} spot {'price' if undated_spot == 1 else 'prices'} undated"]
                        if undated_spot else [])
            dates[provider] = text + (f" ({'; '.join(caveats)})" if caveats else "")
        srcs: list[str] = []
        for o in mine:
            if o.source and not o.source.startswith("user file ") and o.source not in srcs:
                srcs.append(o.source)
        if any(o.source and o.source.startswith("user file ") for o in mine):
            srcs.append("user file")
        sources[provider] = srcs
    return dates, sources


def catalog_version(extra_files: Sequence[Path] = ()) -> tuple[tuple[str, int | None, int | None], ...]:
    """(path, size, modification time in ns) of every built-in rate file and of ``extra_files``: what a
    long-lived caller keys its loaded catalog by (a file it cannot read has None; ``load_catalog`` says why)."""
    from advisor.data_files import data_dir

    out = []
    for path in [*sorted(data_dir("pricing").glob("*.csv")), *map(Path, extra_files)]:
        try:
            st = path.stat()
            out.append((str(path), st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((str(path), None, None))
    return tuple(out)


def load_catalog(extra_files: Sequence[Path] = (), *, include_builtin: bool = True) -> Catalog:
    """The built-in catalog plus the user's files, in order (a later row with the same provider,
    instance_type and region overrides an earlier one; blank fields keep the earlier values).

    Raises ``CatalogError`` naming every bad row as file:line with the reason.
    """
    loaded = load_offers([Path(p) for p in extra_files], include_builtin)
    catalog = Catalog(offers=loaded.offers, files=loaded.files, flags=loaded.flags, excluded=loaded.excluded)
    catalog.dates, catalog.sources = _provenance(loaded.offers)
    return catalog
