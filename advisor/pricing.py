"""The hourly-rate catalog: loading and validating rate files, user overrides and discounts, billing rules.

The built-in catalog is ``pricing/instances.csv`` and ``pricing/e2e_networks.csv`` (one row per instance type,
on-demand and spot US$/hour), with ``pricing/billing.csv`` giving each provider's billing rule. Users add or
override rows with their own files in the same format (``--pricing FILE`` or ``ADVISOR_PRICING``); see
``pricing/README.md`` for the format. No torch, no network: everything here is a few hundred CSV rows.

Billing: a run of ``s`` seconds is billed as ``s`` rounded up to the provider's increment (1 s, 60 s or
3600 s), and at least the provider's minimum; cost = billed hours x hourly rate.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from advisor.errors import AdvisorError, CatalogError, did_you_mean
from advisor.hardware.specs import normalize_name, resolve_gpu
from advisor.schemas import Offer

BUILTIN_FILES = ("instances.csv", "e2e_networks.csv")
BILLING_FILE = "billing.csv"

KEY_COLUMNS = ("provider", "instance_type", "region")
OFFER_COLUMNS = (
    "provider", "instance_type", "region", "vcpus", "memory_gib", "gpu_model", "gpu_count", "gpu_memory_gib",
    "price_hour_usd", "spot_price_hour_usd", "source", "snapshot_date", "notes",
)
EXTRA_COLUMNS = ("flags", "billing", "min_billed_seconds", "discount_pct")
KNOWN_COLUMNS = OFFER_COLUMNS + EXTRA_COLUMNS

BILLING_INCREMENT_SECONDS = {"per_second": 1, "per_minute": 60, "per_hour": 3600}
# A provider missing from billing.csv and from the user's file (an on-prem box, a new cloud): per-second,
# no minimum - an amortised hourly cost accrues continuously.
DEFAULT_BILLING = ("per_second", 0)
FLAGS = {
    "suspect_price": "price flagged as suspect in the catalog",
    "drop_spot": "spot price dropped (flagged as wrong in the source)",
}
WILDCARD = "*"
SUSPECT_NOTE = "SUSPECT PRICE"  # leads Offer.notes of a row flagged suspect_price (recommend notes it)

_FORMAT_HINT = ("Fix: each row needs provider, instance_type, region, gpu_model (blank for a CPU instance), "
                "gpu_count and price_hour_usd (US$ per hour); optional: spot_price_hour_usd, vcpus, memory_gib, "
                "gpu_memory_gib, billing, min_billed_seconds, discount_pct, source, snapshot_date, notes. "
                "See pricing/README.md ('Your own rates').")
_PROVIDER_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


# ------------------------------------------------------------------------------------------- billing


def billed_seconds(offer: Offer, seconds: float) -> float:
    """Seconds the provider bills for a run of ``seconds``: rounded up to its increment, at least its minimum."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
    unit = BILLING_INCREMENT_SECONDS[offer.billing]
    # The 1e-9 keeps 3600.0000000001 (float noise) from becoming a second hour.
    billed = math.ceil(seconds / unit - 1e-9) * unit
    return float(max(billed, offer.min_billed_seconds, 0))


def cost_usd(offer: Offer, seconds: float, *, spot: bool = False, startup_seconds: float = 0.0) -> float:
    """US$ for a job of ``seconds`` plus ``startup_seconds`` of paid set-up on ``offer``.

    ``spot=True`` prices it at the spot (interruptible) rate; a ``CatalogError`` if the offer has none.
    """
    rate = offer.price_usd_per_hour
    if spot:
        if offer.spot_price_usd_per_hour is None:
            raise CatalogError(f"{offer.provider} {offer.instance_type} ({offer.region}) has no spot price.",
                               hint="Fix: price it on demand (spot=False), or add a spot_price_hour_usd with "
                                    "--pricing FILE.")
        rate = offer.spot_price_usd_per_hour
    return billed_seconds(offer, startup_seconds + seconds) / 3600.0 * rate


