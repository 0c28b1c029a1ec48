"""The hourly-rate catalog: loading and validating rate files, user overrides and discounts, billing rules.

The built-in catalog is ``pricing/instances.csv`` and ``pricing/e2e_networks.csv`` (one row per instance type,
on-demand and spot US$/hour), with ``pricing/billing.csv`` giving each provider's billing rule. Users add or
override rows with their own files in the same format (``--pricing FILE`` or ``ADVISOR_PRICING``); see
``pricing/README.md`` for the format. No torch, no network: everything here is a few hundred CSV rows.

Modules: ``catalog`` (``Catalog`` and its queries, ``load_catalog``), ``csvfile`` (reading one file, bounded),
``rows`` (one file's rows, validated), ``merge`` (the files in order: overrides, provider-wide rules,
``check_file``/``validate_file``), ``fixes`` (the "Fix:" line for each kind of problem) and ``billing``
(``billed_seconds``, ``cost_usd``). Only ``billing`` is imported eagerly, so the ranker, which needs only
billing, does not load the CSV parser or the GPU specs; the other names load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from advisor.pricing.billing import billed_seconds, cost_usd

if TYPE_CHECKING:
    from advisor.pricing.catalog import Catalog, load_catalog
    from advisor.pricing.merge import FileCheck, check_file, validate_file
    from advisor.pricing.rows import SUSPECT_NOTE

__all__ = ["SUSPECT_NOTE", "Catalog", "FileCheck", "billed_seconds", "catalog_version", "check_file", "cost_usd",
           "load_catalog", "validate_file"]

_LAZY = {
    "Catalog": "advisor.pricing.catalog",
    "catalog_version": "advisor.pricing.catalog",
    "load_catalog": "advisor.pricing.catalog",
    "validate_file": "advisor.pricing.merge",
    "check_file": "advisor.pricing.merge",
    "FileCheck": "advisor.pricing.merge",
    "SUSPECT_NOTE": "advisor.pricing.rows",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'advisor.pricing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
