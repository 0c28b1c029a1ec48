"""One rates file, row by row: checking its header and every row (each problem as file:line), and turning a
row into an ``Offer`` or a provider-wide ``Rule``; ``csvfile.py`` reads the file.

The format is documented in ``pricing/README.md`` ('Your own rates'). ``merge.py`` combines the files in
order; problems are collected in a ``RowErrors`` and raised together, so a user fixes a file in one pass.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from advisor.errors import AdvisorError, CatalogError, did_you_mean
from advisor.hardware.specs import resolve_gpu
from advisor.pricing.billing import BILLING_FILE, BILLING_INCREMENT_SECONDS, DEFAULT_BILLING, billing_rules
from advisor.pricing.csvfile import read_csv
from advisor.pricing.fixes import hint_for
from advisor.schemas import Offer
from advisor.schemas.devices import MAX_TARGET_GPUS
from advisor.schemas.results import SPOT_UNDATED_NOTE, SPOT_ZONE_MIN_NOTE

BUILTIN_FILES = ("instances.csv", "e2e_networks.csv")
OFFER_COLUMNS = (
    "provider", "instance_type", "region", "vcpus", "memory_gib", "gpu_model", "gpu_count", "gpu_memory_gib",
    "price_hour_usd", "spot_price_hour_usd", "source", "snapshot_date", "notes",
)
EXTRA_COLUMNS = ("flags", "billing", "min_billed_seconds", "discount_pct")
KNOWN_COLUMNS = OFFER_COLUMNS + EXTRA_COLUMNS
FLAGS = {
    "suspect_price": "price flagged as suspect in the catalog",
    "drop_spot": "spot price dropped (flagged as wrong in the source)",
    "spot_undated": "spot price from an undated source (snapshot_date is the on-demand price's)",
    "spot_zone_min": "spot price is the lowest across the region's availability zones",
}
WILDCARD = "*"
SUSPECT_NOTE = "SUSPECT PRICE"  # leads Offer.notes of a row flagged suspect_price (the ranker notes it)

_PROVIDER_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")

OfferKey = tuple[str, str, str]  # (provider, instance_type, region), lower case


class GpuNames:
    """Resolves a file's gpu_model values to canonical spec names (profiles/gpus.csv), once per name."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[str | None, str | None]] = {}

    def __call__(self, name: str) -> tuple[str | None, str | None]:
        """(canonical name, None) or (None, error message)."""
        if name not in self._cache:
            try:
                self._cache[name] = (resolve_gpu(name).name, None)
            except AdvisorError as exc:
                self._cache[name] = (None, exc.cli_message)
        return self._cache[name]


def region_matches(region: str, wanted: str) -> bool:
    """True if ``wanted`` (lower case) is ``region`` or one comma-separated part of it ("US" in "Florida, US")."""
    region = region.lower()
    return region == wanted or wanted in (part.strip() for part in region.split(","))


def offer_key(provider: str, instance_type: str, region: str) -> OfferKey:
    """The key a later row overrides an earlier one by (case-insensitive)."""
    return provider.lower(), instance_type.lower(), region.lower()


@dataclass
class Row:
    """One data row of a rates file: its place, its cells by column, and whether it is a built-in row."""

    where: str  # "file:line"
    values: dict[str, str]
    builtin: bool

    def text(self, col: str) -> str:
        """The cell of ``col``, "" when blank or absent."""
        return self.values.get(col, "")


@dataclass
class Rule:
    """A provider-wide row (instance_type '*'): a discount and/or a billing rule for a provider."""

    where: str
    provider: str
    region: str | None
    discount_pct: float | None
    billing: str | None
    min_billed_seconds: int | None


class RowErrors(list):
    """Every problem found so far, as "file:line: reason", raised together once the files are read."""

    def add(self, where: str, message: str) -> None:
        """Record a problem at ``where`` ("file:line")."""
        self.append(f"{where}: {message}")

    def raise_if_any(self) -> None:
        """Raise one ``CatalogError`` listing the problems (the first 25), if there are any."""
        if not self:
            return
        what = ", ".join(sorted({m.group(1) for e in self if (m := re.match(r"^(.*?):\d+: ", e))}))
        shown = self[:25]
        more = f"\n... and {len(self) - len(shown)} more" if len(self) > len(shown) else ""
        err = CatalogError(self[0] + "." if len(self) == 1 else
                           f"{what}: {len(self)} problems:\n" + "\n".join(shown) + more, hint=hint_for(self))
        err.problems = list(self)  # every one, for `pricing validate --json`
        raise err