# ------------------------------------------------------------------------------------------- catalog


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
        return sorted({o.provider for o in self.offers})

    @property
    def gpus(self) -> list[str]:
        return sorted({o.gpu for o in self.offers if o.gpu})

    @property
    def regions(self) -> list[str]:
        return sorted({o.region for o in self.offers})

    def snapshot(self) -> dict:
        """What a recommendation records about the prices it used."""
        return {"dates": dict(self.dates), "sources": {k: list(v) for k, v in self.sources.items()},
                "files": list(self.files), "flags": list(self.flags), "excluded": list(self.excluded)}

    def filter(self, providers: Iterable[str] | None = None, regions: Iterable[str] | None = None,
               gpu: str | None = None, max_price_usd_per_hour: float | None = None, cpu_only: bool = False,
               gpu_only: bool = False) -> list[Offer]:
        """The offers matching every given filter, in catalog order.

        ``providers``: names (case-insensitive). ``regions``: a region as listed ("us-east-1"), or one of the
        comma-separated parts of a marketplace region ("US" matches "Florida, US, NA"). ``gpu``: a GPU model,
        exact ("A100-80GB") or a family prefix ("A100" = every A100). Unknown names raise ``CatalogError``
        with a "did you mean".
        """
        offers = self.offers
        if providers:
            wanted = {p.strip().lower() for p in providers if p and p.strip()}
            known = set(self.providers)
            for p in sorted(wanted - known):
                raise CatalogError(f"Unknown provider {p!r}.{did_you_mean(p, known)}",
                                   hint=f"Fix: use one of {', '.join(sorted(known))}.")
            offers = [o for o in offers if o.provider in wanted]
        if regions:
            wanted_regions = [r.strip().lower() for r in regions if r and r.strip()]
            for r in wanted_regions:
                if not any(_region_matches(o.region, r) for o in self.offers):
                    raise CatalogError(f"Unknown region {r!r}.{did_you_mean(r, self.regions)}",
                                       hint="Fix: run `advisor pricing list` to see the regions in the catalog.")
            offers = [o for o in offers if any(_region_matches(o.region, r) for r in wanted_regions)]
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
        """Catalog GPU names that ``name`` means: the exact model, else every model it is a prefix of
        ("H100" = H100-SXM, H100-PCIe and H100-NVL), else the model it is an alias of ("Quadro RTX 6000")."""
        key = normalize_name(name)
        exact = {g for g in self.gpus if normalize_name(g) == key}
        if exact:
            return exact
        family = {g for g in self.gpus if normalize_name(g).startswith(key)} if key else set()
        if family:
            return family
        resolved, _ = _GpuNames()(name)
        if resolved and resolved in self.gpus:
            return {resolved}
        raise CatalogError(f"No GPU {name!r} in the catalog.{did_you_mean(name, self.gpus)}",
                           hint="Fix: run `advisor pricing list` to see the GPU models offered.")


def _region_matches(region: str, wanted: str) -> bool:
    region = region.lower()
    return region == wanted or wanted in (part.strip() for part in region.split(","))


# ----------------------------------------------------------------------------------------- GPU names


