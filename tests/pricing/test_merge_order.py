"""Later files override earlier ones, field by field: a row's own discount_pct replaces an earlier row's rather
than stacking on it, and a row's own billing outranks a provider-wide rule from an earlier file."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.pricing import load_catalog

KEY = ("aws", "p4d.24xlarge", "us-east-1")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def p4d(*files: Path):
    (offer,) = [o for o in load_catalog(list(files)).offers if (o.provider, o.instance_type, o.region) == KEY]
    return offer


def test_a_later_rows_discount_replaces_an_earlier_rows_and_one_file_twice_discounts_once(tmp_path):
    head = "provider,instance_type,region,price_hour_usd,discount_pct\n"
    team = write(tmp_path, "team.csv", head + "aws,p4d.24xlarge,us-east-1,,10\n")
    mine = write(tmp_path, "mine.csv", head + "aws,p4d.24xlarge,us-east-1,,15\n")
    list_price = p4d().price_usd_per_hour
    got = p4d(team, mine)
    assert got.price_usd_per_hour == pytest.approx(list_price * 0.85)  # not x 0.765 (23.5% off)
    assert got.notes.count("discount applied") == 1 and got.notes.endswith(f"15% discount applied ({mine}:2)")
    assert p4d(team, team).price_usd_per_hour == pytest.approx(list_price * 0.9)  # not x 0.81
    # a blank discount_pct keeps the earlier row's; a new price without one is paid as it is
    notes_only = write(tmp_path, "notes.csv",
                       head.replace("discount_pct", "notes") + "aws,p4d.24xlarge,us-east-1,,ok\n")
    assert p4d(team, notes_only).price_usd_per_hour == pytest.approx(list_price * 0.9)
    deal = write(tmp_path, "deal.csv", head + "aws,p4d.24xlarge,us-east-1,20,\n")
    assert p4d(team, deal).price_usd_per_hour == pytest.approx(20)
    assert "discount" not in (p4d(team, deal).notes or "")


def test_a_later_files_row_billing_outranks_an_earlier_provider_wide_rule(tmp_path):
    head = "provider,instance_type,region,price_hour_usd,billing,min_billed_seconds\n"
    rule = write(tmp_path, "rule.csv", head + "aws,*,*,,per_hour,3600\n")
    row = write(tmp_path, "row.csv", head + "aws,p4d.24xlarge,us-east-1,20,per_second,0\n")
    got = p4d(rule, row)
    assert (got.billing, got.min_billed_seconds) == ("per_second", 0)
    # the rule after the row is the later word; a row that sets only billing keeps the rule's minimum
    got = p4d(row, rule)
    assert (got.billing, got.min_billed_seconds) == ("per_hour", 3600)
    billing_only = write(tmp_path, "billing.csv", head + "aws,p4d.24xlarge,us-east-1,,per_minute,\n")
    got = p4d(rule, billing_only)
    assert (got.billing, got.min_billed_seconds) == ("per_minute", 3600)