def _check_header(where: str, header: list[str]) -> list[str]:
    """The header's problems, each at ``where`` ("file:line" of the header)."""
    errors = []
    for col in header:
        if col and col not in KNOWN_COLUMNS:
            errors.append(f"{where}: unknown column {col!r}.{did_you_mean(col, KNOWN_COLUMNS)}")
    for col in ("provider", "instance_type"):
        if col not in header:
            errors.append(f"{where}: the header has no {col!r} column")
    dup = sorted({c for c in header if c and header.count(c) > 1})
    if dup:
        errors.append(f"{where}: duplicate columns {', '.join(dup)}")
    return errors


def load_billing(directory: Path) -> dict[str, tuple[str, int]]:
    """Provider -> (billing, min_billed_seconds) from ``directory``'s billing.csv."""
    path = directory / BILLING_FILE
    _, _, rows = read_csv(path)
    return billing_rules(path, rows)


# ------------------------------------------------------------------------------------------- cells


def _number(value: str, col: str, where: str, errors: RowErrors, *, allow_zero: bool = False) -> float | None:
    """A non-negative finite number (positive unless ``allow_zero``); None for an empty cell."""
    if value == "":
        return None
    try:
        number = float(value.replace(",", "").replace("$", "")) if col.endswith("usd") else float(value)
    except ValueError:
        errors.add(where, f"{col} {value!r} is not a number")
        return None
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        errors.add(where, f"{col} {value!r} must be a positive number")
        return None
    return number


def _whole(value: str, col: str, where: str, errors: RowErrors) -> int | None:
    number = _number(value, col, where, errors, allow_zero=True)
    if number is None:
        return None
    if number != int(number):
        why = " (a fractional GPU, e.g. a vGPU slice, cannot be predicted: advisor predicts whole GPUs)" \
            if col == "gpu_count" else ""
        errors.add(where, f"{col} {value!r} is not a whole number{why}")
        return None
    return int(number)


# ------------------------------------------------------------------------------------------- rows


def parse_file(path: Path, *, builtin: bool, errors: RowErrors,
               excluded: list[str]) -> tuple[list[Row], list[Rule]]:
    """The offer rows and provider-wide rules of one file; bad rows go to ``errors``, built-in rows of a
    fractional GPU to ``excluded``."""
    header_line, header, records = read_csv(path)
    header_errors = _check_header(f"{path}:{header_line}", header)
    if header_errors:
        errors.extend(header_errors)
        return [], []
    rows: list[Row] = []
    rules: list[Rule] = []
    for line, values in records:
        where = f"{path.name if builtin else path}:{line}"
        if "__error__" in values:
            errors.add(where, values["__error__"])
            continue
        provider = values.get("provider", "").lower()
        if not provider:
            errors.add(where, "provider is empty")
            continue
        if not _PROVIDER_RE.match(provider):
            errors.add(where, f"provider {values['provider']!r} must be a lower-case name like 'aws' or 'onprem'")
            continue
        values["provider"] = provider
        if not values.get("instance_type"):
            errors.add(where, "instance_type is empty (use '*' for a rule that applies to the whole provider)")
            continue
        if values["instance_type"] == WILDCARD:
            rule = _parse_rule(values, where, errors)
            if rule is not None:
                rules.append(rule)
            continue
        if not values.get("region"):
            errors.add(where, "region is empty (it is part of the key provider, instance_type, region)")
            continue
        if builtin and _fractional_gpu(values, where, excluded):
            continue
        rows.append(Row(where, values, builtin))
    return rows, rules


def _fractional_gpu(values: dict[str, str], where: str, excluded: list[str]) -> bool:
    """True (and the row noted in ``excluded`` as "file:line: why") for a built-in row of a fraction of a GPU
    (a vGPU slice)."""
    if not values.get("gpu_count"):
        return False
    try:
        count = float(values["gpu_count"])
    except ValueError:
        return False  # reported by build_offer
    if count == int(count):
        return False
    excluded.append(f"{where}: {values['provider']} {values['instance_type']}: a fractional GPU ({count:g} of one "
                    f"{values.get('gpu_model')}); advisor predicts whole GPUs only")
    return True


