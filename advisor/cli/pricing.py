"""``advisor pricing list`` and ``advisor pricing validate``: the hourly-rate catalog."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from advisor.cli.errors import handle_errors

app = typer.Typer(help="The hourly-rate catalog (on-demand and spot).", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_offers(
    provider: Annotated[str | None, typer.Option("--provider", help="e.g. aws or aws,gcp.")] = None,
    gpu: Annotated[str | None, typer.Option("--gpu", help="GPU model, e.g. H100; 'none' for CPU only.")] = None,
    max_price: Annotated[str | None, typer.Option("--max-price", help="Max on-demand $/hour, e.g. 3 or $3.")
                         ] = None,
    region: Annotated[str | None, typer.Option("--region")] = None,
    pricing: Annotated[list[Path] | None, typer.Option("--pricing", help="Extra/overriding rates CSV.")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List offers, cheapest first."""
    from advisor import pricing as catalog_mod
    from advisor.cli import render
    from advisor.errors import ConfigError
    from advisor.settings import Settings
    from advisor.units import parse_names, parse_usd

    # "$3" and "3usd" as --budget takes them; "nan" and "inf" refused (a NaN bound would silently match nothing).
    given = max_price
    try:
        max_price = None if given is None else 0.0 if given.strip().lstrip("$") in ("0", "0.0") \
            else parse_usd(given, what="--max-price")
    except ConfigError:
        max_price = math.nan
    if max_price is not None and not (math.isfinite(max_price) and max_price >= 0):
        raise ConfigError(f"--max-price must be a finite number of US$ per hour, 0 or more; got {given!r}.",
                          hint="Fix: e.g. --max-price 5 or --max-price '$5'.")
    settings = Settings.from_env()
    catalog = catalog_mod.load_catalog([*settings.pricing_files, *(pricing or [])])
    cpu_only = gpu is not None and gpu.lower() in ("none", "cpu")
    filters = dict(providers=parse_names(provider), regions=parse_names(region), gpu=None if cpu_only else gpu,
                   cpu_only=cpu_only)
    offers = catalog.filter(max_price_usd_per_hour=max_price, **filters)
    offers = sorted(offers, key=lambda o: (o.price_usd_per_hour, o.provider, o.instance_type))
    if json_out:
        render.print_json({"schema_version": 1, "count": len(offers),
                           "offers": [o.listing_json() for o in offers]})
    elif not offers:  # the filters' words, and the cheapest offer the others allow: what --max-price would need
        cheapest = min((o.price_usd_per_hour for o in catalog.filter(**filters)), default=None) \
            if max_price is not None else None
        render.out().print("No offer matches these filters"
                           + (f" (the cheapest that the others allow is {_enough_digits(cheapest)})"
                              if max_price is not None and cheapest is not None else "")
                           + ": drop or widen --provider, --region, --gpu or --max-price.")
    else:
        render.offers(offers)


def _enough_digits(price_usd_per_hour: float) -> str:
    """The price as the table shows it ("$0.0892"), or with every digit ("$0.08925") where that figure is below
    it: the hint's number, given as --max-price, passes the filter."""
    from advisor.cli import render

    shown = render.format_usd(price_usd_per_hour, rate=True)
    if float(shown.lstrip("$").replace(",", "")) >= price_usd_per_hour:
        return shown
    return f"${price_usd_per_hour!r}"


@app.command("validate")
@handle_errors
def validate(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A rates CSV in the catalog's format.")],
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check a rates file; prints every problem with file:line, exit code 1 if any.

    Rows the loader leaves out on purpose (the built-in catalog's fractional GPUs) are listed as skipped, with
    the reason: they are not problems, and the exit code stays 0.
    """
    from advisor import pricing as catalog_mod
    from advisor.cli import render
    from advisor.errors import CatalogError
    from advisor.pricing.csvfile import check_rates_path

    try:
        # here first, so a bad path's hint names this command's FILE (the loader's names --pricing)
        check_rates_path(file, given="given to `advisor pricing validate`")
        found = catalog_mod.check_file(file)
    except CatalogError as exc:
        if not json_out:
            raise
        _print_invalid(file, exc)
        raise typer.Exit(code=1) from None
    if json_out:
        render.print_json({"schema_version": 1, "file": str(file), "valid": True, "offers": len(found.offers),
                           "skipped": found.skipped, "billing_rules": found.billing_rules,
                           "warnings": found.warnings})
        return
    if found.billing_rules:
        render.line(f"{file}: billing rules for {found.billing_rules} providers, all valid.")
        return
    n = len(found.offers)
    render.line(f"{file}: {n} valid offer{'' if n == 1 else 's'}.")
    for why in found.warnings:  # valid, so exit 0: a row that does nothing is not an error
        render.line(f"warning: {why}")
    if found.skipped:
        render.line(f"{len(found.skipped)} rows skipped, as the loader skips them (not problems):")
        for why in found.skipped:
            render.line(f"  {why}")


def _print_invalid(file: Path, exc: Exception) -> None:
    """``validate --json`` of a file with problems: ``"valid": false`` and each problem as fields (it printed
    nothing on stdout, so a CI check had only stderr's English)."""
    from advisor.cli import render
    from advisor.pricing.fixes import problem_fields
    from advisor.pricing.rows import KNOWN_COLUMNS

    problems = getattr(exc, "problems", None)
    listed = [problem_fields(p, KNOWN_COLUMNS) for p in problems] if problems else [
        {"file": str(file), "line": None, "column": None, "message": getattr(exc, "message", str(exc)),
         "fix": getattr(exc, "hint", None)}]
    render.print_json({"schema_version": 1, "file": str(file), "valid": False, "problems": listed})
