from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.data_files import data_dir
from advisor.errors import CatalogError
from advisor.hardware.specs import load_gpu_specs
from advisor.pricing import billed_seconds, cost_usd, load_catalog, validate_file
from advisor.schemas import Offer

PRICING = data_dir("pricing")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "instances.csv"
USER_HEADER = "provider,instance_type,region,gpu_model,gpu_count,price_hour_usd,spot_price_hour_usd\n"


def write(tmp_path: Path, text: str, name: str = "prices.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def offer(**kw) -> Offer:
    base = dict(provider="x", instance_type="t", region="r", price_usd_per_hour=3.6)
    base.update(kw)
    return Offer(**base)


def find(catalog, provider, instance_type):
    matches = [o for o in catalog.offers if o.provider == provider and o.instance_type == instance_type]
    assert len(matches) == 1, matches
    return matches[0]


# ------------------------------------------------------------------------------------------- catalog


def test_builtin_catalog_row_count_is_the_sources_minus_documented_exclusions():
    with (PRICING / "instances.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    with (PRICING / "e2e_networks.csv").open() as fh:
        e2e = list(csv.DictReader(fh))
    fractional = [r for r in rows if r["gpu_count"] and float(r["gpu_count"]) != int(float(r["gpu_count"]))]
    assert (len(rows), len(e2e), len(fractional)) == (279, 2, 8)  # the figures pricing/README.md gives
    catalog = load_catalog()
    assert len(catalog.offers) == 279 + 2 - 8
    assert len(catalog.excluded) == 8 and all("fractional GPU" in e for e in catalog.excluded)
    assert {o.provider for o in catalog.offers} == {"aws", "gcp", "azure", "lambda", "runpod", "vast", "e2e"}


# Rows corrected from the gathered snapshot against the provider's own page (pricing/README.md, "Corrections"):
# (provider, instance_type) -> the columns that differ; each corrected row's notes say what and from where.
CORRECTED = {("azure", "Standard_ND96amsr_A100_v4"): {"memory_gib", "notes"},
             ("aws", "p6-b200.48xlarge"): {"gpu_memory_gib", "notes"},
             **{("lambda", f"gpu_{n}x_a100"): {"gpu_model", "notes"} for n in (1, 2, 4)}}


@pytest.mark.skipif(not SHARED.exists(), reason="the shared source catalog is not beside this checkout")
def test_builtin_instances_csv_is_the_shared_catalog_plus_a_flags_column():
    with SHARED.open() as fh:
        shared = list(csv.DictReader(fh))
    with (PRICING / "instances.csv").open() as fh:
        ours = list(csv.DictReader(fh))
    assert len(ours) == len(shared)
    for mine, theirs in zip(ours, shared, strict=True):
        differ = {k for k, v in theirs.items() if mine[k] != v}
        assert differ == CORRECTED.get((mine["provider"], mine["instance_type"]), set()), (mine, theirs)
        if differ:
            assert "corrected" in mine["notes"] and "corrected" not in theirs["notes"]


def test_lambdas_plain_a100_types_are_the_pcie_card_and_the_sxm4_types_stay_sxm4():
    catalog = load_catalog()
    for n in (1, 2, 4):
        pcie = find(catalog, "lambda", f"gpu_{n}x_a100")
        assert (pcie.gpu, pcie.gpu_count) == ("A100-40GB-PCIe", n)
        assert f"{n}x A100 (40 GB PCIe)" in pcie.notes
    assert find(catalog, "lambda", "gpu_1x_a100_sxm4").gpu == "A100-40GB"
    assert find(catalog, "lambda", "gpu_8x_a100").gpu == "A100-40GB"
    assert load_gpu_specs()["A100-40GB-PCIe"].intra_node_link == "pcie"


def test_e2es_a100_80gb_without_a_form_factor_is_the_conservative_pcie_card_and_says_so():
    """E2E's page says only "A100 80GB": it was the SXM4 row (2039 GB/s, 400 W) without a word; the plain-family
    rule (profiles/README.md) takes the slower card where the form factor is not given."""
    e2e = find(load_catalog(), "e2e", "A100-80GB-x1")
    assert (e2e.gpu, e2e.gpu_count, e2e.gpu_memory_gib) == ("A100-80GB-PCIe", 1, 80)
    assert "form factor not stated; PCIe assumed (the conservative variant" in e2e.notes
    pcie, sxm = load_gpu_specs()["A100-80GB-PCIe"], load_gpu_specs()["A100-80GB"]
    assert pcie.memory_bandwidth_gbs < sxm.memory_bandwidth_gbs


def test_azure_nd96amsr_memory_is_microsofts_1900_gib():
    nd = find(load_catalog(), "azure", "Standard_ND96amsr_A100_v4")
    assert nd.memory_gib == 1900 and "ndm-a100-v4-series" in nd.notes


def test_every_catalog_gpu_is_a_canonical_spec_name():
    specs = load_gpu_specs()
    catalog = load_catalog()
    assert catalog.gpus and set(catalog.gpus) <= set(specs)
    with (PRICING / "instances.csv").open() as fh:
        raw = {r["gpu_model"] for r in csv.DictReader(fh) if r["gpu_model"]}
    assert raw <= set(specs)  # the file itself uses canonical names, not aliases


def test_billing_rules_come_from_billing_csv():
    catalog = load_catalog()
    assert (find(catalog, "aws", "p5.48xlarge").billing, find(catalog, "aws", "p5.48xlarge").min_billed_seconds) \
        == ("per_second", 60)
    assert find(catalog, "lambda", "gpu_1x_a100").billing == "per_minute"
    assert find(catalog, "e2e", "H200-x1").billing == "per_hour"
    assert find(catalog, "vast", "1x-RTX_4090-32-65536").min_billed_seconds == 0


def test_flagged_spot_prices_are_dropped_and_reported():
    catalog = load_catalog()
    h200 = find(catalog, "azure", "Standard_ND96isr_H200_v5")
    assert h200.spot_price_usd_per_hour is None  # source spot == on-demand
    a2 = find(catalog, "gcp", "a2-ultragpu-1g")
    assert a2.spot_price_usd_per_hour is None and "SUSPECT PRICE" in a2.notes  # drop_spot + suspect_price
    assert a2.suspect_price and not find(catalog, "gcp", "a2-highgpu-1g").suspect_price
    assert find(catalog, "gcp", "a2-highgpu-1g").spot_price_usd_per_hour == pytest.approx(1.80385)
    assert "SUSPECT PRICE" in find(catalog, "gcp", "a4-highgpu-8g").notes
    flags = "\n".join(catalog.flags)
    assert "Standard_ND96isr_H200_v5" in flags and "a2-ultragpu-8g" in flags and "a3-highgpu-1g" in flags


def test_aws_spot_prices_from_the_undated_skypilot_snapshot_say_so():
    catalog = load_catalog()
    for name in ("g4dn.xlarge", "g6.2xlarge", "g6.48xlarge"):
        o = find(catalog, "aws", name)
        assert o.spot_price_usd_per_hour is not None and o.snapshot_date == "2026-01-21"
        assert "spot price undated (snapshot_date is the on-demand price's)" in o.notes
    assert "spot price undated" not in (find(catalog, "aws", "p5.48xlarge").notes or "")
    assert catalog.snapshot()["dates"]["aws"] == "2026-01-21 (19 rows undated; 3 spot prices undated)"
    assert sum("is undated; snapshot_date is the on-demand price's" in f for f in catalog.flags) == 3


def test_spot_prices_that_are_the_lowest_zones_are_marked(tmp_path):
    """The AWS and GCP CPU rows' spot prices are the minimum over the region's zones (their notes and
    shared/data/SOURCES.md say so): flagged spot_zone_min, so a recommendation can say the zone the instance is
    given may charge more. GCP's GPU rows are one zone's (us-central1-a), Azure's say nothing of zones."""
    catalog = load_catalog()
    marked = [o for o in catalog.offers if o.spot_zone_min]
    assert len(marked) == 66 and {o.provider for o in marked} == {"aws", "gcp"}
    assert all("min over" in o.notes for o in marked)
    assert find(catalog, "gcp", "n2d-standard-2").spot_zone_min and find(catalog, "aws", "g4dn.xlarge").spot_zone_min
    assert not find(catalog, "gcp", "n1-standard-8+1xT4").spot_zone_min  # one zone's price
    assert not find(catalog, "aws", "p5.48xlarge").spot_zone_min  # no spot price at all
    # A spot price of the user's own is not the cheapest zone's.
    mine = write(tmp_path, USER_HEADER + "gcp,n2d-standard-2,us-central1,,0,0.08,0.02\n")
    assert not find(load_catalog([mine]), "gcp", "n2d-standard-2").spot_zone_min


def test_a_user_spot_price_is_no_longer_the_undated_one(tmp_path):
    path = write(tmp_path, USER_HEADER + "aws,g6.2xlarge,us-east-1,L4,1,0.9776,0.40\n")
    o = find(load_catalog([path]), "aws", "g6.2xlarge")
    assert o.spot_price_usd_per_hour == 0.40 and "undated" not in (o.notes or "")


def test_snapshot_names_dates_and_sources_per_provider():
    catalog = load_catalog()
    snap = catalog.snapshot()
    assert snap["dates"]["gcp"] == "2026-05-20"
    assert snap["dates"]["aws"].startswith("2026-01-21") and "undated" in snap["dates"]["aws"]
    assert snap["dates"]["e2e"] == "undated"
    mine = catalog.snapshot(catalog.filter(providers=["gcp", "e2e"]))  # the offers a ranking was given
    assert set(mine["dates"]) == set(mine["sources"]) == {"gcp", "e2e"} and mine["dates"]["gcp"] == snap["dates"]["gcp"]
    assert any("skypilot-catalog" in s for s in snap["sources"]["aws"])


# ------------------------------------------------------------------------------------------ user files


def test_bad_row_names_file_line_and_reason(tmp_path):
    path = write(tmp_path, USER_HEADER + "onprem,box,lab,A100-80GB,8,12.5,\nonprem,box2,lab,A100-80GB,8,abc,\n")
    with pytest.raises(CatalogError) as info:
        load_catalog([path])
    assert f"{path}:3: price_hour_usd 'abc' is not a number" in str(info.value)
    assert "Fix:" in str(info.value)


def test_every_bad_row_is_reported(tmp_path):
    text = (USER_HEADER
            + "onprem,a,lab,A100-80GB,two,10,\n"   # line 2
            + "onprem,b,lab,A1OO-80GB,1,10,\n"     # line 3: typo in the GPU
            + "onprem,c,lab,,1,10,\n"              # line 4: a GPU count without a GPU
            + "onprem,d,lab,A100-80GB,1,-3,\n"     # line 5
            + "onprem,e,,A100-80GB,1,3,\n"         # line 6: no region
            + "onprem,f,lab,A100-80GB,0.5,3,\n")   # line 7: a fractional GPU
    with pytest.raises(CatalogError) as info:
        validate_file(path := write(tmp_path, text))
    message = str(info.value)
    assert "6 problems" in message
    for line in (2, 3, 4, 5, 6, 7):
        assert f"{path}:{line}:" in message
    assert "Did you mean" in message  # A1OO-80GB
    assert "whole GPUs" in message


def test_unknown_column_suggests_the_right_one(tmp_path):
    path = write(tmp_path, "provider,instance_type,region,gpu_model,gpu_count,price_hour\nonprem,a,lab,,0,1\n")
    with pytest.raises(CatalogError) as info:
        load_catalog([path])
    assert f"{path}:1: unknown column 'price_hour'" in str(info.value) and "price_hour_usd" in str(info.value)


def test_missing_file_is_a_catalog_error(tmp_path):
    with pytest.raises(CatalogError, match="no such pricing file"):
        load_catalog([tmp_path / "nope.csv"])


def test_user_row_overrides_builtin_and_keeps_blank_fields(tmp_path):
    path = write(tmp_path, "provider,instance_type,region,price_hour_usd\naws,p4d.24xlarge,us-east-1,15.0\n")
    catalog = load_catalog([path])
    p4d = find(catalog, "aws", "p4d.24xlarge")
    assert p4d.price_usd_per_hour == 15.0
    assert (p4d.gpu, p4d.gpu_count, p4d.vcpus, p4d.billing) == ("A100-40GB", 8, 96, "per_second")
    assert p4d.source.startswith("user file") and str(path) in p4d.source
    assert len(catalog.offers) == len(load_catalog().offers)  # replaced, not added


def test_on_prem_gpu_with_an_alias_and_default_billing(tmp_path):
    path = write(tmp_path, USER_HEADER + "onprem,dgx-a100,lab,A100 80GB,8,9.5,\n")
    offers = validate_file(path)
    assert len(offers) == 1
    o = offers[0]
    assert (o.gpu, o.gpu_count, o.price_usd_per_hour) == ("A100-80GB", 8, 9.5)
    assert (o.billing, o.min_billed_seconds) == ("per_second", 0)  # a provider billing.csv does not know


def test_provider_wide_discount(tmp_path):
    path = write(tmp_path, "provider,instance_type,region,discount_pct\naws,*,*,20\n")
    plain, discounted = load_catalog(), load_catalog([path])
    before, after = find(plain, "aws", "c7i.2xlarge"), find(discounted, "aws", "c7i.2xlarge")
    assert after.price_usd_per_hour == pytest.approx(before.price_usd_per_hour * 0.8)
    assert after.spot_price_usd_per_hour == pytest.approx(before.spot_price_usd_per_hour * 0.8)
    assert find(discounted, "gcp", "n2-standard-8").price_usd_per_hour == \
        find(plain, "gcp", "n2-standard-8").price_usd_per_hour
    assert any("20% discount" in f for f in discounted.flags)
    assert len(validate_file(path)) == len([o for o in plain.offers if o.provider == "aws"])


def test_a_later_files_discount_replaces_an_earlier_one_and_a_negotiated_price_stands(tmp_path):
    team = write(tmp_path, "provider,instance_type,region,discount_pct\naws,*,*,10\n", "team.csv")
    mine = write(tmp_path, "provider,instance_type,region,discount_pct\naws,*,*,15\n", "mine.csv")
    plain, both = load_catalog(), load_catalog([team, mine])
    list_price = find(plain, "aws", "c7i.2xlarge").price_usd_per_hour
    assert find(both, "aws", "c7i.2xlarge").price_usd_per_hour == pytest.approx(list_price * 0.85)  # not x 0.765
    assert any("10% discount on 0 offers" in f for f in both.flags)
    # a region's own rule, later in the file, is the one its offers take
    regional = write(tmp_path, "provider,instance_type,region,discount_pct\naws,*,*,10\naws,*,us-east-1,30\n",
                     "regional.csv")
    east = next(o for o in plain.offers if o.provider == "aws" and o.region == "us-east-1")
    got = find(load_catalog([regional]), "aws", east.instance_type)
    assert got.price_usd_per_hour == pytest.approx(east.price_usd_per_hour * 0.7)
    # a price negotiated in a file at or after the discount's is the price paid
    deal = write(tmp_path, "provider,instance_type,region,price_hour_usd\naws,c7i.2xlarge,"
                           f"{find(plain, 'aws', 'c7i.2xlarge').region},0.2\n", "deal.csv")
    assert find(load_catalog([team, deal]), "aws", "c7i.2xlarge").price_usd_per_hour == pytest.approx(0.2)
    assert find(load_catalog([deal, team]), "aws", "c7i.2xlarge").price_usd_per_hour == pytest.approx(0.18)


def test_row_discount_and_billing_override(tmp_path):
    path = write(tmp_path, "provider,instance_type,region,gpu_model,gpu_count,price_hour_usd,discount_pct,billing,"
                           "min_billed_seconds\nonprem,box,lab,T4,1,1.00,25,per_hour,3600\n")
    (o,) = validate_file(path)
    assert o.price_usd_per_hour == pytest.approx(0.75)
    assert (o.billing, o.min_billed_seconds) == ("per_hour", 3600)


def test_user_spot_above_on_demand_is_dropped(tmp_path):
    path = write(tmp_path, USER_HEADER + "onprem,box,lab,T4,1,1.00,1.50\n")
    catalog = load_catalog([path])
    assert find(catalog, "onprem", "box").spot_price_usd_per_hour is None
    assert any("onprem box" in f and "spot dropped" in f for f in catalog.flags)


def test_duplicate_key_in_one_file_is_an_error(tmp_path):
    path = write(tmp_path, USER_HEADER + "onprem,box,lab,T4,1,1,\nonprem,BOX,lab,T4,1,2,\n")
    with pytest.raises(CatalogError, match=r"prices.csv:3: .*already on line 2"):
        validate_file(path)


def test_without_builtin(tmp_path):
    path = write(tmp_path, USER_HEADER + "onprem,box,lab,,0,0.5,\n")
    catalog = load_catalog([path], include_builtin=False)
    assert [(o.provider, o.gpu, o.gpu_count) for o in catalog.offers] == [("onprem", None, 0)]


# ---------------------------------------------------------------------------------------------- filter


def test_filters():
    catalog = load_catalog()
    aws_gcp = catalog.filter(providers=["AWS", "gcp"])
    assert aws_gcp and {o.provider for o in aws_gcp} == {"aws", "gcp"}
    h100 = catalog.filter(gpu="H100")
    assert {o.gpu for o in h100} == {"H100-SXM", "H100-PCIe", "H100-NVL"}
    assert {o.gpu for o in catalog.filter(gpu="a100-80gb")} == {"A100-80GB"}
    assert all(o.gpu is None for o in catalog.filter(cpu_only=True))
    assert all(o.gpu for o in catalog.filter(gpu_only=True))
    assert all(o.price_usd_per_hour <= 1 for o in catalog.filter(max_price_usd_per_hour=1))
    us = catalog.filter(providers=["vast"], regions=["US"])
    assert us and all("US" in [p.strip() for p in o.region.split(",")] for o in us)
    assert {o.provider for o in catalog.filter(regions=["us-east-1"])} == {"aws", "lambda"}


@pytest.mark.parametrize(("name", "suggested"), [("L40", "L40S"), ("H20", "H200"), ("RTX-4070", "RTX-4070S-Ti"),
                                                 ("h1", None), ("A40", "L40S")])
def test_a_gpu_name_is_not_read_as_another_model_that_starts_with_it(name, suggested):
    """--gpu L40 listed L40S offers, H20 the H200's, RTX-4070 the RTX 4070 Ti Super's and h1 every H100's,
    silently; A40 (also a known GPU that no offer has) was refused. Each is now refused, with a did-you-mean."""
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    with pytest.raises(CatalogError, match=rf"^No GPU '{name}' in the catalog\."):
        load_catalog().filter(gpu=name)
    res = CliRunner().invoke(build_app(), ["pricing", "list", "--gpu", name, "--json"])
    assert res.exit_code == 1, res.output
    assert f"No GPU '{name}' in the catalog." in res.output and "Traceback" not in res.output
    if suggested:
        assert f"'{suggested}'" in res.output.split("Did you mean", 1)[1].splitlines()[0]


def test_a_gpu_family_name_or_alias_still_means_every_variant_the_catalog_offers():
    catalog = load_catalog()
    assert {o.gpu for o in catalog.filter(gpu="nvidia h100")} == {"H100-SXM", "H100-PCIe", "H100-NVL"}
    assert {o.gpu for o in catalog.filter(gpu="A100")} == {"A100-40GB", "A100-40GB-PCIe", "A100-80GB",
                                                          "A100-80GB-PCIe"}
    assert {o.gpu for o in catalog.filter(gpu="V100")} == {o.gpu for o in catalog.offers
                                                            if o.gpu and o.gpu.startswith("V100")}
    assert {o.gpu for o in catalog.filter(gpu="Tesla T4")} == {"T4"}
    assert {o.gpu for o in catalog.filter(gpu="RTX 6000")} == {"RTX6000"}
    assert {o.gpu for o in catalog.filter(gpu="rtx-3060")} == {"RTX-3060"}


def test_a_marketplace_region_pasted_whole_matches_that_region_only():
    """ "Florida, US, NA", as the output prints it, split on its commas was three ORed filters, and "na" matched
    every North American listing (a Canadian machine was recommended)."""
    from advisor.units import parse_names

    catalog = load_catalog()
    for given in ("Florida, US, NA", "florida,us,na"):
        got = catalog.filter(regions=parse_names(given))
        assert got and {o.region for o in got} == {"Florida, US, NA"}
    assert {o.region for o in catalog.filter(regions=["Florida, US, NA"])} == {"Florida, US, NA"}
    # a comma list of distinct regions is still each of them
    both = catalog.filter(regions=parse_names("us-east-1,us-central1"))
    assert {o.region for o in both} == {"us-east-1", "us-central1"}


@pytest.mark.parametrize("kwargs, fragment", [
    ({"providers": ["awz"]}, "Unknown provider 'awz'. Did you mean 'aws'"),
    ({"gpu": "H1OO"}, "No GPU 'H1OO' in the catalog"),
    ({"regions": ["us-east-9"]}, "Unknown region 'us-east-9'"),
])
def test_unknown_filter_names(kwargs, fragment):
    with pytest.raises(CatalogError) as info:
        load_catalog().filter(**kwargs)
    assert fragment in str(info.value)


# --------------------------------------------------------------------------------------------- billing


@pytest.mark.parametrize("billing, minimum, seconds, billed", [
    ("per_second", 60, 10, 60),
    ("per_second", 60, 61.2, 62),
    ("per_second", 0, 0.4, 1),
    ("per_minute", 60, 61, 120),
    ("per_hour", 3600, 61 * 60, 7200),
    ("per_hour", 3600, 10, 3600),
    ("per_hour", 0, 3600.0000000001, 3600),  # float noise does not buy a second hour
])
def test_billed_seconds(billing, minimum, seconds, billed):
    assert billed_seconds(offer(billing=billing, min_billed_seconds=minimum), seconds) == billed


def test_cost_adds_startup_and_uses_spot_only_when_asked():
    o = offer(price_usd_per_hour=3.6, spot_price_usd_per_hour=1.2, billing="per_second", min_billed_seconds=60)
    assert cost_usd(o, 3300, startup_seconds=300) == pytest.approx(3.6)
    assert cost_usd(o, 3300, spot=True, startup_seconds=300) == pytest.approx(1.2)
    assert cost_usd(o, 1) == pytest.approx(3.6 * 60 / 3600)  # the minimum
    with pytest.raises(CatalogError, match="no spot price"):
        cost_usd(offer(), 100, spot=True)
    with pytest.raises(ValueError):
        billed_seconds(o, float("nan"))


def test_overriding_a_suspect_price_clears_the_flag(tmp_path):
    path = write(tmp_path, "provider,instance_type,region,price_hour_usd\ngcp,a3-highgpu-1g,us-central1,11.06\n")
    row = find(load_catalog([path]), "gcp", "a3-highgpu-1g")
    assert row.price_usd_per_hour == 11.06 and not row.notes.startswith("SUSPECT") and not row.suspect_price
    assert row.notes.startswith("price = host VM row")  # the built-in notes are kept


# ---------------------------------------------------------------------------------------- hostile input


def test_a_rates_file_over_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as fh:
        fh.truncate(21 * 1024 * 1024)  # sparse: over 20 MB without writing it
    with pytest.raises(CatalogError) as info:
        load_catalog([path])
    assert f"{path}: the file is over 20 MB" in str(info.value) and "Fix:" in str(info.value)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_device_is_refused_without_reading_it():
    with pytest.raises(CatalogError) as info:
        validate_file("/dev/zero")
    assert "/dev/zero: not a regular file" in str(info.value) and "Fix:" in str(info.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_pipe_or_a_directory_is_refused(tmp_path):
    fifo = tmp_path / "rates.csv"
    os.mkfifo(fifo)  # opening it would block until a writer came: it must be refused before that
    for path in (fifo, tmp_path):
        with pytest.raises(CatalogError, match="not a regular file"):
            load_catalog([path])


def test_importing_billing_does_not_load_the_csv_parser_or_gpu_specs():
    code = ("import sys, advisor.pricing.billing; "
            "print(sorted(m for m in ('advisor.pricing.rows', 'advisor.hardware.specs') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------------------- CLI


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_cli_max_price_must_be_a_finite_non_negative_number(value):
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    result = CliRunner().invoke(build_app(), ["pricing", "list", "--max-price", value, "--json"])
    assert result.exit_code == 1, result.output
    assert "--max-price must be a finite number" in result.output and "Traceback" not in result.output


def test_cli_max_price_takes_dollars_as_budget_does():
    import json

    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    for value in ("$3", "3usd", "3"):
        result = CliRunner().invoke(build_app(), ["pricing", "list", "--max-price", value, "--json"])
        assert result.exit_code == 0, result.output
        offers = json.loads(result.stdout)["offers"]
        assert offers and max(o["price_usd_per_hour"] for o in offers) <= 3
    assert CliRunner().invoke(build_app(), ["pricing", "list", "--max-price", "0", "--json"]).exit_code == 0


def test_filters_that_leave_no_offer_are_a_users_error_before_any_probe(tmp_path):
    """Each name exists but not together (aws has no region eastus): exit 1 with aws's regions, not exit 3 (the
    infeasible job's), and no probe of the workload (whose build would fail here if it ran)."""
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    workload = tmp_path / "never_built.py"
    workload.write_text("def build_model():\n    raise RuntimeError('probed')\n\n"
                        "def make_batch(batch_size):\n    raise RuntimeError('probed')\n")
    res = CliRunner().invoke(build_app(), ["recommend", str(workload), "--dataset-size", "1000", "--epochs", "1",
                                           "--providers", "aws", "--region", "eastus", "--no-save"])
    assert res.exit_code == 1, res.output
    assert "No offer in the catalog matches --providers aws and --region eastus" in res.output
    assert "us-east-1" in res.output and "probed" not in res.output and "Traceback" not in res.output


def test_pricing_list_that_matches_nothing_says_so_and_how_to_widen():
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    res = CliRunner().invoke(build_app(), ["pricing", "list", "--max-price", "0.01"])
    assert res.exit_code == 0, res.output
    cheapest = min(o.price_usd_per_hour for o in load_catalog().offers)
    assert "No offer matches these filters (the cheapest that the others allow is $" in res.output
    assert f"{cheapest:.3g}"[:4] in res.output and "widen --provider, --region, --gpu or --max-price" in res.output
    # With --gpu H100 the hint is the cheapest H100's rate, not a CPU instance's 7 cents.
    h100 = CliRunner().invoke(build_app(), ["pricing", "list", "--gpu", "H100", "--max-price", "1"])
    cheapest_h100 = min(o.price_usd_per_hour for o in load_catalog().filter(gpu="H100"))
    assert cheapest_h100 > 1 and f"the cheapest that the others allow is ${cheapest_h100:,.2f}" in h100.output


def test_the_no_offer_hint_gives_a_price_that_passes_the_filter():
    """aws c7i.large shows as $0.0892 (it is $0.08925): --max-price 0.0892 found nothing, and the hint said the
    cheapest was $0.0892, the figure asked for."""
    import re

    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    res = CliRunner().invoke(build_app(), ["pricing", "list", "--provider", "aws", "--max-price", "0.0892"])
    assert res.exit_code == 0, res.output
    hint = float(re.search(r"the cheapest that the others allow is \$([0-9.]+)\)", res.output).group(1))
    assert hint == 0.08925
    again = CliRunner().invoke(build_app(), ["pricing", "list", "--provider", "aws", "--max-price", str(hint)])
    assert "c7i.large" in again.output


def test_pricing_list_shows_each_offers_billing_unit_and_minimum():
    """The table's billing column said "per_minute" or "per_hour" and never the minimum billed, though every cost
    is computed with both (billing.py): e2e's whole-hour minimum was invisible. --json has both fields."""
    import json

    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    res = CliRunner(env={"COLUMNS": "250"}).invoke(build_app(), ["pricing", "list", "--provider",
                                                                 "aws,lambda,vast,e2e"])
    assert res.exit_code == 0, res.output
    rows = {line.split("│")[2].strip(): line for line in res.output.splitlines() if line.count("│") > 8}
    assert "│ per hour, min 3600 s │" in rows["H200-x1"]
    assert "│ per minute, min 60 s │" in rows["gpu_1x_a100"]
    assert "│ per second, min 60 s │" in rows["p5.48xlarge"]
    assert "│ per second           │" in rows["1x-RTX_4090-32-65536"]  # vast: no minimum
    assert "billing: each run is billed rounded up to its unit" in " ".join(res.output.split())
    got = json.loads(CliRunner().invoke(build_app(), ["pricing", "list", "--provider", "e2e", "--json"]).stdout)
    assert {(o["billing"], o["min_billed_seconds"]) for o in got["offers"]} == {("per_hour", 3600)}


def test_pricing_list_marks_suspect_prices_with_a_footnote_that_says_why():
    """The table showed the 9 prices the catalog flags as suspect (JSON's suspect_price) as ordinary prices:
    a3-highgpu-8g's $43.07 read as an 8 x H100 rate. Each is marked "!" and a footnote says why (data audit, 4)."""
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    res = CliRunner(env={"COLUMNS": "250"}).invoke(build_app(), ["pricing", "list", "--provider", "gcp"])
    assert res.exit_code == 0, res.output
    rows = {line.split("│")[2].strip(): line for line in res.output.splitlines() if line.count("│") > 8}
    suspect = {o.instance_type for o in load_catalog().filter(providers=["gcp"]) if o.suspect_price}
    assert len(suspect) == 9 and {"a3-highgpu-8g", "a4-highgpu-8g", "a2-ultragpu-1g"} <= suspect
    assert suspect <= set(rows) and "$43.07 !" in rows["a3-highgpu-8g"]
    for name, line in rows.items():
        assert (" ! " in line) == (name in suspect), line
    assert "$92.21 !" not in rows["a3-megagpu-8g"]
    text = " ".join(res.output.split())
    assert ("! suspect price (9 of these): the catalog flags these prices as doubtful (pricing/README.md); "
            "check the provider's own price before budgeting on one.") in text
    assert "gcp a4-highgpu-8g: host VM row priced 0.0 in source" in text
    assert ("gcp a3-highgpu-1g, gcp a3-highgpu-2g, gcp a3-highgpu-4g, gcp a3-highgpu-8g: source H100 GPU spot ~= "
            "on-demand and far below a3-megagpu (suspect SKU mapping)") in text
    # no suspect row, no footnote
    clean = CliRunner().invoke(build_app(), ["pricing", "list", "--provider", "lambda"])
    assert clean.exit_code == 0 and "suspect price" not in clean.output


def test_pricing_list_marks_a_spot_price_whose_source_gave_no_date():
    """g4dn.xlarge's spot price (undated SkyPilot snapshot) showed as "$0.20" beside "as of 2026-01-21", the
    on-demand price's date, and only --json's free-text notes said otherwise."""
    import json

    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    res = CliRunner(env={"COLUMNS": "250"}).invoke(build_app(), ["pricing", "list", "--provider", "aws",
                                                                 "--max-price", "1"])
    assert res.exit_code == 0, res.output
    rows = {line.split("│")[2].strip(): line for line in res.output.splitlines() if line.count("│") > 8}
    assert "$0.20?" in rows["g4dn.xlarge"] and "$0.442?" in rows["g6.2xlarge"]
    assert "?" not in rows["m7a.large"] and "?" not in rows["g4dn.2xlarge"]
    assert rows["m7a.large"].rstrip("│ ").endswith("│ undated")  # an undated row's "as of" says so, not "-"
    assert "? undated spot price (2 of these): its source gave no date; the row's 'as of' is the on-demand " \
           "price's" in res.output
    listed = CliRunner().invoke(build_app(), ["pricing", "list", "--provider", "aws,gcp", "--json"])
    offers = {o["instance_type"]: o for o in json.loads(listed.stdout)["offers"]}
    assert offers["g4dn.xlarge"]["snapshot_date"] == "2026-01-21"
    assert offers["g4dn.xlarge"]["spot_snapshot_date"] is None
    assert offers["e2-standard-2"]["spot_snapshot_date"] == "2026-05-20"
    assert offers["g4dn.2xlarge"]["spot_snapshot_date"] is None  # no spot price at all


def test_one_offer_and_one_undated_row_are_counted_in_the_singular(tmp_path):
    """The audit's nits: "1 offers" over pricing list's table, "(1 rows undated)" in the "prices as of" line."""
    from typer.testing import CliRunner

    from advisor.cli.app import build_app
    from advisor.pricing.catalog import _provenance

    catalog = load_catalog()
    gh200 = [o for o in catalog.offers if o.gpu == "GH200"]
    assert len(gh200) == 1
    res = CliRunner().invoke(build_app(), ["pricing", "list", "--gpu", "GH200"], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and res.output.startswith("1 offer ") and "1 offers" not in res.output
    dated = next(o for o in catalog.offers if o.provider == "aws" and o.snapshot_date)
    undated = dated.model_copy(update={"snapshot_date": None, "instance_type": "x.undated"})
    dates, _ = _provenance([dated, undated])
    assert dates["aws"] == f"{dated.snapshot_date} (1 row undated)", dates