def _parse_rule(values: dict[str, str], where: str, errors: RowErrors) -> Rule | None:
    for col in ("price_hour_usd", "spot_price_hour_usd", "gpu_model", "gpu_count"):
        if values.get(col):
            errors.add(where, f"{col} has no meaning on a provider-wide '*' row")
            return None
    discount = _number(values.get("discount_pct", ""), "discount_pct", where, errors, allow_zero=True)
    if discount is not None and discount >= 100:
        errors.add(where, f"discount_pct {values['discount_pct']!r} must be below 100")
        return None
    billing = values.get("billing") or None
    if billing is not None and billing not in BILLING_INCREMENT_SECONDS:
        errors.add(where, f"billing {billing!r} is not one of {', '.join(BILLING_INCREMENT_SECONDS)}")
        return None
    minimum = _whole(values.get("min_billed_seconds", ""), "min_billed_seconds", where, errors)
    if discount is None and billing is None and minimum is None:
        errors.add(where, "a provider-wide '*' row needs discount_pct, billing or min_billed_seconds")
        return None
    region = values.get("region", "")
    return Rule(where, values["provider"], None if region in ("", WILDCARD) else region.lower(), discount,
                 billing, minimum)


# ------------------------------------------------------------------------------------------- offers
# Each _*_fields helper checks its columns (adding to ``errors``) and fills blank cells of an overriding row
# from ``base``; the order of the calls in build_offer is the order a row's problems are listed in.


def _gpu_fields(row: Row, base: Offer | None, gpu_names: GpuNames,
                errors: RowErrors) -> tuple[str | None, int | None]:
    """(canonical GPU name or None for a CPU instance, GPU count)."""
    where = row.where
    gpu_model = row.text("gpu_model")
    gpu: str | None = base.gpu if base is not None else None
    gpu_ok = True
    if gpu_model:
        if gpu_model.lower() in ("none", "cpu", "-"):
            gpu = None
        else:
            gpu, problem = gpu_names(gpu_model)
            if problem:
                errors.add(where, f"gpu_model {gpu_model!r}: {problem}")
                gpu_ok = False
    if row.text("gpu_count"):
        count = _whole(row.text("gpu_count"), "gpu_count", where, errors)
    elif base is not None and gpu == base.gpu:
        count = base.gpu_count
    elif gpu is None:
        count = 0
    else:
        count = None
        errors.add(where, "gpu_count is empty: say how many GPUs the instance has")
    if count is not None and count > MAX_TARGET_GPUS:  # the most GPUs a Target (what is predicted for) holds
        errors.add(where, f"gpu_count {count:,} is more GPUs than advisor predicts for (at most {MAX_TARGET_GPUS:,})")
        count = None
    if gpu_ok and count is not None:
        if gpu is None and count:
            errors.add(where, f"gpu_count is {count} but gpu_model is empty: name the GPU model, or set 0")
        if gpu is not None and count == 0:
            errors.add(where, f"gpu_model is {gpu!r} but gpu_count is 0")
    return gpu, count


# The range an hourly price may be in. The dearest instance sold is about $120/h (an 8-GPU H200 or B200 box;
# the built-in catalog's dearest is $114/h) and the cheapest about a cent; past these bounds a price is a typo
# or a unit slip, and at the far ends a job's cost overflows to inf (1.7e308) or prints 300-digit dollar
# figures (1e-300).
MIN_PRICE_USD_PER_HOUR = 0.0001
MAX_PRICE_USD_PER_HOUR = 10_000.0


def _hourly(row: Row, col: str, errors: RowErrors) -> float | None:
    """The row's US$ per hour in ``col``, None when blank or out of range (the problem added to ``errors``)."""
    price = _number(row.text(col), col, row.where, errors)
    if price is not None and not MIN_PRICE_USD_PER_HOUR <= price <= MAX_PRICE_USD_PER_HOUR:
        errors.add(row.where, f"{col} {row.text(col)!r} is not an hourly price (${MIN_PRICE_USD_PER_HOUR:g} to "
                              f"${MAX_PRICE_USD_PER_HOUR:,.0f} per instance)")
        return None
    return price


def _price_fields(row: Row, base: Offer | None, errors: RowErrors) -> tuple[float | None, float | None]:
    """(on-demand, spot) US$ per hour, as in the row (flags and discounts are applied later)."""
    where = row.where
    price = _hourly(row, "price_hour_usd", errors)
    if not row.text("price_hour_usd"):
        if base is None:
            errors.add(where, "price_hour_usd is empty: give the on-demand price in US$ per hour")
        else:
            price = base.price_usd_per_hour
    spot = _hourly(row, "spot_price_hour_usd", errors)
    if not row.text("spot_price_hour_usd") and base is not None:
        spot = base.spot_price_usd_per_hour
    return price, spot