class _GpuNames:
    """Resolves a file's gpu_model values to canonical spec names (profiles/gpus.csv), once per name."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[str | None, str | None]] = {}

    def __call__(self, name: str) -> tuple[str | None, str | None]:
        """(canonical name, None) or (None, error message)."""
        if name not in self._cache:
            try:
                self._cache[name] = (resolve_gpu(name).name, None)
            except AdvisorError as exc:
                self._cache[name] = (None, exc.message)
        return self._cache[name]


# ------------------------------------------------------------------------------------------- parsing


@dataclass
class _Row:
    where: str  # "file:line"
    values: dict[str, str]
    builtin: bool


@dataclass
class _Rule:
    """A provider-wide row (instance_type '*'): a discount and/or a billing rule for a provider."""

    where: str
    provider: str
    region: str | None
    discount_pct: float | None
    billing: str | None
    min_billed_seconds: int | None


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CatalogError(f"{path}: no such pricing file.",
                           hint="Fix: check the path given to --pricing or ADVISOR_PRICING.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read it ({exc}).",
                           hint="Fix: the rates file must be a UTF-8 CSV file.") from None
    reader = csv.reader(text.splitlines())
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise CatalogError(f"{path}: the file is empty.", hint=_FORMAT_HINT) from None
    rows: list[tuple[int, dict[str, str]]] = []
    start = reader.line_num + 1
    for record in reader:
        line = start
        start = reader.line_num + 1
        if not any(cell.strip() for cell in record) or record[0].lstrip().startswith("#"):
            continue
        if len(record) > len(header):
            rows.append((line, {"__error__": f"{len(record)} fields but the header has {len(header)}"}))
            continue
        rows.append((line, {h: (record[i].strip() if i < len(record) else "") for i, h in enumerate(header)}))
    return header, rows


def _check_header(path: Path, header: list[str]) -> list[str]:
    errors = []
    for col in header:
        if col and col not in KNOWN_COLUMNS:
            errors.append(f"{path}:1: unknown column {col!r}.{did_you_mean(col, KNOWN_COLUMNS)}")
    for col in ("provider", "instance_type"):
        if col not in header:
            errors.append(f"{path}:1: the header has no {col!r} column")
    dup = sorted({c for c in header if c and header.count(c) > 1})
    if dup:
        errors.append(f"{path}:1: duplicate columns {', '.join(dup)}")
    return errors


def _load_billing(directory: Path) -> dict[str, tuple[str, int]]:
    path = directory / BILLING_FILE
    _, rows = _read_csv(path)
    rules: dict[str, tuple[str, int]] = {}
    for line, row in rows:
        billing = row.get("billing", "")
        if billing not in BILLING_INCREMENT_SECONDS:
            raise CatalogError(f"{path}:{line}: billing {billing!r} is not one of "
                               f"{', '.join(BILLING_INCREMENT_SECONDS)}.")
        try:
            minimum = int(row.get("min_billed_seconds") or 0)
        except ValueError:
            raise CatalogError(f"{path}:{line}: min_billed_seconds {row.get('min_billed_seconds')!r} "
                               "is not a whole number.") from None
        rules[row["provider"].strip().lower()] = (billing, minimum)
    return rules


class _Errors(list):
    def add(self, where: str, message: str) -> None:
        self.append(f"{where}: {message}")


def _number(value: str, col: str, where: str, errors: _Errors, *, allow_zero: bool = False) -> float | None:
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


def _whole(value: str, col: str, where: str, errors: _Errors) -> int | None:
    number = _number(value, col, where, errors, allow_zero=True)
    if number is None:
        return None
    if number != int(number):
        why = " (a fractional GPU, e.g. a vGPU slice, cannot be predicted: advisor predicts whole GPUs)" \
            if col == "gpu_count" else ""
        errors.add(where, f"{col} {value!r} is not a whole number{why}")
        return None
    return int(number)


def _parse_file(path: Path, *, builtin: bool, errors: _Errors,
                excluded: list[str]) -> tuple[list[_Row], list[_Rule]]:
    header, records = _read_csv(path)
    header_errors = _check_header(path, header)
    if header_errors:
        errors.extend(header_errors)
        return [], []
    rows: list[_Row] = []
    rules: list[_Rule] = []
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
        if builtin and values.get("gpu_count"):
            try:
                count = float(values["gpu_count"])
            except ValueError:
                count = None  # reported by _build_offer
            if count is not None and count != int(count):
                excluded.append(f"{provider} {values['instance_type']}: a fractional GPU ({count:g} of a "
                                f"{values.get('gpu_model')}); advisor predicts whole GPUs only")
                continue
        rows.append(_Row(where, values, builtin))
    return rows, rules


def _parse_rule(values: dict[str, str], where: str, errors: _Errors) -> _Rule | None:
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
    return _Rule(where, values["provider"], None if region in ("", WILDCARD) else region.lower(), discount,
                 billing, minimum)


def _key(provider: str, instance_type: str, region: str) -> tuple[str, str, str]:
    return provider.lower(), instance_type.lower(), region.lower()


def _build_offer(row: _Row, base: Offer | None, billing_rules: dict[str, tuple[str, int]],
                 gpu_names: _GpuNames, errors: _Errors, flags: list[str]) -> Offer | None:
    """An Offer from a row; blank fields of a row that overrides ``base`` keep ``base``'s values."""
    v, where = row.values, row.where
    n_errors = len(errors)

    def text(col: str) -> str:
        return v.get(col, "")

    gpu_model = text("gpu_model")
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
    if text("gpu_count"):
        count = _whole(text("gpu_count"), "gpu_count", where, errors)
    elif base is not None and gpu == base.gpu:
        count = base.gpu_count
    elif gpu is None:
        count = 0
    else:
        count = None
        errors.add(where, "gpu_count is empty: say how many GPUs the instance has")
    if gpu_ok and count is not None:
        if gpu is None and count:
            errors.add(where, f"gpu_count is {count} but gpu_model is empty: name the GPU model, or set 0")
        if gpu is not None and count == 0:
            errors.add(where, f"gpu_model is {gpu!r} but gpu_count is 0")

    price = _number(text("price_hour_usd"), "price_hour_usd", where, errors)
    if not text("price_hour_usd"):
        if base is None:
            errors.add(where, "price_hour_usd is empty: give the on-demand price in US$ per hour")
        else:
            price = base.price_usd_per_hour
    spot = _number(text("spot_price_hour_usd"), "spot_price_hour_usd", where, errors)
    if not text("spot_price_hour_usd") and base is not None:
        spot = base.spot_price_usd_per_hour

    vcpus = _whole(text("vcpus"), "vcpus", where, errors)
    memory = _number(text("memory_gib"), "memory_gib", where, errors)
    gpu_memory = _number(text("gpu_memory_gib"), "gpu_memory_gib", where, errors)
    if base is not None:
        vcpus = vcpus if vcpus is not None else base.vcpus
        memory = memory if memory is not None else base.memory_gib
        if gpu == base.gpu:
            gpu_memory = gpu_memory if gpu_memory is not None else base.gpu_memory_gib

    provider = v["provider"]
    billing, minimum = billing_rules.get(provider, DEFAULT_BILLING)
    if base is not None:
        billing, minimum = base.billing, base.min_billed_seconds
    if text("billing"):
        if text("billing") not in BILLING_INCREMENT_SECONDS:
            errors.add(where, f"billing {text('billing')!r} is not one of {', '.join(BILLING_INCREMENT_SECONDS)}")
        else:
            billing = text("billing")
    row_minimum = _whole(text("min_billed_seconds"), "min_billed_seconds", where, errors)
    if row_minimum is not None:
        minimum = row_minimum

    snapshot = text("snapshot_date") or None
    if snapshot:
        try:
            date.fromisoformat(snapshot)
        except ValueError:
            errors.add(where, f"snapshot_date {snapshot!r} is not a date like 2026-05-20")

    row_flags = [f.strip() for f in text("flags").split(";") if f.strip()]
    for f in row_flags:
        if f not in FLAGS:
            errors.add(where, f"flag {f!r} is not one of {', '.join(FLAGS)}")
    discount = _number(text("discount_pct"), "discount_pct", where, errors, allow_zero=True)
    if discount is not None and discount >= 100:
        errors.add(where, f"discount_pct {text('discount_pct')!r} must be below 100")
    if len(errors) > n_errors:
        return None

    label = f"{provider} {v['instance_type']} ({v['region']})"
    inherited = base.notes if base is not None and base.notes else ""
    if text("price_hour_usd"):  # a new price is no longer the flagged one
        inherited = inherited.removeprefix(SUSPECT_NOTE).removeprefix("; ")
    notes = [text("notes") or inherited]
    if "suspect_price" in row_flags:
        notes.insert(0, SUSPECT_NOTE)
        flags.append(f"{label}: price flagged as suspect ({where})")
    if spot is not None and "drop_spot" in row_flags:
        flags.append(f"{label}: spot {spot:g} dropped, flagged as wrong in the source ({where})")
        notes.append(f"spot {spot:g} in the source dropped (flagged)")
        spot = None
    if spot is not None and price is not None and spot >= price:
        why = "equals" if spot == price else "is above"
        flags.append(f"{label}: spot {spot:g} {why} on-demand {price:g}: spot dropped ({where})")
        notes.append(f"spot {spot:g} in the source {why} on-demand: treated as no spot price")
        spot = None
    if discount:
        price = price * (1 - discount / 100)
        spot = spot * (1 - discount / 100) if spot is not None else None
        notes.append(f"{discount:g}% discount applied ({where})")
        flags.append(f"{label}: {discount:g}% discount ({where})")
    source = text("source") or (None if row.builtin else f"user file {where}")
    return Offer(
        provider=provider, instance_type=v["instance_type"], region=v["region"], vcpus=vcpus, memory_gib=memory,
        gpu=gpu, gpu_count=count or 0, gpu_memory_gib=gpu_memory, price_usd_per_hour=price,
        spot_price_usd_per_hour=spot, billing=billing, min_billed_seconds=minimum,
        snapshot_date=snapshot,
        source=source, notes="; ".join(n for n in notes if n) or None,
    )


