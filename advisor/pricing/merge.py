"""The rate files merged in order: the built-in files, then the user's.

A later row with the same provider, instance_type and region overrides an earlier one (its blank cells keep the
earlier values); provider-wide rules (discounts, billing) apply after every file is read. Later files override
earlier ones for rules too: an offer takes one provider-wide discount, the last that matches it (a team file's 10%
and a user's 15% give 15%, not 23.5%), and a price a user row sets in a file at or after the discount's (a
negotiated price) is taken as it is; so are the billing and min_billed_seconds a row sets there. A row's own
discount_pct is a field like the others: a later row with the same key replaces it (10% then 15% give 15%), or
drops it by setting a new price without one. Every problem in every file is raised in one ``CatalogError``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from advisor.pricing.billing import BILLING_FILE
from advisor.pricing.rows import (
    BUILTIN_FILES,
    GpuNames,
    OfferKey,
    RowErrors,
    Rule,
    build_offer,
    discounted,
    load_billing,
    offer_key,
    parse_file,
    region_matches,
    with_row_discount,
)
from advisor.schemas import Offer


@dataclass
class LoadedOffers:
    """The merged rows of every file: what a ``Catalog`` is made of.

    ``origin``: offer key -> the file:line that last defined or changed the offer; ``origin_file``: offer key ->
    the index in ``files`` of that file (a user file may have a built-in file's name, so the name cannot say).
    """

    offers: list[Offer]
    origin: dict[OfferKey, str]
    origin_file: dict[OfferKey, int]
    files: list[str]
    flags: list[str]
    excluded: list[str]
    # (the index in ``files`` of the rule's file, "file:line: why"): provider-wide discounts a later one overrides
    # wholly (``_shadowed_discounts``), which ``advisor pricing validate`` warns of.
    shadowed: list[tuple[int, str]] = field(default_factory=list)


def _shadowed_discounts(rules: list[tuple[int, Rule]]) -> list[tuple[int, str]]:
    """The provider-wide discounts that can have no effect: a later discount rule of the same provider covers every
    offer they match (all its regions, or the same region), and an offer takes only the last one that matches."""
    found = []
    for position, (index, rule) in enumerate(rules):
        if not rule.discount_pct:
            continue
        later = next((r for _, r in rules[position + 1:] if r.discount_pct and r.provider == rule.provider
                      and (r.region is None or r.region == rule.region)), None)
        if later is not None:
            same_file = later.where.rsplit(":", 1)[0] == rule.where.rsplit(":", 1)[0]
            there = f"line {later.where.rsplit(':', 1)[1]}" if same_file else later.where
            found.append((index, f"{rule.where}: the {rule.discount_pct:g}% provider-wide discount for "
                                 f"{rule.provider} has no effect: the {later.discount_pct:g}% one on {there} "
                                 "overrides it (provider-wide discounts do not add up: an offer takes the last one "
                                 "that matches it). Fix: keep one row, with the discount you mean."))
    return found


def _matches(offer: Offer, rule: Rule) -> bool:
    return rule.provider == offer.provider and (rule.region is None or region_matches(offer.region, rule.region))


def _apply_rule(offer: Offer, rule: Rule, *, discount: bool = True, billing: bool = True,
                minimum: bool = True) -> Offer:
    """``offer`` changed by a provider-wide rule, or ``offer`` itself when the rule is not for it.
    ``discount`` False: not the rule's discount (the offer takes another rule's, or none); ``billing`` and
    ``minimum`` False: not its billing or min_billed_seconds (a row in its file or a later one set them)."""
    if not _matches(offer, rule):
        return offer
    update: dict = {}
    notes = [offer.notes] if offer.notes else []
    if rule.discount_pct and discount:
        update.update(discounted(offer, rule.discount_pct))
        notes.append(f"{rule.discount_pct:g}% {rule.provider} discount applied ({rule.where})")
    if rule.billing is not None and billing:
        update["billing"] = rule.billing
    if rule.min_billed_seconds is not None and minimum:
        update["min_billed_seconds"] = rule.min_billed_seconds
    if not update:
        return offer
    update["notes"] = "; ".join(notes) or None
    return offer.model_copy(update=update)


def _builtin_dir() -> Path:
    from advisor.data_files import data_dir

    return data_dir("pricing")


def load_offers(extra_files: Sequence[Path], include_builtin: bool) -> LoadedOffers:
    """The offers of the built-in files (if ``include_builtin``) and then ``extra_files``, merged in order.

    Raises:
        CatalogError: listing every bad row of every file as file:line and the reason.
    """
    directory = _builtin_dir()
    billing = load_billing(directory)
    gpu_names = GpuNames()
    errors = RowErrors()
    excluded: list[str] = []
    flags: list[str] = []
    offers: dict[OfferKey, Offer] = {}
    origin: dict[OfferKey, str] = {}
    origin_file: dict[OfferKey, int] = {}
    files: list[tuple[Path, bool]] = []
    if include_builtin:
        files += [(directory / name, True) for name in BUILTIN_FILES]
    files += [(Path(p), False) for p in extra_files]
    rules: list[tuple[int, Rule]] = []  # with the index of the file each came from
    price_file: dict[OfferKey, int] = {}  # the user file that set each offer's price; -1: a built-in file
    row_discount: dict[OfferKey, tuple[float, str]] = {}  # the discount_pct in effect, and the row that set it
    set_in: dict[str, dict[OfferKey, int]] = {"billing": {}, "min_billed_seconds": {}}  # the user file of each
    for index, (path, builtin) in enumerate(files):
        rows, file_rules = parse_file(path, builtin=builtin, errors=errors, excluded=excluded)
        rules += [(index, rule) for rule in file_rules]
        seen: dict[OfferKey, str] = {}
        for row in rows:
            v = row.values
            key = offer_key(v["provider"], v["instance_type"], v["region"])
            if key in seen:
                errors.add(row.where, f"{v['provider']} {v['instance_type']} {v['region']} is already on "
                                      f"line {seen[key].rsplit(':', 1)[1]} of this file")
                continue
            seen[key] = row.where
            offer = build_offer(row, offers.get(key), billing, gpu_names, errors, flags)
            if offer is not None:
                if key not in offers or builtin or row.text("price_hour_usd"):
                    price_file[key] = -1 if builtin else index
                # A row's discount_pct replaces an earlier row's (a blank one keeps it, a new price drops it).
                if row.text("discount_pct"):
                    row_discount[key] = (float(row.text("discount_pct")), row.where)
                elif row.text("price_hour_usd"):
                    row_discount.pop(key, None)
                for col, files_of in set_in.items():
                    if row.text(col) and not builtin:
                        files_of[key] = index
                offers[key] = offer
                origin[key], origin_file[key] = row.where, index
    errors.raise_if_any()
    for key, (pct, where) in row_discount.items():
        if pct:
            offers[key] = with_row_discount(offers[key], pct, where, flags)
    # The one discount each offer takes: the last rule that matches it (rules are in file order, then row order).
    last_discount = {key: max((i for i, (_, r) in enumerate(rules) if r.discount_pct and _matches(offer, r)),
                              default=None) for key, offer in offers.items()}
    for position, (index, rule) in enumerate(rules):
        taken = 0
        for key, offer in offers.items():
            mine = last_discount[key] == position and price_file[key] < index
            changed = _apply_rule(offer, rule, discount=mine, billing=set_in["billing"].get(key, -1) < index,
                                  minimum=set_in["min_billed_seconds"].get(key, -1) < index)
            if changed is not offer:
                offers[key], origin[key], origin_file[key] = changed, rule.where, index
            taken += mine
        if rule.discount_pct:
            flags.append(f"{rule.provider}{' ' + rule.region if rule.region else ''}: {rule.discount_pct:g}% "
                         f"discount on {taken} offer{'s' if taken != 1 else ''} ({rule.where})")
    return LoadedOffers(offers=list(offers.values()), origin=origin, origin_file=origin_file,
                        files=[str(p) for p, _ in files], flags=flags, excluded=excluded,
                        shadowed=_shadowed_discounts(rules))


@dataclass
class FileCheck:
    """What ``check_file`` found in one rates file: the offers it adds or overrides, and the rows the loader
    skips on purpose ("file:line: why": the built-in catalog's fractional GPUs), which are not problems."""

    offers: list[Offer]
    skipped: list[str]
    billing_rules: int = 0  # a billing-rules file (billing.csv): how many providers it gives a rule
    warnings: list[str] = field(default_factory=list)  # rows that are valid but can have no effect


def validate_file(path: Path | str) -> list[Offer]:
    """Check a user rates file against the built-in catalog; returns the offers it adds or overrides.

    Raises ``CatalogError`` listing every problem as file:line and the reason.
    """
    return check_file(path).offers


def check_file(path: Path | str) -> FileCheck:
    """Check a rates file as the loader reads it (``advisor pricing validate``).

    A file of your own is read after the built-in catalog, as ``--pricing FILE`` is. A built-in file
    (``pricing/instances.csv`` itself, not a copy) is read as the built-in catalog is: its fractional-GPU rows
    are skipped, and listed in ``FileCheck.skipped`` with the reason. ``billing.csv`` is checked as the
    billing rules it holds.

    Raises:
        CatalogError: listing every problem as file:line and the reason, with the fix for each kind.
    """
    path = Path(path)
    builtin = _builtin_name(path)
    if builtin == BILLING_FILE:
        return FileCheck(offers=[], skipped=[], billing_rules=len(load_billing(_builtin_dir())))
    loaded = load_offers([] if builtin else [path], True)
    # By the file's place in the load, not its name: a user's instances.csv in another folder is not the built-in.
    index = BUILTIN_FILES.index(builtin) if builtin else len(loaded.files) - 1
    offers = [o for o in loaded.offers if loaded.origin_file[offer_key(o.provider, o.instance_type, o.region)] == index]
    # Only built-in rows are skipped on purpose (a user file's fractional GPU is an error, raised above).
    skipped = [e for e in loaded.excluded if e.startswith(f"{builtin}:")] if builtin else []
    return FileCheck(offers=offers, skipped=skipped, warnings=[why for i, why in loaded.shadowed if i == index])


def _builtin_name(path: Path) -> str | None:
    """The name of the built-in file ``path`` is (the very file: a copy is a user file), else None."""
    directory = _builtin_dir()
    for name in (*BUILTIN_FILES, BILLING_FILE):
        try:
            if os.path.samefile(path, directory / name):
                return name
        except OSError:  # either file missing or unreadable: not that one (the loader says why)
            continue
    return None