# The most vCPUs a row may give: past any instance sold (AWS's largest, u7in-32tb.224xlarge, has 896), and
# far below what a thread count can hold (a CPU instance is predicted at vcpus / 2 threads).
MAX_VCPUS = 10_000


def _size_fields(row: Row, base: Offer | None, gpu: str | None,
                 errors: RowErrors) -> tuple[int | None, float | None, float | None]:
    """(vCPUs, memory GiB, GPU memory GiB per GPU); the GPU memory is inherited only for the same GPU."""
    where = row.where
    vcpus = _whole(row.text("vcpus"), "vcpus", where, errors)
    if vcpus is not None and not 1 <= vcpus <= MAX_VCPUS:
        errors.add(where, f"vcpus {vcpus:,} is not a machine's count (1 to {MAX_VCPUS:,}; leave it empty when unknown)")
        vcpus = None
    memory = _number(row.text("memory_gib"), "memory_gib", where, errors)
    gpu_memory = _number(row.text("gpu_memory_gib"), "gpu_memory_gib", where, errors)
    if base is not None:
        vcpus = vcpus if vcpus is not None else base.vcpus
        memory = memory if memory is not None else base.memory_gib
        if gpu == base.gpu:
            gpu_memory = gpu_memory if gpu_memory is not None else base.gpu_memory_gib
    return vcpus, memory, gpu_memory


def _billing_fields(row: Row, base: Offer | None, rules: dict[str, tuple[str, int]],
                    errors: RowErrors) -> tuple[str, int]:
    """(billing increment, minimum billed seconds): the row's, else ``base``'s, else billing.csv's."""
    billing, minimum = rules.get(row.values["provider"], DEFAULT_BILLING)
    if base is not None:
        billing, minimum = base.billing, base.min_billed_seconds
    if row.text("billing"):
        if row.text("billing") not in BILLING_INCREMENT_SECONDS:
            errors.add(row.where, f"billing {row.text('billing')!r} is not one of "
                                  f"{', '.join(BILLING_INCREMENT_SECONDS)}")
        else:
            billing = row.text("billing")
    row_minimum = _whole(row.text("min_billed_seconds"), "min_billed_seconds", row.where, errors)
    if row_minimum is not None:
        minimum = row_minimum
    return billing, minimum


def _snapshot_date(row: Row, errors: RowErrors) -> str | None:
    snapshot = row.text("snapshot_date") or None
    if snapshot:
        # YYYY-MM-DD only: Python also reads 20260520 and 2026-W01-1, which sort apart from the others in
        # "prices as of"; and a price cannot have been seen after today (a day's grace for time zones).
        try:
            seen = date.fromisoformat(snapshot) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", snapshot) else None
        except ValueError:
            seen = None
        if seen is None:
            errors.add(row.where, f"snapshot_date {snapshot!r} is not a date like 2026-05-20")
        elif seen > date.today() + timedelta(days=1):
            errors.add(row.where, f"snapshot_date {snapshot!r} is in the future; it is the day the price was seen")
    return snapshot


def _flags(row: Row, errors: RowErrors) -> tuple[list[str], float | None]:
    """(the row's flags, its discount in percent): what changes its prices once it is valid."""
    row_flags = [f.strip() for f in row.text("flags").split(";") if f.strip()]
    for f in row_flags:
        if f not in FLAGS:
            errors.add(row.where, f"flag {f!r} is not one of {', '.join(FLAGS)}")
    discount = _number(row.text("discount_pct"), "discount_pct", row.where, errors, allow_zero=True)
    if discount is not None and discount >= 100:
        errors.add(row.where, f"discount_pct {row.text('discount_pct')!r} must be below 100")
    return row_flags, discount