def _apply_rule(offer: Offer, rule: _Rule) -> Offer:
    if rule.provider != offer.provider or (rule.region is not None and not _region_matches(offer.region,
                                                                                            rule.region)):
        return offer
    update: dict = {}
    notes = [offer.notes] if offer.notes else []
    if rule.discount_pct:
        factor = 1 - rule.discount_pct / 100
        update["price_usd_per_hour"] = offer.price_usd_per_hour * factor
        if offer.spot_price_usd_per_hour is not None:
            update["spot_price_usd_per_hour"] = offer.spot_price_usd_per_hour * factor
        notes.append(f"{rule.discount_pct:g}% {rule.provider} discount applied ({rule.where})")
    if rule.billing is not None:
        update["billing"] = rule.billing
    if rule.min_billed_seconds is not None:
        update["min_billed_seconds"] = rule.min_billed_seconds
    update["notes"] = "; ".join(notes) or None
    return offer.model_copy(update=update)


def _raise_if(errors: _Errors) -> None:
    if not errors:
        return
    what = ", ".join(sorted({m.group(1) for e in errors if (m := re.match(r"^(.*?):\d+: ", e))}))
    shown = errors[:25]
    more = f"\n... and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
    if len(errors) == 1:
        raise CatalogError(errors[0] + ".", hint=_FORMAT_HINT)
    raise CatalogError(f"{what}: {len(errors)} problems:\n" + "\n".join(shown) + more, hint=_FORMAT_HINT)