def _adjusted_prices(row: Row, base: Offer | None, price: float, spot: float | None, row_flags: list[str],
                     flags: list[str]) -> tuple[float, float | None, str | None, bool]:
    """(price, spot, notes, suspect) after the row's flags, each change noted in ``flags`` (its discount is
    applied later: ``with_row_discount``)."""
    v, where = row.values, row.where
    label = f"{v['provider']} {v['instance_type']} ({v['region']})"
    inherited = base.notes if base is not None and base.notes else ""
    suspect = base is not None and base.suspect_price
    if row.text("price_hour_usd"):  # a new price is no longer the flagged one
        inherited = inherited.removeprefix(SUSPECT_NOTE).removeprefix("; ")
        suspect = False
    if row.text("spot_price_hour_usd"):  # a new spot price is not the undated one, nor the cheapest zone's
        for note in (SPOT_UNDATED_NOTE, SPOT_ZONE_MIN_NOTE):
            inherited = inherited.replace(f"; {note}", "").replace(note, "")
    notes = [row.text("notes") or inherited]
    if "suspect_price" in row_flags:
        suspect = True
        notes.insert(0, SUSPECT_NOTE)
        flags.append(f"{label}: price flagged as suspect ({where})")
    if spot is not None and "drop_spot" in row_flags:
        flags.append(f"{label}: spot {spot:g} dropped, flagged as wrong in the source ({where})")
        notes.append(f"spot {spot:g} in the source dropped (flagged)")
        spot = None
    if spot is not None and spot >= price:
        why = "equals" if spot == price else "is above"
        flags.append(f"{label}: spot {spot:g} {why} on-demand {price:g}: spot dropped ({where})")
        notes.append(f"spot {spot:g} in the source {why} on-demand: treated as no spot price")
        spot = None
    if spot is not None and "spot_undated" in row_flags:
        flags.append(f"{label}: spot {spot:g} is undated; snapshot_date is the on-demand price's ({where})")
        notes.append(SPOT_UNDATED_NOTE)
    if spot is not None and "spot_zone_min" in row_flags:
        notes.append(SPOT_ZONE_MIN_NOTE)
    return price, spot, "; ".join(n for n in notes if n) or None, suspect


def with_row_discount(offer: Offer, discount_pct: float, where: str, flags: list[str]) -> Offer:
    """``offer`` with the ``discount_pct`` of the row at ``where``, noted on the offer and in ``flags``.

    ``merge.py`` applies it once the files are read, to the offer as the rows left it: a later row's discount
    replaces an earlier one's, rather than discounting the discounted price again.
    """
    notes = [n for n in (offer.notes, f"{discount_pct:g}% discount applied ({where})") if n]
    flags.append(f"{offer.provider} {offer.instance_type} ({offer.region}): {discount_pct:g}% discount ({where})")
    return offer.model_copy(update={**discounted(offer, discount_pct), "notes": "; ".join(notes)})


def discounted(offer: Offer, discount_pct: float) -> dict[str, float | None]:
    """``offer``'s on-demand and spot prices less ``discount_pct`` percent: a row's discount and a provider-wide
    rule's are taken off alike."""
    factor = 1 - discount_pct / 100
    spot = offer.spot_price_usd_per_hour
    return {"price_usd_per_hour": offer.price_usd_per_hour * factor,
            "spot_price_usd_per_hour": spot * factor if spot is not None else None}


def build_offer(row: Row, base: Offer | None, billing_rules: dict[str, tuple[str, int]],
                gpu_names: GpuNames, errors: RowErrors, flags: list[str]) -> Offer | None:
    """An Offer from a row, or None (its problems added to ``errors``).

    Blank fields of a row that overrides ``base`` keep ``base``'s values. Price changes made on load
    (a spot price dropped, a suspect flag) are appended to ``flags``; the row's discount is not applied here
    (``with_row_discount``).
    """
    n_errors = len(errors)
    gpu, count = _gpu_fields(row, base, gpu_names, errors)
    price, spot = _price_fields(row, base, errors)
    vcpus, memory, gpu_memory = _size_fields(row, base, gpu, errors)
    billing, minimum = _billing_fields(row, base, billing_rules, errors)
    snapshot = _snapshot_date(row, errors)
    row_flags, _ = _flags(row, errors)
    if len(errors) > n_errors or price is None:
        return None
    price, spot, notes, suspect = _adjusted_prices(row, base, price, spot, row_flags, flags)
    v = row.values
    source = row.text("source") or (None if row.builtin else f"user file {row.where}")
    return Offer(
        provider=v["provider"], instance_type=v["instance_type"], region=v["region"], vcpus=vcpus,
        memory_gib=memory, gpu=gpu, gpu_count=count or 0, gpu_memory_gib=gpu_memory, price_usd_per_hour=price,
        spot_price_usd_per_hour=spot, billing=billing, min_billed_seconds=minimum, snapshot_date=snapshot,
        source=source, notes=notes, suspect_price=suspect,
    )