def _builtin_dir() -> Path:
    from advisor.data_files import data_dir

    return data_dir("pricing")


def _load(extra_files: Sequence[Path], include_builtin: bool) -> tuple[Catalog, dict[tuple, str]]:
    """The catalog, and for each offer key the file:line that last defined or changed it."""
    directory = _builtin_dir()
    billing_rules = _load_billing(directory)
    gpu_names = _GpuNames()
    errors = _Errors()
    excluded: list[str] = []
    flags: list[str] = []
    offers: dict[tuple[str, str, str], Offer] = {}
    origin: dict[tuple[str, str, str], str] = {}
    files: list[tuple[Path, bool]] = []
    if include_builtin:
        files += [(directory / name, True) for name in BUILTIN_FILES]
    files += [(Path(p), False) for p in extra_files]
    rules: list[_Rule] = []
    for path, builtin in files:
        rows, file_rules = _parse_file(path, builtin=builtin, errors=errors, excluded=excluded)
        rules += file_rules
        seen: dict[tuple, str] = {}
        for row in rows:
            v = row.values
            key = _key(v["provider"], v["instance_type"], v["region"])
            if key in seen:
                errors.add(row.where, f"{v['provider']} {v['instance_type']} {v['region']} is already on "
                                      f"line {seen[key].rsplit(':', 1)[1]} of this file")
                continue
            seen[key] = row.where
            offer = _build_offer(row, offers.get(key), billing_rules, gpu_names, errors, flags)
            if offer is not None:
                offers[key] = offer
                origin[key] = row.where
    _raise_if(errors)
    for rule in rules:
        for key, offer in offers.items():
            changed = _apply_rule(offer, rule)
            if changed is not offer:
                offers[key], origin[key] = changed, rule.where
        if rule.discount_pct:
            flags.append(f"{rule.provider}{' ' + rule.region if rule.region else ''}: {rule.discount_pct:g}% "
                         f"discount on every offer ({rule.where})")
    result = list(offers.values())
    catalog = Catalog(offers=result, files=[str(p) for p, _ in files], flags=flags, excluded=excluded)
    catalog.dates, catalog.sources = _provenance(result)
    return catalog, origin


def _provenance(offers: Sequence[Offer]) -> tuple[dict[str, str], dict[str, list[str]]]:
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
            dates[provider] = text + (f" ({undated} rows undated)" if undated else "")
        srcs: list[str] = []
        for o in mine:
            if o.source and not o.source.startswith("user file ") and o.source not in srcs:
                srcs.append(o.source)
        if any(o.source and o.source.startswith("user file ") for o in mine):
            srcs.append("user file")
        sources[provider] = srcs
    return dates, sources


def load_catalog(extra_files: Sequence[Path] = (), *, include_builtin: bool = True) -> Catalog:
    """The built-in catalog plus the user's files, in order (a later row with the same provider,
    instance_type and region overrides an earlier one; blank fields keep the earlier values).

    Raises ``CatalogError`` naming every bad row as file:line with the reason.
    """
    catalog, _ = _load([Path(p) for p in extra_files], include_builtin)
    return catalog


def validate_file(path: Path | str) -> list[Offer]:
    """Check a user rates file against the built-in catalog; returns the offers it adds or overrides.

    Raises ``CatalogError`` listing every problem as file:line and the reason.
    """
    path = Path(path)
    catalog, origin = _load([path], True)
    prefix = f"{path}:"
    return [o for o in catalog.offers if origin[_key(o.provider, o.instance_type, o.region)].startswith(prefix)]
